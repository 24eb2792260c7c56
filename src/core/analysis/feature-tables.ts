/**
 * The catalog side of feature analyses (tables of migration 0003): analysis runs, per-feature
 * statistics for sorting and paging, labels with their full-text index, favorites, and the tokens
 * top examples fire on. Every write that reads first runs under the catalog's write lock.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Catalog } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';

export type AnalysisStatus = 'running' | 'stopped' | 'failed' | 'completed';
export type LabelSource = 'default' | 'auto' | 'manual';

export interface FeatureAnalysisRecord {
  id: string;
  name: string;
  status: AnalysisStatus;
  datasetId: string | null;
  model: string;
  hook: string;
  sae: Record<string, unknown>;
  dSae: number;
  settings: Record<string, unknown>;
  rowsDone: number;
  rowsTotal: number;
  tokens: number;
  error: string | null;
  /** Absolute folder of the analysis files. */
  dir: string;
  createdAt: string;
  updatedAt: string;
}

export interface FeatureRow {
  feature: number;
  fired: number;
  density: number;
  meanActive: number | null;
  max: number | null;
  favorite: boolean;
  /** The label shown: manual, else auto, else default. */
  label: string | null;
  labelSource: LabelSource | null;
  /** Detection score of the auto label. */
  score: number | null;
}

export interface LabelRecord {
  feature: number;
  source: LabelSource;
  label: string;
  score: number | null;
  detail: Record<string, unknown> | null;
  createdAt: string;
}

export type FeatureSort = 'feature' | 'density' | 'max' | 'meanActive' | 'score' | 'label';

export interface FeatureQuery {
  /** Label text: full-text (FTS5, word prefixes) or substring match against any of a feature's labels. */
  text?: string;
  /** Features whose top examples fire on any of these token ids. */
  tokenIds?: readonly number[];
  favoritesOnly?: boolean;
  /** Only this feature. */
  only?: number;
  /** Only features that fired at least once (default false). */
  aliveOnly?: boolean;
  sort?: FeatureSort;
  descending?: boolean;
  offset?: number;
  limit?: number;
}

interface AnalysisRow {
  id: string;
  name: string;
  status: AnalysisStatus;
  dataset_id: string | null;
  model: string;
  hook: string;
  sae: string;
  d_sae: number;
  settings: string;
  rows_done: number;
  rows_total: number;
  tokens: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export function analysesDir(catalog: Catalog): string {
  return path.join(catalog.root, 'analyses');
}

const SORT_COLUMNS: Record<FeatureSort, string> = {
  feature: 'f.feature',
  density: 'f.density',
  max: 'f.max',
  meanActive: 'f.mean_active',
  score: 'score',
  label: 'label',
};

/** Label priority: what the browser shows. */
const LABEL_ORDER = "CASE l.source WHEN 'manual' THEN 0 WHEN 'auto' THEN 1 ELSE 2 END";

export class FeatureTables {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  private toRecord(r: AnalysisRow): FeatureAnalysisRecord {
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      datasetId: r.dataset_id,
      model: r.model,
      hook: r.hook,
      sae: JSON.parse(r.sae) as Record<string, unknown>,
      dSae: r.d_sae,
      settings: JSON.parse(r.settings) as Record<string, unknown>,
      rowsDone: r.rows_done,
      rowsTotal: r.rows_total,
      tokens: r.tokens,
      error: r.error,
      dir: path.join(analysesDir(this.catalog), r.id),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  find(name: string): FeatureAnalysisRecord | undefined {
    const r = this.db.prepare('SELECT * FROM feature_analyses WHERE name = ?').get(name) as AnalysisRow | undefined;
    return r && this.toRecord(r);
  }

  get(name: string): FeatureAnalysisRecord {
    const r = this.find(name);
    if (!r) {
      const names = this.list().map((a) => a.name);
      throw new MiStudioError('NOT_FOUND', `no feature analysis named '${name}'`, { field: 'name', hint: names.length ? `analyses: ${names.join(', ')}` : 'run analyzeFeatures first' });
    }
    return r;
  }

  list(): FeatureAnalysisRecord[] {
    return (this.db.prepare('SELECT * FROM feature_analyses ORDER BY created_at').all() as AnalysisRow[]).map((r) => this.toRecord(r));
  }

