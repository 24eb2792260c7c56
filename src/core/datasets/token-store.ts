/**
 * The tokenized form of a dataset: `tokens.bin` holds every row's token ids back to back as
 * little-endian uint32; rows have a fixed length (`rowLength` in index.json, the usual case: packed
 * context windows) or are located by `row-offsets.bin` (rows+1 uint64 token offsets). With the
 * attention-mask option, `attention-mask.bin` has one byte per token (1 = real, 0 = padding).
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { BufferedFileWriter, readExactly, readOffsets } from './binary-io.js';
import type { DATASET_FORMAT, SplitRange } from './text-store.js';

export const TOKENS_FILE = 'tokens.bin';
export const ROW_OFFSETS_FILE = 'row-offsets.bin';
export const ATTENTION_MASK_FILE = 'attention-mask.bin';
export const TOKENIZER_DIR = 'tokenizer';

export type Packing = 'concat' | 'document';
export type Padding = 'none' | 'max_length';
export type Truncation = 'none' | 'longest' | 'max_length';

/** The options a tokenized dataset was made with, all defaults resolved (recorded in index.json). */
export interface ResolvedTokenizeOptions {
  contextSize: number;
  packing: Packing;
  /** concat: SAELens begin_batch_token; document: prepended to every row. */
  bosTokenId: number | null;
  /** concat: SAELens sequence_separator_token, between documents in a window. */
  separatorTokenId: number | null;
  /** concat: SAELens begin_sequence_token, before every document. */
  beginSequenceTokenId: number | null;
  /** Appended to every document. */
  eosTokenId: number | null;
  /** Whether the tokenizer's own post-processor adds its special tokens (e.g. Llama's `<s>`). */
  addSpecialTokens: boolean;
  padding: Padding;
  truncation: Truncation;
  padTokenId: number;
  attentionMask: boolean;
  splits: string[];
}

export interface TokenIndex {
  format: typeof DATASET_FORMAT;
  version: 1;
  kind: 'tokenized';
  dtype: 'uint32';
  rows: number;
  tokens: number;
  documents: number;
  contextSize: number;
  /** Tokens per row when all rows have the same length; null when `row-offsets.bin` locates rows. */
  rowLength: number | null;
  files: { tokens: string; rowOffsets?: string; attentionMask?: string };
  /** Row ranges of the splits. */
  splits: SplitRange[];
  tokenizer: {
    origin: string;
    dir: string;
    vocabSize: number;
    bosTokenId: number | null;
    eosTokenId: number | null;
    padTokenId: number | null;
    /** 'piece-cache': the verified pre-token cache encoded the documents (see piece-cache-encoder.ts). */
    encoder: 'piece-cache' | 'direct';
  };
  options: ResolvedTokenizeOptions;
  parent: { id: string; name: string };
}

export class TokenStoreWriter {
  private readonly tokens: BufferedFileWriter;
  private readonly offsets?: BufferedFileWriter;
  private readonly mask?: BufferedFileWriter;
  private maskBuf = new Uint8Array(0);
  rows = 0;
  tokenCount = 0;

  constructor(
    readonly dir: string,
    readonly rowLength: number | null,
    attentionMask: boolean,
  ) {
    this.tokens = new BufferedFileWriter(path.join(dir, TOKENS_FILE));
    if (rowLength === null) {
      this.offsets = new BufferedFileWriter(path.join(dir, ROW_OFFSETS_FILE));
      this.offsets.writeUint64(0);
    }
    if (attentionMask) this.mask = new BufferedFileWriter(path.join(dir, ATTENTION_MASK_FILE));
  }

  /** Appends one row `[len]` of which the first `realTokens` are not padding. */
  addRow(row: Uint32Array, realTokens: number): void {
    if (this.rowLength !== null && row.length !== this.rowLength) throw new Error(`row of ${row.length} tokens in a store of ${this.rowLength}-token rows`);
    this.tokens.writeUint32(row);
    this.tokenCount += row.length;
    this.rows++;
    this.offsets?.writeUint64(this.tokenCount);
    if (this.mask) {
      if (this.maskBuf.length < row.length) this.maskBuf = new Uint8Array(row.length);
      this.maskBuf.fill(1, 0, realTokens).fill(0, realTokens, row.length);
      this.mask.write(this.maskBuf.subarray(0, row.length));
    }
  }

  files(): TokenIndex['files'] {
    return {
      tokens: TOKENS_FILE,
      ...(this.offsets ? { rowOffsets: ROW_OFFSETS_FILE } : {}),
      ...(this.mask ? { attentionMask: ATTENTION_MASK_FILE } : {}),
    };
  }

  bytes(): number {
    return this.tokens.bytesWritten + (this.offsets?.bytesWritten ?? 0) + (this.mask?.bytesWritten ?? 0);
  }

  close(): void {
    this.tokens.close();
    this.offsets?.close();
    this.mask?.close();
  }

  abandon(): void {
    this.tokens.abandon();
    this.offsets?.abandon();
    this.mask?.abandon();
  }
}

export interface StoredRow {
  index: number;
  ids: Uint32Array;
  /** Number of leading non-padding tokens. */
  realTokens: number;
}

/** Positional reads of token rows: a page reads only its rows' bytes. */
export class TokenStoreReader {
  private readonly tokensFd: number;
  private readonly offsetsFd?: number;
  private readonly maskFd?: number;

  constructor(
    readonly dir: string,
    readonly index: TokenIndex,
  ) {
    this.tokensFd = openSync(path.join(dir, index.files.tokens), 'r');
    if (index.files.rowOffsets) this.offsetsFd = openSync(path.join(dir, index.files.rowOffsets), 'r');
    const maskFile = index.files.attentionMask && path.join(dir, index.files.attentionMask);
    if (maskFile && existsSync(maskFile)) this.maskFd = openSync(maskFile, 'r');
  }

  get rows(): number {
    return this.index.rows;
  }

  /** Token offsets of rows [start, end] (end inclusive, so end - start + 1 entries). */
  private rowBounds(start: number, end: number): number[] {
    if (this.index.rowLength !== null) return Array.from({ length: end - start + 1 }, (_, k) => (start + k) * this.index.rowLength!);
    return readOffsets(this.offsetsFd!, start, end - start + 1);
  }

  read(start: number, end: number): StoredRow[] {
    const a = Math.max(0, start);
    const b = Math.min(this.index.rows, end);
    if (b <= a) return [];
    try {
      const bounds = this.rowBounds(a, b);
      const first = bounds[0];
      const count = bounds[b - a] - first;
      const bytes = readExactly(this.tokensFd, first * 4, count * 4);
      const all = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const mask = this.maskFd === undefined ? undefined : readExactly(this.maskFd, first, count);
      const padId = this.index.options.padTokenId;
      return bounds.slice(0, -1).map((o, k) => {
        const ids = all.subarray(o - first, bounds[k + 1] - first);
        let real = ids.length;
        if (mask) {
          real = 0;
          while (real < ids.length && mask[o - first + real] === 1) real++;
        } else if (this.index.options.padding !== 'none') {
          while (real > 0 && ids[real - 1] === padId) real--;
        }
        return { index: a + k, ids, realTokens: real };
      });
    } catch (cause) {
      throw new MiStudioError('CORRUPT_FILE', `tokenized dataset files are truncated (${(cause as Error).message})`, { file: this.dir, cause, hint: 'delete the dataset and tokenize again' });
    }
  }

  close(): void {
    closeSync(this.tokensFd);
    if (this.offsetsFd !== undefined) closeSync(this.offsetsFd);
    if (this.maskFd !== undefined) closeSync(this.maskFd);
  }
}
