/**
 * The 12-byte packed 6-bit scales and minimums shared by Q4_K and Q5_K (ggml's get_scale_min_k4):
 * bytes 0–3 hold scales 0–3 (low 6 bits) and the top 2 bits of scales 4–7; bytes 4–7 the same for
 * minimums; bytes 8–11 the low 4 bits of scales 4–7 (low nibble) and minimums 4–7 (high nibble).
 */
export function unpackScaleMin(src: Uint8Array, o: number, scales: Uint8Array, mins: Uint8Array): void {
  for (let j = 0; j < 4; j++) {
    const d = src[o + j];
    const m = src[o + 4 + j];
    const md = src[o + 8 + j];
    scales[j] = d & 0x3f;
    mins[j] = m & 0x3f;
    scales[4 + j] = (md & 0x0f) | ((d >> 2) & 0x30);
    mins[4 + j] = (md >> 4) | ((m >> 2) & 0x30);
  }
}
