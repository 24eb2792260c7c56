/**
 * The SAE training loop, as a Job: validates everything before the first step, initialises
 * deterministically from the seed (or resumes from a run directory's checkpoint), runs the
 * resident training-step graph, emits metrics every `metricsInterval` steps, checkpoints atomically
 * every `checkpointInterval` steps and on pause/stop, pauses with a checkpoint when a step's loss is
 * not finite (the step is not applied), and finally writes the SAELens directory.
 *
 * Out of memory during a step: the step is not applied, the batch per step is halved (the source
 * still serves batchSizeTokens rows, split into equal parts, so the data order and the learning-rate
 * schedule — kept in tokens — are unchanged), a 'batch-halved' notice goes out, and training
 * continues; the halved size and the part reached are saved in checkpoints so resume matches.
 *
 * Run directory: config.json (resolved config), job.json (job record), checkpoint.safetensors,
 * sae/ (the SAELens v6 SAE, once training completes).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';
import { resolveDevice } from '../engine/devices.js';
import { Rng } from '../engine/random.js';
import { Job, type JobOutcome } from '../jobs/job.js';
import type { ActivationSource } from './activation-source.js';
import { StoreActivationSource } from './store-activation-source.js';
import { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { resolveTrainingConfig, totalSteps, type TrainingConfig, type TrainingConfigInput } from './config.js';
import { FeatureStatistics, type DensityHistogram } from './feature-statistics.js';
import { geometricMedian, initialParameters, rowMean } from './init.js';
import { learningRateAt, sparsityCoefficientAt } from './lr-schedule.js';
import { assertFitsInMemory, describeMemoryEstimate, isOutOfMemoryError, measureTrainingMemory, type MemoryEstimate } from './memory-estimate.js';
import { parameterShape, parameterSpecs } from './parameters.js';
import { modelFromTraining, type SaeModel } from './sae-model.js';
import { saveSaeLens } from './saelens-format.js';
import { SaeStepRunner, type AdamMoments, type TrainingStepRunner } from './step-runner.js';
import { WgslSaeStepRunner, wgslStepSupport } from './wgsl-step-runner.js';
import { acquireGpu } from '../gpu/dawn-device.js';
import { JOB_RECORD_FILE, RUN_CONFIG_FILE, SAE_DIR } from './run-files.js';
import { RunTracker, TrainingRunsTable } from './run-history.js';
import type { Catalog } from '../catalog/catalog.js';

export { RUN_CONFIG_FILE, JOB_RECORD_FILE, SAE_DIR };

export interface TrainingMetrics {
  step: number;
  tokens: number;
  totalSteps: number;
  lr: number;
  sparsityCoefficient: number;
  loss: number;
  mseLoss: number;
  sparsityLoss: number;
  auxLoss: number;
  l0: number;
  l1: number;
  explainedVariance: number;
  deadLatents: number;
  latentsBelowThreshold: number;
  denseLatents: number;
  meanLog10Density: number;
  densityHistogram: DensityHistogram;
  tokensPerSecond: number;
  /** batchtopk: the running threshold saved as the JumpReLU threshold. */
  topkThreshold?: number;
  /** Rows per optimizer step (batchSizeTokens unless an out-of-memory error halved it). */
  batchSizeTokens: number;
  /** Results of the evaluation hook, at evaluation steps (and at the last step). */
  eval?: Record<string, number>;
}

export interface TrainingResult {
  runDir: string;
  /** The SAELens directory (only when training completed). */
  saeDir?: string;
  steps: number;
  tokens: number;
  model: SaeModel;
  /** The last metrics emitted (with the last evaluation's results when an evaluator was given). */
  lastMetrics?: TrainingMetrics;
  /** The last evaluation's results. */
  lastEval?: Record<string, number>;
}

export type TrainingJob = Job<TrainingResult, TrainingMetrics>;

