/**
 * The SAE training loop, as a Job: validates everything before the first step, initialises
 * deterministically from the seed (or resumes from a run directory's checkpoint), runs the
 * resident training-step graph, emits metrics every `metricsInterval` steps, checkpoints atomically
 * every `checkpointInterval` steps and on pause/stop, pauses with a checkpoint when a step's loss is
 * not finite (the step is not applied), and finally writes the SAELens directory.
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
import type { ActivationSource, SourcePosition } from './activation-source.js';
import { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { resolveTrainingConfig, totalSteps, type TrainingConfig, type TrainingConfigInput } from './config.js';
import { FeatureStatistics, type DensityHistogram } from './feature-statistics.js';
import { geometricMedian, initialParameters, rowMean } from './init.js';
import { learningRateAt, sparsityCoefficientAt } from './lr-schedule.js';
import { assertFitsInMemory, estimateTrainingMemory, type MemoryEstimate } from './memory-estimate.js';
import { parameterShape, parameterSpecs } from './parameters.js';
import { modelFromTraining, type SaeModel } from './sae-model.js';
import { saveSaeLens } from './saelens-format.js';
import { SaeStepRunner, type AdamMoments } from './step-runner.js';

export const RUN_CONFIG_FILE = 'config.json';
export const JOB_RECORD_FILE = 'job.json';
export const SAE_DIR = 'sae';

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
  /** Results of the evaluation hook, at evaluation steps. */
  eval?: Record<string, number>;
}

export interface TrainingResult {
  runDir: string;
  /** The SAELens directory (only when training completed). */
  saeDir?: string;
  steps: number;
  tokens: number;
  model: SaeModel;
}

export type TrainingJob = Job<TrainingResult, TrainingMetrics>;

export interface TrainerOptions {
  runDir: string;
  source: ActivationSource;
  /** Supply your own job to control it (pause/resume/stop) and listen to its events. */
  job?: TrainingJob;
  intraOpNumThreads?: number;
  /** topk: decode through the k active rows only (default true); false uses the dense formulation. */
  sparse?: boolean;
  /** Called every evalInterval steps with the current SAE (e.g. CE loss with the SAE spliced in). */
  evaluate?: (model: SaeModel, step: number) => Promise<Record<string, number>>;
}

/** A prepared run: everything validated, state initialised or restored, first batch in hand. */
interface Prepared {
  cfg: TrainingConfig;
  runner: SaeStepRunner;
  stats: FeatureStatistics;
  state: CheckpointState;
  memory: MemoryEstimate;
}

/** Starts a new run in `runDir` (which must not hold one). Invalid input is rejected before any step. */
export async function trainSae(config: TrainingConfigInput | TrainingConfig, options: TrainerOptions): Promise<JobOutcome<TrainingResult>> {
  const cfg = resolveTrainingConfig(config as TrainingConfigInput);
  if (existsSync(path.join(options.runDir, CHECKPOINT_FILE))) {
    throw new MiStudioError('ALREADY_EXISTS', 'the run directory already holds a training run', { file: options.runDir, hint: 'resume it with resumeTraining, or choose a new directory' });
  }
  const prepared = await prepareFresh(cfg, options);
  return run(prepared, options);
}

/** Continues the run saved in `runDir` from its last checkpoint; the result is bit-identical on CPU. */
export async function resumeTraining(options: TrainerOptions): Promise<JobOutcome<TrainingResult>> {
  const cfgFile = path.join(options.runDir, RUN_CONFIG_FILE);
  if (!existsSync(cfgFile)) throw new MiStudioError('FILE_NOT_FOUND', 'no training run here', { file: cfgFile, hint: 'pass the directory a run was started in' });
  const cfg = resolveTrainingConfig(JSON.parse(readFileSync(cfgFile, 'utf8')) as TrainingConfigInput);
  checkSource(cfg, options.source);
  const ckpt = readCheckpoint(path.join(options.runDir, CHECKPOINT_FILE));
  options.source.restore(ckpt.state.sourcePosition);
  const memory = estimateTrainingMemory(cfg);
  assertFitsInMemory(memory);
  const runner = await createRunner(cfg, options, ckpt.params, ckpt.moments);
  const stats = new FeatureStatistics(cfg.dSae, cfg.deadFeatureWindow, cfg.featureSamplingWindow, ckpt.statistics);
  return run({ cfg, runner, stats, state: ckpt.state, memory }, options);
}