  /** Registers a new running analysis; the name must be free. */
  create(entry: { name: string; datasetId: string; model: string; hook: string; sae: Record<string, unknown>; dSae: number; settings: Record<string, unknown>; rowsTotal: number }): FeatureAnalysisRecord {
    return this.catalog.write(() => {
      if (this.find(entry.name)) throw new MiStudioError('ALREADY_EXISTS', `a feature analysis named '${entry.name}' already exists`, { field: 'name', hint: 'choose another name, resume it with resumeFeatureAnalysis, or delete it' });
      const id = `fa-${randomBytes(6).toString('hex')}`;
      const now = new Date().toISOString();
      this.db
        .prepare(
          `INSERT INTO feature_analyses (id, name, status, dataset_id, model, hook, sae, d_sae, settings, rows_done, rows_total, tokens, created_at, updated_at)
           VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)`,
        )
        .run(id, entry.name, entry.datasetId, entry.model, entry.hook, JSON.stringify(entry.sae), entry.dSae, JSON.stringify(entry.settings), entry.rowsTotal, now, now);
      return this.get(entry.name);
    });
  }

  progress(id: string, rowsDone: number, tokens: number): void {
    this.db.prepare('UPDATE feature_analyses SET rows_done = ?, tokens = ?, updated_at = ? WHERE id = ?').run(rowsDone, tokens, new Date().toISOString(), id);
  }

  setStatus(id: string, status: AnalysisStatus, error: string | null = null): void {
    this.db.prepare('UPDATE feature_analyses SET status = ?, error = ?, updated_at = ? WHERE id = ?').run(status, error, new Date().toISOString(), id);
  }

  /** Removes the catalog rows (features, labels, tokens cascade); the caller removes the folder. */
  delete(id: string): void {
    this.catalog.write(() => {
      this.db.prepare("DELETE FROM feature_labels WHERE analysis_id = ?").run(id);
      this.db.prepare('DELETE FROM feature_analyses WHERE id = ?').run(id);
    });
  }

  /** Writes every feature's statistics and the top-example tokens in one transaction. */
  storeFeatures(id: string, rows: { feature: number; fired: number; density: number; meanActive: number | null; max: number | null }[], topTokens: { feature: number; tokenId: number; examples: number }[]): void {
    this.catalog.write(() => {
      this.db.prepare('DELETE FROM features WHERE analysis_id = ?').run(id);
      this.db.prepare('DELETE FROM feature_top_tokens WHERE analysis_id = ?').run(id);
      const ins = this.db.prepare('INSERT INTO features (analysis_id, feature, fired, density, mean_active, max) VALUES (?, ?, ?, ?, ?, ?)');
      for (const r of rows) ins.run(id, r.feature, r.fired, r.density, r.meanActive, r.max);
      const tok = this.db.prepare('INSERT INTO feature_top_tokens (analysis_id, token_id, feature, examples) VALUES (?, ?, ?, ?)');
      for (const t of topTokens) tok.run(id, t.tokenId, t.feature, t.examples);
    });
  }

  setLabel(id: string, feature: number, source: LabelSource, label: string, score: number | null = null, detail: Record<string, unknown> | null = null): void {
    this.db
      .prepare(
        `INSERT INTO feature_labels (analysis_id, feature, source, label, score, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (analysis_id, feature, source) DO UPDATE SET label = excluded.label, score = excluded.score, detail = excluded.detail, created_at = excluded.created_at`,
      )
      .run(id, feature, source, label, score, detail === null ? null : JSON.stringify(detail), new Date().toISOString());
  }

  /** Many labels of one source in one transaction (default labels of a whole SAE). */
  setLabels(id: string, source: LabelSource, labels: { feature: number; label: string }[]): void {
    this.catalog.write(() => {
      for (const l of labels) this.setLabel(id, l.feature, source, l.label);
    });
  }

  removeLabel(id: string, feature: number, source: LabelSource): void {
    this.db.prepare('DELETE FROM feature_labels WHERE analysis_id = ? AND feature = ? AND source = ?').run(id, feature, source);
  }

  labels(id: string, feature: number): LabelRecord[] {
    const rows = this.db
      .prepare(`SELECT feature, source, label, score, detail, created_at FROM feature_labels l WHERE analysis_id = ? AND feature = ? ORDER BY ${LABEL_ORDER}`)
      .all(id, feature) as { feature: number; source: LabelSource; label: string; score: number | null; detail: string | null; created_at: string }[];
    return rows.map((r) => ({ feature: r.feature, source: r.source, label: r.label, score: r.score, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null, createdAt: r.created_at }));
  }