/** What the training loop needs of its job (any job whose metrics are TrainingMetrics). */
export type TrainingControl = Pick<Job<unknown, TrainingMetrics>, 'checkpoint' | 'log' | 'notice' | 'progress' | 'metrics' | 'pause'>;

export interface TrainerOptions {
  runDir: string;
  source: ActivationSource;
  /** Supply your own job to control it (pause/resume/stop) and listen to its events. */
  job?: TrainingJob;
  intraOpNumThreads?: number;
  /** topk: decode through the k active rows only (default true); false uses the dense formulation. */
  sparse?: boolean;
  /**
   * Called every evalInterval steps and at the last step with the current SAE (e.g. CE loss with the
   * SAE spliced in: see createCeLossEvaluator).
   */
  evaluate?: (model: SaeModel, step: number) => Promise<Record<string, number>>;
  /** Record the run in the workspace catalog's run history, its status following the job. */
  history?: RunHistoryOptions;
}

export interface RunHistoryOptions {
  catalog: Catalog;
  /** Run name (default `<architecture>-<hook>-<date>`); a resumed run keeps the row of its run directory. */
  name?: string;
  /** The multi-hook job this run is part of. */
  group?: string;
  /** What the activations are (default: from a StoreActivationSource's manifest). */
  hook?: string;
  model?: string;
  activations?: string;
}

/** A prepared run: everything validated, state initialised or restored, the runner built. */
export interface PreparedTraining {
  cfg: TrainingConfig;
  runner: TrainingStepRunner;
  stats: FeatureStatistics;
  state: CheckpointState;
  memory: MemoryEstimate;
}

/** How a run's progress is reported when it is one part of a bigger job (multi-hook training). */
export interface ProgressScope {
  offsetTokens: number;
  totalTokens: number;
}

/** Starts a new run in `runDir` (which must not hold one). Invalid input is rejected before any step. */
export async function trainSae(config: TrainingConfigInput | TrainingConfig, options: TrainerOptions): Promise<JobOutcome<TrainingResult>> {
  const prepared = await prepareTraining(config, options);
  return runAsJob(prepared, options);
}

/** Continues the run saved in `runDir` from its last checkpoint; the result is bit-identical on CPU. */
export async function resumeTraining(options: TrainerOptions): Promise<JobOutcome<TrainingResult>> {
  const prepared = await prepareResume(options);
  return runAsJob(prepared, options);
}

/** Validates and initialises a new run in `options.runDir` (writes config.json and the first checkpoint). */
export async function prepareTraining(config: TrainingConfigInput | TrainingConfig, options: TrainerOptions): Promise<PreparedTraining> {
  const cfg = resolveTrainingConfig(config as TrainingConfigInput);
  if (existsSync(path.join(options.runDir, CHECKPOINT_FILE))) {
    throw new MiStudioError('ALREADY_EXISTS', 'the run directory already holds a training run', { file: options.runDir, hint: 'resume it with resumeTraining, or choose a new directory' });
  }
  return prepareFresh(cfg, options);
}

/** Restores the run saved in `options.runDir` (its config, checkpoint and data position). */
export async function prepareResume(options: TrainerOptions): Promise<PreparedTraining> {
  const cfg = readRunConfig(options.runDir);
  checkSource(cfg, options.source);
  const ckpt = readCheckpoint(path.join(options.runDir, CHECKPOINT_FILE));
  options.source.restore(ckpt.state.sourcePosition);
  const stepRows = ckpt.state.stepBatchRows ?? cfg.batchSizeTokens;
  const memory = await checkMemory({ ...cfg, batchSizeTokens: stepRows });
  const runner = await createRunner(cfg, options, ckpt.params, ckpt.moments, stepRows);
  const stats = new FeatureStatistics(cfg.dSae, cfg.deadFeatureWindow, cfg.featureSamplingWindow, ckpt.statistics);
  return { cfg, runner, stats, state: ckpt.state, memory };
}

