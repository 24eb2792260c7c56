import { describe, expect, it } from 'vitest';
import { GraphBuilder, SessionCache, f32, readF32, resolveDevice, parseDevice, MiStudioError } from '../index.js';

/** Plain-JS reference for a tiny graph: y = LayerNorm(x @ W + b). */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, rows: number, k: number, n: number, eps: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = b[j];
      for (let i = 0; i < k; i++) s += x[r * k + i] * w[i * n + j];
      row[j] = s;
    }
    const mean = row.reduce((a, v) => a + v, 0) / n;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    for (let j = 0; j < n; j++) y[r * n + j] = (row[j] - mean) / Math.sqrt(variance + eps);
  }
  return y;
}

describe('engine', () => {
  it('builds and runs a graph whose result matches a plain-JS reference', async () => {
    const [rows, k, n] = [3, 5, 4];
    const rand = (len: number, seed: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(seed * 100 + i * 1.7));
    const x = rand(rows * k, 1), w = rand(k * n, 2), b = rand(n, 3);
    const g = new GraphBuilder();
    const xin = g.input('x', 'float32', ['rows', k]);
    const wv = g.initializer('w', { type: 'float32', dims: [k, n], data: w });
    const bv = g.initializer('b', { type: 'float32', dims: [n], data: b });
    const h = g.op('Add', [g.op('MatMul', [xin, wv]), bv]);
    const ones = g.constFloat(new Array(n).fill(1));
    const zeros = g.constFloat(new Array(n).fill(0));
    const y = g.op('LayerNormalization', [h, ones, zeros], { axis: -1, epsilon: 1e-5 });
    g.output(y, 'y', 'float32', ['rows', n]);
    const cache = new SessionCache();
    const session = await cache.get('test-ln', { device: await resolveDevice('cpu'), intraOpNumThreads: 1 }, () => g.build());
    const out = await session.run({ x: f32(x, [rows, k]) });
    const got = await readF32(out.y);
    const want = reference(x, w, b, rows, k, n, 1e-5);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
    // The second lookup is served from the cache without calling the builder.
    await cache.get('test-ln', { device: 'cpu', intraOpNumThreads: 1 }, () => { throw new Error('rebuilt'); });
    expect(cache.size).toBe(1);
    await cache.release();
  });

  it('rejects unknown devices with a typed error naming the field', () => {
    expect(() => parseDevice('tpu')).toThrow(MiStudioError);
    expect(() => parseDevice('tpu')).toThrow(/field device/);
  });
});
