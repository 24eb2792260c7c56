/**
 * The SAE training configuration: one typed object, defaults in one place (SAELens v6's where it has
 * them, named in the comments), validated before anything starts so a bad value fails with the field
 * named rather than as a NaN an hour into a run.
 */
import { MiStudioError } from '../errors.js';
import type { Device } from '../engine/devices.js';

export type Architecture = 'standard' | 'topk' | 'batchtopk' | 'jumprelu' | 'gated';
export const ARCHITECTURES: readonly Architecture[] = ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated'];

/** constant: lr throughout; cosineannealing: cosine from lr to lrEnd; linear: straight line from lr to lrEnd. */
export type LrScheduler = 'constant' | 'cosineannealing' | 'linear';
export type BDecInit = 'zeros' | 'mean' | 'geometric_median';
export type ActivationNormalization = 'none' | 'expected_average_only_in';

export interface TrainingConfig {
  architecture: Architecture;
  /** Width of the activations (SAELens d_in); must equal the activation source's d. */
  dIn: number;
  /** Number of latents (SAELens d_sae); resolved from expansionFactor × dIn when only that is given. */
  dSae: number;
  /** topk: active latents per token; batchtopk: mean active latents per token (SAELens k = 100). */
  k: number;
  /** standard/gated: l1_coefficient; jumprelu: l0_coefficient (SAELens 1.0). Unused by topk/batchtopk. */
  sparsityCoefficient: number;
  /** Linear warm-up of the sparsity coefficient from 0 (SAELens l1_warm_up_steps / l0_warm_up_steps = 0). */
  sparsityWarmUpSteps: number;
  /** Adam learning rate (SAELens lr = 3e-4). */
  lr: number;
  adamBeta1: number;
  adamBeta2: number;
  /** torch.optim.Adam's eps, which SAELens does not change. */
  adamEpsilon: number;
  lrScheduler: LrScheduler;
  lrWarmUpSteps: number;
  /** Steps of linear decay to 0 at the very end (SAELens lr_decay_steps = 0). */
  lrDecaySteps: number;
  /** End of the main schedule (SAELens: lr / 10 when unset). */
  lrEnd: number;
  /** Tokens (activation rows) per step (SAELens train_batch_size_tokens = 4096). */
  batchSizeTokens: number;
  /** SAELens training_tokens = 2,000,000. */
  trainingTokens: number;
  /** A latent that has not fired for this many steps is dead (SAELens dead_feature_window = 1000). */
  deadFeatureWindow: number;
  /** Latents whose density over the sampling window is at most this count as dead in the window metrics (SAELens 1e-8). */
  deadFeatureThreshold: number;
  /** Latents firing on more than this fraction of tokens count as dense. */
  denseFeatureThreshold: number;
  /** Steps over which feature densities are accumulated (SAELens feature_sampling_window = 2000). */
  featureSamplingWindow: number;
  /** topk/batchtopk AuxK coefficient (SAELens aux_loss_coefficient = 1.0). */
  auxKCoefficient: number;
  /** topk/batchtopk: select and decode as if decoder rows had unit norm (SAELens default true). */
  rescaleActsByDecoderNorm: boolean;
  /** batchtopk: EMA rate of the threshold saved for inference (SAELens topk_threshold_lr = 0.01). */
  topkThresholdLr: number;
  jumpreluBandwidth: number;
  jumpreluInitThreshold: number;
  /** Global gradient-norm clip; SAELens clips at 1.0 every step. */
  gradientClipNorm: number;
  /** SAELens v6 starts b_dec at zero; mean / geometric median of the first batches are the classic alternatives. */
  bDecInit: BDecInit;
  /** Norm of each decoder row at init (SAELens decoder_init_norm = 0.1); null keeps Kaiming-uniform rows. */
  decoderInitNorm: number | null;
  normalizeActivations: ActivationNormalization;
  /** Batches averaged to estimate the expected_average_only_in scale (SAELens n_batches_for_norm_estimate = 1000). */
  normEstimateBatches: number;
  dtype: 'float32';
  seed: number;
  device: Device;
  /** Emit a metrics event every this many steps (SAELens wandb_log_frequency = 10). */
  metricsInterval: number;
  /** Call the evaluation hook every this many steps (SAELens 10 × 100). */
  evalInterval: number;
  /** Write a checkpoint every this many steps (and always on stop, pause and at the end). */
  checkpointInterval: number;
  /** Free-form SAELens metadata (model_name, hook_name, context_size, ...), written into cfg.json. */
  metadata: Record<string, unknown>;
}

