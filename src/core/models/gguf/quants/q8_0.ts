import type { QuantCodec } from './codec.js';
import { halfTable, readHalf } from './half.js';

/** Q8_0: blocks of 32 — f16 scale d, then 32 int8 q; x = q·d. */
export const Q8_0: QuantCodec = {
  name: 'Q8_0',
  typeId: 8,
  blockElements: 32,
  blockBytes: 34,
  dequantize(src, dst, dstOffset, nBlocks) {
    const halves = halfTable();
    for (let b = 0; b < nBlocks; b++) {
      const o = b * 34;
      const d = readHalf(src, o, halves);
      const out = dstOffset + b * 32;
      for (let i = 0; i < 32; i++) dst[out + i] = ((src[o + 2 + i] << 24) >> 24) * d; // exact in float32
    }
  },
};
