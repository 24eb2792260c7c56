import { PreTrainedTokenizer } from '@huggingface/transformers';
import { expect } from 'vitest';
import type { LoadedModelFiles } from '../../models/weights.js';

/**
 * Comparisons of GGUF-loaded model files with the references written by
 * tests/python/make_gguf_fixtures.py (transformers' GGUF loader).
 */

export interface TensorRef { shape: number[]; sum: number; weighted: number; sumsq: number; values?: string }
export interface TokenizerRef {
  class: string;
  cases: { text: string; ids: number[]; decoded: string }[];
  tokenizerJson: Record<string, any>;
}
export interface ModelRef { config: Record<string, unknown>; tensors: Record<string, TensorRef>; tokenizer: TokenizerRef }

export function decodeF32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The fixture's order-sensitive checksums (float64), recomputed on our data. */
function checksums(data: Float32Array): { sum: number; weighted: number; sumsq: number; absSum: number } {
  let sum = 0, weighted = 0, sumsq = 0, absSum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    sum += v;
    weighted += v * ((i % 13) - 6);
    sumsq += v * v;
    absSum += Math.abs(v);
  }
  return { sum, weighted, sumsq, absSum };
}

export function compareWeights(model: LoadedModelFiles, ref: Record<string, TensorRef>): { maxAbs: number; checked: number } {
  expect(model.weights.names().sort()).toEqual(Object.keys(ref).sort());
  let maxAbs = 0;
  let checked = 0;
  for (const [name, r] of Object.entries(ref)) {
    const w = model.weights.get(name);
    expect(w.shape, name).toEqual(r.shape);
    expect(w.dtype).toBe('float32');
    const data = w.data as Float32Array;
    if (r.values) {
      const expected = decodeF32(r.values);
      for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i] - expected[i]));
      checked++;
    }
    // summation order differs from numpy's pairwise sums: allow float64 rounding only
    const c = checksums(data);
    const tol = 1e-9 * (c.absSum * 7 + 1);
    expect(Math.abs(c.sum - r.sum), `${name} sum`).toBeLessThan(tol);
    expect(Math.abs(c.weighted - r.weighted), `${name} weighted checksum (row order)`).toBeLessThan(tol);
    expect(Math.abs(c.sumsq - r.sumsq), `${name} sum of squares`).toBeLessThan(1e-9 * (c.sumsq + 1));
  }
  return { maxAbs, checked };
}

/** Our tokenizer.json through @huggingface/transformers gives Python's ids and decodings, text by text. */
export function compareTokenizer(model: LoadedModelFiles, ref: TokenizerRef): void {
  expect(model.tokenizer).toBeDefined();
  const { tokenizerJson, tokenizerConfig } = model.tokenizer!;
  const tok = new PreTrainedTokenizer(tokenizerJson, tokenizerConfig);
  expect(ref.cases.length).toBeGreaterThan(10);
  for (const c of ref.cases) {
    expect(tok.encode(c.text), JSON.stringify(c.text)).toEqual(c.ids);
    // transformers.js refuses to decode an empty list; Python gives ''
    if (c.ids.length) expect(tok.decode(c.ids, { skip_special_tokens: false }), JSON.stringify(c.text)).toBe(c.decoded);
  }
  // the pipeline itself equals the one transformers builds (vocab and merges are checked separately)
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'added_tokens']) {
    expect(tokenizerJson[key], key).toEqual(ref.tokenizerJson[key]);
  }
  const { vocab, merges, ...modelFields } = tokenizerJson.model as Record<string, unknown>;
  const refModel = ref.tokenizerJson.model;
  for (const [k, v] of Object.entries(modelFields)) expect(v, `model.${k}`).toEqual(refModel[k]);
  const mergeStrings = (merges as [string, string][]).map((m) => m.join(' '));
  if (refModel.merges) {
    expect(mergeStrings).toEqual(refModel.merges);
    expect(vocab).toEqual(refModel.vocab);
  } else {
    expect(mergeStrings.length).toBe(refModel.mergeCount);
    expect(mergeStrings.slice(0, 20)).toEqual(refModel.mergesHead);
    expect(mergeStrings.slice(-20)).toEqual(refModel.mergesTail);
    expect(Object.keys(vocab as object).length).toBe(refModel.vocabSize);
  }
}

export function compareConfig(config: Record<string, unknown>, ref: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(ref)) {
    if (typeof value === 'number' && !Number.isInteger(value)) expect(config[key] as number, key).toBeCloseTo(value, 12);
    else expect(config[key], key).toEqual(value);
  }
}

