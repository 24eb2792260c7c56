/**
 * Streaming text input shared by the txt, jsonl and csv readers: a byte stream (gunzipped when the
 * name ends in `.gz`), a check that the bytes are text at all, and UTF-8 lines decoded across chunk
 * boundaries. Nothing here holds more than one chunk and one line in memory.
 */
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { MiStudioError, throwIfCancelled } from '../../errors.js';

const CHUNK_BYTES = 1 << 20;
/** Bytes inspected to tell text from binary. */
const SNIFF_BYTES = 64 * 1024;
/** More invalid UTF-8 than this fraction of the sniffed characters means "not text". */
const MAX_INVALID_FRACTION = 0.02;

/** Throws INVALID_ARGUMENT for a missing or empty file (before any work is done). */
export function assertNonEmptyFile(file: string): number {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw new MiStudioError('FILE_NOT_FOUND', 'dataset source file not found', { file, cause });
  }
  if (size === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the file is empty: no documents to import', { file, hint: 'check the path, or that the download finished' });
  return size;
}

/** Throws CORRUPT_FILE when `sample` (the first bytes of a file) is not UTF-8 text. */
export function assertLooksLikeText(sample: Uint8Array, file: string): void {
  const head = sample.subarray(0, SNIFF_BYTES);
  if (head.includes(0)) {
    throw new MiStudioError('CORRUPT_FILE', 'the file is binary (it contains NUL bytes), not UTF-8 text', { file, hint: 'pass a text, jsonl, csv or parquet file' });
  }
  // A multi-byte character cut at the sniff boundary is not an error: decode in streaming mode.
  const decoded = new TextDecoder('utf-8').decode(head, { stream: true });
  let invalid = 0;
  for (let i = 0; i < decoded.length; i++) if (decoded.charCodeAt(i) === 0xfffd) invalid++;
  if (decoded.length > 0 && invalid / decoded.length > MAX_INVALID_FRACTION) {
    throw new MiStudioError('CORRUPT_FILE', `the file is not UTF-8 text (${invalid} invalid sequences in its first ${head.length} bytes)`, {
      file,
      hint: 'convert it to UTF-8, or pass a parquet/jsonl/csv/txt file',
    });
  }
}

/** The file's bytes, in chunks, gunzipped when it ends in `.gz`; the first chunk is checked to be text. */
export async function* textChunks(file: string, signal?: AbortSignal): AsyncGenerator<string> {
  assertNonEmptyFile(file);
  const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const decoder = new TextDecoder('utf-8');
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      throwIfCancelled(signal, `reading ${file}`);
      if (first) {
        assertLooksLikeText(chunk, file);
        first = false;
      }
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield text;
    }
  } catch (err) {
    if (err instanceof MiStudioError) throw err;
    throw new MiStudioError('CORRUPT_FILE', `cannot read the file (${(err as Error).message})`, { file, cause: err });
  } finally {
    raw.destroy();
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

/** Lines without their `\n` / `\r\n`, numbered from 1. */
export async function* textLines(file: string, signal?: AbortSignal): AsyncGenerator<{ line: number; text: string }> {
  let pending = '';
  let line = 0;
  for await (const chunk of textChunks(file, signal)) {
    pending += chunk;
    let start = 0;
    for (;;) {
      const nl = pending.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield { line: ++line, text: pending.slice(start, end) };
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  if (pending.length > 0) yield { line: ++line, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending };
}
