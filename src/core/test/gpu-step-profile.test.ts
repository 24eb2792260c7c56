/**
 * WgslSaeStepRunner.profile on SwiftShader through Node's Dawn: one training step with GPU timestamps
 * around each dispatch. The times themselves mean nothing on a CPU; the test holds the accounting
 * (every dispatch of the step counted once, under its kernel's label) and that a profiled step is
 * the same training step as an unprofiled one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requireGpu, type GpuContext } from '../gpu/dawn-device.js';
import { Rng } from '../engine/random.js';
import { WgslSaeStepRunner } from '../sae/wgsl-step-runner.js';
import { wgslTestSpec } from './helpers/sae-fixtures.js';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await requireGpu({ software: true });
});

const spec = wgslTestSpec('topk', { dIn: 24, dSae: 96, batch: 40, k: 6 }, { exposeGradients: false });

describe('WGSL step profile', () => {
  it('times every dispatch of an AuxK step once, by kernel label, and trains exactly like step()', async () => {
    expect(gpu.device.features.has('timestamp-query')).toBe(true);
    const rand = new Rng(3);
    const randoms = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rand.next() * 2 - 1) * scale);
    const { dIn: d, dSae: S } = spec;
    const params = { W_encT: randoms(S * d, 0.3), b_enc: randoms(S, 0.05), W_dec: randoms(S * d, 0.3), b_dec: randoms(d, 0.1) };
    const inputs = { x: randoms(spec.batch * d, 1), coefficient: 0.5, stepSize: 1e-2, biasCorrection2Sqrt: Math.sqrt(1 - 0.999), aux: { deadIndices: [3, 8, 50, 77], kAux: 4, auxScale: 0.3 } };
    const profiled = await WgslSaeStepRunner.create(spec, params, undefined, gpu);
    const plain = await WgslSaeStepRunner.create(spec, params, undefined, gpu);
    try {
      const times = await profiled.profile(inputs);
      await plain.step(inputs);
      const labels = times.map((t) => t.label);
      expect(new Set(labels).size).toBe(labels.length);
      for (const label of ['encode', 'topk select', 'aux select']) expect(labels.some((l) => l.startsWith(label)), label).toBe(true);
      expect(times.every((t) => t.ms >= 0 && t.dispatches >= 1)).toBe(true);
      expect(times.map((t) => t.ms)).toEqual([...times.map((t) => t.ms)].sort((a, b) => b - a));
      const withoutAux = await profiled.profile({ ...inputs, aux: undefined });
      await plain.step({ ...inputs, aux: undefined });
      const count = (ts: typeof times) => ts.reduce((n, t) => n + t.dispatches, 0);
      // The AuxK pass adds dispatches; the plain step runs none of them.
      expect(count(times)).toBeGreaterThan(count(withoutAux));
      const got = await profiled.parameters();
      const want = await plain.parameters();
      for (const name of Object.keys(params)) expect(Array.from(got[name]), name).toEqual(Array.from(want[name]));
      expect(Array.from(got.W_dec)).not.toEqual(Array.from(params.W_dec));
    } finally {
      await profiled.release();
      await plain.release();
    }
  });
});
