import type { QuantCodec } from './codec.js';
import { halfTable, readHalf } from './half.js';

/**
 * Q4_0: blocks of 32 — f16 scale d, then 16 bytes of nibbles; element i < 16 is the low nibble of
 * byte i, element 16 + i its high nibble; x = (q − 8)·d.
 */
export const Q4_0: QuantCodec = {
  name: 'Q4_0',
  typeId: 2,
  blockElements: 32,
  blockBytes: 18,
  dequantize(src, dst, dstOffset, nBlocks) {
    const halves = halfTable();
    for (let b = 0; b < nBlocks; b++) {
      const o = b * 18;
      const d = readHalf(src, o, halves);
      const out = dstOffset + b * 32;
      for (let i = 0; i < 16; i++) {
        const q = src[o + 2 + i];
        dst[out + i] = ((q & 0x0f) - 8) * d;
        dst[out + 16 + i] = ((q >> 4) - 8) * d;
      }
    }
  },
};
