/**
 * Multi-layer training: one job trains an SAE for each of several hooks of one extraction, one hook
 * after the other (sequentially, so memory is that of one SAE and each run is bit-identical to
 * training that hook alone). Every hook gets its own run directory `<runsDir>/<hook>/`; pause,
 * resume and stop act on the hook being trained; a stopped or crashed job resumes with
 * `resumeHooks`, which skips finished hooks, continues the interrupted one from its checkpoint and
 * starts the rest. With `history`, each hook is a run `<name>/<hook>` of group `<name>` in the catalog.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import { ActivationStore } from '../activations/store.js';
import type { Catalog } from '../catalog/catalog.js';
import { MiStudioError } from '../errors.js';
import { Job, type JobOutcome } from '../jobs/job.js';
import { CHECKPOINT_FILE } from './checkpoint.js';
import { resolveTrainingConfig, totalSteps, type TrainingConfig, type TrainingConfigInput } from './config.js';
import { JOB_RECORD_FILE, SAE_DIR } from './run-files.js';
import { TrainingRunsTable } from './run-history.js';
import { StoreActivationSource } from './store-activation-source.js';
import { openRunTracker, prepareResume, prepareTraining, runPreparedTraining, type TrainerOptions, type TrainingMetrics, type TrainingResult } from './trainer.js';

export const MULTI_HOOK_FILE = 'multi-hook.json';

/** A training config for several hooks: dIn comes from each hook's store when not given. */
export type MultiHookConfigInput = Omit<TrainingConfigInput, 'dIn'> & { dIn?: number };

export type MultiHookJob = Job<MultiHookResult, TrainingMetrics>;

export interface TrainHooksOptions {
  /** The extraction folder (extractActivations' outDir): one activation store per hook. */
  extractionDir: string;
  hooks: string[];
  /** Where the runs go: `<runsDir>/<hook>/` each. */
  runsDir: string;
  job?: MultiHookJob;
  /** Mixing-buffer rows of each store source (default max(16 batches, 65,536)) and its seed. */
  bufferRows?: number;
  sourceSeed?: number;
  intraOpNumThreads?: number;
  /** An evaluator per hook (e.g. createCeLossEvaluator on that hook). */
  evaluate?: (hook: string) => TrainerOptions['evaluate'];
  /** Record each hook as run `<name>/<hook>` (group `<name>`) in the catalog's run history. */
  history?: { catalog: Catalog; name: string };
}

export interface MultiHookResult {
  /** Per hook, in order: the run result (absent for hooks not reached before a stop). */
  runs: { hook: string; runDir: string; result?: TrainingResult }[];
}

interface MultiHookRecord {
  extractionDir: string;
  hooks: string[];
  config: MultiHookConfigInput;
  bufferRows?: number;
  sourceSeed?: number;
  name?: string;
}