/** The resolved config a run directory was started with. */
export function readRunConfig(runDir: string): TrainingConfig {
  const cfgFile = path.join(runDir, RUN_CONFIG_FILE);
  if (!existsSync(cfgFile)) throw new MiStudioError('FILE_NOT_FOUND', 'no training run here', { file: cfgFile, hint: 'pass the directory a run was started in' });
  return resolveTrainingConfig(JSON.parse(readFileSync(cfgFile, 'utf8')) as TrainingConfigInput);
}

async function runAsJob(p: PreparedTraining, options: TrainerOptions): Promise<JobOutcome<TrainingResult>> {
  const { cfg } = p;
  const job: TrainingJob = options.job ?? new Job(`train ${cfg.architecture} ${cfg.dIn}×${cfg.dSae}`, { kind: 'sae-training' });
  // The job record follows every status change, so a restarted kernel can find and resume the run.
  job.persistTo(path.join(options.runDir, JOB_RECORD_FILE));
  const tracker = options.history ? openRunTracker(options.history, cfg, options) : undefined;
  tracker?.attach(job);
  const outcome = await job.run(() => runPreparedTraining(p, options, job));
  tracker?.finish(outcome);
  return outcome;
}

/** The run-history row of this run directory (created when the run is new to the catalog). */
export function openRunTracker(history: RunHistoryOptions, cfg: TrainingConfig, options: { runDir: string; source?: ActivationSource }): RunTracker {
  const runs = new TrainingRunsTable(history.catalog);
  const existing = runs.byRunDir(options.runDir);
  if (existing) return new RunTracker(runs, existing.id);
  const manifest = options.source instanceof StoreActivationSource ? options.source.manifest : undefined;
  const hook = history.hook ?? manifest?.hook ?? null;
  const model = history.model ?? (typeof manifest?.source.model === 'string' ? manifest.source.model : null);
  const activations = history.activations ?? (options.source instanceof StoreActivationSource ? options.source.dir : null);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = history.name ?? runs.freeName(`${cfg.architecture}-${hook ?? 'sae'}-${stamp}`);
  const row = runs.create({ name, group: history.group ?? null, config: cfg, hook, model, activations, runDir: options.runDir });
  return new RunTracker(runs, row.id);
}

function checkSource(cfg: TrainingConfig, source: ActivationSource): void {
  if (source.d !== cfg.dIn) {
    throw new MiStudioError('INVALID_CONFIG', `dIn is ${cfg.dIn} but the activations have width ${source.d}`, { field: 'dIn', hint: `set dIn to ${source.d} or train on the hook the config was written for` });
  }
}

async function checkMemory(cfg: TrainingConfig): Promise<MemoryEstimate> {
  const memory = await measureTrainingMemory(cfg, await resolveDevice(cfg.device));
  assertFitsInMemory(memory);
  return memory;
}

/** Throws INVALID_ARGUMENT naming the first non-finite value. */
function assertFinite(x: Float32Array, d: number, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new MiStudioError('INVALID_ARGUMENT', `activations contain ${x[i]} at row ${Math.floor(i / d)}, column ${i % d} of ${what}`, { field: 'activations', hint: 'the activation store holds NaN/Inf values; re-extract them (a model run in float16 may have overflowed)' });
    }
  }
}

