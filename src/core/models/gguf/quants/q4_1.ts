import type { QuantCodec } from './codec.js';
import { halfTable, readHalf } from './half.js';

/** Q4_1: blocks of 32 — f16 scale d, f16 minimum m, 16 bytes of nibbles (as Q4_0); x = q·d + m. */
export const Q4_1: QuantCodec = {
  name: 'Q4_1',
  typeId: 3,
  blockElements: 32,
  blockBytes: 20,
  dequantize(src, dst, dstOffset, nBlocks) {
    const halves = halfTable();
    for (let b = 0; b < nBlocks; b++) {
      const o = b * 20;
      const d = readHalf(src, o, halves);
      const m = readHalf(src, o + 2, halves);
      const out = dstOffset + b * 32;
      for (let i = 0; i < 16; i++) {
        const q = src[o + 4 + i];
        // q·d is exact in float32; the float32 store rounds the sum as numpy's float32 add does
        dst[out + i] = (q & 0x0f) * d + m;
        dst[out + 16 + i] = (q >> 4) * d + m;
      }
    }
  },
};
