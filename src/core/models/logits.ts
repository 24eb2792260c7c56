/** Small numeric helpers over logits rows. */

/** log-softmax of one row, computed in float64 for stable log-probabilities. */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
  return out;
}

/** The k largest entries, largest first (ties: lower index first). */
export function topK(row: ArrayLike<number>, k: number): { id: number; value: number }[] {
  const best: { id: number; value: number }[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (best.length === k && v <= best[k - 1].value) continue;
    let j = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push({ id: i, value: v });
    while (j > 0 && best[j - 1].value < v) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = { id: i, value: v };
  }
  return best;
}

/** Index of the largest entry (first on ties). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
