/**
 * The sparse topk weight gradients (latent-segments.ts, sparse-weight-grads.ts) on Chromium's
 * SwiftShader WebGPU, against a float64 reference built from the same (f32) inputs: the grouping of
 * entries by latent (exact: segment starts, and each segment's entries by row), dW_dec = Aᵀ dR,
 * dW_encT = Dᵀ xc, db_enc and the fire counts. Every case runs its inputs, other inputs, then its
 * inputs again on the same buffers: the first and third runs must agree bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/random.js';
import { maxRelativeError } from './helpers/sae-fixtures.js';
import { webGpuPageForFile } from './helpers/webgpu-browser.js';
import type { SparseGradsInput } from './helpers/webgpu-page.js';

const gpu = webGpuPageForFile();

interface Sizes {
  B: number;
  k: number;
  S: number;
  d: number;
}

interface SparseGradsResult {
  segmentStart: number[];
  entryOrder: number[];
  gradWdec: number[];
  gradWencT: number[];
  gradBenc: number[];
  fired: number[];
  ms: number;
}

/** Row b's k distinct latents, ascending, drawn by `pick` (which may repeat; repeats are redrawn). */
function selection(sizes: Sizes, rng: Rng, pick: (b: number, j: number) => number): number[] {
  const idx: number[] = [];
  for (let b = 0; b < sizes.B; b++) {
    const row = new Set<number>();
    for (let j = 0; row.size < sizes.k; j++) row.add(pick(b, j));
    idx.push(...[...row].sort((x, y) => x - y));
  }
  return idx;
}

/** Coefficients like topk's: a ≥ 0 with some exact zeros (unfired picks), dPreK 0 where a is. */
function inputs(sizes: Sizes, rng: Rng, idx: number[]): SparseGradsInput {
  const { B, k, d } = sizes;
  const r = (n: number) => Array.from({ length: n }, () => Math.fround(rng.next() * 2 - 1));
  const a = r(B * k).map((v) => Math.max(v + 0.3, 0));
  const dPreK = r(B * k).map((v, e) => (a[e] > 0 ? v : 0));
  return { idx, a, dPreK, dR: r(B * d), xc: r(B * d) };
}

/** Stable counting sort by latent, and the gradients in float64 from the dense scatter's definition. */
function reference(sizes: Sizes, x: SparseGradsInput) {
  const { B, k, S, d } = sizes;
  const lists: number[][] = Array.from({ length: S }, () => []);
  for (let e = 0; e < B * k; e++) lists[x.idx[e]].push(e);
  const segmentStart = [0];
  for (const l of lists) segmentStart.push(segmentStart[segmentStart.length - 1] + l.length);
  const gradWdec = new Float64Array(S * d);
  const gradWencT = new Float64Array(S * d);
  const gradBenc = new Float64Array(S);
  const fired = new Array<number>(S).fill(0);
  for (let e = 0; e < B * k; e++) {
    const i = x.idx[e];
    const b = Math.floor(e / k);
    for (let c = 0; c < d; c++) {
      gradWdec[i * d + c] += x.a[e] * x.dR[b * d + c];
      gradWencT[i * d + c] += x.dPreK[e] * x.xc[b * d + c];
    }
    gradBenc[i] += x.dPreK[e];
    if (x.a[e] > 0) fired[i]++;
  }
  return { segmentStart, entryOrder: lists.flat(), gradWdec, gradWencT, gradBenc, fired };
}

function expectMatches(sizes: Sizes, x: SparseGradsInput, got: SparseGradsResult, label: string, tolerance: number): void {
  const want = reference(sizes, x);
  expect(got.segmentStart, `${label} segmentStart`).toEqual(want.segmentStart);
  expect(got.entryOrder, `${label} entryOrder`).toEqual(want.entryOrder);
  for (let i = 0; i < sizes.S; i++) {
    const rows = got.entryOrder.slice(got.segmentStart[i], got.segmentStart[i + 1]).map((e) => Math.floor(e / sizes.k));
    for (let j = 1; j < rows.length; j++) expect(rows[j], `${label} latent ${i}: rows ascending`).toBeGreaterThan(rows[j - 1]);
  }
  expect(got.fired, `${label} fired`).toEqual(want.fired);
  expect(maxRelativeError(got.gradWdec, want.gradWdec), `${label} dW_dec`).toBeLessThan(tolerance);
  expect(maxRelativeError(got.gradWencT, want.gradWencT), `${label} dW_encT`).toBeLessThan(tolerance);
  expect(maxRelativeError(got.gradBenc, want.gradBenc), `${label} db_enc`).toBeLessThan(tolerance);
}

