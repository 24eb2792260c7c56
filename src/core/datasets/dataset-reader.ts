/**
 * Random access to any dataset (text or tokenized) for browsing: rows by index with their text and,
 * when a tokenizer is at hand, their tokens. Opening reads only index.json; each read touches only the
 * requested rows' bytes. The tokenizer of a tokenized dataset is the copy stored with it.
 */
import path from 'node:path';
import type { Catalog, DatasetRecord } from '../catalog/index.js';
import { readDatasetIndex, type DatasetIndex } from './dataset-files.js';
import { TextStoreReader } from './text-store.js';
import { resolveTokenizer, TokenStrings, type DatasetTokenizer, type TokenizerSpec } from './tokenizer-source.js';
import { TokenStoreReader, type TokenIndex } from './token-store.js';

export interface DatasetSample {
  /** Row index in the dataset (document index for text datasets). */
  index: number;
  split: string;
  text: string;
  /** Token view: each token decoded alone, and its id. */
  tokens?: string[];
  tokenIds?: number[];
  /** Set when `text` was cut for display: the full length in characters. */
  fullChars?: number;
  /** Set when `tokens` were cut for display: the full number of tokens. */
  fullTokens?: number;
}

/** Display limits of one sample (a whole book as one document must not travel to the browser). */
export interface SampleLimits {
  maxChars: number;
  maxTokens: number;
}

const NO_LIMITS: SampleLimits = { maxChars: Number.POSITIVE_INFINITY, maxTokens: Number.POSITIVE_INFINITY };

function limitSample(sample: DatasetSample, limits: SampleLimits): DatasetSample {
  if (sample.text.length > limits.maxChars) {
    sample.fullChars = sample.text.length;
    sample.text = sample.text.slice(0, limits.maxChars);
  }
  if (sample.tokens && sample.tokens.length > limits.maxTokens) {
    sample.fullTokens = sample.tokens.length;
    sample.tokens = sample.tokens.slice(0, limits.maxTokens);
    sample.tokenIds = sample.tokenIds!.slice(0, limits.maxTokens);
  }
  return sample;
}

export interface OpenDatasetOptions {
  /** Tokenizer for the token view of a text dataset (tokenized datasets use their own). */
  tokenizer?: TokenizerSpec;
}

export class DatasetReader {
  private readonly text?: TextStoreReader;
  private readonly tokens?: TokenStoreReader;
  private strings?: TokenStrings;

  private constructor(
    readonly record: DatasetRecord,
    readonly index: DatasetIndex,
    private readonly tok: DatasetTokenizer | undefined,
  ) {
    if (index.kind === 'text') this.text = TextStoreReader.open(record.dir, index);
    else this.tokens = new TokenStoreReader(record.dir, index);
    if (tok) this.strings = new TokenStrings(tok.tokenizer);
  }

  static async open(record: DatasetRecord, options: OpenDatasetOptions = {}): Promise<DatasetReader> {
    const index = readDatasetIndex(record.dir);
    let tok: DatasetTokenizer | undefined;
    if (index.kind === 'tokenized') tok = await resolveTokenizer(path.join(record.dir, index.tokenizer.dir));
    else if (options.tokenizer !== undefined) tok = await resolveTokenizer(options.tokenizer);
    return new DatasetReader(record, index, tok);
  }

  get name(): string {
    return this.record.name;
  }

  get rows(): number {
    return this.index.kind === 'text' ? this.index.documents : this.index.rows;
  }

  /** Whether rows can be shown as tokens. */
  get hasTokens(): boolean {
    return this.tok !== undefined;
  }

  private splitOfRow(i: number): string {
    for (const s of this.index.splits) if (i >= s.start && i < s.start + s.count) return s.name;
    return '';
  }

  /**
   * Rows [start, end) with their text, and tokens when `withTokens` and a tokenizer is available,
   * cut to `limits` (the token view of a text row tokenizes only the characters shown).
   */
  read(start: number, end: number, withTokens = false, limits: SampleLimits = NO_LIMITS): DatasetSample[] {
    if (this.text) {
      return this.text.read(start, end).map((d) => {
        const sample = limitSample({ index: d.index, split: d.split, text: d.text }, limits);
        if (withTokens && this.tok) {
          const ids = this.tok.tokenizer.encode(sample.text, { addSpecialTokens: false });
          sample.tokenIds = ids;
          sample.tokens = this.strings!.all(ids);
          limitSample(sample, limits);
        }
        return sample;
      });
    }
    return this.tokens!.read(start, end).map((r) => {
      const ids = Array.from(r.ids.subarray(0, r.realTokens));
      const sample: DatasetSample = { index: r.index, split: this.splitOfRow(r.index), text: this.tok!.tokenizer.decode(ids) };
      if (withTokens) {
        sample.tokenIds = ids.slice(0, limits.maxTokens);
        sample.tokens = this.strings!.all(sample.tokenIds);
        if (ids.length > sample.tokenIds.length) sample.fullTokens = ids.length;
      }
      return limitSample(sample, limits);
    });
  }

  /** Text of rows [start, end), for search. */
  texts(start: number, end: number): string[] {
    if (this.text) return this.text.read(start, end).map((d) => d.text);
    return this.tokens!.read(start, end).map((r) => this.tok!.tokenizer.decode(Array.from(r.ids.subarray(0, r.realTokens))));
  }

  /** The tokenized index (undefined for text datasets). */
  get tokenIndex(): TokenIndex | undefined {
    return this.index.kind === 'tokenized' ? this.index : undefined;
  }

  close(): void {
    this.text?.close();
    this.tokens?.close();
  }
}

/** Opens the dataset `name` of the catalog for browsing. */
export async function openDataset(catalog: Catalog, name: string, options: OpenDatasetOptions = {}): Promise<DatasetReader> {
  return DatasetReader.open(catalog.datasets.get(name), options);
}
