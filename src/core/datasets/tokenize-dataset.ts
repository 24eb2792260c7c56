/**
 * `tokenizeDataset`: a text dataset → a new tokenized dataset (tokens.bin + index.json + stats.json,
 * the tokenizer's files copied alongside). Documents stream from the text store in bounded batches
 * and rows stream to disk, so memory does not grow with the dataset. Written into a staging folder
 * and recorded in the catalog only when complete; any error removes everything.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import type { Catalog, DatasetRecord } from '../catalog/index.js';
import { removeDir } from '../catalog/index.js';
import { MiStudioError, throwIfCancelled } from '../errors.js';
import { readDatasetIndex } from './dataset-files.js';
import { ConcatPacker, DocumentRows, type RowSink } from './packing.js';
import { PieceCacheEncoder } from './piece-cache-encoder.js';
import { throttled, type ProgressCallback } from './progress.js';
import { LengthAccumulator, TokenFrequency, type SplitSize, type TokenizedDatasetStats } from './stats.js';
import { INDEX_FILE, STATS_FILE, TextStoreReader, type SplitRange, type TextIndex } from './text-store.js';
import { resolveTokenizer, TokenStrings, type DatasetTokenizer, type TokenizerSpec } from './tokenizer-source.js';
import { TOKENIZER_DIR, TokenStoreWriter, type Packing, type Padding, type ResolvedTokenizeOptions, type TokenIndex, type Truncation } from './token-store.js';

/** A special token by role or by id. */
export type TokenChoice = 'bos' | 'eos' | 'none' | number;