async function prepareFresh(cfg: TrainingConfig, options: TrainerOptions): Promise<PreparedTraining> {
  const { source } = options;
  checkSource(cfg, source);
  const memory = await checkMemory(cfg);
  const rng = new Rng(cfg.seed);
  const B = cfg.batchSizeTokens;
  const d = cfg.dIn;
  let normScale: number | null = null;
  if (cfg.normalizeActivations === 'expected_average_only_in') {
    // SAELens estimate_scaling_factor: √d / mean row norm over a number of batches.
    let normSum = 0;
    let rows = 0;
    for (let b = 0; b < cfg.normEstimateBatches; b++) {
      const x = await source.nextBatch(B);
      assertFinite(x, d, `normalisation batch ${b}`);
      for (let r = 0; r < B; r++) {
        let sq = 0;
        for (let j = 0; j < d; j++) sq += x[r * d + j] ** 2;
        normSum += Math.sqrt(sq);
      }
      rows += B;
    }
    normScale = Math.sqrt(d) / (normSum / rows);
  }
  let bDec: Float32Array | undefined;
  if (cfg.bDecInit !== 'zeros') {
    const x = await source.nextBatch(B);
    assertFinite(x, d, 'the b_dec initialisation batch');
    if (normScale !== null) for (let i = 0; i < x.length; i++) x[i] *= normScale;
    bDec = cfg.bDecInit === 'mean' ? rowMean(x, d) : geometricMedian(x, d);
  }
  // The first training batch is checked here too, so bad data fails before the run starts.
  const position = source.position();
  assertFinite(await source.nextBatch(B), d, 'the first training batch');
  source.restore(position);

  const params = initialParameters(cfg, rng, bDec);
  mkdirSync(options.runDir, { recursive: true });
  writeJsonAtomic(path.join(options.runDir, RUN_CONFIG_FILE), cfg);
  const runner = await createRunner(cfg, options, params, undefined, B);
  const stats = new FeatureStatistics(cfg.dSae, cfg.deadFeatureWindow, cfg.featureSamplingWindow);
  const state: CheckpointState = {
    step: 0,
    tokensSeen: 0,
    sourcePosition: position,
    rng: rng.state(),
    normScale,
    ...(cfg.architecture === 'batchtopk' ? { topkThreshold: 0 } : {}),
    trainingSeconds: 0,
  };
  await saveCheckpoint(options.runDir, cfg, runner, stats, state);
  return { cfg, runner, stats, state, memory };
}

/**
 * On webgpu the step runs on the WGSL kernels when they cover the architecture (wgsl-step-runner.ts),
 * else as the onnxruntime graph on its WebGPU provider; MISTUDIO_WEBGPU_STEP=graph forces the graph.
 */
async function createRunner(cfg: TrainingConfig, options: TrainerOptions, params: Record<string, Float32Array>, moments: AdamMoments | undefined, batchRows: number): Promise<TrainingStepRunner> {
  const device = await resolveDevice(cfg.device);
  const spec = {
    architecture: cfg.architecture, dIn: cfg.dIn, dSae: cfg.dSae, batch: batchRows, k: cfg.k,
    rescaleActsByDecoderNorm: cfg.rescaleActsByDecoderNorm, jumpreluBandwidth: cfg.jumpreluBandwidth,
    adamBeta1: cfg.adamBeta1, adamBeta2: cfg.adamBeta2, adamEpsilon: cfg.adamEpsilon, gradientClipNorm: cfg.gradientClipNorm,
    sparse: cfg.architecture === 'topk' && options.sparse !== false, exposeGradients: false,
  };
  if (device === 'webgpu' && process.env.MISTUDIO_WEBGPU_STEP !== 'graph' && !wgslStepSupport(spec)) {
    const gpu = await acquireGpu();
    if (gpu) return WgslSaeStepRunner.create(spec, params, moments, gpu);
  }
  return SaeStepRunner.create(spec, params, moments, { device, intraOpNumThreads: options.intraOpNumThreads });
}

async function saveCheckpoint(runDir: string, cfg: TrainingConfig, runner: TrainingStepRunner, stats: FeatureStatistics, state: CheckpointState): Promise<void> {
  const shapes = Object.fromEntries(parameterSpecs(cfg.architecture).map((s) => [s.name, parameterShape(s, cfg.dIn, cfg.dSae)]));
  writeCheckpoint(path.join(runDir, CHECKPOINT_FILE), { state, params: await runner.parameters(), moments: await runner.moments(), statistics: stats.state() }, shapes);
}

async function currentModel(p: PreparedTraining): Promise<SaeModel> {
  return modelFromTraining(p.cfg, await p.runner.parameters(), { normScale: p.state.normScale, topkThreshold: p.state.topkThreshold });
}

