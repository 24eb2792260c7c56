/** IEEE half → float32 through a 64 Ki-entry table: exact (every half is a float32) and fast. */
let table: Float32Array | undefined;

function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfBitsToNumber(h);
  }
  return table;
}

/** The half at byte offset `o` of `src` (little-endian), as a float32 value. */
export function readHalf(src: Uint8Array, o: number, halves: Float32Array): number {
  return halves[src[o] | (src[o + 1] << 8)];
}
