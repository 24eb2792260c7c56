/** The small run the resume tests train: in-process and in a child process that gets SIGKILLed. */
import { SyntheticDictionarySource } from '../../sae/activation-source.js';
import type { TrainingConfigInput } from '../../sae/config.js';

export const RESUME_CONFIG: TrainingConfigInput = {
  architecture: 'topk', dIn: 16, dSae: 64, k: 4, batchSizeTokens: 128, trainingTokens: 128 * 120,
  lr: 2e-3, seed: 11, deadFeatureWindow: 20, metricsInterval: 5, checkpointInterval: 7,
  lrScheduler: 'cosineannealing', lrWarmUpSteps: 10, bDecInit: 'geometric_median',
  normalizeActivations: 'expected_average_only_in', normEstimateBatches: 3,
};

export function resumeSource(): SyntheticDictionarySource {
  return new SyntheticDictionarySource({ d: 16, features: 40, activePerRow: 3, seed: 5, noise: 0.02 });
}

/** Threads used by every resume-test run (the same count gives the same floating-point results). */
export const RESUME_THREADS = 2;
