/**
 * Parquet through hyparquet (+ hyparquet-compressors for snappy, zstd, gzip, brotli, lz4): the file is
 * read by byte ranges, one row group of one column at a time, so memory follows the row group size,
 * not the file size.
 */
import { closeSync, openSync } from 'node:fs';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaTree } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { MiStudioError, throwIfCancelled } from '../../errors.js';
import { readExactly } from '../binary-io.js';
import { chooseTextColumn, valueAtPath } from './columns.js';
import { assertNonEmptyFile } from './text-stream.js';

/** Rows sampled (from the first row group) for column detection. */
const SAMPLE_ROWS = 64;

interface OpenParquet {
  file: AsyncBuffer;
  metadata: FileMetaData;
  close(): void;
}

function fileBuffer(path: string, size: number): { buffer: AsyncBuffer; close(): void } {
  const fd = openSync(path, 'r');
  return {
    buffer: {
      byteLength: size,
      slice(start: number, end?: number): ArrayBuffer {
        const stop = end ?? size;
        const bytes = readExactly(fd, start, stop - start);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    },
    close: () => closeSync(fd),
  };
}

function corrupt(file: string, cause: unknown, what: string): MiStudioError {
  if (cause instanceof MiStudioError) return cause;
  return new MiStudioError('CORRUPT_FILE', `${what} (${(cause as Error).message})`, { file, cause, hint: 'the parquet file is damaged or truncated; download or export it again' });
}

async function openParquet(path: string): Promise<OpenParquet> {
  const size = assertNonEmptyFile(path);
  const { buffer, close } = fileBuffer(path, size);
  try {
    const metadata = await parquetMetadataAsync(buffer);
    return { file: buffer, metadata, close };
  } catch (cause) {
    close();
    throw corrupt(path, cause, 'not a readable parquet file');
  }
}

/** Top-level columns whose subtree holds a string leaf (BYTE_ARRAY with a UTF8/STRING annotation). */
function textishColumns(tree: SchemaTree): string[] {
  const hasString = (t: SchemaTree): boolean =>
    (t.element.type === 'BYTE_ARRAY' && (t.element.converted_type === 'UTF8' || t.element.logical_type?.type === 'STRING' || t.element.converted_type === 'JSON')) ||
    t.children.some(hasString);
  return tree.children.filter(hasString).map((c) => c.element.name);
}

async function readRows(p: OpenParquet, columns: string[], rowStart: number, rowEnd: number, path: string): Promise<Record<string, unknown>[]> {
  try {
    return await parquetReadObjects({ file: p.file, metadata: p.metadata, columns, rowStart, rowEnd, compressors });
  } catch (cause) {
    throw corrupt(path, cause, `cannot decode rows ${rowStart}-${rowEnd} (a corrupt page?)`);
  }
}

export interface ParquetTextReader {
  column: string;
  rows: number;
  documents: AsyncGenerator<string | null>;
}

/** Opens a parquet file, resolves its text column (given or detected) and streams that column's values. */
export async function parquetDocuments(path: string, requested: string | undefined, signal?: AbortSignal): Promise<ParquetTextReader> {
  const p = await openParquet(path);
  try {
    const tree = parquetSchema(p.metadata);
    const all = tree.children.map((c) => c.element.name);
    const topOf = (col: string) => all.find((name) => col === name || col.startsWith(`${name}.`));
    const rows = Number(p.metadata.num_rows);
    let sampleColumns = textishColumns(tree);
    if (requested !== undefined) {
      const top = topOf(requested);
      if (!top) throw new MiStudioError('INVALID_ARGUMENT', `column '${requested}' not found`, { file: path, field: requested, hint: `columns there: ${all.join(', ')}` });
      sampleColumns = [top];
    } else if (sampleColumns.length === 0) {
      throw new MiStudioError('INVALID_ARGUMENT', 'no text column found', { file: path, hint: `columns there: ${all.join(', ')}; pass --column` });
    }
    // Sample from the first row group only: a damaged later group is reported when streaming reaches it.
    const firstGroupRows = Number(p.metadata.row_groups[0]?.num_rows ?? 0);
    const sample = firstGroupRows > 0 ? await readRows(p, sampleColumns, 0, Math.min(firstGroupRows, SAMPLE_ROWS), path) : [];
    const column = chooseTextColumn(sample, requested, path);
    const top = topOf(column)!;
    async function* documents(): AsyncGenerator<string | null> {
      try {
        let rowStart = 0;
        for (const group of p.metadata.row_groups) {
          throwIfCancelled(signal, `reading ${path}`);
          const rowEnd = rowStart + Number(group.num_rows);
          const got = await readRows(p, [top], rowStart, rowEnd, path);
          for (const row of got) {
            const v = valueAtPath(row, column);
            yield typeof v === 'string' ? v : null;
          }
          rowStart = rowEnd;
        }
      } finally {
        p.close();
      }
    }
    return { column, rows, documents: documents() };
  } catch (err) {
    p.close();
    throw err;
  }
}
