/**
 * What `<ms-dataset-browser>` shows, derived from its props; shared by the live element and the static
 * snapshot (pure functions, no DOM, no Lit).
 */
import type { DatasetBrowserProps } from './types.js';
import { formatNumber, visibleToken } from './static/format.js';

/** Characters of a sample shown before "… N more characters". */
export const SAMPLE_CHARS = 1500;
/** Alternating token backgrounds of the token view (token boundaries, not activations). */
export const TOKEN_SHADES = ['#dbeafe', '#fde68a'] as const;

export function tokenShade(index: number): string {
  return TOKEN_SHADES[index % 2];
}

/** A token as the token view shows it: visible marks for whitespace, and a real line break after a newline. */
export function tokenLabel(token: string): string {
  return token.includes('\n') ? `${visibleToken(token)}\n` : visibleToken(token);
}

/** "12,345 rows · text · page 3 of 618" or "≥ 40 rows match “whale” (searched 12% of 9,000) · page 1 of 2". */
export function browserStatus(p: Partial<DatasetBrowserProps>): string {
  const pages = Math.max(1, p.pages ?? 1);
  const pageText = `page ${formatNumber((p.page ?? 0) + 1)} of ${formatNumber(pages)}${p.matchCountExact === false ? '+' : ''}`;
  const total = p.totalRows ?? 0;
  if (!p.query) return `${formatNumber(total)} rows · ${p.kind ?? 'text'} · ${pageText}`;
  const matches = p.matchingRows ?? 0;
  const searched = p.matchCountExact === false && total > 0 ? ` (searched ${Math.floor((100 * (p.scannedRows ?? 0)) / total)}% of ${formatNumber(total)})` : ` of ${formatNumber(total)}`;
  return `${p.matchCountExact === false ? '≥ ' : ''}${formatNumber(matches)} rows match “${p.query}”${searched} · ${pageText}`;
}

/** [start, end) ranges of case-insensitive occurrences of `query` in `text`. */
export function matchRanges(text: string, query: string): Array<[number, number]> {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const lower = text.toLowerCase();
  const out: Array<[number, number]> = [];
  // toLowerCase keeps lengths for almost all text; ranges past a length change are dropped, not shifted.
  if (lower.length !== text.length) return out;
  for (let i = lower.indexOf(q); i >= 0; i = lower.indexOf(q, i + q.length)) out.push([i, i + q.length]);
  return out;
}

/**
 * The sample text cut to SAMPLE_CHARS, split into plain and matching pieces; `hiddenChars` counts what
 * is not shown, including what the kernel already cut (`fullChars`).
 */
export function sampleSegments(text: string, query: string, fullChars = text.length): { segments: Array<{ text: string; match: boolean }>; hiddenChars: number } {
  const shown = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
  const segments: Array<{ text: string; match: boolean }> = [];
  let at = 0;
  for (const [a, b] of matchRanges(shown, query)) {
    if (a > at) segments.push({ text: shown.slice(at, a), match: false });
    segments.push({ text: shown.slice(a, b), match: true });
    at = b;
  }
  if (at < shown.length) segments.push({ text: shown.slice(at), match: false });
  return { segments, hiddenChars: Math.max(fullChars, text.length) - shown.length };
}
