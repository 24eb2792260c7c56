import type { QuantCodec } from './codec.js';
import { halfTable, readHalf } from './half.js';
import { unpackScaleMin } from './k-scales.js';

/**
 * Q4_K: super-blocks of 256 = 8 sub-blocks of 32 — f16 d, f16 dmin, 12 bytes of 6-bit scales and
 * minimums, 128 bytes of nibbles. Sub-block j reads nibble (j & 1) of bytes 32·(j >> 1) … +31;
 * x = (d·scale_j)·q − (dmin·min_j).
 */
export const Q4_K: QuantCodec = {
  name: 'Q4_K',
  typeId: 12,
  blockElements: 256,
  blockBytes: 144,
  dequantize(src, dst, dstOffset, nBlocks) {
    const halves = halfTable();
    const scales = new Uint8Array(8);
    const mins = new Uint8Array(8);
    for (let b = 0; b < nBlocks; b++) {
      const o = b * 144;
      const d = readHalf(src, o, halves);
      const dmin = readHalf(src, o + 2, halves);
      unpackScaleMin(src, o + 4, scales, mins);
      const qs = o + 16;
      for (let j = 0; j < 8; j++) {
        // each product below is exact in float32 (few significant bits), as in numpy's float32 math
        const dl = d * scales[j];
        const ml = dmin * mins[j];
        const shift = (j & 1) * 4;
        const base = qs + (j >> 1) * 32;
        const out = dstOffset + b * 256 + j * 32;
        for (let l = 0; l < 32; l++) dst[out + l] = dl * ((src[base + l] >> shift) & 0x0f) - ml;
      }
    }
  },
};