/** What a user writes: everything optional except the architecture and the widths. */
export type TrainingConfigInput = Partial<Omit<TrainingConfig, 'dSae'>> & {
  architecture: Architecture;
  dIn: number;
  dSae?: number;
  /** dSae = expansionFactor × dIn when dSae is not given. */
  expansionFactor?: number;
};

const DEFAULTS: Omit<TrainingConfig, 'architecture' | 'dIn' | 'dSae' | 'lrEnd'> = {
  k: 100,
  sparsityCoefficient: 1.0,
  sparsityWarmUpSteps: 0,
  lr: 3e-4,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  lrScheduler: 'constant',
  lrWarmUpSteps: 0,
  lrDecaySteps: 0,
  batchSizeTokens: 4096,
  trainingTokens: 2_000_000,
  deadFeatureWindow: 1000,
  deadFeatureThreshold: 1e-8,
  denseFeatureThreshold: 0.1,
  featureSamplingWindow: 2000,
  auxKCoefficient: 1.0,
  rescaleActsByDecoderNorm: true,
  topkThresholdLr: 0.01,
  jumpreluBandwidth: 0.05,
  jumpreluInitThreshold: 0.01,
  gradientClipNorm: 1.0,
  bDecInit: 'zeros',
  decoderInitNorm: 0.1,
  normalizeActivations: 'none',
  normEstimateBatches: 1000,
  dtype: 'float32',
  seed: 42,
  device: 'cpu',
  metricsInterval: 10,
  evalInterval: 1000,
  checkpointInterval: 1000,
  metadata: {},
};

const KNOWN_KEYS = new Set<string>([...Object.keys(DEFAULTS), 'architecture', 'dIn', 'dSae', 'lrEnd', 'expansionFactor']);

/** Every field a training config input may have (for partial configs such as templates). */
export const TRAINING_CONFIG_KEYS: ReadonlySet<string> = KNOWN_KEYS;

function invalid(field: string, message: string, hint?: string): MiStudioError {
  return new MiStudioError('INVALID_CONFIG', message, { field, hint });
}

