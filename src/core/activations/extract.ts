/**
 * Activation extraction: streams a tokenized dataset through the model in batches, captures one or
 * more hooks in one forward pass (stopping after the deepest hook's block), and appends the kept
 * token positions to one activation store per hook. Progress goes out as events, the loop is
 * cooperative (pause/stop through a Job), and an interrupted extraction resumes from the last
 * complete shard of each hook, giving the same bytes as an uninterrupted run.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import { MiStudioError, throwIfCancelled } from '../errors.js';
import type { Job } from '../jobs/job.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TOKENIZER_DIR, TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import { readTokenizerFiles } from '../models/hf-directory.js';
import { hookShape } from '../models/architectures/index.js';
import { checkHookNames } from '../models/hooks.js';
import type { Model } from '../models/model.js';
import { createTokenizer, type Tokenizer } from '../models/tokenizer.js';
import { MANIFEST_FILE, readManifest, type ActivationDType } from './manifest.js';
import { ActivationStoreWriter } from './store-writer.js';

export const EXTRACTION_FILE = 'extraction.json';

export interface ExtractionConfig {
  /** TransformerLens hook names; each must give one vector per token position. */
  hooks: string[];
  /** Token positions to store (per hook); default: every kept position of the split. */
  tokens?: number;
  /** Sequences per forward pass (default 8). */
  batchSize?: number;
  /** Storage precision (default float32). */
  dtype?: ActivationDType;
  /**
   * Store positions holding BOS / EOS / separator tokens too (default false: SAELens'
   * exclude_special_tokens). Padding positions are never stored.
   */
  includeSpecialTokens?: boolean;
  /** Only this split of the dataset (default: all rows). */
  split?: string;
  /** Rows per shard file (default about 64 MiB per shard). */
  rowsPerShard?: number;
  /**
   * Skip the check that the model's tokenizer has the dataset tokenizer's vocabulary. For researchers
   * who know the ids line up (e.g. the same vocabulary under a different tokenizer class).
   */
  allowVocabMismatch?: boolean;
}

export interface ExtractionProgress {
  /** Token positions stored so far (per hook). */
  tokens: number;
  totalTokens: number;
  tokensPerSecond: number;
  etaSeconds: number | null;
  /** Bytes of shard files written so far, all hooks. */
  bytesWritten: number;
}

export interface ExtractionSummary {
  dir: string;
  hooks: string[];
  tokens: number;
  bytes: number;
  durationSeconds: number;
  status: 'completed' | 'stopped';
  /** Write throughput of the store over the run, bytes per second. */
  writeBytesPerSecond: number;
}

/** What `extraction.json` records: enough to resume and to show provenance. */
interface ExtractionRecord {
  model: string;
  dataset: string;
  config: Required<Omit<ExtractionConfig, 'tokens' | 'split' | 'rowsPerShard'>> & Pick<ExtractionConfig, 'tokens' | 'split' | 'rowsPerShard'>;
  complete: boolean;
  createdAt: string;
}

export interface ExtractionRunOptions {
  /** Cooperative control: pause/stop are honoured between batches. */
  job?: Job<unknown, unknown>;
  signal?: AbortSignal;
  onProgress?: (p: ExtractionProgress) => void;
}

/** Starts an extraction into `outDir` (which must be new), or resumes the unfinished one there. */
export async function extractActivations(model: Model, datasetDir: string, outDir: string, config: ExtractionConfig, options: ExtractionRunOptions = {}): Promise<ExtractionSummary> {
  const recordFile = path.join(outDir, EXTRACTION_FILE);
  const resolved = resolveExtractionConfig(config);
  let record: ExtractionRecord;
  if (existsSync(recordFile)) {
    record = readRecord(recordFile);
    if (record.complete) throw new MiStudioError('ALREADY_EXISTS', `an extraction already completed in ${outDir}`, { file: recordFile, hint: 'choose another output folder' });
    if (JSON.stringify(record.config) !== JSON.stringify(resolved) || record.dataset !== path.resolve(datasetDir)) {
      throw new MiStudioError('INVALID_CONFIG', 'the unfinished extraction in this folder used a different configuration or dataset', { file: recordFile, hint: 'resume with the same settings (resumeExtraction), or use a new folder' });
    }
  } else {
    record = { model: model.source, dataset: path.resolve(datasetDir), config: resolved, complete: false, createdAt: new Date().toISOString() };
  }
  return runExtraction(model, outDir, record, options);
}

