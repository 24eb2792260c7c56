/**
 * Deterministic pseudo-random numbers from positions: which dataset rows join the token sample and
 * each firing's sampling key for the interval examples are hashes of (seed, row, token, feature),
 * not draws from a stream. Results therefore do not depend on batch boundaries or on where a run
 * was interrupted and resumed, and the PyTorch twin of the benchmark can compute the same keys.
 */

/** The murmur3 / splitmix finalizer on 32 bits: a bijective, well-mixed uint32 → uint32. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Per-token part of the sampling key; `featureKey(tokenHash, f)` finishes it. */
export function tokenHash(seed: number, row: number, token: number): number {
  return mix32(mix32(seed ^ row) ^ token);
}

export function featureKey(tokenHashValue: number, feature: number): number {
  return mix32(tokenHashValue ^ feature);
}

/** Whether dataset row `row` belongs to the token sample kept with probability `p`. */
export function rowInSample(seed: number, row: number, p: number): boolean {
  if (p >= 1) return true;
  return mix32(mix32(seed ^ 0x5bd1e995) ^ row) < p * 4294967296;
}