/**
 * Runs `x`, then `other`, then `x` again through one SparseWeightGradients; checks all three. The
 * tolerance is relative to the largest expected magnitude; the f32 rounding of a sum grows with its
 * number of terms, so segments of thousands of entries get more room.
 */
async function check(sizes: Sizes, x: SparseGradsInput, other: SparseGradsInput, tolerance = 1e-6): Promise<SparseGradsResult[]> {
  const results: SparseGradsResult[] = await gpu.page.evaluate((c) => (globalThis as any).mistudioGpu.sparseGrads(c), { ...sizes, runs: [x, other, x] });
  expectMatches(sizes, x, results[0], 'first run', tolerance);
  expectMatches(sizes, other, results[1], 'other inputs', tolerance);
  expect(results[2], 'same inputs again: identical bits').toEqual({ ...results[0], ms: results[2].ms });
  return results;
}

describe('sparse topk weight gradients (WGSL)', () => {
  it('ragged sizes: uniform random picks', async () => {
    const sizes = { B: 37, k: 5, S: 101, d: 19 };
    const rng = new Rng(3);
    const uniform = () => rng.int(sizes.S);
    const x = inputs(sizes, rng, selection(sizes, rng, uniform));
    const other = inputs(sizes, rng, selection(sizes, rng, uniform));
    await check(sizes, x, other);
  }, 60_000);

  it('skewed: one latent in every row (bitmap ranks), a few warm ones, most never picked; two column tiles', async () => {
    const sizes = { B: 300, k: 4, S: 200, d: 150 };
    const rng = new Rng(4);
    const skewed = (_b: number, j: number) => (j === 0 ? 7 : 50 + rng.int(10));
    const x = inputs(sizes, rng, selection(sizes, rng, skewed));
    const want = reference(sizes, x);
    expect(want.segmentStart[8] - want.segmentStart[7]).toBe(sizes.B);
    expect(want.fired.filter((n, i) => n === 0 && want.segmentStart[i + 1] === want.segmentStart[i]).length).toBeGreaterThan(150);
    const other = inputs(sizes, rng, selection(sizes, rng, () => rng.int(sizes.S)));
    await check(sizes, x, other);
  }, 60_000);

  it('a hot latent over several 4096-row bitmap chunks, and the scan over several blocks', async () => {
    const sizes = { B: 9000, k: 2, S: 1500, d: 3 };
    const rng = new Rng(5);
    const x = inputs(sizes, rng, selection(sizes, rng, (_b, j) => (j === 0 ? 1234 : rng.int(40))));
    const other = inputs(sizes, rng, selection(sizes, rng, () => rng.int(sizes.S)));
    await check(sizes, x, other, 4e-6); // latent 1234's sums have 9000 terms
  }, 60_000);

  it('segment starts for S beyond one round of the block-total scan (S > 512 · 512)', async () => {
    const sizes = { B: 64, k: 8, S: 263_000 };
    const rng = new Rng(6);
    const idx = selection({ ...sizes, d: 0 }, rng, (b, j) => (j < 2 ? 262_999 - j : b % 4 === 0 ? rng.int(600) : rng.int(sizes.S)));
    const got: number[] = await gpu.page.evaluate((c) => (globalThis as any).mistudioGpu.segmentStarts(c), { ...sizes, idx });
    expect(got).toEqual(reference({ ...sizes, d: 0 }, { idx, a: [], dPreK: [], dR: [], xc: [] }).segmentStart);
  }, 60_000);
});