function checkSource(cfg: TrainingConfig, source: ActivationSource): void {
  if (source.d !== cfg.dIn) {
    throw new MiStudioError('INVALID_CONFIG', `dIn is ${cfg.dIn} but the activations have width ${source.d}`, { field: 'dIn', hint: `set dIn to ${source.d} or train on the hook the config was written for` });
  }
}

/** Throws INVALID_ARGUMENT naming the first non-finite value. */
function assertFinite(x: Float32Array, d: number, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new MiStudioError('INVALID_ARGUMENT', `activations contain ${x[i]} at row ${Math.floor(i / d)}, column ${i % d} of ${what}`, { field: 'activations', hint: 'the activation store holds NaN/Inf values; re-extract them (a model run in float16 may have overflowed)' });
    }
  }
}

async function prepareFresh(cfg: TrainingConfig, options: TrainerOptions): Promise<Prepared> {
  const { source } = options;
  checkSource(cfg, source);
  const memory = estimateTrainingMemory(cfg);
  assertFitsInMemory(memory);
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
  const runner = await createRunner(cfg, options, params, undefined);
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

async function createRunner(cfg: TrainingConfig, options: TrainerOptions, params: Record<string, Float32Array>, moments: AdamMoments | undefined): Promise<SaeStepRunner> {
  const device = await resolveDevice(cfg.device);
  return SaeStepRunner.create(
    {
      architecture: cfg.architecture, dIn: cfg.dIn, dSae: cfg.dSae, batch: cfg.batchSizeTokens, k: cfg.k,
      rescaleActsByDecoderNorm: cfg.rescaleActsByDecoderNorm, jumpreluBandwidth: cfg.jumpreluBandwidth,
      adamBeta1: cfg.adamBeta1, adamBeta2: cfg.adamBeta2, adamEpsilon: cfg.adamEpsilon, gradientClipNorm: cfg.gradientClipNorm,
      sparse: cfg.architecture === 'topk' && options.sparse !== false, exposeGradients: false,
    },
    params, moments, { device, intraOpNumThreads: options.intraOpNumThreads },
  );
}

async function saveCheckpoint(runDir: string, cfg: TrainingConfig, runner: SaeStepRunner, stats: FeatureStatistics, state: CheckpointState): Promise<void> {
  const shapes = Object.fromEntries(parameterSpecs(cfg.architecture).map((s) => [s.name, parameterShape(s, cfg.dIn, cfg.dSae)]));
  writeCheckpoint(path.join(runDir, CHECKPOINT_FILE), { state, params: await runner.parameters(), moments: await runner.moments(), statistics: stats.state() }, shapes);
}

async function currentModel(p: Prepared): Promise<SaeModel> {
  return modelFromTraining(p.cfg, await p.runner.parameters(), { normScale: p.state.normScale, topkThreshold: p.state.topkThreshold });
}

async function run(p: Prepared, options: TrainerOptions): Promise<JobOutcome<TrainingResult>> {
  const { cfg, runner, stats, state } = p;
  const { source, runDir } = options;
  const job: TrainingJob = options.job ?? new Job(`train ${cfg.architecture} ${cfg.dIn}×${cfg.dSae}`, { kind: 'sae-training' });
  // The job record follows every status change, so a restarted kernel can find and resume the run.
  job.persistTo(path.join(runDir, JOB_RECORD_FILE));
  const B = cfg.batchSizeTokens;
  const d = cfg.dIn;
  const total = totalSteps(cfg);
  const kAuxBase = Math.floor(d / 2);
  const checkpointNow = () => saveCheckpoint(runDir, cfg, runner, stats, state);
  job.log(`memory estimate: ${(p.memory.totalBytes / 2 ** 20).toFixed(0)} MiB of ${(p.memory.freeBytes / 2 ** 20).toFixed(0)} MiB free`);

  const outcome = await job.run(async () => {
    let intervalStart = performance.now();
    let intervalTokens = 0;
    let clock = performance.now();
    while (state.step < total) {
      state.trainingSeconds += (performance.now() - clock) / 1000;
      if ((await job.checkpoint(checkpointNow)) === 'stop') break;
      clock = performance.now();
      const positionBefore: SourcePosition = source.position();
      const x = await source.nextBatch(B);
      try {
        assertFinite(x, d, `the batch of step ${state.step}`);
      } catch (err) {
        source.restore(positionBefore);
        job.pause((err as Error).message);
        continue;
      }
      if (state.normScale !== null) for (let i = 0; i < x.length; i++) x[i] *= state.normScale;
      const t = state.step + 1;
      const lr = learningRateAt(state.step, cfg);
      const coefficient = sparsityCoefficientAt(state.step, cfg);
      let aux;
      if (cfg.architecture === 'topk' || cfg.architecture === 'batchtopk') {
        const dead = stats.deadLatents();
        if (dead.length > 0) aux = { deadIndices: dead, kAux: Math.min(kAuxBase, dead.length), auxScale: cfg.auxKCoefficient * Math.min(dead.length / kAuxBase, 1) };
      }
      const m = await runner.step({
        x, coefficient, aux,
        stepSize: lr / (1 - cfg.adamBeta1 ** t),
        biasCorrection2Sqrt: Math.sqrt(1 - cfg.adamBeta2 ** t),
      });
      if (!m.committed) {
        // The step was not applied: rewind the data so the saved state is exactly the last good one.
        source.restore(positionBefore);
        job.pause(`the loss became ${m.loss} at step ${state.step} (mse ${m.mseLoss}, gradient norm ${m.gradNorm}); the run was paused with its last good state saved — lower lr or check the activations, then resume`);
        continue;
      }
      stats.record(m.firedCount, B);
      if (state.topkThreshold !== undefined && Number.isFinite(m.minPositiveAct)) {
        state.topkThreshold = (1 - cfg.topkThresholdLr) * state.topkThreshold + cfg.topkThresholdLr * m.minPositiveAct!;
      }
      state.step++;
      state.tokensSeen += B;
      state.sourcePosition = source.position();
      intervalTokens += B;
      job.progress({ done: state.tokensSeen, total: total * B, unit: 'tokens' });
      const evalNow = options.evaluate && state.step % cfg.evalInterval === 0;
      if (state.step % cfg.metricsInterval === 0 || state.step === total || evalNow) {
        const now = performance.now();
        const summary = stats.summary(cfg.deadFeatureThreshold, cfg.denseFeatureThreshold);
        const metrics: TrainingMetrics = {
          step: state.step, tokens: state.tokensSeen, totalSteps: total, lr, sparsityCoefficient: coefficient,
          loss: m.loss, mseLoss: m.mseLoss, sparsityLoss: m.sparsityLoss, auxLoss: m.auxLoss, l0: m.l0, l1: m.l1,
          explainedVariance: 1 - m.mseLoss / m.totalVariance,
          deadLatents: summary.deadLatents, latentsBelowThreshold: summary.latentsBelowThreshold, denseLatents: summary.denseLatents,
          meanLog10Density: summary.meanLog10Density, densityHistogram: summary.histogram,
          tokensPerSecond: intervalTokens / Math.max((now - intervalStart) / 1000, 1e-9),
          ...(state.topkThreshold !== undefined ? { topkThreshold: state.topkThreshold } : {}),
        };
        if (evalNow) metrics.eval = await options.evaluate!(await currentModel(p), state.step);
        job.metrics(metrics);
        intervalStart = performance.now();
        intervalTokens = 0;
      }
      if (state.step % cfg.checkpointInterval === 0) await checkpointNow();
    }
    state.trainingSeconds += (performance.now() - clock) / 1000;
    await checkpointNow();
    const model = await currentModel(p);
    const result: TrainingResult = { runDir, steps: state.step, tokens: state.tokensSeen, model };
    if (state.step >= total) {
      result.saeDir = path.join(runDir, SAE_DIR);
      saveSaeLens(result.saeDir, model, { log10Sparsity: stats.log10Densities() });
    }
    return result;
  });
  await runner.release();
  return outcome;
}
