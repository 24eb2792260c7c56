/**
 * Memory a training run needs, estimated before it starts from the graph's largest live tensors:
 * parameters with their Adam moments (double-buffered on CPU), and the step's activations.
 */
import os from 'node:os';
import { MiStudioError } from '../errors.js';
import type { TrainingConfig } from './config.js';
import { parameterShape, parameterSpecs } from './parameters.js';

export interface MemoryEstimate {
  parameterBytes: number;
  /** Parameters + Adam m and v, twice (front and back buffers). */
  stateBytes: number;
  /** Peak intermediate tensors of one step. */
  activationBytes: number;
  totalBytes: number;
  freeBytes: number;
  fits: boolean;
}

const F32 = 4;

export function estimateTrainingMemory(c: TrainingConfig, freeBytes = os.freemem()): MemoryEstimate {
  const { dIn: d, dSae: S, batchSizeTokens: B } = c;
  const parameterBytes = parameterSpecs(c.architecture).reduce((acc, s) => acc + parameterShape(s, d, S).reduce((a, b) => a * b, 1) * F32, 0);
  const stateBytes = parameterBytes * 3 * 2;
  // Dense graphs keep a handful of [B, S] tensors alive (pre-activations, activations, their
  // gradients, masks); the sparse topk graph keeps [B, S] scores and [B, k, 2, d] row updates.
  const bs = B * S * F32;
  const activationBytes = c.architecture === 'topk' ? 2 * bs + 3 * B * c.k * d * F32 : (c.architecture === 'gated' ? 8 : 5) * bs;
  const gradientBytes = parameterBytes * 2;
  const totalBytes = stateBytes + activationBytes + gradientBytes + 2 * B * d * F32;
  return { parameterBytes, stateBytes, activationBytes, totalBytes, freeBytes, fits: totalBytes <= freeBytes };
}

/** Throws OUT_OF_MEMORY with the numbers and the fix when the estimate exceeds free memory. */
export function assertFitsInMemory(e: MemoryEstimate): void {
  if (e.fits) return;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  throw new MiStudioError('OUT_OF_MEMORY', `training needs about ${gib(e.totalBytes)} (state ${gib(e.stateBytes)}, step activations ${gib(e.activationBytes)}) but only ${gib(e.freeBytes)} is free`, {
    field: 'batchSizeTokens',
    hint: 'reduce batchSizeTokens or dSae',
  });
}
