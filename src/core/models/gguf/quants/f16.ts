import type { QuantCodec } from './codec.js';
import { halfTable } from './half.js';

/** F16: IEEE half precision. */
export const F16: QuantCodec = {
  name: 'F16',
  typeId: 1,
  blockElements: 1,
  blockBytes: 2,
  dequantize(src, dst, dstOffset, n) {
    const halves = halfTable();
    for (let i = 0; i < n; i++) dst[dstOffset + i] = halves[src[2 * i] | (src[2 * i + 1] << 8)];
  },
};
