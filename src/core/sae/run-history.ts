/**
 * The catalog side of SAE training (tables of migration 0004): the run history — one row per run
 * with its config, status as the job changes, step/total, final metrics (MSE, explained variance,
 * L0, CE loss recovered) and a loss history for sparklines. Named training templates live in
 * training-templates.ts.
 *
 * `RunTracker` mirrors a training job into its row: status events, metrics events and the outcome. Deleting a run removes the row
 * first, then its run directory (only a directory that holds a training run's config.json, so a
 * wrong path never removes unrelated files).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { MiStudioError } from '../errors.js';
import type { Job, JobEvent, JobStatus } from '../jobs/job.js';
import { totalSteps, type TrainingConfig } from './config.js';
import { RUN_CONFIG_FILE } from './run-files.js';
import type { TrainingMetrics, TrainingResult } from './trainer.js';

export type RunStatus = JobStatus;

export interface TrainingRunRecord {
  id: string;
  name: string;
  /** The multi-hook job this run belongs to (null for a single run). */
  group: string | null;
  architecture: string;
  hook: string | null;
  model: string | null;
  /** Activation store directory, or a description of the source. */
  activations: string | null;
  config: TrainingConfig;
  status: RunStatus;
  statusReason: string | null;
  pid: number | null;
  step: number;
  totalSteps: number;
  tokens: number;
  mse: number | null;
  explainedVariance: number | null;
  l0: number | null;
  deadLatents: number | null;
  ceLossRecovered: number | null;
  klDiv: number | null;
  /** The last metrics row (no density histogram). */
  metrics: Record<string, unknown> | null;
  /** [step, loss] pairs, at most LOSS_HISTORY_POINTS. */
  lossHistory: [number, number][];
  runDir: string;
  saeDir: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface NewTrainingRun {
  name: string;
  group?: string | null;
  config: TrainingConfig;
  hook?: string | null;
  model?: string | null;
  activations?: string | null;
  runDir: string;
  status?: RunStatus;
}

export interface RunFilter {
  status?: RunStatus | RunStatus[];
  group?: string;
  /** Runs created before this ISO time. */
  createdBefore?: string;
}

interface RunRow {
  id: string;
  name: string;
  group_name: string | null;
  architecture: string;
  hook: string | null;
  model: string | null;
  activations: string | null;
  config: string;
  status: RunStatus;
  status_reason: string | null;
  pid: number | null;
  step: number;
  total_steps: number;
  tokens: number;
  mse: number | null;
  explained_variance: number | null;
  l0: number | null;
  dead_latents: number | null;
  ce_loss_recovered: number | null;
  kl_div: number | null;
  metrics: string | null;
  loss_history: string;
  run_dir: string;
  sae_dir: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export const LOSS_HISTORY_POINTS = 256;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,159}$/;

/** Folder under the workspace where runs started from the catalog keep their run directories. */
export function runsDir(catalog: Catalog): string {
  return path.join(catalog.root, 'runs');
}

/** Run and template names: letters, digits and `._/:-`, up to 160 characters. */
export function validateName(name: string, what: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new MiStudioError('INVALID_ARGUMENT', `invalid ${what} name ${JSON.stringify(name)}`, { field: 'name', hint: 'use 1-160 letters, digits, dots, dashes, underscores, slashes or colons, starting with a letter or digit' });
  }
}