  setFavorite(id: string, feature: number, favorite: boolean): void {
    const r = this.db.prepare('UPDATE features SET favorite = ? WHERE analysis_id = ? AND feature = ?').run(favorite ? 1 : 0, id, feature);
    if (r.changes === 0) throw new MiStudioError('NOT_FOUND', `feature ${feature} is not in this analysis`, { field: 'feature' });
  }

  /** One feature's row (undefined when the analysis has no such feature). */
  featureRow(id: string, feature: number): FeatureRow | undefined {
    return this.query(id, { only: feature }).rows[0];
  }

  /** One page of features matching the query, and how many match in all. */
  query(id: string, q: FeatureQuery = {}): { total: number; rows: FeatureRow[] } {
    const where: string[] = ['f.analysis_id = @id'];
    const params: Record<string, unknown> = { id };
    const text = q.text?.trim();
    if (text) {
      params.like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const fts = ftsQuery(text);
      const ftsClause = fts ? 'l.id IN (SELECT rowid FROM feature_labels_fts WHERE feature_labels_fts MATCH @fts) OR ' : '';
      if (fts) params.fts = fts;
      where.push(`f.feature IN (SELECT l.feature FROM feature_labels l WHERE l.analysis_id = @id AND (${ftsClause}l.label LIKE @like ESCAPE '\\'))`);
    }
    if (q.tokenIds && q.tokenIds.length > 0) {
      const ids = q.tokenIds.map((t, i) => {
        params[`t${i}`] = t;
        return `@t${i}`;
      });
      where.push(`f.feature IN (SELECT feature FROM feature_top_tokens WHERE analysis_id = @id AND token_id IN (${ids.join(', ')}))`);
    }
    if (q.favoritesOnly) where.push('f.favorite = 1');
    if (q.only !== undefined) {
      params.only = q.only;
      where.push('f.feature = @only');
    }
    if (q.aliveOnly) where.push('f.fired > 0');
    const sort = q.sort ?? 'feature';
    if (!(sort in SORT_COLUMNS)) throw new MiStudioError('INVALID_ARGUMENT', `unknown sort '${sort}'`, { field: 'sort', hint: `use one of ${Object.keys(SORT_COLUMNS).join(', ')}` });
    const dir = q.descending ? 'DESC' : 'ASC';
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new MiStudioError('INVALID_ARGUMENT', `limit must be an integer in [1, 10000], got ${limit}`, { field: 'limit' });
    if (!Number.isInteger(offset) || offset < 0) throw new MiStudioError('INVALID_ARGUMENT', `offset must be a non-negative integer, got ${offset}`, { field: 'offset' });
    const whereSql = where.join(' AND ');
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM features f WHERE ${whereSql}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT f.feature, f.fired, f.density, f.mean_active, f.max, f.favorite,
           (SELECT l.label FROM feature_labels l WHERE l.analysis_id = f.analysis_id AND l.feature = f.feature ORDER BY ${LABEL_ORDER} LIMIT 1) AS label,
           (SELECT l.source FROM feature_labels l WHERE l.analysis_id = f.analysis_id AND l.feature = f.feature ORDER BY ${LABEL_ORDER} LIMIT 1) AS label_source,
           (SELECT l.score FROM feature_labels l WHERE l.analysis_id = f.analysis_id AND l.feature = f.feature AND l.source = 'auto') AS score
         FROM features f WHERE ${whereSql}
         ORDER BY ${SORT_COLUMNS[sort]} IS NULL, ${SORT_COLUMNS[sort]} ${dir}, f.feature ASC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit, offset }) as { feature: number; fired: number; density: number; mean_active: number | null; max: number | null; favorite: number; label: string | null; label_source: LabelSource | null; score: number | null }[];
    return {
      total,
      rows: rows.map((r) => ({ feature: r.feature, fired: r.fired, density: r.density, meanActive: r.mean_active, max: r.max, favorite: r.favorite === 1, label: r.label, labelSource: r.label_source, score: r.score })),
    };
  }
}

/** User text as an FTS5 query: every word a quoted prefix term (no FTS syntax reaches SQLite). */
export function ftsQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}_]+/gu);
  if (!words) return undefined;
  return words.map((w) => `"${w}"*`).join(' ');
}
