/**
 * The `datasets` table and the folders it owns. Creating a dataset renames its finished staging
 * folder into `<workspace>/datasets/<id>/` inside the same write transaction that inserts the row,
 * so a concurrent reader sees either nothing or a complete dataset; deleting removes the row first
 * and the files after, and folders without a row are swept under the write lock on open.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { syncDir } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';
import { createStagingDir, removeDir } from './staging.js';
import type { WorkspaceLayout } from './workspace.js';

export type DatasetKind = 'text' | 'tokenized';

export interface DatasetRecord {
  id: string;
  name: string;
  kind: DatasetKind;
  /** The text dataset a tokenization was made from (null when that was deleted, or for text datasets). */
  parentId: string | null;
  /** Absolute folder of the dataset's files. */
  dir: string;
  /** Where the data came from and with which options (JSON). */
  source: Record<string, unknown>;
  documents: number;
  /** Documents for text datasets; rows (context windows) for tokenized ones. */
  rows: number;
  tokens: number | null;
  bytes: number;
  /** Cached statistics, null until computed. */
  stats: unknown | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewDataset {
  name: string;
  kind: DatasetKind;
  parentId?: string | null;
  source: Record<string, unknown>;
  documents: number;
  rows: number;
  tokens?: number | null;
  bytes: number;
  stats?: unknown;
}

interface DatasetRow {
  id: string;
  name: string;
  kind: DatasetKind;
  parent_id: string | null;
  source: string;
  documents: number;
  rows: number;
  tokens: number | null;
  bytes: number;
  stats: string | null;
  created_at: string;
  updated_at: string;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Throws INVALID_ARGUMENT unless `name` is usable as a dataset name (letters, digits, `._-`). */
export function validateDatasetName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new MiStudioError('INVALID_ARGUMENT', `invalid dataset name '${name}'`, {
      field: 'name',
      hint: 'use 1-128 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    });
  }
}

export class DatasetsTable {
  constructor(
    private readonly db: Database,
    private readonly layout: WorkspaceLayout,
  ) {}

  private toRecord(row: DatasetRow): DatasetRecord {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      parentId: row.parent_id,
      dir: path.join(this.layout.datasetsDir, row.id),
      source: JSON.parse(row.source) as Record<string, unknown>,
      documents: row.documents,
      rows: row.rows,
      tokens: row.tokens,
      bytes: row.bytes,
      stats: row.stats === null ? null : (JSON.parse(row.stats) as unknown),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  find(name: string): DatasetRecord | undefined {
    const row = this.db.prepare('SELECT * FROM datasets WHERE name = ?').get(name) as DatasetRow | undefined;
    return row && this.toRecord(row);
  }

  findById(id: string): DatasetRecord | undefined {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return row && this.toRecord(row);
  }

  get(name: string): DatasetRecord {
    const found = this.find(name);
    if (!found) {
      throw new MiStudioError('NOT_FOUND', `no dataset named '${name}'`, { field: 'name', hint: "run 'mistudio datasets list' to see the datasets of this workspace" });
    }
    return found;
  }

  list(kind?: DatasetKind): DatasetRecord[] {
    const rows = (kind
      ? this.db.prepare('SELECT * FROM datasets WHERE kind = ? ORDER BY created_at, name').all(kind)
      : this.db.prepare('SELECT * FROM datasets ORDER BY created_at, name').all()) as DatasetRow[];
    return rows.map((r) => this.toRecord(r));
  }

  /** Throws ALREADY_EXISTS when the name is taken (a cheap early check; `create` re-checks under the lock). */
  assertNameFree(name: string): void {
    validateDatasetName(name);
    if (this.find(name)) {
      throw new MiStudioError('ALREADY_EXISTS', `a dataset named '${name}' already exists`, {
        field: 'name',
        hint: 'choose another name, or remove the old dataset first (mistudio datasets rm)',
      });
    }
  }

  /**
   * Records a finished dataset and moves its staging folder into place, atomically with respect to
   * other catalog writers. On any error the staging folder is left where it was (the caller removes it).
   */
  create(entry: NewDataset, stagingDir: string): DatasetRecord {
    validateDatasetName(entry.name);
    const id = `ds-${randomBytes(8).toString('hex')}`;
    const finalDir = path.join(this.layout.datasetsDir, id);
    const now = new Date().toISOString();
    const insertAndMove = this.db.transaction(() => {
      this.assertNameFree(entry.name);
      this.db
        .prepare(`INSERT INTO datasets (id, name, kind, parent_id, source, documents, rows, tokens, bytes, stats, created_at, updated_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(id, entry.name, entry.kind, entry.parentId ?? null, JSON.stringify(entry.source), entry.documents, entry.rows, entry.tokens ?? null, entry.bytes,
          entry.stats === undefined ? null : JSON.stringify(entry.stats), now, now);
      // Inside the transaction: if the rename fails the row is rolled back; if the commit fails we undo the rename below.
      renameSync(stagingDir, finalDir);
    });
    try {
      insertAndMove.immediate();
    } catch (err) {
      if (existsSync(finalDir) && !existsSync(stagingDir)) renameSync(finalDir, stagingDir);
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new MiStudioError('NOT_FOUND', `the dataset '${entry.name}' was made from was deleted meanwhile`, { field: 'parentId', cause: err });
      }
      throw err;
    }
    syncDir(this.layout.datasetsDir);
    return this.findById(id)!;
  }

  rename(name: string, newName: string): DatasetRecord {
    validateDatasetName(newName);
    this.db.transaction(() => {
      const rec = this.get(name);
      if (name !== newName) this.assertNameFree(newName);
      this.db.prepare('UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?').run(newName, new Date().toISOString(), rec.id);
    }).immediate();
    return this.get(newName);
  }

  /** Removes the row, then the files (moved out of `datasets/` first so nothing half-deleted is visible). */
  delete(name: string): DatasetRecord {
    let removed: DatasetRecord | undefined;
    let trash: string | undefined;
    this.db.transaction(() => {
      removed = this.get(name);
      this.db.prepare('DELETE FROM datasets WHERE id = ?').run(removed.id);
      if (existsSync(removed.dir)) {
        trash = createStagingDir(this.layout.stagingDir, 'trash');
        renameSync(removed.dir, path.join(trash, removed.id));
      }
    }).immediate();
    if (trash) removeDir(trash);
    return removed!;
  }

  setStats(id: string, stats: unknown): void {
    this.db.prepare('UPDATE datasets SET stats = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(stats), new Date().toISOString(), id);
  }

  /**
   * Removes dataset folders that have no row: left by a crash between the rename and the commit.
   * Must run under the write lock (creators rename inside their write transaction).
   */
  sweepOrphanDirs(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.layout.datasetsDir);
    } catch {
      return [];
    }
    const known = new Set((this.db.prepare('SELECT id FROM datasets').all() as { id: string }[]).map((r) => r.id));
    const removed = entries.filter((e) => !known.has(e));
    for (const e of removed) removeDir(path.join(this.layout.datasetsDir, e));
    return removed;
  }
}
