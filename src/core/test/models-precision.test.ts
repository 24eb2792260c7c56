/**
 * Weight precision at load: the blockwise quantizer's error bounds, int8/int4 models (MatMulNBits
 * plus the zero-point offset correction) against the same model run in float32 with the plainly
 * dequantized weights, f16 against float16-rounded weights, memory estimates against the bytes
 * actually prepared, and the fall-back to a smaller precision when memory is short.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { float32ToHalfArray, halfToFloat32Array } from '../engine/float16.js';
import { dequantizeBlockwise, loadModel, loadModelFiles, quantizeBlockwise, type LoadedModelFiles, type Precision, type QuantBlockSize, type WeightTensor } from '../models/index.js';
import { Model } from '../models/model.js';
import { MODEL_FIXTURES, loadModelReference, maxAbsDiff } from './helpers/model-reference.js';
import path from 'node:path';

function randomMatrix(n: number, k: number, seed: number): Float32Array {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // rows of different scale and sign balance, so that blocks are not alike
  return Float32Array.from({ length: n * k }, (_, i) => (next() - 0.3 * (Math.floor(i / k) % 3)) * 10 ** ((Math.floor(i / k) % 4) - 2));
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

describe('blockwise quantization', () => {
  for (const bits of [4, 8] as const) {
    for (const blockSize of [32, 128]) {
      it(`int${bits}, blocks of ${blockSize}: error ≤ scale/2, block extremes exact, layouts agree`, () => {
        const n = 6, k = 72; // 72 is not a multiple of either block size
        const w = randomMatrix(n, k, bits * 1000 + blockSize);
        const q = quantizeBlockwise(w, n, k, 'outIn', bits, blockSize);
        const deq = dequantizeBlockwise(q);
        const nb = Math.ceil(k / blockSize);
        let worst = 0;
        for (let r = 0; r < n; r++) {
          for (let b = 0; b < nb; b++) {
            const scale = q.scales[r * nb + b];
            let lo = Infinity, hi = -Infinity, loErr = 0, hiErr = 0;
            for (let c = b * blockSize; c < Math.min(k, (b + 1) * blockSize); c++) {
              const v = w[r * k + c], err = Math.abs(deq[r * k + c] - v);
              worst = Math.max(worst, err / scale);
              if (v < lo) [lo, loErr] = [v, err];
              if (v > hi) [hi, hiErr] = [v, err];
            }
            expect(Math.max(loErr, hiErr), `row ${r} block ${b} extremes`).toBeLessThan((hi - lo) * 1e-6 + 1e-12);
          }
        }
        expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
        expect(worst).toBeGreaterThan(0.3); // rounding happened: the bound is not vacuous
        expect(quantizeBlockwise(transpose(w, n, k), n, k, 'inOut', bits, blockSize)).toEqual(q);
      });
    }
  }

  it('keeps weights that were already 4-bit blockwise with a minimum (GGUF Q4_1) exactly', () => {
    const n = 3, k = 64, w = new Float32Array(n * k);
    for (let i = 0; i < w.length; i++) {
      const block = Math.floor(i / 32), j = i % 32;
      const q = j === 0 ? 0 : j === 1 ? 15 : (j * 7) % 16; // every block spans the whole 4-bit range
      w[i] = Math.fround(-0.04 * (block + 1) + Math.fround(0.013 * (block + 1)) * q);
    }
    for (const bits of [4, 8] as const) {
      const deq = dequantizeBlockwise(quantizeBlockwise(w, n, k, 'outIn', bits, 32));
      for (let i = 0; i < w.length; i++) expect(Math.abs(deq[i] - w[i]), `int${bits} element ${i}`).toBeLessThan(1e-6);
    }
  });

  it('reproduces a constant block exactly', () => {
    const w = new Float32Array(64).fill(0.3);
    expect(Array.from(dequantizeBlockwise(quantizeBlockwise(w, 1, 64, 'outIn', 4, 32)))).toEqual(Array.from(w));
  });
});

/** The weights a model at `precision` computes with, as a float32 checkpoint: the reference. */
function roundedWeights(files: LoadedModelFiles, precision: Precision, blockSize: QuantBlockSize, spec: { tables: string[]; inOut: boolean; head?: string }): LoadedModelFiles {
  const src = files.weights;
  const f32 = (t: WeightTensor) => (t.dtype === 'float32' ? (t.data as Float32Array) : halfToFloat32Array(t.data as Uint16Array));
  const rounded = (data: Float32Array, shape: readonly number[], inOut: boolean, bits: 4 | 8 | undefined): Float32Array => {
    if (!bits) return halfToFloat32Array(float32ToHalfArray(data));
    const [n, k] = inOut ? [shape[1], shape[0]] : [shape[0], shape[1]];
    const deq = dequantizeBlockwise(quantizeBlockwise(data, n, k, inOut ? 'inOut' : 'outIn', bits, blockSize)); // [n, k]
    return inOut ? transpose(deq, n, k) : deq;
  };
  const bits = precision === 'int8' ? 8 : precision === 'int4' ? 4 : undefined;
  const get = (name: string): WeightTensor => {
    const t = src.get(name);
    const data = f32(t);
    if (spec.tables.includes(name)) return { ...t, dtype: 'float32', data: halfToFloat32Array(float32ToHalfArray(data)) };
    // an untied unembedding is quantized to 8 bits at int4 too
    if (name === spec.head) return { ...t, dtype: 'float32', data: rounded(data, t.shape, false, bits && 8) };
    if (t.shape.length === 2) return { ...t, dtype: 'float32', data: rounded(data, t.shape, spec.inOut, bits) };
    return { ...t, dtype: 'float32', data };
  };
  return { ...files, weights: { origin: src.origin, names: () => src.names(), has: (name) => src.has(name), get } };
}

