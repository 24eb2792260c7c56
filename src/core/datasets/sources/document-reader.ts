/**
 * One interface over every file format: open a file, learn which column holds the text, then pull
 * documents one at a time. `null` documents are rows without a value in the text column.
 */
import path from 'node:path';
import { MiStudioError } from '../../errors.js';
import { chooseTextColumn, valueAtPath } from './columns.js';
import { csvRows } from './csv.js';
import { jsonlRows } from './jsonl.js';
import { parquetDocuments } from './parquet.js';
import { txtDocuments, type SampleBy } from './txt.js';

export type FileFormat = 'parquet' | 'jsonl' | 'csv' | 'tsv' | 'txt';

export interface DocumentReaderOptions {
  /** Text column (dotted path for nested values); auto-detected when absent. Ignored for txt. */
  column?: string;
  /** How txt files are cut into documents (default: paragraph). */
  sampleBy?: SampleBy;
  signal?: AbortSignal;
}

export interface DocumentReader {
  /** The text column used; null for txt files. */
  column: string | null;
  documents: AsyncGenerator<string | null>;
}

/** Rows sampled from the head of jsonl/csv files to detect or check the text column. */
const SAMPLE_ROWS = 64;

/** The format a file name says it is (`.gz` looked through), or undefined. */
export function formatOfFile(file: string): FileFormat | undefined {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  const ext = path.extname(name);
  switch (ext) {
    case '.parquet':
      return 'parquet';
    case '.jsonl':
    case '.ndjson':
    case '.json':
      return 'jsonl';
    case '.csv':
      return 'csv';
    case '.tsv':
      return 'tsv';
    case '.txt':
    case '.text':
    case '.md':
      return 'txt';
    default:
      return undefined;
  }
}

async function head<T>(gen: AsyncGenerator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const item of gen) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}

async function* columnValues<T>(rows: AsyncGenerator<T>, column: string, value: (row: T) => unknown): AsyncGenerator<string | null> {
  for await (const row of rows) {
    const v = value(row);
    yield typeof v === 'string' ? v : null;
  }
}

export async function openDocumentReader(file: string, format: FileFormat, options: DocumentReaderOptions = {}): Promise<DocumentReader> {
  const { signal } = options;
  switch (format) {
    case 'txt':
      return { column: null, documents: txtDocuments(file, options.sampleBy ?? 'paragraph', signal) };
    case 'parquet': {
      const r = await parquetDocuments(file, options.column, signal);
      return { column: r.column, documents: r.documents };
    }
    case 'jsonl': {
      const sample = (await head(jsonlRows(file, signal), SAMPLE_ROWS)).map((r) => r.value);
      if (sample.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the file has no JSON rows', { file });
      const column = chooseTextColumn(sample, options.column, file);
      return { column, documents: columnValues(jsonlRows(file, signal), column, (r) => valueAtPath(r.value, column)) };
    }
    case 'csv':
    case 'tsv': {
      const delimiter = format === 'tsv' ? '\t' : ',';
      const sample = await head(csvRows(file, delimiter, signal), SAMPLE_ROWS);
      if (sample.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the file has a header but no rows', { file });
      const column = chooseTextColumn(sample, options.column, file);
      return { column, documents: columnValues(csvRows(file, delimiter, signal), column, (r) => r[column]) };
    }
  }
}