/** Appends a point; when over the limit, keeps every other point (and always the newest). */
export function appendLossPoint(history: [number, number][], point: [number, number], limit = LOSS_HISTORY_POINTS): [number, number][] {
  const next = [...history, point];
  if (next.length <= limit) return next;
  const thinned = next.filter((_, i) => i % 2 === 0);
  if (thinned[thinned.length - 1] !== point) thinned.push(point);
  return thinned;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class TrainingRunsTable {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  private toRecord(r: RunRow): TrainingRunRecord {
    return {
      id: r.id,
      name: r.name,
      group: r.group_name,
      architecture: r.architecture,
      hook: r.hook,
      model: r.model,
      activations: r.activations,
      config: JSON.parse(r.config) as TrainingConfig,
      status: r.status,
      statusReason: r.status_reason,
      pid: r.pid,
      step: r.step,
      totalSteps: r.total_steps,
      tokens: r.tokens,
      mse: r.mse,
      explainedVariance: r.explained_variance,
      l0: r.l0,
      deadLatents: r.dead_latents,
      ceLossRecovered: r.ce_loss_recovered,
      klDiv: r.kl_div,
      metrics: r.metrics ? (JSON.parse(r.metrics) as Record<string, unknown>) : null,
      lossHistory: JSON.parse(r.loss_history) as [number, number][],
      runDir: r.run_dir,
      saeDir: r.sae_dir,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      finishedAt: r.finished_at,
    };
  }

  find(name: string): TrainingRunRecord | undefined {
    const r = this.db.prepare('SELECT * FROM training_runs WHERE name = ?').get(name) as RunRow | undefined;
    return r && this.toRecord(r);
  }

  get(name: string): TrainingRunRecord {
    const r = this.find(name);
    if (!r) {
      const names = this.list().map((x) => x.name);
      throw new MiStudioError('NOT_FOUND', `no training run named '${name}'`, { field: 'name', hint: names.length ? `runs: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` : 'no runs recorded yet' });
    }
    return r;
  }

  byId(id: string): TrainingRunRecord | undefined {
    const r = this.db.prepare('SELECT * FROM training_runs WHERE id = ?').get(id) as RunRow | undefined;
    return r && this.toRecord(r);
  }

  /** The run recorded for a run directory, if any (resume finds its row this way). */
  byRunDir(runDir: string): TrainingRunRecord | undefined {
    const r = this.db.prepare('SELECT * FROM training_runs WHERE run_dir = ? ORDER BY created_at DESC LIMIT 1').get(path.resolve(runDir)) as RunRow | undefined;
    return r && this.toRecord(r);
  }

  list(filter: RunFilter = {}): TrainingRunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
      args.push(...statuses);
    }
    if (filter.group !== undefined) {
      where.push('group_name = ?');
      args.push(filter.group);
    }
    if (filter.createdBefore !== undefined) {
      where.push('created_at < ?');
      args.push(filter.createdBefore);
    }
    const sql = `SELECT * FROM training_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, name`;
    return (this.db.prepare(sql).all(...args) as RunRow[]).map((r) => this.toRecord(r));
  }

  /** A name not taken yet: `base`, else `base-2`, `base-3`, … */
  freeName(base: string): string {
    if (!this.find(base)) return base;
    for (let i = 2; ; i++) if (!this.find(`${base}-${i}`)) return `${base}-${i}`;
  }

  /** Registers a run; the name must be free. */
  create(entry: NewTrainingRun): TrainingRunRecord {
    validateName(entry.name, 'run');
    if (entry.group != null) validateName(entry.group, 'group');
    return this.catalog.write(() => {
      if (this.find(entry.name)) throw new MiStudioError('ALREADY_EXISTS', `a training run named '${entry.name}' already exists`, { field: 'name', hint: 'choose another name, or delete the old run' });
      const id = `run-${randomBytes(6).toString('hex')}`;
      const now = new Date().toISOString();
      const c = entry.config;
      this.db
        .prepare(
          `INSERT INTO training_runs (id, name, group_name, architecture, hook, model, activations, config, status, pid, step, total_steps, tokens, run_dir, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?)`,
        )
        .run(id, entry.name, entry.group ?? null, c.architecture, entry.hook ?? null, entry.model ?? null, entry.activations ?? null, JSON.stringify(c), entry.status ?? 'pending',
          entry.status === 'running' ? process.pid : null, totalSteps(c), path.resolve(entry.runDir), now, now);
      return this.byId(id)!;
    });
  }

  setStatus(id: string, status: RunStatus, reason: string | null = null): void {
    const now = new Date().toISOString();
    const live = status === 'running' || status === 'paused' || status === 'stopping';
    const finished = status === 'completed' || status === 'failed' || status === 'stopped';
    this.db
      .prepare('UPDATE training_runs SET status = ?, status_reason = ?, pid = ?, updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?')
      .run(status, reason, live ? process.pid : null, now, finished ? 1 : 0, now, id);
  }

  /** Records one metrics event: step, tokens, the latest values, and a loss-history point. */
  recordMetrics(id: string, m: TrainingMetrics): void {
    this.catalog.write(() => {
      const row = this.db.prepare('SELECT loss_history FROM training_runs WHERE id = ?').get(id) as { loss_history: string } | undefined;
      if (!row) return;
      const history = appendLossPoint(JSON.parse(row.loss_history) as [number, number][], [m.step, m.loss]);
      const { densityHistogram: _h, ...latest } = m;
      const ce = m.eval?.ceLossRecovered;
      const kl = m.eval?.klDivWithSae;
      this.db
        .prepare(
          `UPDATE training_runs SET step = ?, total_steps = ?, tokens = ?, mse = ?, explained_variance = ?, l0 = ?, dead_latents = ?,
             ce_loss_recovered = COALESCE(?, ce_loss_recovered), kl_div = COALESCE(?, kl_div), metrics = ?, loss_history = ?, updated_at = ? WHERE id = ?`,
        )
        .run(m.step, m.totalSteps, m.tokens, m.mseLoss, m.explainedVariance, m.l0, m.deadLatents, finiteOrNull(ce), finiteOrNull(kl), JSON.stringify(latest), JSON.stringify(history), new Date().toISOString(), id);
    });
  }

  /** Step and tokens without a metrics row (progress between metrics events). */
  recordProgress(id: string, step: number, tokens: number): void {
    this.db.prepare('UPDATE training_runs SET step = ?, tokens = ?, updated_at = ? WHERE id = ?').run(step, tokens, new Date().toISOString(), id);
  }

  setSaeDir(id: string, saeDir: string | null): void {
    this.db.prepare('UPDATE training_runs SET sae_dir = ?, updated_at = ? WHERE id = ?').run(saeDir, new Date().toISOString(), id);
  }

  /**
   * Deletes runs by name: rows first (in one transaction), then — unless `keepFiles` — their run
   * directories. A run still training in a live process is refused unless `force`.
   */
  delete(names: readonly string[], options: { keepFiles?: boolean; force?: boolean } = {}): TrainingRunRecord[] {
    const removed = this.catalog.write(() => {
      const records = names.map((n) => this.get(n));
      for (const r of records) {
        const live = (r.status === 'running' || r.status === 'paused' || r.status === 'stopping') && r.pid !== null && r.pid !== process.pid && processAlive(r.pid);
        if (live && !options.force) {
          throw new MiStudioError('INVALID_ARGUMENT', `training run '${r.name}' is ${r.status} in process ${r.pid}`, { field: 'name', hint: 'stop it first, or pass force' });
        }
      }
      const del = this.db.prepare('DELETE FROM training_runs WHERE id = ?');
      for (const r of records) del.run(r.id);
      return records;
    });
    if (!options.keepFiles) for (const r of removed) removeRunDir(r.runDir);
    return removed;
  }

  /** Bulk delete: every run matching the filter (e.g. all failed runs, a multi-hook group). */
  deleteWhere(filter: RunFilter, options: { keepFiles?: boolean; force?: boolean } = {}): TrainingRunRecord[] {
    return this.delete(this.list(filter).map((r) => r.name), options);
  }
}

function finiteOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/** Removes a run directory, but only one that holds a training run (its config.json). */
function removeRunDir(dir: string): void {
  if (!existsSync(path.join(dir, RUN_CONFIG_FILE))) return;
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Mirrors a training job into a run row while attached: the job's status changes (a job-level
 * 'completed' is left to `finish`, which knows whether this run's SAE was written), its metrics,
 * and the outcome.
 */
export class RunTracker {
  private detachFn: (() => void) | undefined;

  constructor(readonly runs: TrainingRunsTable, readonly runId: string) {}

  get record(): TrainingRunRecord {
    return this.runs.byId(this.runId)!;
  }

  /** Follows `job` from now on (its status now too, when it is already running). */
  attach(job: Job<unknown, TrainingMetrics>): void {
    this.detach();
    if (job.status === 'running' || job.status === 'paused') this.runs.setStatus(this.runId, job.status);
    this.detachFn = job.on((e: JobEvent<TrainingMetrics>) => this.onEvent(e));
  }

  detach(): void {
    this.detachFn?.();
    this.detachFn = undefined;
  }

  private onEvent(e: JobEvent<TrainingMetrics>): void {
    if (e.type === 'status') {
      if (e.status !== 'completed') this.runs.setStatus(this.runId, e.status, e.reason ?? null);
    } else if (e.type === 'metrics') {
      this.runs.recordMetrics(this.runId, e.metrics);
    }
  }

  /** Records how this run ended: completed with its SAE directory, stopped, or failed with the error. */
  finish(outcome: { status: 'completed' | 'stopped' | 'failed'; result?: TrainingResult; error?: unknown }): void {
    this.detach();
    const r = outcome.result;
    if (r) this.runs.recordProgress(this.runId, r.steps, r.tokens);
    if (outcome.status === 'failed') {
      this.runs.setStatus(this.runId, 'failed', outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
    } else if (r?.saeDir) {
      this.runs.setSaeDir(this.runId, r.saeDir);
      this.runs.setStatus(this.runId, 'completed');
    } else {
      const { status, statusReason } = this.record;
      this.runs.setStatus(this.runId, 'stopped', status === 'paused' || status === 'stopping' ? statusReason : null);
    }
  }
}