/** Resumes the unfinished extraction in `outDir` with the settings it was started with. */
export async function resumeExtraction(model: Model, outDir: string, options: ExtractionRunOptions = {}): Promise<ExtractionSummary> {
  const record = readRecord(path.join(outDir, EXTRACTION_FILE));
  if (record.complete) throw new MiStudioError('INVALID_ARGUMENT', `the extraction in ${outDir} is already complete`, { file: path.join(outDir, EXTRACTION_FILE) });
  return runExtraction(model, outDir, record, options);
}

function resolveExtractionConfig(config: ExtractionConfig): ExtractionRecord['config'] {
  const hooks = [...new Set(config.hooks ?? [])];
  if (hooks.length === 0) throw new MiStudioError('INVALID_CONFIG', 'no hooks to extract', { field: 'hooks', hint: "e.g. hooks: ['blocks.6.hook_resid_post']" });
  const batchSize = config.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MiStudioError('INVALID_CONFIG', `batchSize must be a positive integer, got ${batchSize}`, { field: 'batchSize' });
  if (config.tokens !== undefined && (!Number.isInteger(config.tokens) || config.tokens < 1)) throw new MiStudioError('INVALID_CONFIG', `tokens must be a positive integer, got ${config.tokens}`, { field: 'tokens' });
  const dtype = config.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float16') throw new MiStudioError('INVALID_CONFIG', `dtype must be float32 or float16, got ${String(dtype)}`, { field: 'dtype' });
  return {
    hooks,
    batchSize,
    dtype,
    includeSpecialTokens: config.includeSpecialTokens ?? false,
    allowVocabMismatch: config.allowVocabMismatch ?? false,
    ...(config.tokens !== undefined ? { tokens: config.tokens } : {}),
    ...(config.split !== undefined ? { split: config.split } : {}),
    ...(config.rowsPerShard !== undefined ? { rowsPerShard: config.rowsPerShard } : {}),
  };
}

function readRecord(file: string): ExtractionRecord {
  if (!existsSync(file)) throw new MiStudioError('FILE_NOT_FOUND', 'no extraction here', { file });
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ExtractionRecord;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', 'extraction record is not valid JSON', { file, cause });
  }
}

/** Refuses a model whose tokenizer would read the dataset's token ids as other tokens. */
export function checkVocabulary(model: Model, datasetDir: string, index: TokenIndex): void {
  const tokenizerDir = path.join(datasetDir, TOKENIZER_DIR);
  const files = readTokenizerFiles(tokenizerDir);
  const datasetTokenizer = createTokenizer(files, index.tokenizer.origin ?? tokenizerDir);
  const mismatch = firstVocabMismatch(datasetTokenizer, model.tokenizer);
  if (mismatch) {
    throw new MiStudioError('INVALID_ARGUMENT', `the dataset was tokenized with ${index.tokenizer.origin}, whose vocabulary differs from the model ${model.source}'s tokenizer: ${mismatch}`, {
      field: 'model',
      hint: 'tokenize the dataset with this model\'s tokenizer, or pass allowVocabMismatch: true if you know the ids agree',
    });
  }
}

function firstVocabMismatch(a: Tokenizer, b: Tokenizer): string | undefined {
  if (a.vocabSize !== b.vocabSize) return `vocabulary sizes ${a.vocabSize} and ${b.vocabSize} differ`;
  for (let id = 0; id < a.vocabSize; id++) {
    const ta = a.idToToken(id);
    const tb = b.idToToken(id);
    if (ta !== tb) return `token id ${id} is ${JSON.stringify(ta)} in the dataset's tokenizer but ${JSON.stringify(tb)} in the model's`;
  }
  return undefined;
}

/** Width of one token position's activation for a hook (product of the dims after [B, T]). */
function hookWidth(model: Model, hook: string): number {
  if (hook.endsWith('hook_pattern')) {
    throw new MiStudioError('UNSUPPORTED', `hook '${hook}' is an attention pattern [B, H, T, T], not one vector per token`, { field: 'hooks', hint: 'extract attn.hook_z or hook_attn_out instead' });
  }
  const shape = hookShape(model.config, hook, 1, 1);
  return shape.slice(2).reduce((a, b) => a * b, 1);
}

