import * as ort from 'onnxruntime-node';
import { MiStudioError } from '../errors.js';

export { ort };

export function f32(data: Float32Array, dims: readonly number[]): ort.Tensor {
  checkSize(data.length, dims);
  return new ort.Tensor('float32', data, dims);
}

export function i64(data: BigInt64Array | readonly number[], dims: readonly number[]): ort.Tensor {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  checkSize(arr.length, dims);
  return new ort.Tensor('int64', arr, dims);
}

/** The float32 data of an output tensor (downloads from the GPU when it lives there). */
export async function readF32(t: ort.Tensor): Promise<Float32Array> {
  const data = t.location === 'cpu' ? t.data : await t.getData();
  if (!(data instanceof Float32Array)) throw new MiStudioError('DTYPE_MISMATCH', `expected a float32 tensor, got ${t.type}`);
  return data;
}

function checkSize(length: number, dims: readonly number[]): void {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== length) throw new MiStudioError('SHAPE_MISMATCH', `tensor data has ${length} elements but shape [${dims.join(', ')}] needs ${n}`);
}
