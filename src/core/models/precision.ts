/**
 * Weight precision at load time: what each choice costs in memory, and which one to use.
 *
 *   f32   every weight float32 (bf16 checkpoints widen exactly to float32).
 *   f16   Linear weights and embedding tables stored as float16 and widened inside onnxruntime
 *         (computation stays float32).
 *   int8  Linear weights of the blocks quantized blockwise to 8 bits (MatMulNBits), embedding
 *         tables float16.
 *   int4  the same with 4 bits.
 * Norm weights and biases stay float32 in every case (tiny and precision-sensitive). The output
 * layer is the most sensitive to rounding: an untied unembedding (lm_head) is quantized to 8 bits
 * at int4 too, and a tied one reads the (float16) embedding table.
 *
 * The estimate counts the weights twice: the prepared copy the model keeps (every graph variant
 * references it) and the copy onnxruntime makes when it creates a session — which on CPU holds
 * float16 Linear weights widened to float32 (it folds the Cast), so f16 saves only the first copy,
 * and packs its own float32 copy of a tied table for the unembedding Gemm. Activations (the logits:
 * tokens × vocabulary × 4 bytes) and onnxruntime's working buffers come on top.
 */
import os from 'node:os';
import { MiStudioError } from '../errors.js';
import type { ModelConfig } from './config.js';
import { quantizedBytes, QUANT_BLOCK_SIZES, type QuantBits, type QuantBlockSize } from './quantize.js';

export const PRECISIONS = ['f32', 'f16', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];

export interface MemoryEstimate {
  precision: Precision;
  /** Bytes of the weights the model keeps prepared at this precision (one copy). */
  weightBytes: number;
  /** Bytes of the weights an onnxruntime session holds. */
  sessionBytes: number;
  /** weightBytes + sessionBytes: resident after the first forward pass, activations not counted. */
  estimatedBytes: number;
}

export interface PrecisionInfo {
  requested: Precision;
  /** The precision loaded (smaller than requested after a fall-back). */
  used: Precision;
  /** Quantization block size (int8/int4). */
  blockSize: QuantBlockSize;
  estimate: MemoryEstimate;
  /** Memory available when the model was opened (or the caller's memoryLimitBytes). */
  budgetBytes: number;
  /** The larger precisions skipped because their estimate exceeded the budget, in order. */
  fellBackFrom: MemoryEstimate[];
}

export interface PrecisionOptions {
  /** Weight precision (default 'f32'). */
  precision?: Precision;
  /** Inputs per quantization block for int8/int4: 32 (default, more accurate) or 128 (smaller). */
  quantBlockSize?: QuantBlockSize;
  /** Memory the model may use; default: the memory free now (cgroup limits included). */
  memoryLimitBytes?: number;
  /** Fall back to the next smaller precision when the estimate exceeds the budget (default true). */
  precisionFallback?: boolean;
  /** Where the fall-back is reported (default console.warn). */
  log?: (message: string) => void;
}

export function quantBits(p: Precision): QuantBits | undefined {
  return p === 'int8' ? 8 : p === 'int4' ? 4 : undefined;
}

/** Bytes per element of embedding tables and dense Linear weights at a precision. */
export function denseElementBytes(p: Precision): number {
  return p === 'f32' ? 4 : 2;
}

export interface WeightShapes {
  /** Linear weights of the blocks as [out, in]. */
  linear: [number, number][];
  /** [V, D] of an untied unembedding (lm_head). */
  unembedding?: [number, number];
  /** [V, D] when the unembedding is tied to the token embedding table. */
  tiedUnembedding?: [number, number];
  /** Elements of embedding tables (token, learned positions). */
  embeddingElements: number;
  /** Elements kept float32 at every precision (norms, biases). */
  float32Elements: number;
}

/**
 * The weight shapes a model of this config has, from the config alone (no weights read), for
 * estimates before loading. `gatedMlp`: gate/up/down (llama family) instead of in/out.
 */
export function weightShapes(cfg: ModelConfig, gatedMlp: boolean, learnedPositions: boolean): WeightShapes {
  const { dModel: D, dMlp: M, nHeads: H, nKvHeads: K, dHead: dh, vocabSize: V, nLayers: L } = cfg;
  const linear: [number, number][] = [];
  for (let l = 0; l < L; l++) {
    linear.push([(H + 2 * K) * dh, D], [D, H * dh]);
    if (gatedMlp) linear.push([2 * M, D], [D, M]);
    else linear.push([M, D], [D, M]);
  }
  const embeddingElements = V * D + (learnedPositions ? cfg.maxPositions * D : 0);
  // norms (up to 4 per block with sandwich norms, 2 more for q/k norms) and biases, generously
  const float32Elements = L * (6 * D + (H + 2 * K) * dh + 2 * M + 2 * dh) + 2 * D;
  const head: [number, number] = [V, D];
  return { linear, ...(cfg.tiedEmbeddings ? { tiedUnembedding: head } : { unembedding: head }), embeddingElements, float32Elements };
}

