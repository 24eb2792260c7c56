/**
 * Logit lens of SAE features: what a feature's decoder direction does to the next-token logits
 * through the final norm and the unembedding, the convention of TransformerLens and SAEDashboard.
 *
 * SAEDashboard computes `W_dec[f] @ model.W_U` on a HookedTransformer loaded with TransformerLens'
 * defaults (`fold_ln=True, center_unembed=True`): the final norm's weight g is folded into the
 * unembedding (W_U' = diag(g) W_U), the norm's scaling by 1/RMS (or 1/std) is not applied (the
 * direction is read linearly; scaling does not change the ranking), biases do not enter, and
 * `center_unembed` subtracts each row's mean over the vocabulary. For LayerNorm models the norm's
 * own centering (over d_model) is part of the linear map; TransformerLens gets it by centering the
 * weights that write to the residual stream, here it is applied to the direction. So
 *
 *   logits_f = (P · W_dec[f]) ⊙ g · W_U  −  mean over the vocabulary      (P = I − 11ᵀ/d for LayerNorm)
 *
 * It is computed with the model's own graph (replace `ln_final.hook_normalized` with the direction,
 * whose output is multiplied by g and unembedded), minus the logits of a zero direction (the final
 * norm's bias through W_U), so the weights, quantization and tying are exactly the model's.
 */
import { MiStudioError } from '../errors.js';
import type { Model } from '../models/model.js';
import type { SaeModel } from '../sae/sae-model.js';
import { assertResidualSpace } from './sae-hook.js';

/** Families whose final norm is a LayerNorm (with centering); the others use RMSNorm. */
const LAYER_NORM_FAMILIES = new Set(['gpt2', 'gpt_neo', 'gpt_neox', 'opt', 'phi']);

export type FinalNorm = 'layernorm' | 'rmsnorm';

export function finalNormKind(model: Model): FinalNorm {
  return LAYER_NORM_FAMILIES.has(model.config.architecture) ? 'layernorm' : 'rmsnorm';
}

export interface LogitLensOptions {
  /** Subtract each feature's mean logit over the vocabulary (TransformerLens center_unembed; default true). */
  centerUnembed?: boolean;
  /** Features per forward pass (default 64). */
  chunk?: number;
}

/** The decoder rows of `features` as [F, d] float32. */
export function decoderRows(sae: SaeModel, features: readonly number[]): Float32Array {
  const d = sae.dIn;
  const out = new Float32Array(features.length * d);
  features.forEach((f, i) => {
    if (!Number.isInteger(f) || f < 0 || f >= sae.dSae) throw new MiStudioError('INVALID_ARGUMENT', `feature ${f} is outside [0, ${sae.dSae})`, { field: 'feature' });
    out.set(sae.weights.W_dec.subarray(f * d, (f + 1) * d), i * d);
  });
  return out;
}

/**
 * Logits [F, V] of directions [F, d_model] read through the final norm's weight and the unembedding
 * (see the file comment for the convention).
 */
export async function directionLogits(model: Model, directions: Float32Array, options: LogitLensOptions = {}): Promise<Float32Array> {
  const d = model.config.dModel;
  const V = model.config.vocabSize;
  if (directions.length % d !== 0) throw new MiStudioError('SHAPE_MISMATCH', `directions of ${directions.length} values are not rows of d_model ${d}`, { field: 'directions' });
  const F = directions.length / d;
  const dirs = Float32Array.from(directions);
  if (finalNormKind(model) === 'layernorm') {
    for (let i = 0; i < F; i++) {
      const row = dirs.subarray(i * d, (i + 1) * d);
      let mean = 0;
      for (let j = 0; j < d; j++) mean += row[j];
      mean /= d;
      for (let j = 0; j < d; j++) row[j] -= mean;
    }
  }
  const hook = 'ln_final.hook_normalized';
  const run = async (values: Float32Array, rows: number) => {
    const r = await model.run({ data: new Int32Array(rows), shape: [rows, 1] }, { interventions: [{ hook, op: 'replace', value: { data: values, shape: [rows, 1, d] } }] });
    return r.logits!.data;
  };
  const baseline = await run(new Float32Array(d), 1);
  const chunk = options.chunk ?? 64;
  const out = new Float32Array(F * V);
  for (let start = 0; start < F; start += chunk) {
    const n = Math.min(chunk, F - start);
    const logits = await run(dirs.slice(start * d, (start + n) * d), n);
    for (let i = 0; i < n; i++) {
      const row = out.subarray((start + i) * V, (start + i + 1) * V);
      let mean = 0;
      for (let v = 0; v < V; v++) {
        row[v] = logits[i * V + v] - baseline[v];
        mean += row[v];
      }
      if (options.centerUnembed ?? true) {
        mean /= V;
        for (let v = 0; v < V; v++) row[v] -= mean;
      }
    }
  }
  return out;
}

export interface TokenValue {
  tokenId: number;
  value: number;
}

export interface LogitLensResult {
  feature: number;
  /** Largest logits, largest first. */
  positive: TokenValue[];
  /** Smallest logits, smallest first. */
  negative: TokenValue[];
  /** Histogram of all V logits: bin i counts values in [min + i·binWidth, min + (i+1)·binWidth). */
  histogram: { min: number; binWidth: number; counts: number[] };
  convention: string;
}

export const LOGIT_LENS_CONVENTION = 'W_dec[f] through the final norm weight (folded, no 1/RMS scaling; LayerNorm centering applied) and W_U, centered over the vocabulary (TransformerLens fold_ln + center_unembed, as SAEDashboard)';

/** The logit lens of some features: top positive / negative tokens and the logit histogram. */
export async function logitLens(model: Model, sae: SaeModel, hook: string, features: readonly number[], options: LogitLensOptions & { top?: number; bins?: number } = {}): Promise<LogitLensResult[]> {
  assertResidualSpace(hook, 'the logit lens');
  if (sae.dIn !== model.config.dModel) throw new MiStudioError('SHAPE_MISMATCH', `the SAE's d_in ${sae.dIn} is not the model's d_model ${model.config.dModel}`, { field: 'sae' });
  const V = model.config.vocabSize;
  const logits = await directionLogits(model, decoderRows(sae, features), options);
  const top = options.top ?? 10;
  const bins = options.bins ?? 40;
  return features.map((feature, i) => {
    const row = logits.subarray(i * V, (i + 1) * V);
    return { feature, positive: extremes(row, top, 1), negative: extremes(row, top, -1), histogram: histogram(row, bins), convention: LOGIT_LENS_CONVENTION };
  });
}

/** The k entries with the largest sign·value (ties: lower id first). */
export function extremes(row: ArrayLike<number>, k: number, sign: 1 | -1): TokenValue[] {
  const best: TokenValue[] = [];
  for (let i = 0; i < row.length; i++) {
    const s = sign * row[i];
    if (best.length === k && s <= sign * best[k - 1].value) continue;
    let j = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push({ tokenId: i, value: row[i] });
    while (j > 0 && sign * best[j - 1].value < s) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = { tokenId: i, value: row[i] };
  }
  return best;
}

/** Equal-width histogram over [min, max] (the max falls in the last bin). */
export function histogram(values: ArrayLike<number>, bins: number): { min: number; binWidth: number; counts: number[] } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const counts = new Array<number>(bins).fill(0);
  if (values.length === 0) return { min: 0, binWidth: 0, counts };
  const binWidth = max > min ? (max - min) / bins : 1;
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - min) / binWidth))]++;
  return { min, binWidth, counts };
}
