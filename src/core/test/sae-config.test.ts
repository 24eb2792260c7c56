/** Training config defaults and validation, and the schedules against SAELens' own schedulers. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { resolveTrainingConfig, totalSteps } from '../sae/config.js';
import { learningRateAt, sparsityCoefficientAt } from '../sae/lr-schedule.js';
import { estimateTrainingMemory } from '../sae/memory-estimate.js';
import { geometricMedian } from '../sae/init.js';

interface Schedules {
  lr: Array<{ lrScheduler: 'constant' | 'cosineannealing'; lr: number; lrEnd: number; lrWarmUpSteps: number; lrDecaySteps: number; steps: number; lrs: number[] }>;
  coefficient: { warmUpSteps: number; final: number; values: number[] };
}
const schedules = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/sae/lr-schedules.json', import.meta.url)), 'utf8')) as Schedules;

describe('SAE training config', () => {
  it('fills SAELens v6 defaults', () => {
    const c = resolveTrainingConfig({ architecture: 'topk', dIn: 576, expansionFactor: 8 });
    expect(c).toMatchObject({ dSae: 4608, k: 100, lr: 3e-4, lrEnd: 3e-4 / 10, adamBeta1: 0.9, adamBeta2: 0.999, batchSizeTokens: 4096, trainingTokens: 2_000_000,
      deadFeatureWindow: 1000, featureSamplingWindow: 2000, auxKCoefficient: 1, decoderInitNorm: 0.1, rescaleActsByDecoderNorm: true, topkThresholdLr: 0.01,
      jumpreluBandwidth: 0.05, jumpreluInitThreshold: 0.01, normalizeActivations: 'none', lrScheduler: 'constant', gradientClipNorm: 1 });
    expect(totalSteps(c)).toBe(488);
  });

  it('rejects bad values naming the field', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ k: 5000 }, 'k'], [{ lr: -1 }, 'lr'], [{ lr: Number.NaN }, 'lr'], [{ adamBeta2: 1 }, 'adamBeta2'], [{ batchSizeTokens: 0 }, 'batchSizeTokens'],
      [{ lrWarmUpSteps: 10_000 }, 'lrWarmUpSteps'], [{ bDecInit: 'median' }, 'bDecInit'], [{ normalizeActivations: 'layer_norm' }, 'normalizeActivations'],
      [{ expansionFactor: 3 }, 'expansionFactor'], [{ learningRate: 1e-3 }, 'learningRate'], [{ device: 'tpu' }, 'device'],
    ];
    for (const [patch, field] of bad) {
      let err: unknown;
      try {
        resolveTrainingConfig({ architecture: 'topk', dIn: 576, dSae: 4608, ...patch } as never);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(MiStudioError);
      expect((err as MiStudioError).field).toBe(field);
    }
  });

  it('learning rates match SAELens get_lr_scheduler step by step', () => {
    for (const c of schedules.lr) {
      const cfg = resolveTrainingConfig({ architecture: 'standard', dIn: 4, dSae: 8, batchSizeTokens: 1, trainingTokens: c.steps, lr: c.lr, lrEnd: c.lrEnd, lrScheduler: c.lrScheduler, lrWarmUpSteps: c.lrWarmUpSteps, lrDecaySteps: c.lrDecaySteps });
      c.lrs.forEach((want, step) => expect(learningRateAt(step, cfg), `${c.lrScheduler} step ${step}`).toBeCloseTo(want, 12));
    }
  });

  it('the sparsity coefficient warms up like SAELens CoefficientScheduler', () => {
    const { warmUpSteps, final, values } = schedules.coefficient;
    const cfg = resolveTrainingConfig({ architecture: 'standard', dIn: 4, dSae: 8, sparsityCoefficient: final, sparsityWarmUpSteps: warmUpSteps });
    values.forEach((want, step) => expect(sparsityCoefficientAt(step, cfg)).toBeCloseTo(want, 12));
  });

  it('estimates memory and flags runs that cannot fit', () => {
    const cfg = resolveTrainingConfig({ architecture: 'standard', dIn: 576, dSae: 4608 });
    const e = estimateTrainingMemory(cfg, 2 ** 40);
    expect(e.parameterBytes).toBe((2 * 576 * 4608 + 4608 + 576) * 4);
    expect(e.fits).toBe(true);
    expect(estimateTrainingMemory(cfg, 2 ** 20).fits).toBe(false);
  });

  it('the geometric median resists outliers that move the mean', () => {
    const rows = new Float32Array([0, 0, 1, 0, 0, 1, 1, 1, 0.5, 0.5, 1000, 1000]);
    const gm = geometricMedian(rows, 2);
    expect(Math.abs(gm[0] - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(gm[1] - 0.5)).toBeLessThan(0.1);
  });
});