const CASES = [
  { fixture: 'tiny-llama', tables: ['model.embed_tokens.weight'], inOut: false },
  { fixture: 'tiny-gpt2', tables: ['transformer.wte.weight', 'transformer.wpe.weight'], inOut: true },
  { fixture: 'tiny-gpt-neox', tables: ['gpt_neox.embed_in.weight'], inOut: false, head: 'embed_out.weight' },
];

describe('models at reduced precision compute with exactly the rounded weights', () => {
  const open: Model[] = [];
  afterAll(async () => {
    for (const m of open) await m.release();
  });
  for (const c of CASES) {
    for (const [precision, blockSize] of [['f16', 32], ['int8', 32], ['int8', 128], ['int4', 32], ['int4', 128]] as const) {
      it(`${c.fixture} ${precision}${precision === 'f16' ? '' : ` (blocks of ${blockSize})`}`, async () => {
        const ref = loadModelReference(c.fixture);
        const files = await loadModelFiles(ref.dir);
        const reference = await Model.create(roundedWeights(files, precision, blockSize, c), { threads: 1 });
        const model = await loadModel(ref.dir, { threads: 1, precision, quantBlockSize: blockSize });
        const full = await loadModel(ref.dir, { threads: 1 });
        open.push(reference, model, full);
        expect(model.precision.used).toBe(precision);
        const { input_ids, attention_mask } = ref.json.inputs.left;
        const hooks = ['blocks.0.hook_resid_mid', 'blocks.1.mlp.hook_post', 'blocks.1.hook_resid_post'].filter((h) => model.hookNames().includes(h));
        const want = await reference.run(input_ids, { attentionMask: attention_mask, cache: hooks });
        const f32 = await full.run(input_ids, { attentionMask: attention_mask });
        for (const fused of [true, false]) {
          const m = fused ? model : await loadModel(ref.dir, { threads: 1, precision, quantBlockSize: blockSize, fused: false });
          if (!fused) open.push(m);
          const got = await m.run(input_ids, { attentionMask: attention_mask, cache: hooks });
          const err = maxAbsDiff(got.logits!, want.logits!, attention_mask);
          expect(err, 'logits').toBeLessThan(1e-4);
          for (const h of hooks) expect(maxAbsDiff(got.cache.get(h)!, want.cache.get(h)!, attention_mask), h).toBeLessThan(1e-4);
          // the rounding is real: the float32 model differs (except float16 holding bfloat16 weights, which it does exactly)
          if (precision === 'f16' && model.storedPrecision === 'bfloat16') expect(maxAbsDiff(got.logits!, f32.logits!, attention_mask)).toBeLessThan(1e-5);
          else expect(maxAbsDiff(got.logits!, f32.logits!, attention_mask)).toBeGreaterThan(precision === 'f16' ? 1e-6 : 1e-3);
          if (fused) console.log(`${c.fixture} ${precision}/${blockSize}: max abs error vs dequantized reference ${err.toExponential(2)}, vs float32 ${maxAbsDiff(got.logits!, f32.logits!, attention_mask).toExponential(2)}`);
        }
      });
    }
  }
});