/**
 * Rebuilds the runner for half the rows per step, keeping parameters and moments; the part of the
 * current source batch being worked on maps to the first of its two halves.
 */
async function halveBatch(p: PreparedTraining, options: TrainerOptions, job: TrainingControl, stepRows: number, cause: unknown): Promise<void> {
  const { state, cfg } = p;
  const why = cause instanceof Error ? cause.message : String(cause);
  if (stepRows % 2 !== 0 || stepRows < 2) {
    throw new MiStudioError('OUT_OF_MEMORY', `out of memory at step ${state.step} with ${stepRows} tokens per step, which cannot be halved further (${why})`, { field: 'batchSizeTokens', hint: 'reduce dSae, free memory, or train on another device', cause });
  }
  const half = stepRows / 2;
  const params = await p.runner.parameters();
  const moments = await p.runner.moments();
  await p.runner.release();
  p.runner = await createRunner(cfg, options, params, moments, half);
  state.stepBatchRows = half;
  state.partsDone = (state.partsDone ?? 0) * 2;
  job.notice('batch-halved', `out of memory at step ${state.step} with ${stepRows} tokens per step (${why.split('\n')[0]}); continuing with ${half} tokens per step`, {
    step: state.step, fromTokensPerStep: stepRows, toTokensPerStep: half,
  });
}

/**
 * The training loop of a prepared run, inside `job` (which must be running): the caller owns the
 * job (trainSae/resumeTraining wrap this in job.run; multi-hook training runs several in one job).
 */