export function estimateMemory(shapes: WeightShapes, precision: Precision, blockSize: QuantBlockSize): MemoryEstimate {
  const bits = quantBits(precision);
  const elements = ([n, k]: [number, number]) => n * k;
  const linearElements = shapes.linear.reduce((a, w) => a + elements(w), 0) + (shapes.unembedding ? elements(shapes.unembedding) : 0);
  const common = shapes.embeddingElements * denseElementBytes(precision) + shapes.float32Elements * 4;
  // the float32 copy onnxruntime packs for the Gemm reading a tied table
  const tiedPacked = shapes.tiedUnembedding ? elements(shapes.tiedUnembedding) * 4 : 0;
  let weightBytes: number;
  let sessionBytes: number;
  if (bits) {
    weightBytes = common + shapes.linear.reduce((a, [n, k]) => a + quantizedBytes(n, k, bits, blockSize), 0);
    if (shapes.unembedding) weightBytes += quantizedBytes(shapes.unembedding[0], shapes.unembedding[1], 8, blockSize);
    sessionBytes = weightBytes + tiedPacked;
  } else {
    weightBytes = common + linearElements * denseElementBytes(precision);
    // onnxruntime (CPU) widens float16 Linear weights to float32
    sessionBytes = common + linearElements * 4 + tiedPacked;
  }
  return { precision, weightBytes, sessionBytes, estimatedBytes: weightBytes + sessionBytes };
}

/** Memory this process can still use: free memory, or less under a cgroup limit. */
export function availableMemoryBytes(): number {
  let free = os.freemem();
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  // Unconstrained processes report 0 or a huge sentinel.
  if (limit && limit > 0 && limit < 2 ** 60) free = Math.min(free, limit - process.memoryUsage().rss);
  return Math.max(0, free);
}

export function parsePrecision(value: string, field: string): Precision {
  if ((PRECISIONS as readonly string[]).includes(value)) return value as Precision;
  if (value === 'bf16') {
    throw new MiStudioError('INVALID_ARGUMENT', "precision 'bf16' is not a runtime precision", { field, hint: "bf16 checkpoints load exactly as 'f32'; 'f16', 'int8' and 'int4' take less memory" });
  }
  throw new MiStudioError('INVALID_ARGUMENT', `unknown precision '${value}'`, { field, hint: `use one of ${PRECISIONS.join(', ')}` });
}

/**
 * The precision to load: the requested one, or with fall-back on, the first smaller one whose
 * estimate fits the budget (logged). OUT_OF_MEMORY when none fits.
 */
export function choosePrecision(shapes: WeightShapes, options: PrecisionOptions): PrecisionInfo {
  const requested = options.precision ?? 'f32';
  if (!(PRECISIONS as readonly string[]).includes(requested)) parsePrecision(String(requested), 'precision');
  const blockSize = options.quantBlockSize ?? 32;
  if (!(QUANT_BLOCK_SIZES as readonly number[]).includes(blockSize)) {
    throw new MiStudioError('INVALID_ARGUMENT', `quantBlockSize must be ${QUANT_BLOCK_SIZES.join(' or ')}, got ${blockSize}`, { field: 'quantBlockSize' });
  }
  const budgetBytes = options.memoryLimitBytes ?? availableMemoryBytes();
  const candidates = PRECISIONS.slice(PRECISIONS.indexOf(requested)).map((p) => estimateMemory(shapes, p, blockSize));
  if (options.precisionFallback === false) return { requested, used: requested, blockSize, estimate: candidates[0], budgetBytes, fellBackFrom: [] };
  const fits = candidates.findIndex((e) => e.estimatedBytes <= budgetBytes);
  if (fits < 0) {
    const smallest = candidates[candidates.length - 1];
    throw new MiStudioError('OUT_OF_MEMORY', `the model needs about ${mib(smallest.estimatedBytes)} even as ${smallest.precision}, but only ${mib(budgetBytes)} are available`, {
      field: 'precision',
      hint: 'free memory, raise memoryLimitBytes, or pass precisionFallback: false to load anyway',
    });
  }
  const info: PrecisionInfo = { requested, used: candidates[fits].precision, blockSize, estimate: candidates[fits], budgetBytes, fellBackFrom: candidates.slice(0, fits) };
  if (fits > 0) {
    const log = options.log ?? ((m: string) => console.warn(m));
    log(`miStudio: ${requested} weights need about ${mib(candidates[0].estimatedBytes)} but ${mib(budgetBytes)} are available; loading as ${info.used} (about ${mib(info.estimate.estimatedBytes)})`);
  }
  return info;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
