/**
 * One dequantizer per ggml block type. Each reproduces gguf-py's numpy reference
 * (gguf/quants.py) operation by operation in float32 (Math.fround after every step numpy takes in
 * float32), so results are bit-identical to it, not merely close.
 */
export interface QuantCodec {
  /** ggml type name, e.g. 'Q4_1'. */
  readonly name: string;
  readonly typeId: number;
  readonly blockElements: number;
  readonly blockBytes: number;
  /**
   * Dequantizes `nBlocks` consecutive blocks from `src` (starting at its byte 0) into `dst`,
   * starting at element `dstOffset`.
   */
  dequantize(src: Uint8Array, dst: Float32Array, dstOffset: number, nBlocks: number): void;
}