describe('memory estimates and fall-back', () => {
  const dir = path.join(MODEL_FIXTURES, 'tiny-llama');

  it('estimates the bytes each precision prepares', async () => {
    const prepared: Record<string, number> = {};
    for (const precision of ['f32', 'f16', 'int8', 'int4'] as const) {
      const m = await loadModel(dir, { threads: 1, precision });
      await m.run([[1, 2, 3]]);
      prepared[precision] = m.preparedWeightBytes();
      const { weightBytes, sessionBytes, estimatedBytes } = m.precision.estimate;
      // the estimate counts norms and biases generously; everything else exactly
      expect(weightBytes / prepared[precision]).toBeGreaterThanOrEqual(1);
      expect(weightBytes / prepared[precision]).toBeLessThan(1.05);
      expect(estimatedBytes).toBe(weightBytes + sessionBytes);
      expect(m.memoryEstimates().find((e) => e.precision === precision)).toEqual(m.precision.estimate);
      await m.release();
    }
    expect(prepared.f32).toBeGreaterThan(prepared.f16);
    expect(prepared.f16).toBeGreaterThan(prepared.int8);
    expect(prepared.int8).toBeGreaterThan(prepared.int4);
  });

  it('falls back to the next smaller precision that fits, and says so', async () => {
    const estimates = (await loadModel(dir, { memoryLimitBytes: 1e12 })).memoryEstimates();
    const bytes = Object.fromEntries(estimates.map((e) => [e.precision, e.estimatedBytes]));
    const logged: string[] = [];
    const m = await loadModel(dir, { precision: 'f32', memoryLimitBytes: bytes.int8 + 1, log: (msg) => logged.push(msg) });
    expect(m.precision.used).toBe('int8');
    expect(m.precision.requested).toBe('f32');
    expect(m.precision.fellBackFrom.map((e) => e.precision)).toEqual(['f32', 'f16']);
    expect(m.precision.budgetBytes).toBe(bytes.int8 + 1);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/f32 weights need about .* loading as int8/);
    const out = await m.run([[1, 2, 3]]);
    expect(out.logits!.shape).toEqual([1, 3, m.config.vocabSize]);
    await m.release();

    const fits = await loadModel(dir, { precision: 'f16', memoryLimitBytes: bytes.f16, log: (msg) => logged.push(msg) });
    expect(fits.precision.used).toBe('f16');
    expect(logged).toHaveLength(1);
    await expect(loadModel(dir, { precision: 'f32', memoryLimitBytes: bytes.int4 - 1 })).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    const forced = await loadModel(dir, { precision: 'f32', memoryLimitBytes: 1, precisionFallback: false });
    expect(forced.precision.used).toBe('f32');
  });

  it('rejects unknown precisions and block sizes with the fix', async () => {
    await expect(loadModel(dir, { precision: 'bf16' as Precision })).rejects.toThrow(/bf16 checkpoints load exactly as 'f32'/);
    await expect(loadModel(dir, { precision: 'int3' as Precision })).rejects.toThrow(/use one of f32, f16, int8, int4/);
    await expect(loadModel(dir, { precision: 'int4', quantBlockSize: 64 as QuantBlockSize })).rejects.toThrow(/quantBlockSize must be 32 or 128/);
  });
});
