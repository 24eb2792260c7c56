/**
 * The imported form of a text dataset: every document's UTF-8 bytes back to back in `text.bin`, and
 * `doc-offsets.bin` with documents+1 little-endian uint64 byte offsets (document i is
 * [offsets[i], offsets[i+1])). Splits are contiguous ranges of documents listed in `index.json`.
 * Reading document i touches 16 bytes of offsets and the document's own bytes, whatever the size of
 * the dataset; a sequential pass streams the file in bounded batches.
 */
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { BufferedFileWriter, readExactly, readOffsets } from './binary-io.js';
import { LengthAccumulator, type SplitSize, type TextDatasetStats } from './stats.js';

export const INDEX_FILE = 'index.json';
export const STATS_FILE = 'stats.json';
export const TEXT_FILE = 'text.bin';
export const DOC_OFFSETS_FILE = 'doc-offsets.bin';
export const DATASET_FORMAT = 'mistudio.dataset';

export interface SplitRange {
  name: string;
  /** First document (text) or row (tokenized) of the split. */
  start: number;
  count: number;
}

export interface TextIndex {
  format: typeof DATASET_FORMAT;
  version: 1;
  kind: 'text';
  documents: number;
  textBytes: number;
  files: { text: string; offsets: string };
  splits: SplitRange[];
  /** The text column used (null for plain text sources). */
  column: string | null;
  source: Record<string, unknown>;
}

/** Writes a text store into a (staging) folder, one document at a time, in bounded memory. */
export class TextStoreWriter {
  private readonly text: BufferedFileWriter;
  private readonly offsets: BufferedFileWriter;
  private readonly splits: SplitRange[] = [];
  private readonly splitBytes = new Map<string, number>();
  private readonly lengths = new LengthAccumulator();
  private documents = 0;
  skippedRows = 0;

  constructor(readonly dir: string) {
    this.text = new BufferedFileWriter(path.join(dir, TEXT_FILE));
    this.offsets = new BufferedFileWriter(path.join(dir, DOC_OFFSETS_FILE));
    this.offsets.writeUint64(0);
  }

  get documentCount(): number {
    return this.documents;
  }

  /** Documents written so far in the current split. */
  get currentSplitCount(): number {
    return this.splits.length ? this.splits[this.splits.length - 1].count : 0;
  }

  beginSplit(name: string): void {
    if (this.splits.some((s) => s.name === name)) throw new Error(`split ${name} written twice`);
    this.splits.push({ name, start: this.documents, count: 0 });
    this.splitBytes.set(name, 0);
  }

  /** Appends a document; blank ones are counted as skipped, not stored. Returns whether it was stored. */
  add(text: string): boolean {
    if (!this.splits.length) this.beginSplit('train');
    if (text.trim().length === 0) {
      this.skippedRows++;
      return false;
    }
    const n = this.text.writeString(text);
    this.offsets.writeUint64(this.text.bytesWritten);
    const split = this.splits[this.splits.length - 1];
    split.count++;
    this.splitBytes.set(split.name, this.splitBytes.get(split.name)! + n);
    this.lengths.add(n);
    this.documents++;
    return true;
  }

  /** Closes the files and writes index.json; returns the index and the statistics. */
  finish(meta: { column: string | null; source: Record<string, unknown> }): { index: TextIndex; stats: TextDatasetStats } {
    this.text.close();
    this.offsets.close();
    const splits = this.splits.filter((s) => s.count > 0);
    const index: TextIndex = {
      format: DATASET_FORMAT,
      version: 1,
      kind: 'text',
      documents: this.documents,
      textBytes: this.text.bytesWritten,
      files: { text: TEXT_FILE, offsets: DOC_OFFSETS_FILE },
      splits,
      column: meta.column,
      source: meta.source,
    };
    const splitSizes: SplitSize[] = splits.map((s) => ({ name: s.name, documents: s.count, rows: s.count, textBytes: this.splitBytes.get(s.name)! }));
    const stats: TextDatasetStats = {
      kind: 'text',
      documents: this.documents,
      textBytes: this.text.bytesWritten,
      bytes: this.text.bytesWritten + this.offsets.bytesWritten,
      splits: splitSizes,
      bytesPerDocument: this.lengths.summary(),
      skippedRows: this.skippedRows,
    };
    return { index, stats };
  }

  abandon(): void {
    this.text.abandon();
    this.offsets.abandon();
  }
}

export interface StoredDocument {
  index: number;
  split: string;
  text: string;
}

/** Batches of a sequential pass are capped at this many bytes of text (documents larger are read alone). */
const PASS_BATCH_BYTES = 8 << 20;
const PASS_BATCH_DOCS = 4096;

/** Random and sequential access to a text store. */
export class TextStoreReader {
  private readonly textFd: number;
  private readonly offsetsFd: number;

  private constructor(
    readonly dir: string,
    readonly index: TextIndex,
  ) {
    this.textFd = openSync(path.join(dir, index.files.text), 'r');
    this.offsetsFd = openSync(path.join(dir, index.files.offsets), 'r');
  }

  static open(dir: string, index: TextIndex): TextStoreReader {
    return new TextStoreReader(dir, index);
  }

  get documents(): number {
    return this.index.documents;
  }

  splitOf(i: number): string {
    for (const s of this.index.splits) if (i >= s.start && i < s.start + s.count) return s.name;
    return '';
  }

  /** Documents [start, end) (clamped to the dataset). */
  read(start: number, end: number): StoredDocument[] {
    const a = Math.max(0, start);
    const b = Math.min(this.index.documents, end);
    if (b <= a) return [];
    let offsets: number[];
    try {
      offsets = readOffsets(this.offsetsFd, a, b - a + 1);
      const bytes = readExactly(this.textFd, offsets[0], offsets[b - a] - offsets[0]);
      return offsets.slice(0, -1).map((o, k) => ({ index: a + k, split: this.splitOf(a + k), text: bytes.toString('utf8', o - offsets[0], offsets[k + 1] - offsets[0]) }));
    } catch (cause) {
      throw new MiStudioError('CORRUPT_FILE', `dataset files are truncated (${(cause as Error).message})`, { file: this.dir, cause, hint: 'delete the dataset and add it again' });
    }
  }

  /** Sequential pass over [start, end) in bounded batches. */
  *batches(start = 0, end = this.index.documents): Generator<StoredDocument[]> {
    let i = start;
    while (i < end) {
      const count = Math.min(PASS_BATCH_DOCS, end - i);
      const offsets = readOffsets(this.offsetsFd, i, count + 1);
      let take = 1;
      while (take < count && offsets[take + 1] - offsets[0] <= PASS_BATCH_BYTES) take++;
      yield this.read(i, i + take);
      i += take;
    }
  }

  close(): void {
    closeSync(this.textFd);
    closeSync(this.offsetsFd);
  }
}
