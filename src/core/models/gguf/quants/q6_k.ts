import type { QuantCodec } from './codec.js';
import { halfTable, readHalf } from './half.js';

/**
 * Q6_K: super-blocks of 256 — 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8
 * scales (one per 16 elements), f16 d at the end. Element e = 128·h + r: low nibble (r >> 6) of
 * byte 64·h + (r & 63), high bits 2·(r >> 5) of byte 32·h + (r & 31); x = (d·scale)·(q − 32).
 */
export const Q6_K: QuantCodec = {
  name: 'Q6_K',
  typeId: 14,
  blockElements: 256,
  blockBytes: 210,
  dequantize(src, dst, dstOffset, nBlocks) {
    const halves = halfTable();
    for (let b = 0; b < nBlocks; b++) {
      const o = b * 210;
      const ql = o;
      const qh = o + 128;
      const sc = o + 192;
      const d = readHalf(src, o + 208, halves);
      const out = dstOffset + b * 256;
      for (let h = 0; h < 2; h++) {
        for (let r = 0; r < 128; r++) {
          const low = (src[ql + 64 * h + (r & 63)] >> ((r >> 6) * 4)) & 0x0f;
          const high = (src[qh + 32 * h + (r & 31)] >> ((r >> 5) * 2)) & 0x03;
          const e = 128 * h + r;
          const scale = (src[sc + (e >> 4)] << 24) >> 24;
          // d·scale and its product with q are exact in float32 (at most 24 significant bits)
          dst[out + e] = d * scale * ((low | (high << 4)) - 32);
        }
      }
    }
  },
};
