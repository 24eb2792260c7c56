/**
 * Memory a training run needs, estimated before it starts from the graph's largest live tensors:
 * parameters with their Adam moments (double-buffered), and the step's activations. On CPU all of
 * it is host memory, checked against what the host (or the container's cgroup) has free; on a GPU
 * device (webgpu/cuda) the state and the step live in GPU memory, checked against nvidia-smi's free
 * memory when it can be read, while the host keeps only batches and checkpoint copies.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ResolvedDevice } from '../engine/devices.js';
import { MiStudioError } from '../errors.js';
import type { TrainingConfig } from './config.js';
import { parameterShape, parameterSpecs } from './parameters.js';

export interface GpuMemoryEstimate {
  /** What the GPU must hold: state, gradients and the step's activations. */
  totalBytes: number;
  /** Free memory of the emptiest visible GPU; null when nvidia-smi could not be read (not checked then). */
  freeBytes: number | null;
  fits: boolean;
}

export interface MemoryEstimate {
  parameterBytes: number;
  /** Parameters + Adam m and v, twice (front and back buffers). */
  stateBytes: number;
  /** Peak intermediate tensors of one step. */
  activationBytes: number;
  /** Host memory the run needs (everything on CPU; batches and checkpoint copies on a GPU). */
  totalBytes: number;
  /** Free host memory (MemAvailable, capped by the cgroup's memory.max − memory.current). */
  freeBytes: number;
  fits: boolean;
  device: ResolvedDevice;
  /** Only for webgpu/cuda. */
  gpu?: GpuMemoryEstimate;
}

const F32 = 4;

/** Free host memory for this process: the smaller of MemAvailable and the cgroup's headroom. */
export function freeHostBytes(): number {
  let free = os.freemem();
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (max !== 'max') {
      const current = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
      if (Number.isFinite(Number(max)) && Number.isFinite(current)) free = Math.min(free, Math.max(0, Number(max) - current));
    }
  } catch {
    // no cgroup v2 files: the host figure stands
  }
  return free;
}

/** Free memory of the GPU with the most free memory, from nvidia-smi; null when it cannot be read. */
export function freeGpuBytes(timeoutMs = 5000): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits'], { timeout: timeoutMs }, (error, stdout) => {
      if (error) return resolve(null);
      const mib = String(stdout).split('\n').map((l) => Number(l.trim())).filter((v) => Number.isFinite(v) && v > 0);
      resolve(mib.length ? Math.max(...mib) * 2 ** 20 : null);
    });
  });
}

/** Parameters, optimizer state and one step's tensors of `c` (in its batchSizeTokens rows per step). */
export function estimateTrainingMemory(c: TrainingConfig, freeBytes = freeHostBytes(), device: ResolvedDevice = 'cpu', gpuFreeBytes: number | null = null): MemoryEstimate {
  const { dIn: d, dSae: S, batchSizeTokens: B } = c;
  const parameterBytes = parameterSpecs(c.architecture).reduce((acc, s) => acc + parameterShape(s, d, S).reduce((a, b) => a * b, 1) * F32, 0);
  const stateBytes = parameterBytes * 3 * 2;
  // Dense graphs keep a handful of [B, S] tensors alive (pre-activations, activations, their
  // gradients, masks); the sparse topk graph keeps [B, S] scores and [B, k, 2, d] row updates.
  const bs = B * S * F32;
  const activationBytes = c.architecture === 'topk' ? 2 * bs + 3 * B * c.k * d * F32 : (c.architecture === 'gated' ? 8 : 5) * bs;
  const gradientBytes = parameterBytes * 2;
  const batchBytes = 2 * B * d * F32;
  const stepBytes = stateBytes + activationBytes + gradientBytes + batchBytes;
  if (device === 'cpu') {
    return { parameterBytes, stateBytes, activationBytes, totalBytes: stepBytes, freeBytes, fits: stepBytes <= freeBytes, device };
  }
  // Host: the batches, plus parameter and moment copies read back for checkpoints.
  const hostBytes = batchBytes + parameterBytes * 3;
  const gpu: GpuMemoryEstimate = { totalBytes: stepBytes, freeBytes: gpuFreeBytes, fits: gpuFreeBytes === null || stepBytes <= gpuFreeBytes };
  return { parameterBytes, stateBytes, activationBytes, totalBytes: hostBytes, freeBytes, fits: hostBytes <= freeBytes && gpu.fits, device, gpu };
}

/** The estimate for a run on `device`, reading free host and GPU memory now. */
export async function measureTrainingMemory(c: TrainingConfig, device: ResolvedDevice): Promise<MemoryEstimate> {
  return estimateTrainingMemory(c, freeHostBytes(), device, device === 'cpu' ? null : await freeGpuBytes());
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** One line for the job log. */
export function describeMemoryEstimate(e: MemoryEstimate): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const host = `memory estimate: ${mib(e.totalBytes)} of ${mib(e.freeBytes)} free host memory`;
  if (!e.gpu) return host;
  return `${host}; ${mib(e.gpu.totalBytes)} of ${e.gpu.freeBytes === null ? 'unknown (nvidia-smi unavailable)' : mib(e.gpu.freeBytes)} free GPU memory (${e.device})`;
}

/** Throws OUT_OF_MEMORY with the numbers and the fix when the estimate exceeds free memory. */
export function assertFitsInMemory(e: MemoryEstimate): void {
  if (e.fits) return;
  if (e.gpu && !e.gpu.fits) {
    throw new MiStudioError('OUT_OF_MEMORY', `training on ${e.device} needs about ${gib(e.gpu.totalBytes)} of GPU memory (state ${gib(e.stateBytes)}, step activations ${gib(e.activationBytes)}) but only ${gib(e.gpu.freeBytes!)} is free`, {
      field: 'batchSizeTokens',
      hint: 'reduce batchSizeTokens or dSae, or train on device cpu',
    });
  }
  throw new MiStudioError('OUT_OF_MEMORY', `training needs about ${gib(e.totalBytes)} (state ${gib(e.stateBytes)}, step activations ${gib(e.activationBytes)}) but only ${gib(e.freeBytes)} is free`, {
    field: 'batchSizeTokens',
    hint: 'reduce batchSizeTokens or dSae',
  });
}

/**
 * Whether an error thrown by a training step is an allocation failure (onnxruntime's CPU allocator
 * "Failed to allocate memory", std::bad_alloc, CUDA/WebGPU out-of-memory), i.e. one a smaller batch
 * may avoid.
 */
export function isOutOfMemoryError(err: unknown): boolean {
  if (err instanceof MiStudioError) return err.code === 'OUT_OF_MEMORY';
  const message = err instanceof Error ? err.message : String(err);
  return /failed to allocate memory|bad_alloc|out of memory|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|OutOfMemory/i.test(message);
}
