/**
 * Learning-rate and sparsity-coefficient schedules, SAELens v6 semantics in closed form: linear
 * warm-up from lr/warmUp, the main phase (constant, cosine annealing to lrEnd, or linear to lrEnd),
 * then an optional linear decay to 0 over the last lrDecaySteps (starting from lr for the constant
 * schedule, from lrEnd otherwise). The sparsity coefficient ramps linearly from 0 over its warm-up.
 */
import { totalSteps, type TrainingConfig } from './config.js';

export function learningRateAt(step: number, c: TrainingConfig): number {
  const total = totalSteps(c);
  const warm = c.lrWarmUpSteps;
  const decay = c.lrDecaySteps;
  if (step < warm) {
    const startFactor = 1 / warm;
    return c.lr * (warm <= 1 ? 1 : startFactor + ((1 - startFactor) * step) / (warm - 1));
  }
  if (decay > 0 && step >= total - decay) {
    const start = c.lrScheduler === 'constant' ? c.lr : c.lrEnd;
    return start * Math.max(0, 1 - (step - (total - decay)) / decay);
  }
  const t = step - warm;
  const main = Math.max(total - warm - decay, 1);
  switch (c.lrScheduler) {
    case 'constant':
      return c.lr;
    case 'cosineannealing':
      return c.lrEnd + ((c.lr - c.lrEnd) * (1 + Math.cos((Math.PI * Math.min(t, main)) / main))) / 2;
    case 'linear':
      return c.lr + ((c.lrEnd - c.lr) * Math.min(t, main)) / main;
  }
}

/** SAELens CoefficientScheduler: 0 at step 0, final × step / warmUp during the warm-up. */
export function sparsityCoefficientAt(step: number, c: TrainingConfig): number {
  if (c.sparsityWarmUpSteps <= 0) return c.sparsityCoefficient;
  return c.sparsityCoefficient * Math.min(step / c.sparsityWarmUpSteps, 1);
}
