/**
 * Text columns of structured sources (jsonl, csv, parquet): nested paths like `meta.text`, and the
 * auto-detection used when no column is given (a conventional name, else the string column with the
 * longest values in the first rows).
 */
import { MiStudioError } from '../../errors.js';

/** Names that hold the document text in common datasets, most typical first. */
const PREFERRED_NAMES = ['text', 'content', 'document', 'body', 'story', 'article', 'passage', 'raw_content', 'sentence', 'markdown', 'code'];
const MAX_DEPTH = 4;

/** Value at a dotted path; a key that itself contains dots is matched whole first. */
export function valueAtPath(row: unknown, columnPath: string): unknown {
  if (row === null || typeof row !== 'object') return undefined;
  const obj = row as Record<string, unknown>;
  if (columnPath in obj) return obj[columnPath];
  const dot = columnPath.indexOf('.');
  if (dot < 0) return undefined;
  // Try every split point so `a.b.c` finds {"a.b": {"c": ...}} as well as {"a": {"b.c": ...}}.
  for (let i = dot; i >= 0; i = columnPath.indexOf('.', i + 1)) {
    const head = columnPath.slice(0, i);
    if (head in obj) {
      const found = valueAtPath(obj[head], columnPath.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Dotted paths of every string value in `row`, nested objects included. */
export function stringPaths(row: unknown, prefix = '', depth = 0, out: string[] = []): string[] {
  if (row === null || typeof row !== 'object' || Array.isArray(row) || depth > MAX_DEPTH) return out;
  for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.push(p);
    else stringPaths(v, p, depth + 1, out);
  }
  return out;
}

/** All dotted paths (any type), for error messages. */
export function allPaths(row: unknown, prefix = '', depth = 0, out: string[] = []): string[] {
  if (row === null || typeof row !== 'object' || Array.isArray(row) || depth > MAX_DEPTH) return out;
  for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    allPaths(v, p, depth + 1, out);
  }
  return out;
}

/**
 * The text column of a source from its first rows: `requested` when given (checked to exist and hold
 * text), else auto-detected. Throws INVALID_ARGUMENT naming the file and the columns there are.
 */
export function chooseTextColumn(samples: readonly unknown[], requested: string | undefined, file: string): string {
  const paths = new Set<string>();
  for (const row of samples) for (const p of allPaths(row)) paths.add(p);
  const textPaths = new Map<string, number>();
  for (const row of samples) {
    for (const p of stringPaths(row)) textPaths.set(p, (textPaths.get(p) ?? 0) + (valueAtPath(row, p) as string).length);
  }
  const listing = [...textPaths.keys()].join(', ') || '(none)';
  if (requested !== undefined) {
    const values = samples.map((r) => valueAtPath(r, requested)).filter((v) => v !== undefined && v !== null);
    if (values.length === 0) {
      throw new MiStudioError('INVALID_ARGUMENT', `column '${requested}' not found`, { file, field: requested, hint: `text columns there: ${listing}` });
    }
    if (!values.every((v) => typeof v === 'string')) {
      throw new MiStudioError('INVALID_ARGUMENT', `column '${requested}' does not hold text (found ${typeof values.find((v) => typeof v !== 'string')})`, {
        file,
        field: requested,
        hint: `text columns there: ${listing}`,
      });
    }
    return requested;
  }
  if (textPaths.size === 0) {
    throw new MiStudioError('INVALID_ARGUMENT', 'no text column found', { file, hint: `columns there: ${[...paths].join(', ') || '(none)'}; pass --column` });
  }
  const leaf = (p: string) => p.slice(p.lastIndexOf('.') + 1).toLowerCase();
  for (const name of PREFERRED_NAMES) {
    const matches = [...textPaths.keys()].filter((p) => leaf(p) === name).sort((a, b) => a.split('.').length - b.split('.').length);
    if (matches.length) return matches[0];
  }
  return [...textPaths.entries()].sort((a, b) => b[1] - a[1])[0][0];
}