/** A hook name as a folder name. */
function hookDir(runsDir: string, hook: string): string {
  return path.join(runsDir, hook.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** Validates every hook's config against its store before anything starts. */
function planHooks(record: MultiHookRecord): { hook: string; store: string; model?: string; cfg: TrainingConfig }[] {
  if (record.hooks.length === 0) throw new MiStudioError('INVALID_CONFIG', 'no hooks to train', { field: 'hooks' });
  if (new Set(record.hooks).size !== record.hooks.length) throw new MiStudioError('INVALID_CONFIG', 'a hook is listed twice', { field: 'hooks' });
  return record.hooks.map((hook) => {
    const storeDir = path.join(record.extractionDir, hook);
    const store = ActivationStore.open(storeDir);
    const d = store.d;
    const model = typeof store.manifest.source.model === 'string' ? store.manifest.source.model : undefined;
    store.close();
    if (record.config.dIn !== undefined && record.config.dIn !== d) {
      throw new MiStudioError('INVALID_CONFIG', `dIn is ${record.config.dIn} but ${hook} has width ${d}`, { field: 'dIn', hint: 'leave dIn out: each hook takes its store\'s width' });
    }
    const metadata = { ...(record.config.metadata ?? {}), hook_name: hook };
    return { hook, store: storeDir, model, cfg: resolveTrainingConfig({ ...record.config, dIn: d, metadata } as TrainingConfigInput) };
  });
}

/** Starts training one SAE per hook in one job. */
export async function trainHooks(config: MultiHookConfigInput, options: TrainHooksOptions): Promise<JobOutcome<MultiHookResult>> {
  const record: MultiHookRecord = {
    extractionDir: path.resolve(options.extractionDir), hooks: [...options.hooks], config,
    ...(options.bufferRows !== undefined ? { bufferRows: options.bufferRows } : {}),
    ...(options.sourceSeed !== undefined ? { sourceSeed: options.sourceSeed } : {}),
    ...(options.history ? { name: options.history.name } : {}),
  };
  const file = path.join(options.runsDir, MULTI_HOOK_FILE);
  if (existsSync(file)) throw new MiStudioError('ALREADY_EXISTS', 'this folder already holds a multi-hook training job', { file, hint: 'resume it with resumeHooks, or choose another folder' });
  const plan = planHooks(record);
  if (options.history) {
    const runs = new TrainingRunsTable(options.history.catalog);
    for (const p of plan) {
      const name = `${options.history.name}/${p.hook}`;
      if (runs.find(name)) throw new MiStudioError('ALREADY_EXISTS', `a training run named '${name}' already exists`, { field: 'name', hint: 'choose another name' });
    }
  }
  mkdirSync(options.runsDir, { recursive: true });
  writeJsonAtomic(file, record);
  return runHooks(record, plan, options);
}

/** Resumes the multi-hook job in `runsDir`: finished hooks are kept, the others continue or start. */
export async function resumeHooks(runsDir: string, options: Omit<TrainHooksOptions, 'extractionDir' | 'hooks' | 'runsDir' | 'bufferRows' | 'sourceSeed' | 'history'> & { catalog?: Catalog } = {}): Promise<JobOutcome<MultiHookResult>> {
  const file = path.join(runsDir, MULTI_HOOK_FILE);
  if (!existsSync(file)) throw new MiStudioError('FILE_NOT_FOUND', 'no multi-hook training job here', { file, hint: 'pass the runsDir the job was started with' });
  const record = JSON.parse(readFileSync(file, 'utf8')) as MultiHookRecord;
  const history = options.catalog && record.name ? { catalog: options.catalog, name: record.name } : undefined;
  return runHooks(record, planHooks(record), { ...options, extractionDir: record.extractionDir, hooks: record.hooks, runsDir, bufferRows: record.bufferRows, sourceSeed: record.sourceSeed, history });
}

async function runHooks(record: MultiHookRecord, plan: ReturnType<typeof planHooks>, options: TrainHooksOptions): Promise<JobOutcome<MultiHookResult>> {
  const job: MultiHookJob = options.job ?? new Job(`train ${plan.length} SAEs (${plan.map((p) => p.hook).join(', ')})`, { kind: 'sae-training' });
  job.persistTo(path.join(options.runsDir, JOB_RECORD_FILE));
  const totalTokens = plan.reduce((a, p) => a + totalSteps(p.cfg) * p.cfg.batchSizeTokens, 0);
  const sources = plan.map((p) => () => {
    const B = p.cfg.batchSizeTokens;
    return new StoreActivationSource(ActivationStore.open(p.store), { batchRows: B, bufferRows: record.bufferRows ?? Math.max(B * 16, 65_536), seed: record.sourceSeed ?? 0 });
  });
  // Rows in the catalog for every hook up front, so the history shows what is still pending.
  const trackers = options.history
    ? plan.map((p) => openRunTracker({ catalog: options.history!.catalog, name: `${options.history!.name}/${p.hook}`, group: options.history!.name, hook: p.hook, model: p.model, activations: p.store }, p.cfg, { runDir: hookDir(options.runsDir, p.hook) }))
    : undefined;
  return job.run(async () => {
    const runs: MultiHookResult['runs'] = [];
    let offsetTokens = 0;
    for (const [i, p] of plan.entries()) {
      const runDir = hookDir(options.runsDir, p.hook);
      const runTokens = totalSteps(p.cfg) * p.cfg.batchSizeTokens;
      if (job.stopping) {
        runs.push({ hook: p.hook, runDir });
        continue;
      }
      if (existsSync(path.join(runDir, SAE_DIR, 'cfg.json'))) {
        job.log(`${p.hook}: already trained (${runDir})`);
        runs.push({ hook: p.hook, runDir });
        offsetTokens += runTokens;
        continue;
      }
      const source = sources[i]();
      const trainer: TrainerOptions = { runDir, source, intraOpNumThreads: options.intraOpNumThreads, evaluate: options.evaluate?.(p.hook) };
      job.log(`training ${p.hook} (${i + 1} of ${plan.length}) in ${runDir}`);
      const tracker = trackers?.[i];
      tracker?.attach(job);
      try {
        const prepared = existsSync(path.join(runDir, CHECKPOINT_FILE)) ? await prepareResume(trainer) : await prepareTraining(p.cfg, trainer);
        const result = await runPreparedTraining(prepared, trainer, job, { offsetTokens, totalTokens });
        tracker?.finish({ status: result.saeDir ? 'completed' : 'stopped', result });
        runs.push({ hook: p.hook, runDir, result });
      } catch (error) {
        tracker?.finish({ status: 'failed', error });
        throw error;
      }
      offsetTokens += runTokens;
    }
    return { runs };
  });
}