export async function runPreparedTraining(p: PreparedTraining, options: TrainerOptions, job: TrainingControl, scope?: ProgressScope): Promise<TrainingResult> {
  const { cfg, stats, state } = p;
  const { source, runDir } = options;
  const B = cfg.batchSizeTokens;
  const d = cfg.dIn;
  const totalTokens = totalSteps(cfg) * B;
  const kAuxBase = Math.floor(d / 2);
  const checkpointNow = () => saveCheckpoint(runDir, cfg, p.runner, stats, state);
  job.log(describeMemoryEstimate(p.memory));
  let lastMetrics: TrainingMetrics | undefined;
  let lastEval: Record<string, number> | undefined;
  /** The source batch being worked through, already scaled (several steps once the batch was halved). */
  let pending: Float32Array | undefined;
  try {
    let intervalStart = performance.now();
    let intervalTokens = 0;
    let clock = performance.now();
    while (state.tokensSeen < totalTokens) {
      state.trainingSeconds += (performance.now() - clock) / 1000;
      if ((await job.checkpoint(checkpointNow)) === 'stop') break;
      clock = performance.now();
      if (!pending) {
        const x = await source.nextBatch(B);
        try {
          assertFinite(x, d, `the batch of step ${state.step}`);
        } catch (err) {
          source.restore(state.sourcePosition);
          job.pause((err as Error).message);
          continue;
        }
        if (state.normScale !== null) for (let i = 0; i < x.length; i++) x[i] *= state.normScale;
        pending = x;
      }
      const stepRows = state.stepBatchRows ?? B;
      const parts = B / stepRows;
      const part = state.partsDone ?? 0;
      const x = parts === 1 ? pending : pending.slice(part * stepRows * d, (part + 1) * stepRows * d);
      const t = state.step + 1;
      // The schedules run in source batches (tokens), so halving the batch does not stretch them.
      const scheduleStep = Math.floor(state.tokensSeen / B);
      const lr = learningRateAt(scheduleStep, cfg);
      const coefficient = sparsityCoefficientAt(scheduleStep, cfg);
      let aux;
      if (cfg.architecture === 'topk' || cfg.architecture === 'batchtopk') {
        const dead = stats.deadLatents();
        if (dead.length > 0) aux = { deadIndices: dead, kAux: Math.min(kAuxBase, dead.length), auxScale: cfg.auxKCoefficient * Math.min(dead.length / kAuxBase, 1) };
      }
      let m;
      try {
        m = await p.runner.step({
          x, coefficient, aux,
          stepSize: lr / (1 - cfg.adamBeta1 ** t),
          biasCorrection2Sqrt: Math.sqrt(1 - cfg.adamBeta2 ** t),
        });
      } catch (err) {
        if (!isOutOfMemoryError(err)) throw err;
        await halveBatch(p, options, job, stepRows, err);
        continue;
      }
      if (!m.committed) {
        // The step was not applied: the batch stays pending, so the saved state is exactly the last good one.
        job.pause(`the loss became ${m.loss} at step ${state.step} (mse ${m.mseLoss}, gradient norm ${m.gradNorm}); the run was paused with its last good state saved — lower lr or check the activations, then resume`);
        continue;
      }
      stats.record(m.firedCount, stepRows);
      if (state.topkThreshold !== undefined && Number.isFinite(m.minPositiveAct)) {
        state.topkThreshold = (1 - cfg.topkThresholdLr) * state.topkThreshold + cfg.topkThresholdLr * m.minPositiveAct!;
      }
      state.step++;
      state.tokensSeen += stepRows;
      intervalTokens += stepRows;
      if (part + 1 === parts) {
        pending = undefined;
        state.sourcePosition = source.position();
        delete state.partsDone;
      } else {
        state.partsDone = part + 1;
      }
      job.progress(scope ? { done: scope.offsetTokens + state.tokensSeen, total: scope.totalTokens, unit: 'tokens' } : { done: state.tokensSeen, total: totalTokens, unit: 'tokens' });
      const finished = state.tokensSeen >= totalTokens;
      const evalNow = !!options.evaluate && (state.step % cfg.evalInterval === 0 || finished);
      if (state.step % cfg.metricsInterval === 0 || finished || evalNow) {
        const now = performance.now();
        const summary = stats.summary(cfg.deadFeatureThreshold, cfg.denseFeatureThreshold);
        const metrics: TrainingMetrics = {
          step: state.step, tokens: state.tokensSeen, totalSteps: state.step + Math.ceil((totalTokens - state.tokensSeen) / stepRows), lr, sparsityCoefficient: coefficient,
          loss: m.loss, mseLoss: m.mseLoss, sparsityLoss: m.sparsityLoss, auxLoss: m.auxLoss, l0: m.l0, l1: m.l1,
          explainedVariance: 1 - m.mseLoss / m.totalVariance,
          deadLatents: summary.deadLatents, latentsBelowThreshold: summary.latentsBelowThreshold, denseLatents: summary.denseLatents,
          meanLog10Density: summary.meanLog10Density, densityHistogram: summary.histogram,
          tokensPerSecond: intervalTokens / Math.max((now - intervalStart) / 1000, 1e-9),
          batchSizeTokens: stepRows,
          ...(state.topkThreshold !== undefined ? { topkThreshold: state.topkThreshold } : {}),
        };
        if (evalNow) lastEval = metrics.eval = await options.evaluate!(await currentModel(p), state.step);
        lastMetrics = metrics;
        job.metrics(metrics);
        intervalStart = performance.now();
        intervalTokens = 0;
      }
      if (state.step % cfg.checkpointInterval === 0) await checkpointNow();
    }
    state.trainingSeconds += (performance.now() - clock) / 1000;
    await checkpointNow();
    const model = await currentModel(p);
    const result: TrainingResult = { runDir, steps: state.step, tokens: state.tokensSeen, model, ...(lastMetrics ? { lastMetrics } : {}), ...(lastEval ? { lastEval } : {}) };
    if (state.tokensSeen >= totalTokens) {
      result.saeDir = path.join(runDir, SAE_DIR);
      saveSaeLens(result.saeDir, model, { log10Sparsity: stats.log10Densities() });
    }
    return result;
  } finally {
    await p.runner.release();
  }
}
