import type { QuantCodec } from './codec.js';

/** BF16: the top 16 bits of a float32. */
export const BF16: QuantCodec = {
  name: 'BF16',
  typeId: 30,
  blockElements: 1,
  blockBytes: 2,
  dequantize(src, dst, dstOffset, n) {
    const bits = new Uint32Array(dst.buffer, dst.byteOffset + dstOffset * 4, n);
    for (let i = 0; i < n; i++) bits[i] = ((src[2 * i] | (src[2 * i + 1] << 8)) << 16) >>> 0;
  },
};
