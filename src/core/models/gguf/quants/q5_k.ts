import type { QuantCodec } from './codec.js';
import { halfTable, readHalf } from './half.js';
import { unpackScaleMin } from './k-scales.js';

/**
 * Q5_K: as Q4_K plus 32 bytes of high bits before the nibbles: sub-block j takes bit j of high-bit
 * byte l as the fifth bit of its element l; x = (d·scale_j)·q − (dmin·min_j).
 */
export const Q5_K: QuantCodec = {
  name: 'Q5_K',
  typeId: 13,
  blockElements: 256,
  blockBytes: 176,
  dequantize(src, dst, dstOffset, nBlocks) {
    const halves = halfTable();
    const scales = new Uint8Array(8);
    const mins = new Uint8Array(8);
    for (let b = 0; b < nBlocks; b++) {
      const o = b * 176;
      const d = readHalf(src, o, halves);
      const dmin = readHalf(src, o + 2, halves);
      unpackScaleMin(src, o + 4, scales, mins);
      const qh = o + 16;
      const qs = o + 48;
      for (let j = 0; j < 8; j++) {
        const dl = d * scales[j];
        const ml = dmin * mins[j];
        const shift = (j & 1) * 4;
        const base = qs + (j >> 1) * 32;
        const out = dstOffset + b * 256 + j * 32;
        for (let l = 0; l < 32; l++) {
          const q = ((src[base + l] >> shift) & 0x0f) | (((src[qh + l] >> j) & 1) << 4);
          dst[out + l] = dl * q - ml;
        }
      }
    }
  },
};
