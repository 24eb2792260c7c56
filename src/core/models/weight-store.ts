/**
 * Weights prepared for graphs (float32, transposed or concatenated as an architecture wants them),
 * kept for the model's lifetime: every graph variant (different hooks, interventions, stop layer)
 * references the same arrays as in-memory external data instead of re-reading the checkpoint.
 */
import { halfToFloat32Array } from '../engine/float16.js';
import { MiStudioError } from '../errors.js';
import type { QuantizedMatrix } from './quantize.js';
import type { WeightSource, WeightTensor } from './weights.js';

export interface PreparedWeight {
  data: Float32Array;
  dims: number[];
}

export function toFloat32(t: WeightTensor): Float32Array {
  return t.dtype === 'float32' ? (t.data as Float32Array) : halfToFloat32Array(t.data as Uint16Array);
}

/** [rows, cols] → [cols, rows]: Hugging Face Linear weights are [out, in]; MatMul wants [in, out]. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  const block = 64; // cache-friendly tiles
  for (let r0 = 0; r0 < rows; r0 += block) {
    for (let c0 = 0; c0 < cols; c0 += block) {
      const r1 = Math.min(rows, r0 + block), c1 = Math.min(cols, c0 + block);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = src[r * cols + c];
    }
  }
  return out;
}

/** float16 weights (IEEE half bits), as the f16 and quantized precisions keep embedding tables. */
export interface HalfWeight {
  data: Uint16Array;
  dims: number[];
}

export class WeightStore {
  private readonly prepared = new Map<string, PreparedWeight | HalfWeight | QuantizedMatrix>();

  constructor(readonly source: WeightSource) {}

  has(name: string): boolean {
    return this.source.has(name);
  }

  /** One checkpoint tensor as float32 (not kept; use `get` for graph weights). */
  load(name: string, expectedDims?: readonly number[]): PreparedWeight {
    const t = this.source.get(name);
    if (expectedDims && (t.shape.length !== expectedDims.length || t.shape.some((d, i) => d !== expectedDims[i]))) {
      throw new MiStudioError('SHAPE_MISMATCH', `weight has shape [${t.shape.join(', ')}] but config.json implies [${expectedDims.join(', ')}]`, {
        file: this.source.origin,
        field: name,
        hint: 'the weights do not belong to this config.json',
      });
    }
    return { data: toFloat32(t), dims: [...t.shape] };
  }

  /** A prepared weight under `key`, made once by `make`. */
  get<T extends PreparedWeight | HalfWeight | QuantizedMatrix>(key: string, make: () => T): T {
    let w = this.prepared.get(key);
    if (!w) {
      w = make();
      this.prepared.set(key, w);
    }
    return w as T;
  }

  /** Bytes of every prepared weight held (what the model keeps besides onnxruntime's copies). */
  preparedBytes(): number {
    let total = 0;
    for (const w of this.prepared.values()) total += 'scales' in w ? w.data.byteLength + w.scales.byteLength + w.zeroPoints.byteLength + w.offsets.byteLength : w.data.byteLength;
    return total;
  }
}

/** Linear weights [out_i, in] (Hugging Face layout) stacked along the output axis: [Σ out_i, in]. */
export function concatRows(parts: readonly PreparedWeight[]): PreparedWeight {
  const inDim = parts[0].dims[1];
  for (const p of parts) if (p.dims[1] !== inDim) throw new MiStudioError('SHAPE_MISMATCH', `cannot fuse weights with input sizes ${inDim} and ${p.dims[1]}`);
  const data = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { data, dims: [data.length / inDim, inDim] };
}

/** Concatenates 1-D biases. */
export function concatVectors(parts: readonly PreparedWeight[]): PreparedWeight {
  const total = parts.reduce((a, p) => a + p.data.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { data, dims: [total] };
}
