/**
 * Seeded parameter initialisation, SAELens v6 style: W_dec rows Kaiming-uniform (bound √(6/d)), then
 * rescaled to decoderInitNorm; the encoder starts as the decoder's transpose (W_encT = W_dec); biases
 * zero; JumpReLU thresholds at jumpreluInitThreshold. b_dec may instead start at the data mean or
 * geometric median.
 */
import { Rng } from '../engine/random.js';
import type { TrainingConfig } from './config.js';
import { parameterShape, parameterSpecs, type SaeParameters } from './parameters.js';

export function initialParameters(cfg: TrainingConfig, rng: Rng, bDec?: Float32Array): SaeParameters {
  const { dIn: d, dSae: S } = cfg;
  const params: SaeParameters = {};
  for (const spec of parameterSpecs(cfg.architecture)) params[spec.name] = new Float32Array(parameterShape(spec, d, S).reduce((a, b) => a * b, 1));
  const bound = Math.sqrt(6 / d); // kaiming_uniform_: gain √2 × √(3 / fan_in), fan_in = d_in
  const wDec = params.W_dec;
  for (let i = 0; i < wDec.length; i++) wDec[i] = (2 * rng.next() - 1) * bound;
  if (cfg.decoderInitNorm !== null) {
    for (let r = 0; r < S; r++) {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += wDec[r * d + j] ** 2;
      const scale = cfg.decoderInitNorm / Math.sqrt(sq);
      for (let j = 0; j < d; j++) wDec[r * d + j] *= scale;
    }
  }
  params.W_encT.set(wDec);
  if (params.threshold) params.threshold.fill(cfg.jumpreluInitThreshold);
  if (bDec) params.b_dec.set(bDec);
  return params;
}

/** Column means of rows [n, d]. */
export function rowMean(rows: Float32Array, d: number): Float32Array {
  const n = rows.length / d;
  const acc = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) acc[j] += rows[r * d + j];
  return Float32Array.from(acc, (v) => v / n);
}

/**
 * The geometric median (the point minimising the summed Euclidean distance to the rows), by
 * Weiszfeld's iteration from the mean — robust to the outlier tokens that drag the mean around.
 */
export function geometricMedian(rows: Float32Array, d: number, maxIterations = 100, tolerance = 1e-5): Float32Array {
  const n = rows.length / d;
  let y = Float64Array.from(rowMean(rows, d));
  for (let it = 0; it < maxIterations; it++) {
    const num = new Float64Array(d);
    let den = 0;
    for (let r = 0; r < n; r++) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (rows[r * d + j] - y[j]) ** 2;
      const w = 1 / Math.max(Math.sqrt(dist), 1e-12);
      den += w;
      for (let j = 0; j < d; j++) num[j] += w * rows[r * d + j];
    }
    const next = num.map((v) => v / den);
    let shift = 0;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      shift += (next[j] - y[j]) ** 2;
      norm += next[j] ** 2;
    }
    y = next;
    if (Math.sqrt(shift) <= tolerance * Math.max(Math.sqrt(norm), 1)) break;
  }
  return Float32Array.from(y);
}
