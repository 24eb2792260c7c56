/**
 * Storage buffers of f32/u32 values on the device, and reading them back. Readbacks wait for the
 * queue with a timeout, so a kernel that never finishes surfaces as an error instead of a hang.
 */
import { withTimeout } from './timeout.js';

const READBACK_TIMEOUT_MS = 120_000;

/** A storage buffer holding `length` 4-byte values. */
export interface GpuArray {
  buffer: GPUBuffer;
  length: number;
}

export function createArray(device: GPUDevice, length: number, label: string, data?: Float32Array | Uint32Array): GpuArray {
  // WebGPU rejects zero-sized bindings; an empty array still gets one element.
  const bytes = Math.max(4, length * 4);
  const buffer = device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, mappedAtCreation: !!data });
  if (data) {
    const view = data instanceof Float32Array ? new Float32Array(buffer.getMappedRange()) : new Uint32Array(buffer.getMappedRange());
    view.set(data);
    buffer.unmap();
  }
  return { buffer, length };
}

export function writeArray(device: GPUDevice, target: GpuArray, data: Float32Array | Uint32Array, offsetValues = 0): void {
  device.queue.writeBuffer(target.buffer, offsetValues * 4, data.buffer, data.byteOffset, data.byteLength);
}

/** Copies `arrays` back in one submission; results are in the order given. */
export async function readArrays(device: GPUDevice, arrays: readonly GpuArray[]): Promise<ArrayBuffer[]> {
  const total = arrays.reduce((n, a) => n + Math.max(4, a.length * 4), 0);
  const staging = device.createBuffer({ label: 'readback', size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: 'readback' });
  let offset = 0;
  for (const a of arrays) {
    const bytes = Math.max(4, a.length * 4);
    encoder.copyBufferToBuffer(a.buffer, 0, staging, offset, bytes);
    offset += bytes;
  }
  device.queue.submit([encoder.finish()]);
  try {
    await withTimeout(staging.mapAsync(GPUMapMode.READ), READBACK_TIMEOUT_MS, 'readback');
    const all = staging.getMappedRange();
    const out: ArrayBuffer[] = [];
    offset = 0;
    for (const a of arrays) {
      out.push(all.slice(offset, offset + a.length * 4));
      offset += Math.max(4, a.length * 4);
    }
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}

export async function readFloats(device: GPUDevice, array: GpuArray): Promise<Float32Array> {
  const [bytes] = await readArrays(device, [array]);
  return new Float32Array(bytes);
}
