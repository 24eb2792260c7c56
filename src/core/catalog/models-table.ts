/**
 * The `models` table: local model directories and .gguf files registered by path, and hub models in
 * the download cache (`<cache>/models--org--name/snapshots/<rev>/`), found by scanning it. Rows keep
 * what a listing shows (architecture, parameters, precision, bytes) so the view never opens weight
 * files; `refresh` re-reads only what changed on disk. Deleting a cached model removes its files;
 * deleting a local one only forgets it (the files are the user's, outside the workspace).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { MiStudioError } from '../errors.js';
import { defaultCacheDir, missingFiles } from '../models/hub.js';
import { summarizeModelFiles } from '../models/model-files-summary.js';
import { containsPattern, pageBounds, resolveListQuery, type ListPage, type ListQuery } from './list-query.js';
import { removeDir } from './staging.js';

export type ModelOrigin = 'local' | 'cache';
/** 'incomplete': a cached snapshot that lacks required files (a cancelled download); 'missing': a registered path that is gone. */
export type ModelStatus = 'ready' | 'incomplete' | 'missing';

export interface ModelRecord {
  id: string;
  /** Hub id (`org/name`, `@rev` unless main) for cached models; the registered name for local ones. */
  name: string;
  origin: ModelOrigin;
  /** Absolute model directory or .gguf file: what `loadModel` takes. */
  path: string;
  architecture: string | null;
  format: 'safetensors' | 'gguf';
  precision: string | null;
  parameters: number | null;
  bytes: number;
  status: ModelStatus;
  /** Why the files could not be read, when they could not. */
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  origin: ModelOrigin;
  path: string;
  architecture: string | null;
  format: 'safetensors' | 'gguf';
  precision: string | null;
  parameters: number | null;
  bytes: number;
  status: ModelStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export const MODEL_ORIGINS: readonly ModelOrigin[] = ['local', 'cache'];

const SORTABLE: Record<string, string> = {
  name: 'name COLLATE NOCASE',
  origin: 'origin',
  architecture: 'architecture',
  parameters: 'parameters',
  bytes: 'bytes',
  precision: 'precision',
  updated: 'updated_at',
};

const toRecord = (r: Row): ModelRecord => ({
  id: r.id,
  name: r.name,
  origin: r.origin,
  path: r.path,
  architecture: r.architecture,
  format: r.format,
  precision: r.precision,
  parameters: r.parameters,
  bytes: r.bytes,
  status: r.status,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** What a listing records about a path: the header summary, or the error that stopped it. */
function describe(file: string, origin: ModelOrigin): Pick<ModelRecord, 'architecture' | 'format' | 'precision' | 'parameters' | 'bytes' | 'status' | 'error'> {
  const format = file.toLowerCase().endsWith('.gguf') ? 'gguf' : 'safetensors';
  if (!existsSync(file)) return { architecture: null, format, precision: null, parameters: null, bytes: 0, status: 'missing', error: 'the path no longer exists' };
  if (origin === 'cache' && missingFiles(file).length > 0) {
    return { architecture: null, format, precision: null, parameters: null, bytes: folderBytes(file), status: 'incomplete', error: `missing ${missingFiles(file).join(', ')}` };
  }
  try {
    const s = summarizeModelFiles(file);
    return { architecture: s.architecture, format: s.format, precision: s.storedPrecision, parameters: s.parameters, bytes: s.bytes, status: 'ready', error: null };
  } catch (err) {
    if (!(err instanceof MiStudioError)) throw err;
    return { architecture: null, format, precision: null, parameters: null, bytes: existsSync(file) && statSync(file).isDirectory() ? folderBytes(file) : statSync(file).size, status: 'incomplete', error: err.message };
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? folderBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return total;
}

/** Hub snapshots in a cache directory: `{ id: 'org/name' or 'org/name@rev', dir }`. */
export function cachedSnapshots(cacheDir: string): { id: string; dir: string }[] {
  if (!existsSync(cacheDir)) return [];
  const out: { id: string; dir: string }[] = [];
  for (const repoDir of readdirSync(cacheDir).sort()) {
    const m = /^models--([^-].*?)--(.+)$/.exec(repoDir);
    const snapshots = path.join(cacheDir, repoDir, 'snapshots');
    if (!m || !existsSync(snapshots)) continue;
    for (const rev of readdirSync(snapshots).sort()) {
      const dir = path.join(snapshots, rev);
      if (!statSync(dir).isDirectory()) continue;
      const revision = rev.replace(/--/g, '/');
      out.push({ id: `${m[1]}/${m[2]}${revision === 'main' ? '' : `@${revision}`}`, dir });
    }
  }
  return out;
}

export class ModelsTable {
  constructor(private readonly db: Database) {}

  find(name: string): ModelRecord | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as Row | undefined;
    return row && toRecord(row);
  }

  get(name: string): ModelRecord {
    const found = this.find(name);
    if (!found) throw new MiStudioError('NOT_FOUND', `no model named '${name}' in this workspace`, { field: 'name', hint: "run 'mistudio models list' to see the registered and cached models" });
    return found;
  }

  /** Registers a local model directory or .gguf file (read now: a bad model is refused with the reader's error). */
  register(source: string, options: { name?: string } = {}): ModelRecord {
    const file = path.resolve(source);
    const s = summarizeModelFiles(file);
    const name = options.name ?? path.basename(file).replace(/\.gguf$/i, '');
    if (!name.trim() || name.length > 200) throw new MiStudioError('INVALID_ARGUMENT', `invalid model name '${name}'`, { field: 'name', hint: 'use 1-200 characters' });
    const now = new Date().toISOString();
    this.db
      .transaction(() => {
        const byPath = this.db.prepare('SELECT name FROM models WHERE path = ?').get(file) as { name: string } | undefined;
        if (byPath) throw new MiStudioError('ALREADY_EXISTS', `this model is already registered as '${byPath.name}'`, { file });
        if (this.find(name)) throw new MiStudioError('ALREADY_EXISTS', `a model named '${name}' already exists`, { field: 'name', hint: 'pass another name' });
        this.db
          .prepare(`INSERT INTO models (id, name, origin, path, architecture, format, precision, parameters, bytes, status, error, created_at, updated_at)
                    VALUES (?, ?, 'local', ?, ?, ?, ?, ?, ?, 'ready', NULL, ?, ?)`)
          .run(`md-${randomBytes(8).toString('hex')}`, name, file, s.architecture, s.format, s.storedPrecision, s.parameters, s.bytes, now, now);
      })
      .immediate();
    return this.get(name);
  }

  /**
   * Brings the table in line with the disk: every snapshot in `cacheDir` gets a row (re-read when
   * its folder changed since), cache rows under `cacheDir` whose folder is gone are dropped, and
   * local rows are re-read (or marked missing). Returns how many rows were added, updated, removed.
   */
  refresh(cacheDir = defaultCacheDir()): { added: number; updated: number; removed: number } {
    const cache = path.resolve(cacheDir);
    const snapshots = cachedSnapshots(cache);
    const counts = { added: 0, updated: 0, removed: 0 };
    const now = new Date().toISOString();
    this.db
      .transaction(() => {
        const rows = this.db.prepare('SELECT * FROM models').all() as Row[];
        const byPath = new Map(rows.map((r) => [r.path, r]));
        const upsert = this.db.prepare(`INSERT INTO models (id, name, origin, path, architecture, format, precision, parameters, bytes, status, error, created_at, updated_at)
            VALUES (@id, @name, @origin, @path, @architecture, @format, @precision, @parameters, @bytes, @status, @error, @now, @now)
            ON CONFLICT(path) DO UPDATE SET architecture = excluded.architecture, format = excluded.format, precision = excluded.precision,
              parameters = excluded.parameters, bytes = excluded.bytes, status = excluded.status, error = excluded.error, updated_at = excluded.updated_at`);
        for (const snap of snapshots) {
          const known = byPath.get(snap.dir);
          // A folder's mtime changes when files are added or renamed into it (a download finishing).
          if (known && known.status === 'ready' && Date.parse(known.updated_at) >= statSync(snap.dir).mtimeMs) continue;
          const taken = !known && this.find(snap.id);
          const name = taken ? `${snap.id} (${path.basename(cache)})` : snap.id;
          upsert.run({ id: known?.id ?? `md-${randomBytes(8).toString('hex')}`, name: known?.name ?? name, origin: 'cache', path: snap.dir, ...describe(snap.dir, 'cache'), now });
          if (known) counts.updated++;
          else counts.added++;
        }
        const present = new Set(snapshots.map((s) => s.dir));
        for (const r of rows) {
          if (r.origin === 'cache' && r.path.startsWith(cache + path.sep) && !present.has(r.path)) {
            this.db.prepare('DELETE FROM models WHERE id = ?').run(r.id);
            counts.removed++;
          } else if (r.origin === 'local') {
            const d = describe(r.path, 'local');
            if (d.status !== r.status || d.bytes !== r.bytes || d.parameters !== r.parameters) {
              this.db.prepare('UPDATE models SET architecture = ?, format = ?, precision = ?, parameters = ?, bytes = ?, status = ?, error = ?, updated_at = ? WHERE id = ?')
                .run(d.architecture, d.format, d.precision, d.parameters, d.bytes, d.status, d.error, now, r.id);
              counts.updated++;
            }
          }
        }
      })
      .immediate();
    return counts;
  }

  /** One page of models; `status` filters by origin ('local' | 'cache'); counts are per origin. */
  page(q: ListQuery = {}): ListPage<ModelRecord> {
    const r = resolveListQuery(q, SORTABLE, { sort: 'name', order: 'asc' }, 'rowid', MODEL_ORIGINS);
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (r.query) {
      where.push("(name LIKE @q ESCAPE '\\' OR architecture LIKE @q ESCAPE '\\' OR path LIKE @q ESCAPE '\\')");
      args.q = containsPattern(r.query);
    }
    const textWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const counts = Object.fromEntries(MODEL_ORIGINS.map((o) => [o, 0])) as Record<string, number>;
    for (const c of this.db.prepare(`SELECT origin, COUNT(*) AS n FROM models ${textWhere} GROUP BY origin`).all(args) as { origin: string; n: number }[]) counts[c.origin] = c.n;
    if (r.status) (where.push('origin = @status'), (args.status = r.status));
    const sqlWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = r.status ? counts[r.status] : Object.values(counts).reduce((a, b) => a + b, 0);
    const { page, pages, offset } = pageBounds(total, r);
    const rows = this.db.prepare(`SELECT * FROM models ${sqlWhere} ORDER BY ${r.orderBy} LIMIT @limit OFFSET @offset`).all({ ...args, limit: r.pageSize, offset }) as Row[];
    return { rows: rows.map(toRecord), total, page, pageSize: r.pageSize, pages, sort: r.sort, order: r.order, status: r.status, query: r.query, counts };
  }

  /** Every model, by name. */
  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY name COLLATE NOCASE').all() as Row[]).map(toRecord);
  }

  /**
   * Deletes models by name: the rows, and the snapshot folders of cached ones (moved aside under the
   * write lock, removed after), so the view and the disk never disagree. Local files are kept.
   */
  delete(names: readonly string[]): ModelRecord[] {
    const removed: ModelRecord[] = [];
    const trash: string[] = [];
    this.db
      .transaction(() => {
        const records = names.map((n) => this.get(n));
        for (const rec of records) {
          this.db.prepare('DELETE FROM models WHERE id = ?').run(rec.id);
          if (rec.origin === 'cache' && existsSync(rec.path)) {
            // Moved aside inside the cache itself (a rename never crosses file systems there); the
            // scan ignores names that do not start with models--.
            const repoDir = path.dirname(path.dirname(rec.path));
            const aside = path.join(path.dirname(repoDir), `.trash-${rec.id}`);
            renameSync(rec.path, aside);
            trash.push(aside);
            // The repo folder (refs, blobs) goes too once its last snapshot is gone.
            if (readdirSync(path.dirname(rec.path)).length === 0) {
              renameSync(repoDir, `${aside}-repo`);
              trash.push(`${aside}-repo`);
            }
          }
          removed.push(rec);
        }
      })
      .immediate();
    for (const dir of trash) removeDir(dir);
    return removed;
  }
}
