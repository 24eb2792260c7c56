/**
 * CSV/TSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes), parsed as a stream; the
 * first record is the header. Rows come out as objects keyed by header name.
 */
import { MiStudioError } from '../../errors.js';
import { textChunks } from './text-stream.js';

/** Records (arrays of fields) of a delimited file. */
export async function* csvRecords(file: string, delimiter: string, signal?: AbortSignal): AsyncGenerator<string[]> {
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  /** A quote just closed inside a quoted field: the next char decides (another quote = literal). */
  let quoteSeen = false;
  let started = false;
  const delim = delimiter.charCodeAt(0);
  for await (const chunk of textChunks(file, signal)) {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (c === 34) {
            field += '"';
            i++;
            continue;
          }
          inQuotes = false;
          continue; // re-examine c outside quotes
        }
        const q = chunk.indexOf('"', i);
        if (q < 0) {
          field += chunk.slice(i);
          i = n;
        } else {
          field += chunk.slice(i, q);
          quoteSeen = true;
          i = q + 1;
        }
        continue;
      }
      if (c === 34 && field.length === 0) {
        inQuotes = true;
        started = true;
        i++;
      } else if (c === delim) {
        record.push(field);
        field = '';
        started = true;
        i++;
      } else if (c === 10 || c === 13) {
        if (c === 13 && i + 1 < n && chunk.charCodeAt(i + 1) === 10) i++;
        if (started || field.length || record.length) {
          record.push(field);
          yield record;
        }
        record = [];
        field = '';
        started = false;
        i++;
      } else {
        // Plain run up to the next special character.
        let j = i + 1;
        while (j < n) {
          const d = chunk.charCodeAt(j);
          if (d === delim || d === 10 || d === 13) break;
          j++;
        }
        field += chunk.slice(i, j);
        started = true;
        i = j;
      }
    }
  }
  if (inQuotes && !quoteSeen) throw new MiStudioError('CORRUPT_FILE', 'the file ends inside a quoted field', { file, hint: 'check for an unbalanced double quote' });
  if (started || field.length || record.length) {
    record.push(field);
    yield record;
  }
}

export async function* csvRows(file: string, delimiter: string, signal?: AbortSignal): AsyncGenerator<Record<string, string>> {
  let header: string[] | undefined;
  for await (const rec of csvRecords(file, delimiter, signal)) {
    if (!header) {
      header = rec.map((h, i) => (i === 0 ? h.replace(/^\ufeff/, '') : h).trim());
      continue;
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) if (i < rec.length) row[header[i]] = rec[i];
    yield row;
  }
}