async function runExtraction(model: Model, outDir: string, record: ExtractionRecord, options: ExtractionRunOptions): Promise<ExtractionSummary> {
  const { config } = record;
  const { index, widths } = validateExtraction(model, record.dataset, config);
  const reader = new TokenStoreReader(record.dataset, index);
  try {
    const { start: rowStart, count: rowCount } = splitRange(index, config.split, record.dataset);
    const special = specialTokenIds(index, config.includeSpecialTokens);
    const eligible = (ids: Uint32Array, realTokens: number, out: number[]): number[] => {
      out.length = 0;
      for (let t = 0; t < realTokens; t++) if (!special.has(ids[t])) out.push(t);
      return out;
    };
    // Kept positions per row, counted once: the total and the resume point both come from it.
    const perRow = eligibleCounts(reader, rowStart, rowCount, eligible);
    const available = perRow.reduce((a, n) => a + n, 0);
    const total = config.tokens === undefined ? available : Math.min(config.tokens, available);
    if (total === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the dataset has no token positions to extract (all special or padding)', { file: record.dataset, field: 'split' });

    mkdirSync(outDir, { recursive: true });
    writeJsonAtomic(path.join(outDir, EXTRACTION_FILE), record);
    const writers = config.hooks.map((hook) => {
      const dir = path.join(outDir, hook);
      if (existsSync(path.join(dir, MANIFEST_FILE))) return ActivationStoreWriter.resume(dir);
      return ActivationStoreWriter.create(dir, {
        hook,
        d: widths[config.hooks.indexOf(hook)],
        dtype: config.dtype,
        positions: true,
        ...(config.rowsPerShard !== undefined ? { rowsPerShard: config.rowsPerShard } : {}),
        source: { model: record.model, dataset: record.dataset, split: config.split ?? null, includeSpecialTokens: config.includeSpecialTokens },
      });
    });
    const resumeAt = Math.min(...writers.map((w) => w.rows));
    const started = performance.now();
    let done = resumeAt;
    let bytesWritten = 0;
    const bytesOf = () => writers.reduce((a, w) => a + w.storedRows * w.d * (config.dtype === 'float32' ? 4 : 2), 0);
    const bytesAtStart = bytesOf();

    // The dataset row holding global kept position `resumeAt`.
    let row = rowStart;
    let skipInRow = 0;
    {
      let seen = 0;
      for (; row < rowStart + rowCount; row++) {
        const n = perRow[row - rowStart];
        if (seen + n > resumeAt) {
          skipInRow = resumeAt - seen;
          break;
        }
        seen += n;
      }
    }

    const kept: number[] = [];
    let status: 'completed' | 'stopped' = 'completed';
    while (done < total && row < rowStart + rowCount) {
      throwIfCancelled(options.signal, 'activation extraction');
      if (options.job && (await options.job.checkpoint()) === 'stop') {
        status = 'stopped';
        break;
      }
      const rows = reader.read(row, Math.min(row + config.batchSize, rowStart + rowCount));
      row += rows.length;
      const T = Math.max(...rows.map((r) => r.ids.length));
      const padId = index.tokenizer.padTokenId ?? index.options.padTokenId ?? 0;
      const tokens = rows.map((r) => {
        const a = Array.from(r.ids);
        while (a.length < T) a.push(padId);
        return a;
      });
      const needsMask = rows.some((r) => r.realTokens < T);
      const mask = needsMask ? rows.map((r) => Array.from({ length: T }, (_, t) => (t < r.realTokens ? 1 : 0))) : undefined;
      const result = await model.run(tokens, { cache: config.hooks, logits: 'none', ...(mask ? { attentionMask: mask } : {}) });

      // Kept (batch row, position) pairs in order, after the resume skip and within the budget.
      const picks: Array<[number, number, number]> = [];
      rows.forEach((r, b) => {
        const positions = eligible(r.ids, r.realTokens, kept);
        for (let k = skipInRow; k < positions.length && done + picks.length < total; k++) picks.push([b, positions[k], r.index]);
        skipInRow = 0;
      });
      const positionPairs = new Uint32Array(picks.length * 2);
      picks.forEach(([, t, datasetRow], i) => {
        positionPairs[i * 2] = datasetRow;
        positionPairs[i * 2 + 1] = t;
      });
      config.hooks.forEach((hook, h) => {
        const tensor = result.cache.get(hook)!;
        const width = writers[h].d;
        const w = writers[h];
        // Rows this hook already stored before a resume are skipped (hooks may have stored different counts).
        const from = Math.max(0, w.rows - done);
        if (from >= picks.length) return;
        const out = new Float32Array((picks.length - from) * width);
        for (let i = from; i < picks.length; i++) {
          const [b, t] = picks[i];
          const offset = (b * T + t) * width;
          out.set(tensor.data.subarray(offset, offset + width), (i - from) * width);
        }
        w.append(out, positionPairs.subarray(from * 2));
      });
      done += picks.length;
      bytesWritten = bytesOf() - bytesAtStart;
      const elapsed = (performance.now() - started) / 1000;
      const rate = (done - resumeAt) / Math.max(elapsed, 1e-9);
      const progress: ExtractionProgress = { tokens: done, totalTokens: total, tokensPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : null, bytesWritten };
      options.onProgress?.(progress);
      options.job?.progress({ done, total, unit: 'tokens' });
    }

    if (status === 'completed') {
      for (const w of writers) w.finish();
      record.complete = true;
      writeJsonAtomic(path.join(outDir, EXTRACTION_FILE), record);
    }
    const durationSeconds = (performance.now() - started) / 1000;
    const bytes = config.hooks.reduce((a, hook) => a + readManifest(path.join(outDir, hook)).shards.reduce((s, sh) => s + sh.bytes, 0), 0);
    return { dir: outDir, hooks: config.hooks, tokens: status === 'completed' ? total : Math.min(...writers.map((w) => w.storedRows)), bytes, durationSeconds, status, writeBytesPerSecond: (bytesOf() - bytesAtStart) / Math.max(durationSeconds, 1e-9) };
  } finally {
    reader.close();
  }
}

/**
 * Everything that can be checked before any work: the dataset is tokenized, the hooks exist and give
 * one vector per token, and (unless overridden) the vocabularies agree. Returns each hook's width.
 */
export function validateExtraction(model: Model, datasetDir: string, config: Pick<ExtractionConfig, 'hooks' | 'allowVocabMismatch'>): { index: TokenIndex; widths: number[] } {
  const index = readDatasetIndex(datasetDir);
  if (index.kind !== 'tokenized') {
    throw new MiStudioError('INVALID_ARGUMENT', 'activations are extracted from a tokenized dataset, and this one is text', { file: datasetDir, hint: 'tokenize it first (tokenizeDataset / mistudio datasets tokenize)' });
  }
  checkHookNames(config.hooks, model.hookNames(), 'hooks');
  const widths = config.hooks.map((hook) => hookWidth(model, hook));
  if (!config.allowVocabMismatch) checkVocabulary(model, datasetDir, index);
  return { index, widths };
}

function splitRange(index: TokenIndex, split: string | undefined, file: string): { start: number; count: number } {
  if (split === undefined) return { start: 0, count: index.rows };
  const s = index.splits.find((x) => x.name === split);
  if (!s) throw new MiStudioError('NOT_FOUND', `the dataset has no split '${split}'`, { file, field: 'split', hint: `splits: ${index.splits.map((x) => x.name).join(', ') || '(none)'}` });
  return { start: s.start, count: s.count };
}

/** Token ids whose positions are not stored unless special tokens are included. */
function specialTokenIds(index: TokenIndex, include: boolean): Set<number> {
  if (include) return new Set();
  const o = index.options;
  const ids = [index.tokenizer.bosTokenId, index.tokenizer.eosTokenId, o.bosTokenId, o.eosTokenId, o.separatorTokenId, o.beginSequenceTokenId];
  return new Set(ids.filter((x): x is number => typeof x === 'number'));
}

/** Kept token positions of each row in [start, start + count). */
function eligibleCounts(reader: TokenStoreReader, start: number, count: number, eligible: (ids: Uint32Array, real: number, out: number[]) => number[]): Uint32Array {
  const counts = new Uint32Array(count);
  const scratch: number[] = [];
  const chunk = 4096;
  for (let r = start; r < start + count; r += chunk) {
    for (const row of reader.read(r, Math.min(r + chunk, start + count))) counts[row.index - start] = eligible(row.ids, row.realTokens, scratch).length;
  }
  return counts;
}
