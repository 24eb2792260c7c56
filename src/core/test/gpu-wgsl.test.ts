/**
 * The WGSL kernels against the CPU path, on a real WebGPU implementation (Chromium's, over
 * SwiftShader): the tiled GEMM in its three layouts against a float64 product, and whole SAE
 * training steps (standard, topk) against the onnxruntime CPU graph of step-graph.ts — gradients of
 * the first step, metrics of every step, and parameters and moments after three steps.
 */
import { describe, expect, it } from 'vitest';
import { SaeStepRunner } from '../sae/step-runner.js';
import type { WgslStepSpec } from '../sae/wgsl-step-runner.js';
import { Rng } from '../engine/random.js';
import { DEFAULT_GEMM, SMALL_GEMM } from '../gpu/kernels/gemm.js';
import { maxRelativeError, wgslTestSpec } from './helpers/sae-fixtures.js';
import { webGpuPageForFile } from './helpers/webgpu-browser.js';

const gpu = webGpuPageForFile();

function randoms(n: number, rng: Rng, scale = 1): number[] {
  return Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

describe('WGSL GEMM', () => {
  const rand = new Rng(7);
  const configs = { default: DEFAULT_GEMM, small: SMALL_GEMM };
  for (const [transA, transB] of [[false, true], [false, false], [true, false]] as const) for (const [name, config] of Object.entries(configs)) {
    it(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} with the ${name} blocking matches a float64 product on ragged sizes`, async () => {
      const M = 150, N = 45, K = 37; // not multiples of any tile; more than one tile of rows
      const a = randoms(M * K, rand);
      const b = randoms(K * N, rand);
      const out = await gpu.page.evaluate((c) => (globalThis as any).mistudioGpu.gemm(c), { M, N, K, transA, transB, a, b, config });
      const expected = new Float64Array(M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
          expected[i * N + j] = s;
        }
      }
      expect(maxRelativeError(out, expected)).toBeLessThan(1e-6);
    });
  }
});

function stepSpec(architecture: 'standard' | 'topk', overrides: Partial<WgslStepSpec> = {}): WgslStepSpec {
  return wgslTestSpec(architecture, { dIn: 24, dSae: 96, batch: 40, k: 6 }, overrides);
}

function initialParameters(spec: WgslStepSpec, seed: number): Record<string, number[]> {
  const rand = new Rng(seed);
  const { dIn: d, dSae: S } = spec;
  return { W_encT: randoms(S * d, rand, 0.3), b_enc: randoms(S, rand, 0.05), W_dec: randoms(S * d, rand, 0.3), b_dec: randoms(d, rand, 0.1) };
}

/** AuxK inputs as the trainer makes them: k_aux = min(d/2, dead), scale = c · min(dead / (d/2), 1). */
function auxInputs(spec: WgslStepSpec, dead: number[]) {
  const half = Math.floor(spec.dIn / 2);
  return { deadIndices: dead, kAux: Math.min(half, dead.length), auxScale: 1 * Math.min(dead.length / half, 1) };
}

async function compareTraining(spec: WgslStepSpec, dead: (number[] | undefined)[] = []) {
  const params = initialParameters(spec, 11);
  const rand = new Rng(5);
  const steps = [1, 2, 3].map((t) => ({
    x: randoms(spec.batch * spec.dIn, rand),
    coefficient: 0.5,
    stepSize: 1e-2 / (1 - 0.9 ** t),
    biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** t),
    ...(dead[t - 1] ? { aux: auxInputs(spec, dead[t - 1]!) } : {}),
  }));
  const gpuRun = await gpu.page.evaluate((c) => (globalThis as any).mistudioGpu.train(c), { spec, params, steps });
  expect(gpuRun.software).toBe(true);
  const cpu = await SaeStepRunner.create(spec, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float32Array.from(v)])), undefined, { device: 'cpu', intraOpNumThreads: 1 });
  try {
    for (let i = 0; i < steps.length; i++) {
      const want = await cpu.step({ ...steps[i], x: Float32Array.from(steps[i].x) });
      const got = gpuRun.metrics[i];
      expect(got.committed).toBe(true);
      for (const name of ['loss', 'mseLoss', 'sparsityLoss', 'auxLoss', 'l0', 'l1', 'totalVariance', 'gradNorm'] as const) {
        expect(got[name], `step ${i + 1} ${name}`).toBeCloseTo(want[name], 4);
      }
      expect(got.firedCount, `step ${i + 1} firedCount`).toEqual(Array.from(want.firedCount));
      for (const [name, g] of Object.entries(want.gradients!)) {
        expect(maxRelativeError(got.gradients[name], g), `step ${i + 1} grad ${name}`).toBeLessThan(2e-5);
      }
    }
    const wantParams = await cpu.parameters();
    const wantM = (await cpu.moments()).m;
    for (const name of Object.keys(params)) {
      expect(maxRelativeError(gpuRun.params[name], wantParams[name]), `param ${name}`).toBeLessThan(2e-5);
      expect(maxRelativeError(gpuRun.moments[name], wantM[name]), `adam m ${name}`).toBeLessThan(2e-5);
    }
    // The steps must have changed the parameters, or the comparison above proves nothing.
    expect(maxRelativeError(gpuRun.params.W_dec, params.W_dec)).toBeGreaterThan(1e-3);
  } finally {
    await cpu.release();
  }
}

describe('WGSL SAE training step', () => {
  it('standard: three steps equal the CPU graph (gradients, metrics, parameters, moments)', async () => {
    await compareTraining(stepSpec('standard'));
  }, 60_000);

  it('standard over more than one 128×128 GEMM tile, ragged: three steps equal the CPU graph', async () => {
    await compareTraining(stepSpec('standard', { dSae: 200, batch: 140 }));
  }, 60_000);

  it('topk with decoder-norm rescaling: three steps equal the CPU graph', async () => {
    await compareTraining(stepSpec('topk'));
  }, 60_000);

  it('topk without rescaling, k not dividing the sizes: three steps equal the CPU graph', async () => {
    await compareTraining(stepSpec('topk', { rescaleActsByDecoderNorm: false, k: 7, dSae: 130, batch: 33 }));
  }, 60_000);

  it('a batch with a NaN is not committed: parameters and moments stay as they were', async () => {
    const spec = stepSpec('standard');
    const params = initialParameters(spec, 3);
    const x = randoms(spec.batch * spec.dIn, new Rng(9));
    x[17] = NaN;
    const run = await gpu.page.evaluate((c) => (globalThis as any).mistudioGpu.train(c), { spec, params, steps: [{ x, coefficient: 0.5, stepSize: 1e-2, biasCorrection2Sqrt: Math.sqrt(1 - 0.999) }] });
    expect(run.metrics[0].committed).toBe(false);
    for (const name of Object.keys(params)) {
      expect(run.params[name], name).toEqual(Array.from(Float32Array.from(params[name])));
      expect(run.moments[name].every((v: number) => v === 0), `adam m ${name}`).toBe(true);
    }
  }, 60_000);

  it('refuses sizes whose [B, S] matrices exceed the device\'s storage binding limit, naming the fix', async () => {
    // Chromium's default limit is 128 MiB: 1024 × 40000 floats is 156 MiB.
    const spec = stepSpec('standard', { batch: 1024, dSae: 40_000, dIn: 8 });
    const params = { W_encT: new Array(40_000 * 8).fill(0), b_enc: new Array(40_000).fill(0), W_dec: new Array(40_000 * 8).fill(0), b_dec: new Array(8).fill(0) };
    const message = await gpu.page.evaluate(
      (c) => (globalThis as any).mistudioGpu.train(c).then(() => 'created', (e: Error) => e.message),
      { spec, params, steps: [] },
    );
    expect(message).toMatch(/needs 163840000 bytes, over this GPU's \d+-byte storage binding limit.*batchSizeTokens/);
  }, 60_000);

  it('topk with AuxK: steps with many, no, and few dead latents equal the CPU graph', async () => {
    const spec = stepSpec('topk');
    // 30 dead (k_aux = d/2 = 12, full scale), none, then 5 (k_aux = 5, scale 5/12). Dead latents may
    // also be active in the main selection; the gradients then add.
    const many = Array.from({ length: 30 }, (_, i) => i * 3);
    await compareTraining(spec, [many, undefined, [2, 17, 40, 41, 95]]);
  }, 60_000);

  it('topk with dense weight gradients (SAELens formulation) and AuxK equals the CPU graph', async () => {
    const spec = stepSpec('topk', { sparse: false });
    await compareTraining(spec, [Array.from({ length: 30 }, (_, i) => i * 3), undefined, [2, 17, 40, 41, 95]]);
  }, 60_000);

  it('topk with AuxK and no rescaling equals the CPU graph', async () => {
    await compareTraining(stepSpec('topk', { rescaleActsByDecoderNorm: false, k: 7, dSae: 130, batch: 33 }), [[0, 5, 9, 64, 129], [1, 2, 3]]);
  }, 60_000);
});