function positiveInt(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw invalid(field, `${field} must be a positive integer, got ${v}`);
}
function nonNegativeInt(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw invalid(field, `${field} must be a non-negative integer, got ${v}`);
}
function finiteAtLeast(field: string, v: number, min: number, exclusive = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (exclusive ? v <= min : v < min)) {
    throw invalid(field, `${field} must be a finite number ${exclusive ? '>' : '≥'} ${min}, got ${v}`);
  }
}
function oneOf<T extends string>(field: string, v: T, allowed: readonly T[]): void {
  if (!allowed.includes(v)) throw invalid(field, `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

/** Fills defaults and validates; throws INVALID_CONFIG naming the first bad field. */
export function resolveTrainingConfig(input: TrainingConfigInput): TrainingConfig {
  if (!input || typeof input !== 'object') throw invalid('config', 'the training config must be an object');
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw invalid(key, `unknown training config field '${key}'`, `known fields: ${[...KNOWN_KEYS].sort().join(', ')}`);
  }
  oneOf('architecture', input.architecture, ARCHITECTURES);
  positiveInt('dIn', input.dIn);
  let dSae = input.dSae;
  if (dSae === undefined) {
    if (input.expansionFactor === undefined) throw invalid('dSae', 'give dSae or expansionFactor');
    finiteAtLeast('expansionFactor', input.expansionFactor, 0, true);
    dSae = Math.round(input.expansionFactor * input.dIn);
  } else if (input.expansionFactor !== undefined && dSae !== Math.round(input.expansionFactor * input.dIn)) {
    throw invalid('expansionFactor', `expansionFactor ${input.expansionFactor} × dIn ${input.dIn} disagrees with dSae ${dSae}`, 'give only one of them');
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  delete defined.expansionFactor;
  const cfg: TrainingConfig = { ...DEFAULTS, ...defined, dSae, lrEnd: input.lrEnd ?? (input.lr ?? DEFAULTS.lr) / 10 } as TrainingConfig;
  cfg.metadata = { ...(input.metadata ?? {}) };
  validate(cfg);
  return cfg;
}

function validate(c: TrainingConfig): void {
  positiveInt('dSae', c.dSae);
  if (c.architecture === 'topk' || c.architecture === 'batchtopk') {
    finiteAtLeast('k', c.k, 0, true);
    if (c.architecture === 'topk') positiveInt('k', c.k);
    if (c.k > c.dSae) throw invalid('k', `k (${c.k}) is larger than dSae (${c.dSae})`, 'k is the number of active latents per token and must be ≤ dSae');
    finiteAtLeast('auxKCoefficient', c.auxKCoefficient, 0);
    finiteAtLeast('topkThresholdLr', c.topkThresholdLr, 0);
    if (c.topkThresholdLr > 1) throw invalid('topkThresholdLr', `topkThresholdLr must be ≤ 1, got ${c.topkThresholdLr}`);
  }
  finiteAtLeast('sparsityCoefficient', c.sparsityCoefficient, 0);
  nonNegativeInt('sparsityWarmUpSteps', c.sparsityWarmUpSteps);
  finiteAtLeast('lr', c.lr, 0, true);
  finiteAtLeast('lrEnd', c.lrEnd, 0);
  for (const f of ['adamBeta1', 'adamBeta2'] as const) {
    finiteAtLeast(f, c[f], 0);
    if (c[f] >= 1) throw invalid(f, `${f} must be in [0, 1), got ${c[f]}`);
  }
  finiteAtLeast('adamEpsilon', c.adamEpsilon, 0, true);
  oneOf('lrScheduler', c.lrScheduler, ['constant', 'cosineannealing', 'linear']);
  nonNegativeInt('lrWarmUpSteps', c.lrWarmUpSteps);
  nonNegativeInt('lrDecaySteps', c.lrDecaySteps);
  positiveInt('batchSizeTokens', c.batchSizeTokens);
  positiveInt('trainingTokens', c.trainingTokens);
  if (c.trainingTokens < c.batchSizeTokens) throw invalid('trainingTokens', `trainingTokens (${c.trainingTokens}) is less than one batch (${c.batchSizeTokens})`);
  const steps = totalSteps(c);
  if (c.lrWarmUpSteps + c.lrDecaySteps > steps) {
    throw invalid('lrWarmUpSteps', `lrWarmUpSteps + lrDecaySteps (${c.lrWarmUpSteps + c.lrDecaySteps}) exceed the ${steps} training steps`);
  }
  if (c.lrDecaySteps > 0 && c.lrEnd === 0 && c.lrScheduler !== 'constant') {
    throw invalid('lrEnd', 'lrDecaySteps with lrEnd = 0 would decay from 0 to 0', 'set lrEnd > 0 or lrDecaySteps = 0');
  }
  positiveInt('deadFeatureWindow', c.deadFeatureWindow);
  finiteAtLeast('deadFeatureThreshold', c.deadFeatureThreshold, 0);
  finiteAtLeast('denseFeatureThreshold', c.denseFeatureThreshold, 0);
  positiveInt('featureSamplingWindow', c.featureSamplingWindow);
  if (typeof c.rescaleActsByDecoderNorm !== 'boolean') throw invalid('rescaleActsByDecoderNorm', 'rescaleActsByDecoderNorm must be true or false');
  finiteAtLeast('jumpreluBandwidth', c.jumpreluBandwidth, 0, true);
  finiteAtLeast('jumpreluInitThreshold', c.jumpreluInitThreshold, 0);
  finiteAtLeast('gradientClipNorm', c.gradientClipNorm, 0, true);
  oneOf('bDecInit', c.bDecInit, ['zeros', 'mean', 'geometric_median']);
  if (c.decoderInitNorm !== null) finiteAtLeast('decoderInitNorm', c.decoderInitNorm, 0, true);
  oneOf('normalizeActivations', c.normalizeActivations, ['none', 'expected_average_only_in']);
  positiveInt('normEstimateBatches', c.normEstimateBatches);
  if (c.dtype !== 'float32') throw invalid('dtype', `training dtype ${JSON.stringify(c.dtype)} is not supported`, 'train in float32 (Adam steps of ~lr round away in float16); saved files may be converted afterwards');
  if (!Number.isSafeInteger(c.seed)) throw invalid('seed', `seed must be an integer, got ${c.seed}`);
  oneOf('device', c.device, ['cpu', 'webgpu', 'cuda', 'auto']);
  positiveInt('metricsInterval', c.metricsInterval);
  positiveInt('evalInterval', c.evalInterval);
  positiveInt('checkpointInterval', c.checkpointInterval);
  if (!c.metadata || typeof c.metadata !== 'object' || Array.isArray(c.metadata)) throw invalid('metadata', 'metadata must be an object');
}

/** SAELens total_training_steps = training_tokens // train_batch_size_tokens. */
export function totalSteps(c: Pick<TrainingConfig, 'trainingTokens' | 'batchSizeTokens'>): number {
  return Math.floor(c.trainingTokens / c.batchSizeTokens);
}

/** The number of rows the batch-level top-k keeps (SAELens int(k × num_samples)). */
export function batchTopKCount(c: Pick<TrainingConfig, 'k' | 'batchSizeTokens'>): number {
  return Math.floor(c.k * c.batchSizeTokens);
}
