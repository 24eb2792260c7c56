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

/**
 * A fixed list of arrays read back after each submission that copies them: one staging buffer for
 * the owner's lifetime, and the copies recorded into the owner's own command encoder, so a training
 * step is one submission with no allocation.
 */
export class Readback {
  private readonly staging: GPUBuffer;
  private readonly offsets: number[] = [];

  constructor(device: GPUDevice, private readonly arrays: readonly GpuArray[], label = 'readback') {
    let total = 0;
    for (const a of arrays) {
      this.offsets.push(total);
      total += Math.max(4, a.length * 4);
    }
    this.staging = device.createBuffer({ label, size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  encode(encoder: GPUCommandEncoder): void {
    this.arrays.forEach((a, i) => encoder.copyBufferToBuffer(a.buffer, 0, this.staging, this.offsets[i], Math.max(4, a.length * 4)));
  }

  /** The arrays as copied by the last submitted `encode`, in the order given. */
  async read(): Promise<ArrayBuffer[]> {
    await withTimeout(this.staging.mapAsync(GPUMapMode.READ), READBACK_TIMEOUT_MS, 'readback');
    const all = this.staging.getMappedRange();
    const out = this.arrays.map((a, i) => all.slice(this.offsets[i], this.offsets[i] + a.length * 4));
    this.staging.unmap();
    return out;
  }

  destroy(): void {
    this.staging.destroy();
  }
}

/** Copies `arrays` back in one submission of its own; results are in the order given. */
export async function readArrays(device: GPUDevice, arrays: readonly GpuArray[]): Promise<ArrayBuffer[]> {
  const readback = new Readback(device, arrays);
  try {
    const encoder = device.createCommandEncoder({ label: 'readback' });
    readback.encode(encoder);
    device.queue.submit([encoder.finish()]);
    return await readback.read();
  } finally {
    readback.destroy();
  }
}

export async function readFloats(device: GPUDevice, array: GpuArray): Promise<Float32Array> {
  const [bytes] = await readArrays(device, [array]);
  return new Float32Array(bytes);
}