export interface TokenizeOptions {
  /** Model directory, .gguf file, tokenizer folder or tokenizer.json, hub model id, or tokenizer files. */
  tokenizer: TokenizerSpec;
  /** Name of the new dataset (default `<text dataset>-<tokenizer>-<context>`). */
  name?: string;
  /** Tokens per row (default 128). */
  contextSize?: number;
  /** 'concat' (default): SAELens packing into full windows; 'document': one row per document. */
  packing?: Packing;
  /** concat: begin every window with BOS (default true); document: prepend BOS to every row (default false). */
  bos?: boolean;
  /** concat: token between documents in a window (default 'bos', as SAELens). */
  separator?: TokenChoice;
  /** concat: token before every document (default 'none'). */
  beginSequence?: TokenChoice;
  /** Append EOS to every document (default false). */
  eos?: boolean;
  /** Let the tokenizer's post-processor add its special tokens (default: false for concat, true for document). */
  addSpecialTokens?: boolean;
  /** 'max_length' pads short rows (and the last partial window) to the context size with the pad token. */
  padding?: Padding;
  /**
   * document packing: 'max_length' (default) cuts rows at the context size; 'longest' is Hugging Face's
   * longest_first, which for one sequence per row cuts at the context size too; 'none' keeps whole
   * documents (rows of different lengths). concat packing always makes full windows.
   */
  truncation?: Truncation;
  /** Also write attention-mask.bin (1 per real token, 0 per padding). */
  attentionMask?: boolean;
  /** Splits to tokenize (default all). */
  splits?: string[];
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

const MAX_CONTEXT = 1 << 20;
/** Yield to the event loop this often so comm messages (pause, paging) are served during long runs. */
const YIELD_EVERY_MS = 50;

function tokenId(choice: TokenChoice, tok: DatasetTokenizer, field: string): number | null {
  if (choice === 'none') return null;
  if (typeof choice === 'number') {
    if (!Number.isInteger(choice) || choice < 0 || choice >= tok.tokenizer.vocabSize) {
      throw new MiStudioError('INVALID_ARGUMENT', `token id ${choice} is outside the vocabulary (0..${tok.tokenizer.vocabSize - 1})`, { field });
    }
    return choice;
  }
  const id = choice === 'bos' ? tok.tokenizer.bosTokenId : tok.tokenizer.eosTokenId;
  if (id === undefined) {
    throw new MiStudioError('INVALID_ARGUMENT', `the tokenizer has no ${choice.toUpperCase()} token`, { file: tok.origin, field, hint: `pass ${field}: 'none' or a token id` });
  }
  return id;
}

export function resolveTokenizeOptions(o: TokenizeOptions, tok: DatasetTokenizer, text: TextIndex): ResolvedTokenizeOptions {
  const contextSize = o.contextSize ?? 128;
  if (!Number.isInteger(contextSize) || contextSize < 1 || contextSize > MAX_CONTEXT) {
    throw new MiStudioError('INVALID_ARGUMENT', `context size must be an integer in 1..${MAX_CONTEXT}, got ${contextSize}`, { field: 'contextSize' });
  }
  const packing = o.packing ?? 'concat';
  if (packing !== 'concat' && packing !== 'document') throw new MiStudioError('INVALID_ARGUMENT', `packing must be concat or document, got ${String(packing)}`, { field: 'packing' });
  const padding = o.padding ?? 'none';
  if (padding !== 'none' && padding !== 'max_length') throw new MiStudioError('INVALID_ARGUMENT', `padding must be none or max_length, got ${String(padding)}`, { field: 'padding' });
  const truncation = o.truncation ?? 'max_length';
  if (!['none', 'longest', 'max_length'].includes(truncation)) throw new MiStudioError('INVALID_ARGUMENT', `truncation must be none, longest or max_length, got ${String(truncation)}`, { field: 'truncation' });
  if (packing === 'concat' && o.truncation !== undefined && o.truncation !== 'max_length') {
    throw new MiStudioError('INVALID_ARGUMENT', 'concat packing always cuts documents into full windows; truncation applies to document packing', { field: 'truncation' });
  }
  const available = text.splits.map((s) => s.name);
  const splits = o.splits ?? available;
  for (const s of splits) {
    if (!available.includes(s)) throw new MiStudioError('INVALID_ARGUMENT', `no split '${s}' in the dataset`, { field: 'splits', hint: `splits: ${available.join(', ')}` });
  }
  const bos = o.bos ?? packing === 'concat';
  const t = tok.tokenizer;
  return {
    contextSize,
    packing,
    bosTokenId: bos ? tokenId('bos', tok, 'bos') : null,
    separatorTokenId: packing === 'concat' ? tokenId(o.separator ?? 'bos', tok, 'separator') : null,
    beginSequenceTokenId: packing === 'concat' ? tokenId(o.beginSequence ?? 'none', tok, 'beginSequence') : null,
    eosTokenId: o.eos ? tokenId('eos', tok, 'eos') : null,
    addSpecialTokens: o.addSpecialTokens ?? packing === 'document',
    padding,
    truncation,
    padTokenId: t.padTokenId ?? t.eosTokenId ?? 0,
    attentionMask: o.attentionMask ?? false,
    splits,
  };
}

function defaultName(parent: string, origin: string, contextSize: number): string {
  const tokName = path.basename(origin).replace(/\.(gguf|json)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'tok';
  return `${parent}-${tokName}-${contextSize}`.slice(0, 128);
}

/** Tokenizes the text dataset `name` into a new tokenized dataset. */
export async function tokenizeDataset(catalog: Catalog, name: string, options: TokenizeOptions): Promise<DatasetRecord> {
  const parent = catalog.datasets.get(name);
  if (parent.kind !== 'text') {
    throw new MiStudioError('INVALID_ARGUMENT', `dataset '${name}' is already tokenized`, { field: 'name', hint: 'tokenize its text dataset instead' });
  }
  const text = readDatasetIndex(parent.dir) as TextIndex;
  const tok = await resolveTokenizer(options.tokenizer);
  const o = resolveTokenizeOptions(options, tok, text);
  const outName = options.name ?? defaultName(name, tok.origin, o.contextSize);
  catalog.datasets.assertNameFree(outName);

  const rowLength = o.packing === 'concat' || (o.padding === 'max_length' && o.truncation !== 'none') ? o.contextSize : null;
  const staging = catalog.createStagingDir(outName);
  const reader = TextStoreReader.open(parent.dir, text);
  let writer: TokenStoreWriter | undefined;
  let closed = false;
  const progress = throttled(options.onProgress);
  try {
    const tokDir = path.join(staging, TOKENIZER_DIR);
    mkdirSync(tokDir);
    writeJsonAtomic(path.join(tokDir, 'tokenizer.json'), tok.files.tokenizerJson);
    writeJsonAtomic(path.join(tokDir, 'tokenizer_config.json'), tok.files.tokenizerConfig);

    const w = (writer = new TokenStoreWriter(staging, rowLength, o.attentionMask));
    const fast = PieceCacheEncoder.create(tok.tokenizer, tok.files);
    const encode = (text: string) => (fast ? fast.encode(text, o.addSpecialTokens) : tok.tokenizer.encode(text, { addSpecialTokens: o.addSpecialTokens }));
    const freq = new TokenFrequency(tok.tokenizer.vocabSize);
    const perDoc = new LengthAccumulator();
    const sink: RowSink = (row, real) => {
      w.addRow(row, real);
      freq.add(row, 0, real);
    };
    const splits: SplitRange[] = [];
    const splitSizes: SplitSize[] = [];
    let documents = 0;
    let textBytes = 0;
    let dropped = 0;
    let padding = 0;
    let lastYield = Date.now();
    const totalDocs = text.splits.filter((s) => o.splits.includes(s.name)).reduce((a, s) => a + s.count, 0);
    for (const split of text.splits.filter((s) => o.splits.includes(s.name))) {
      const rowStart = w.rows;
      const tokensStart = w.tokenCount;
      let splitBytes = 0;
      const packer =
        o.packing === 'concat'
          ? new ConcatPacker(o.contextSize, { beginBatch: o.bosTokenId ?? undefined, separator: o.separatorTokenId ?? undefined, beginSequence: o.beginSequenceTokenId ?? undefined, endOfDocument: o.eosTokenId ?? undefined, pad: o.padTokenId }, sink)
          : new DocumentRows({ contextSize: o.contextSize, bos: o.bosTokenId ?? undefined, eos: o.eosTokenId ?? undefined, truncate: o.truncation !== 'none', pad: o.padding === 'max_length', padId: o.padTokenId }, sink);
      for (const batch of reader.batches(split.start, split.start + split.count)) {
        for (const doc of batch) {
          const ids = encode(doc.text);
          perDoc.add(ids.length);
          packer.addDocument(ids);
          const bytes = Buffer.byteLength(doc.text);
          splitBytes += bytes;
          documents++;
          if (Date.now() - lastYield >= YIELD_EVERY_MS) {
            throwIfCancelled(options.signal, `tokenization of ${name}`);
            progress.report({ stage: 'tokenize', done: documents, total: totalDocs, unit: 'documents' });
            await new Promise((r) => setImmediate(r));
            lastYield = Date.now();
          }
        }
      }
      if (packer instanceof ConcatPacker) packer.finish(o.padding === 'max_length');
      dropped += packer.droppedTokens;
      padding += packer.paddingTokens;
      textBytes += splitBytes;
      splits.push({ name: split.name, start: rowStart, count: w.rows - rowStart });
      splitSizes.push({ name: split.name, documents: split.count, rows: w.rows - rowStart, textBytes: splitBytes, tokens: w.tokenCount - tokensStart });
    }
    progress.report({ stage: 'tokenize', done: documents, total: totalDocs, unit: 'documents' });
    progress.flush();
    if (w.rows === 0) {
      throw new MiStudioError('INVALID_ARGUMENT', `no rows: the dataset has fewer tokens than one ${o.contextSize}-token window`, {
        field: 'contextSize',
        hint: "use a smaller context size, padding: 'max_length', or packing: 'document'",
      });
    }
    w.close();
    closed = true;
    const strings = new TokenStrings(tok.tokenizer);
    const index: TokenIndex = {
      format: text.format,
      version: 1,
      kind: 'tokenized',
      dtype: 'uint32',
      rows: w.rows,
      tokens: w.tokenCount,
      documents,
      contextSize: o.contextSize,
      rowLength,
      files: w.files(),
      splits,
      tokenizer: {
        origin: tok.origin,
        dir: TOKENIZER_DIR,
        vocabSize: tok.tokenizer.vocabSize,
        bosTokenId: tok.tokenizer.bosTokenId ?? null,
        eosTokenId: tok.tokenizer.eosTokenId ?? null,
        padTokenId: tok.tokenizer.padTokenId ?? null,
        encoder: fast?.enabled ? 'piece-cache' : 'direct',
      },
      options: o,
      parent: { id: parent.id, name: parent.name },
    };
    const stats: TokenizedDatasetStats = {
      kind: 'tokenized',
      documents,
      rows: w.rows,
      tokens: w.tokenCount,
      paddingTokens: padding,
      droppedTokens: dropped,
      textBytes,
      bytes: w.bytes(),
      contextSize: o.contextSize,
      vocabSize: tok.tokenizer.vocabSize,
      uniqueTokens: freq.unique(),
      topTokens: freq.top(20).map(({ id, count }) => ({ id, token: strings.of(id), count })),
      tokensPerDocument: perDoc.summary(),
      splits: splitSizes,
    };
    writeJsonAtomic(path.join(staging, INDEX_FILE), index);
    writeJsonAtomic(path.join(staging, STATS_FILE), stats);
    throwIfCancelled(options.signal, `tokenization of ${name}`);
    const source = { type: 'tokenization', parent: parent.name, tokenizer: tok.origin, options: { ...o } };
    return catalog.datasets.create({ name: outName, kind: 'tokenized', parentId: parent.id, source, documents, rows: w.rows, tokens: w.tokenCount, bytes: stats.bytes, stats }, staging);
  } catch (err) {
    if (writer && !closed) writer.abandon();
    removeDir(staging);
    throw err;
  } finally {
    reader.close();
  }
}
