/**
 * Blockwise weight-only quantization for onnxruntime's com.microsoft MatMulNBits: for a Linear
 * weight W [N out, K in], each output row is cut along K into blocks of `blockSize`. A block maps
 * its own [min, max] onto the integers 0 … 2^bits - 1 (asymmetric, round to nearest):
 *
 *   w ≈ (q - z) · scale,  scale = (max - min) / (2^bits - 1),  z = -min / scale (a real number)
 *
 * MatMulNBits takes integer zero points for 8 bits (and runs its fastest kernels with them for 4),
 * so z is split into an integer zero point zi = round(z) and a per-block offset
 * c = (zi - z) · scale:  w = (q - zi) · scale + c. The offsets add, for every block b, the sum of
 * the block's inputs times c_b — a [K, nBlocks] × [nBlocks, N] correction next to the MatMulNBits
 * (see ForwardGraph.linear). With the real zero point the block's extremes are exact, so weights
 * that were already quantized blockwise with a minimum (GGUF Q4_1, Q4_K, Q5_K) keep their values.
 *
 * Layout (MatMulNBits inputs): B [N, nBlocks, blockSize·bits/8] uint8 — 4-bit values two per byte,
 * the even element in the low nibble; scales [N·nBlocks] float32; zero points uint8 — one per
 * block for 8 bits, two blocks per byte (low nibble first, rows padded to whole bytes) for 4 bits;
 * offsets [nBlocks, N] float32. K need not be a multiple of the block size: the last block is
 * shorter (its padding quantizes to zi and is never read).
 */
import { MiStudioError } from '../errors.js';

export type QuantBits = 4 | 8;
export const QUANT_BLOCK_SIZES = [32, 128] as const;
export type QuantBlockSize = (typeof QUANT_BLOCK_SIZES)[number];

export interface QuantizedMatrix {
  bits: QuantBits;
  blockSize: number;
  /** Input features (MatMulNBits K). */
  k: number;
  /** Output features (MatMulNBits N). */
  n: number;
  /** [N, nBlocks, blockSize·bits/8] */
  data: Uint8Array;
  /** [N·nBlocks] */
  scales: Float32Array;
  zeroPoints: Uint8Array;
  /** [nBlocks, N]: c = (zi - z) · scale per block. */
  offsets: Float32Array;
}

/** Where element (out n, in k) of a Linear weight lives: `outIn` [N, K] (Hugging Face), `inOut` [K, N] (GPT-2 Conv1D). */
export type MatrixLayout = 'outIn' | 'inOut';

export function blocksPerRow(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

/** Bytes of the zero points of an [n, k] matrix. */
export function zeroPointBytes(n: number, k: number, bits: QuantBits, blockSize: number): number {
  const nb = blocksPerRow(k, blockSize);
  return bits === 8 ? n * nb : n * Math.ceil(nb / 2);
}

/** Bytes a quantized [n, k] matrix takes (data, scales, zero points, offsets). */
export function quantizedBytes(n: number, k: number, bits: QuantBits, blockSize: number): number {
  const nb = blocksPerRow(k, blockSize);
  return n * nb * ((blockSize * bits) / 8) + 2 * n * nb * 4 + zeroPointBytes(n, k, bits, blockSize);
}

/** Quantizes W (float32, `layout`) to `bits` with one scale, zero point and offset per block of `blockSize` inputs. */
export function quantizeBlockwise(src: Float32Array, n: number, k: number, layout: MatrixLayout, bits: QuantBits, blockSize: number): QuantizedMatrix {
  if (src.length !== n * k) throw new MiStudioError('SHAPE_MISMATCH', `cannot quantize ${src.length} values as a [${n}, ${k}] matrix`);
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0)) throw new MiStudioError('INVALID_ARGUMENT', `quantization block size must be a power of two ≥ 16, got ${blockSize}`, { field: 'blockSize' });
  const nb = blocksPerRow(k, blockSize);
  const blobBytes = (blockSize * bits) / 8;
  const qmax = (1 << bits) - 1;
  const data = new Uint8Array(n * nb * blobBytes);
  const scales = new Float32Array(n * nb);
  const zeroPoints = new Uint8Array(zeroPointBytes(n, k, bits, blockSize));
  const zpRowBytes = bits === 8 ? nb : Math.ceil(nb / 2);
  // element (row, col) of W [N, K]
  const rowStride = layout === 'outIn' ? k : 1;
  const colStride = layout === 'outIn' ? 1 : n;
  const offsets = new Float32Array(nb * n);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * blockSize;
      const len = Math.min(blockSize, k - k0);
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < len; j++) {
        const v = src[row * rowStride + (k0 + j) * colStride];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      // A constant block: scale 1 and q = 0 reproduce it exactly.
      const scale = hi > lo ? Math.fround((hi - lo) / qmax) : 1;
      const z = -lo / scale;
      const zi = Math.min(qmax, Math.max(0, Math.round(z)));
      scales[row * nb + b] = scale;
      offsets[b * n + row] = (zi - z) * scale;
      const out = (row * nb + b) * blobBytes;
      for (let j = 0; j < blockSize; j++) {
        const q = j < len ? Math.min(qmax, Math.max(0, Math.round(src[row * rowStride + (k0 + j) * colStride] / scale + z))) : zi;
        if (bits === 8) data[out + j] = q;
        else data[out + (j >> 1)] |= (j & 1) === 0 ? q : q << 4;
      }
      if (bits === 8) zeroPoints[row * zpRowBytes + b] = zi;
      else zeroPoints[row * zpRowBytes + (b >> 1)] |= (b & 1) === 0 ? zi : zi << 4;
    }
  }
  return { bits, blockSize, k, n, data, scales, zeroPoints, offsets };
}

/** The float32 weights a quantized matrix stands for, [N, K] row-major: (q - zi) · scale + offset. */
export function dequantizeBlockwise(q: QuantizedMatrix): Float32Array {
  const { n, k, bits, blockSize } = q;
  const nb = blocksPerRow(k, blockSize);
  const blobBytes = (blockSize * bits) / 8;
  const zpRowBytes = bits === 8 ? nb : Math.ceil(nb / 2);
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < k; col++) {
      const b = Math.floor(col / blockSize);
      const j = col % blockSize;
      const at = (row * nb + b) * blobBytes;
      let value: number;
      let zp: number;
      if (bits === 8) {
        value = q.data[at + j];
        zp = q.zeroPoints[row * zpRowBytes + b];
      } else {
        const byte = q.data[at + (j >> 1)];
        value = (j & 1) === 0 ? byte & 0x0f : byte >> 4;
        const zpByte = q.zeroPoints[row * zpRowBytes + (b >> 1)];
        zp = (b & 1) === 0 ? zpByte & 0x0f : zpByte >> 4;
      }
      out[row * k + col] = (value - zp) * q.scales[row * nb + b] + q.offsets[b * n + row];
    }
  }
  return out;
}

/** [K, nBlocks] indicator of the blocks (1 where input k is in block b): x · E gives per-block input sums. */
export function blockIndicator(k: number, blockSize: number): Float32Array {
  const nb = blocksPerRow(k, blockSize);
  const e = new Float32Array(k * nb);
  for (let i = 0; i < k; i++) e[i * nb + Math.floor(i / blockSize)] = 1;
  return e;
}
