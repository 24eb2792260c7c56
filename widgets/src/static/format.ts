/** Number and token formatting shared by the live elements and the static snapshots. */

/** Short human-readable number: 12,345 · 3.142 · 0.0123 · 1.20e-5. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 1e-3) return trimZeros(value.toPrecision(4));
  return value.toExponential(2);
}

function trimZeros(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * Token text as it should be seen: whitespace-only or control characters would be invisible,
 * so newlines and tabs get visible marks; ordinary spaces stay (the container uses white-space: pre).
 */
export function visibleToken(token: string): string {
  return token.replace(/\n/g, '↵').replace(/\r/g, '␍').replace(/\t/g, '⇥');
}
