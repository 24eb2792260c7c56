import type { QuantCodec } from './codec.js';

/** F32: little-endian float32, copied as is. */
export const F32: QuantCodec = {
  name: 'F32',
  typeId: 0,
  blockElements: 1,
  blockBytes: 4,
  dequantize(src, dst, dstOffset, n) {
    // The tensor reader allocates its own chunk buffers at byte offset 0, so a typed view is aligned;
    // GGUF is little-endian and so is every platform Node runs on.
    if (src.byteOffset % 4 === 0) {
      dst.set(new Float32Array(src.buffer, src.byteOffset, n), dstOffset);
    } else {
      const view = new DataView(src.buffer, src.byteOffset, n * 4);
      for (let i = 0; i < n; i++) dst[dstOffset + i] = view.getFloat32(i * 4, true);
    }
  },
};
