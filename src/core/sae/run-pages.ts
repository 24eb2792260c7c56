/**
 * Paging over the training run history (table of run-history.ts) for `<ms-runs>` and `mistudio
 * train list`: one page of runs with hyperparameters at a glance, target vs achieved L0, final
 * MSE / explained variance / CE loss recovered and a downsampled loss history; counts per status;
 * filters by status and text; sorted by any listed column. Only the page's rows are read and
 * parsed, so 10,000 runs page as fast as ten (indexes of migration 0005).
 */
import type { Catalog } from '../catalog/catalog.js';
import { containsPattern, pageBounds, resolveListQuery, type ListPage, type ListQuery } from '../catalog/list-query.js';
import type { TrainingConfig } from './config.js';
import type { RunStatus } from './run-history.js';

export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'paused', 'stopping', 'stopped', 'completed', 'failed'];

/** Loss points sent per run for its sparkline. */
export const SPARKLINE_POINTS = 48;

export interface RunListRow {
  id: string;
  name: string;
  group: string | null;
  status: RunStatus;
  architecture: string;
  hook: string | null;
  model: string | null;
  dIn: number;
  dSae: number;
  /** The hyperparameters that tell runs apart at a glance. */
  hyper: Record<string, number | string>;
  step: number;
  totalSteps: number;
  tokens: number;
  /** k for the top-k family; `metadata.targetL0` when a run recorded one; else null. */
  targetL0: number | null;
  l0: number | null;
  mse: number | null;
  explainedVariance: number | null;
  ceLossRecovered: number | null;
  deadLatents: number | null;
  /** Loss values, at most SPARKLINE_POINTS (evenly thinned, always with the last). */
  loss: number[];
  runDir: string;
  saeDir: string | null;
  createdAt: string;
  updatedAt: string;
}

const SORTABLE: Record<string, string> = {
  created: 'created_at',
  name: 'name COLLATE NOCASE',
  status: 'status',
  architecture: 'architecture',
  progress: 'CAST(step AS REAL) / MAX(total_steps, 1)',
  l0: 'l0',
  mse: 'mse',
  ev: 'explained_variance',
  ce: 'ce_loss_recovered',
  dead: 'dead_latents',
  dSae: "json_extract(config, '$.dSae')",
  lr: "json_extract(config, '$.lr')",
};

interface Row {
  id: string;
  name: string;
  group_name: string | null;
  status: RunStatus;
  architecture: string;
  hook: string | null;
  model: string | null;
  config: string;
  step: number;
  total_steps: number;
  tokens: number;
  l0: number | null;
  mse: number | null;
  explained_variance: number | null;
  ce_loss_recovered: number | null;
  dead_latents: number | null;
  loss_history: string;
  run_dir: string;
  sae_dir: string | null;
  created_at: string;
  updated_at: string;
}

const TOPK_FAMILY = new Set(['topk', 'batchtopk']);

export function targetL0Of(config: TrainingConfig): number | null {
  if (TOPK_FAMILY.has(config.architecture)) return config.k;
  const t = config.metadata?.targetL0;
  return typeof t === 'number' && Number.isFinite(t) ? t : null;
}

/** The hyperparameters shown in the list: the sparsity knob of the architecture, lr, batch, tokens. */
export function hyperparametersOf(config: TrainingConfig): Record<string, number | string> {
  const sparsity: Record<string, number> = TOPK_FAMILY.has(config.architecture) ? { k: config.k } : { l1: config.sparsityCoefficient };
  return { ...sparsity, lr: config.lr, batch: config.batchSizeTokens, tokens: config.trainingTokens, ...(config.lrScheduler !== 'constant' ? { schedule: config.lrScheduler } : {}) };
}

/** Evenly spaced values of a [step, value] history, at most `max`, the last always included. */
export function thinHistory(history: readonly [number, number][], max = SPARKLINE_POINTS): number[] {
  if (history.length <= max) return history.map((p) => p[1]);
  const out: number[] = [];
  for (let i = 0; i < max - 1; i++) out.push(history[Math.floor((i * (history.length - 1)) / (max - 1))][1]);
  out.push(history[history.length - 1][1]);
  return out;
}

function toListRow(r: Row): RunListRow {
  const config = JSON.parse(r.config) as TrainingConfig;
  return {
    id: r.id,
    name: r.name,
    group: r.group_name,
    status: r.status,
    architecture: r.architecture,
    hook: r.hook,
    model: r.model,
    dIn: config.dIn,
    dSae: config.dSae,
    hyper: hyperparametersOf(config),
    step: r.step,
    totalSteps: r.total_steps,
    tokens: r.tokens,
    targetL0: targetL0Of(config),
    l0: r.l0,
    mse: r.mse,
    explainedVariance: r.explained_variance,
    ceLossRecovered: r.ce_loss_recovered,
    deadLatents: r.dead_latents,
    loss: thinHistory(JSON.parse(r.loss_history) as [number, number][]),
    runDir: r.run_dir,
    saeDir: r.sae_dir,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function pageRuns(catalog: Catalog, q: ListQuery = {}): ListPage<RunListRow> {
  const r = resolveListQuery(q, SORTABLE, { sort: 'created', order: 'desc' }, 'rowid', RUN_STATUSES);
  const where: string[] = [];
  const args: Record<string, unknown> = {};
  if (r.query) {
    where.push("(name LIKE @q ESCAPE '\\' OR hook LIKE @q ESCAPE '\\' OR model LIKE @q ESCAPE '\\' OR architecture LIKE @q ESCAPE '\\' OR group_name LIKE @q ESCAPE '\\')");
    args.q = containsPattern(r.query);
  }
  const db = catalog.db;
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<string, number>;
  const textWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
  for (const c of db.prepare(`SELECT status, COUNT(*) AS n FROM training_runs ${textWhere} GROUP BY status`).all(args) as { status: string; n: number }[]) counts[c.status] = c.n;
  if (r.status) (where.push('status = @status'), (args.status = r.status));
  const total = r.status ? counts[r.status] : Object.values(counts).reduce((a, b) => a + b, 0);
  const { page, pages, offset } = pageBounds(total, r);
  // Two steps: order and cut the page over the sort column's index only (rowids), then read the
  // page's full rows. Sorting whole rows would drag every run's config and loss history through
  // SQLite's sorter.
  const rowids = (db.prepare(`SELECT rowid AS r FROM training_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${r.orderBy} LIMIT @limit OFFSET @offset`)
    .all({ ...args, limit: r.pageSize, offset }) as { r: number }[]).map((x) => x.r);
  const byRowid = new Map(
    (db.prepare(`SELECT rowid AS r, id, name, group_name, status, architecture, hook, model, config, step, total_steps, tokens, l0, mse, explained_variance,
        ce_loss_recovered, dead_latents, loss_history, run_dir, sae_dir, created_at, updated_at
      FROM training_runs WHERE rowid IN (SELECT value FROM json_each(?))`).all(JSON.stringify(rowids)) as (Row & { r: number })[]).map((x) => [x.r, x]),
  );
  const rows = rowids.flatMap((rid) => (byRowid.has(rid) ? [toListRow(byRowid.get(rid)!)] : []));
  return { rows, total, page, pageSize: r.pageSize, pages, sort: r.sort, order: r.order, status: r.status, query: r.query, counts };
}
