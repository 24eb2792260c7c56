/**
 * The `extractions` table (activation extraction runs and their folders under
 * `<workspace>/activations/<id>/`) and `extraction_templates` (named, reusable configurations).
 * Unlike datasets, an extraction's row exists while it runs: its folder is always a consistent,
 * resumable activation store, so a stopped or crashed run is listed and can be resumed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { MiStudioError } from '../errors.js';
import { validateDatasetName } from './datasets-table.js';
import { createStagingDir, removeDir } from './staging.js';
import type { WorkspaceLayout } from './workspace.js';

export type ExtractionStatus = 'running' | 'stopped' | 'completed' | 'failed';

export interface ExtractionRecord {
  id: string;
  name: string;
  /** Model source (path or hub id). */
  model: string;
  datasetId: string | null;
  hooks: string[];
  config: Record<string, unknown>;
  status: ExtractionStatus;
  /** Token positions stored per hook. */
  tokens: number;
  bytes: number;
  durationSeconds: number;
  /** Absolute folder: one activation store per hook inside. */
  dir: string;
  createdAt: string;
  updatedAt: string;
}

export interface ExtractionTemplate {
  name: string;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  model: string;
  dataset_id: string | null;
  hooks: string;
  config: string;
  status: ExtractionStatus;
  tokens: number;
  bytes: number;
  duration_s: number;
  created_at: string;
  updated_at: string;
}

export class ExtractionsTable {
  constructor(
    private readonly db: Database,
    private readonly layout: WorkspaceLayout,
  ) {}

  private get dir(): string {
    return path.join(this.layout.root, 'activations');
  }

  private toRecord(r: Row): ExtractionRecord {
    return {
      id: r.id,
      name: r.name,
      model: r.model,
      datasetId: r.dataset_id,
      hooks: JSON.parse(r.hooks) as string[],
      config: JSON.parse(r.config) as Record<string, unknown>,
      status: r.status,
      tokens: r.tokens,
      bytes: r.bytes,
      durationSeconds: r.duration_s,
      dir: path.join(this.dir, r.id),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  find(name: string): ExtractionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM extractions WHERE name = ?').get(name) as Row | undefined;
    return row && this.toRecord(row);
  }

  get(name: string): ExtractionRecord {
    const found = this.find(name);
    if (!found) throw new MiStudioError('NOT_FOUND', `no extraction named '${name}'`, { field: 'name', hint: "run 'mistudio activations list' to see this workspace's extractions" });
    return found;
  }

  /** Newest first. */
  list(filter: { status?: ExtractionStatus; datasetId?: string } = {}): ExtractionRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) (where.push('status = ?'), args.push(filter.status));
    if (filter.datasetId) (where.push('dataset_id = ?'), args.push(filter.datasetId));
    const sql = `SELECT * FROM extractions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, name`;
    return (this.db.prepare(sql).all(...args) as Row[]).map((r) => this.toRecord(r));
  }

  /** Inserts a running extraction and creates its (empty) folder. */
  create(entry: { name: string; model: string; datasetId: string | null; hooks: string[]; config: Record<string, unknown> }): ExtractionRecord {
    validateDatasetName(entry.name);
    const id = `ex-${randomBytes(8).toString('hex')}`;
    const now = new Date().toISOString();
    this.db
      .transaction(() => {
        if (this.find(entry.name)) {
          throw new MiStudioError('ALREADY_EXISTS', `an extraction named '${entry.name}' already exists`, { field: 'name', hint: 'choose another name, resume it, or remove it (mistudio activations rm)' });
        }
        this.db
          .prepare(`INSERT INTO extractions (id, name, model, dataset_id, hooks, config, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`)
          .run(id, entry.name, entry.model, entry.datasetId, JSON.stringify(entry.hooks), JSON.stringify(entry.config), now, now);
        mkdirSync(path.join(this.dir, id), { recursive: true });
      })
      .immediate();
    return this.get(entry.name);
  }

  update(id: string, change: { status?: ExtractionStatus; tokens?: number; bytes?: number; durationSeconds?: number }): void {
    const sets: string[] = ['updated_at = ?'];
    const args: unknown[] = [new Date().toISOString()];
    if (change.status !== undefined) (sets.push('status = ?'), args.push(change.status));
    if (change.tokens !== undefined) (sets.push('tokens = ?'), args.push(change.tokens));
    if (change.bytes !== undefined) (sets.push('bytes = ?'), args.push(change.bytes));
    if (change.durationSeconds !== undefined) (sets.push('duration_s = ?'), args.push(change.durationSeconds));
    this.db.prepare(`UPDATE extractions SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
  }

  /** Removes the row, then the files (moved aside first so nothing half-deleted stays visible). */
  delete(name: string): ExtractionRecord {
    let removed: ExtractionRecord | undefined;
    let trash: string | undefined;
    this.db
      .transaction(() => {
        removed = this.get(name);
        this.db.prepare('DELETE FROM extractions WHERE id = ?').run(removed.id);
        if (existsSync(removed.dir)) {
          trash = createStagingDir(this.layout.stagingDir, 'trash');
          renameSync(removed.dir, path.join(trash, removed.id));
        }
      })
      .immediate();
    if (trash) removeDir(trash);
    return removed!;
  }

  saveTemplate(name: string, config: Record<string, unknown>): ExtractionTemplate {
    validateDatasetName(name);
    const now = new Date().toISOString();
    this.db
      .prepare(`INSERT INTO extraction_templates (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`)
      .run(name, JSON.stringify(config), now, now);
    return this.getTemplate(name);
  }

  getTemplate(name: string): ExtractionTemplate {
    const r = this.db.prepare('SELECT * FROM extraction_templates WHERE name = ?').get(name) as { name: string; config: string; created_at: string; updated_at: string } | undefined;
    if (!r) throw new MiStudioError('NOT_FOUND', `no extraction template named '${name}'`, { field: 'template', hint: "run 'mistudio activations templates list'" });
    return { name: r.name, config: JSON.parse(r.config) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  listTemplates(): ExtractionTemplate[] {
    const rows = this.db.prepare('SELECT * FROM extraction_templates ORDER BY name').all() as { name: string; config: string; created_at: string; updated_at: string }[];
    return rows.map((r) => ({ name: r.name, config: JSON.parse(r.config) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  deleteTemplate(name: string): void {
    const info = this.db.prepare('DELETE FROM extraction_templates WHERE name = ?').run(name);
    if (info.changes === 0) throw new MiStudioError('NOT_FOUND', `no extraction template named '${name}'`, { field: 'template' });
  }
}
