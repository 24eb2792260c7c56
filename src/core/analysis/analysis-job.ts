/**
 * The feature analysis job: streams a tokenized dataset through the model (up to the SAE's hook
 * only), encodes each batch with the SAE, and feeds the feature activations to the accumulator.
 * Memory is bounded by the batch and by d_sae, never by the dataset. The job is cooperative (pause,
 * resume, stop through a Job), reports progress and throughput, and checkpoints the accumulator with
 * the next dataset row atomically every few batches and on pause/stop, so a stopped or crashed run
 * resumes with `resumeFeatureAnalysis` and ends with exactly the results of an uninterrupted one.
 * When the pass completes it writes the side files, the catalog rows and the default labels.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import type { Catalog } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';
import { SessionCache } from '../engine/sessions.js';
import { Job, type JobOutcome } from '../jobs/job.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TOKENIZER_DIR, TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import { loadModel } from '../models/load.js';
import type { Model } from '../models/model.js';
import { loadSaeLens, saveSaeLens } from '../sae/saelens-format.js';
import { runSae, type SaeModel } from '../sae/sae-model.js';
import { analysisDatasetDir, ANALYSIS_TOKENIZER_DIR, CHECKPOINT_FILE, JOB_FILE, MANIFEST_FILE, SAE_SUBDIR, readManifestFile, writeFinalFiles, type AnalysisManifest } from './analysis-files.js';
import { readArraysFile, writeArraysFile } from './binary-container.js';
import { FeatureAccumulator, type AccumulatorSettings, type ActivationBatch, type BatchSegment } from './feature-accumulator.js';
import { FeatureTables, analysesDir, type FeatureAnalysisRecord } from './feature-tables.js';
import { writeDefaultLabels } from './default-labels.js';
import { saeHookWidth } from './sae-hook.js';

export interface AnalysisSettingsInput {
  /** Top examples kept per feature (default 20). */
  topK?: number;
  /** Context tokens before / after the activating token in each example (default 12 / 4). */
  windowBefore?: number;
  windowAfter?: number;
  /** Histogram bins (power of two, default 64); the bins always span [0, max] with max in the upper half. */
  histogramBins?: number;
  /** Equal-width activation intervals with sampled examples (power of two, default 8). */
  intervalGroups?: number;
  samplesPerInterval?: number;
  /** Tokens to keep in the token sample for correlations and label scoring (default 16384). */
  sampleTokens?: number;
  /** The token sample stops past this many non-zero activations (default 16M). */
  maxSampleNonZeros?: number;
  seed?: number;
  /** Tokens per forward pass (default 4096; rounded to whole dataset rows). */
  batchTokens?: number;
  /** Checkpoint every this many batches (default 32), and always on pause and stop. */
  checkpointEveryBatches?: number;
  /**
   * Token ids not counted (their activations are still shown in windows). Default: the dataset's
   * BOS / EOS / separator / begin-sequence ids, as SAELens' exclude_special_tokens.
   */
  excludeTokenIds?: number[];
  /** Analyse at most this many dataset rows (default all). */
  maxRows?: number;
}

export interface FeatureAnalysisMetrics {
  rowsDone: number;
  tokens: number;
  tokensPerSecond: number;
}

export interface FeatureAnalysisResult {
  name: string;
  dir: string;
  tokens: number;
  rowsDone: number;
  rowsTotal: number;
  seconds: number;
}

export type FeatureAnalysisJob = Job<FeatureAnalysisResult, FeatureAnalysisMetrics>;

export interface AnalyzeFeaturesOptions extends AnalysisSettingsInput {
  catalog: Catalog;
  /** Name of the analysis in the catalog (unique). */
  name: string;
  /** Name of a tokenized dataset in the catalog. */
  dataset: string;
  model: Model;
  /** An SAE, or the directory of an SAELens SAE. */
  sae: SaeModel | string;
  /** Default: the SAE's `metadata.hook_name`. */
  hook?: string;
  job?: FeatureAnalysisJob;
  /** Aborting stops the job at the next batch (with a checkpoint), like `job.stop()`. */
  signal?: AbortSignal;
  /** Write default labels from top tokens and the logit lens at the end (default true). */
  defaultLabels?: boolean;
  intraOpNumThreads?: number;
}

export interface ResumeOptions {
  signal?: AbortSignal;
  /** The model (loaded from the recorded source when omitted). */
  model?: Model;
  job?: FeatureAnalysisJob;
  defaultLabels?: boolean;
  intraOpNumThreads?: number;
}

/** Starts an analysis; resolves when it completes, stops or fails (see the outcome's status). */
export async function analyzeFeatures(options: AnalyzeFeaturesOptions): Promise<JobOutcome<FeatureAnalysisResult>> {
  const { catalog, model } = options;
  const sae = typeof options.sae === 'string' ? loadSaeLens(options.sae).model : options.sae;
  const saeSource = typeof options.sae === 'string' ? path.resolve(options.sae) : null;
  const hook = options.hook ?? (typeof sae.metadata.hook_name === 'string' ? sae.metadata.hook_name : undefined);
  if (!hook) throw new MiStudioError('INVALID_ARGUMENT', 'the SAE does not name its hook', { field: 'hook', hint: 'pass hook, e.g. blocks.3.hook_resid_post' });
  const width = saeHookWidth(model, hook);
  if (width !== sae.dIn) throw new MiStudioError('SHAPE_MISMATCH', `the SAE reads ${sae.dIn}-wide activations but ${hook} gives ${width}`, { field: 'hook' });

  const dataset = catalog.datasets.get(options.dataset);
  const index = readDatasetIndex(dataset.dir);
  if (index.kind !== 'tokenized') throw new MiStudioError('INVALID_ARGUMENT', `dataset '${options.dataset}' is text; analyse a tokenized dataset`, { field: 'dataset', hint: 'tokenize it first (tokenizeDataset)' });
  if (index.tokenizer.vocabSize > model.config.vocabSize) {
    throw new MiStudioError('INVALID_ARGUMENT', `the dataset's tokenizer has ${index.tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}`, { field: 'dataset', hint: "tokenize the dataset with this model's tokenizer" });
  }
  const rowsTotal = Math.min(index.rows, options.maxRows ?? index.rows);
  if (rowsTotal <= 0) throw new MiStudioError('INVALID_ARGUMENT', 'the dataset has no rows to analyse', { field: 'maxRows' });
  const tokensTotal = rowsTotal * (index.rowLength ?? index.contextSize);
  const sampleTokens = options.sampleTokens ?? 16384;
  const settings: AccumulatorSettings = {
    dSae: sae.dSae,
    topK: options.topK ?? 20,
    windowBefore: options.windowBefore ?? 12,
    windowAfter: options.windowAfter ?? 4,
    histogramBins: options.histogramBins ?? 64,
    intervalGroups: options.intervalGroups ?? 8,
    samplesPerInterval: options.samplesPerInterval ?? 4,
    seed: options.seed ?? 0,
    sampleRowProbability: Math.min(1, sampleTokens / Math.max(1, tokensTotal)),
    maxSampleNonZeros: options.maxSampleNonZeros ?? 16 * 2 ** 20,
  };
  new FeatureAccumulator({ ...settings, dSae: 1 }); // validates the settings before anything is written
  const batchRows = Math.max(1, Math.floor((options.batchTokens ?? 4096) / Math.max(1, index.rowLength ?? index.contextSize)));
  const excludeTokenIds = options.excludeTokenIds ?? specialTokenIds(index);
  const checkpointEvery = options.checkpointEveryBatches ?? 32;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) throw new MiStudioError('INVALID_ARGUMENT', 'checkpointEveryBatches must be a positive integer', { field: 'checkpointEveryBatches' });

  const tables = new FeatureTables(catalog);
  const record = tables.create({
    name: options.name,
    datasetId: dataset.id,
    model: model.source,
    hook,
    sae: { source: saeSource, architecture: sae.architecture, dIn: sae.dIn, dSae: sae.dSae },
    dSae: sae.dSae,
    settings: { ...settings, excludeTokenIds, batchRows, checkpointEveryBatches: checkpointEvery },
    rowsTotal,
  });
  try {
    mkdirSync(record.dir, { recursive: true });
    saveSaeLens(path.join(record.dir, SAE_SUBDIR), sae);
    cpSync(path.join(dataset.dir, TOKENIZER_DIR), path.join(record.dir, ANALYSIS_TOKENIZER_DIR), { recursive: true });
    const manifest: AnalysisManifest = {
      format: 'mistudio-feature-analysis',
      version: 1,
      name: options.name,
      model: model.source,
      hook,
      dIn: sae.dIn,
      dSae: sae.dSae,
      saeArchitecture: sae.architecture,
      saeSource,
      dataset: { id: dataset.id, name: dataset.name, rows: index.rows, tokenizerDir: path.join(dataset.dir, TOKENIZER_DIR) },
      settings: { ...settings, excludeTokenIds, batchRows, rowsTotal },
    };
    writeJsonAtomic(path.join(record.dir, MANIFEST_FILE), manifest);
  } catch (err) {
    tables.delete(record.id);
    rmSync(record.dir, { recursive: true, force: true });
    throw err;
  }
  return runAnalysis(catalog, record, { model, sae, job: options.job, signal: options.signal, defaultLabels: options.defaultLabels, intraOpNumThreads: options.intraOpNumThreads, checkpointEvery });
}

/** Continues a stopped, failed or interrupted analysis from its last checkpoint. */
export async function resumeFeatureAnalysis(catalog: Catalog, name: string, options: ResumeOptions = {}): Promise<JobOutcome<FeatureAnalysisResult>> {
  const tables = new FeatureTables(catalog);
  const record = tables.get(name);
  if (record.status === 'completed') throw new MiStudioError('INVALID_ARGUMENT', `analysis '${name}' is already complete`, { field: 'name' });
  const manifest = readManifestFile(record.dir);
  const model = options.model ?? (await loadModel(manifest.model));
  if (model.source !== manifest.model) {
    throw new MiStudioError('INVALID_ARGUMENT', `the analysis ran on ${manifest.model} but the model given is ${model.source}`, { field: 'model', hint: 'resume with the same model' });
  }
  const sae = loadSaeLens(path.join(record.dir, SAE_SUBDIR)).model;
  const checkpointEvery = Number(record.settings.checkpointEveryBatches ?? 32);
  tables.setStatus(record.id, 'running');
  return runAnalysis(catalog, record, { model, sae, job: options.job, signal: options.signal, defaultLabels: options.defaultLabels, intraOpNumThreads: options.intraOpNumThreads, checkpointEvery });
}

/** Deletes an analysis: its catalog rows and its folder. */
export function deleteFeatureAnalysis(catalog: Catalog, name: string): void {
  const tables = new FeatureTables(catalog);
  const record = tables.get(name);
  tables.delete(record.id);
  rmSync(record.dir, { recursive: true, force: true });
}

interface RunContext {
  model: Model;
  sae: SaeModel;
  job?: FeatureAnalysisJob;
  signal?: AbortSignal;
  defaultLabels?: boolean;
  intraOpNumThreads?: number;
  checkpointEvery: number;
}

interface CheckpointMeta {
  rowsDone: number;
  tokensSeen: number;
  seq: number;
  settings: AccumulatorSettings;
}

async function runAnalysis(catalog: Catalog, record: FeatureAnalysisRecord, ctx: RunContext): Promise<JobOutcome<FeatureAnalysisResult>> {
  const tables = new FeatureTables(catalog);
  const manifest = readManifestFile(record.dir);
  const { settings } = manifest;
  const acc = new FeatureAccumulator(stripped(settings));
  const checkpointFile = path.join(record.dir, CHECKPOINT_FILE);
  let rowsDone = 0;
  if (existsSync(checkpointFile)) {
    const saved = readArraysFile<CheckpointMeta>(checkpointFile);
    acc.restore(saved.arrays, { tokensSeen: saved.meta.tokensSeen, seq: saved.meta.seq });
    rowsDone = saved.meta.rowsDone;
  }
  const datasetDir = analysisDatasetDir(manifest);
  const index = readDatasetIndex(datasetDir) as TokenIndex;
  const reader = new TokenStoreReader(datasetDir, index);
  const exclude = new Set(manifest.settings.excludeTokenIds);
  const saeSessions = new SessionCache();
  const job: FeatureAnalysisJob = ctx.job ?? new Job(`feature analysis ${manifest.name}`, { kind: 'feature-analysis' });
  job.persistTo(path.join(record.dir, JOB_FILE));
  const onAbort = () => job.stop();
  if (ctx.signal?.aborted) job.stop();
  ctx.signal?.addEventListener('abort', onAbort);

  const saveCheckpoint = async (): Promise<void> => {
    const meta: CheckpointMeta = { rowsDone, ...acc.scalars(), settings: acc.settings };
    writeArraysFile(checkpointFile, meta, acc.arrays());
    tables.progress(record.id, rowsDone, acc.tokensSeen);
  };

  const started = performance.now();
  const tokensAtStart = acc.tokensSeen;
  try {
    const outcome = await job.run(async () => {
      let batches = 0;
      while (rowsDone < settings.rowsTotal) {
        if ((await job.checkpoint(saveCheckpoint)) === 'stop') {
          await saveCheckpoint();
          break;
        }
        const end = Math.min(settings.rowsTotal, rowsDone + settings.batchRows);
        const batch = await encodeRows(ctx, manifest.hook, reader, index, rowsDone, end, exclude, saeSessions);
        acc.addBatch(batch);
        rowsDone = end;
        batches++;
        if (batches % ctx.checkpointEvery === 0 && rowsDone < settings.rowsTotal) await saveCheckpoint();
        const seconds = (performance.now() - started) / 1000;
        job.progress({ done: rowsDone, total: settings.rowsTotal, unit: 'rows' });
        job.metrics({ rowsDone, tokens: acc.tokensSeen, tokensPerSecond: (acc.tokensSeen - tokensAtStart) / Math.max(seconds, 1e-9) });
      }
      if (rowsDone < settings.rowsTotal) {
        return { name: manifest.name, dir: record.dir, tokens: acc.tokensSeen, rowsDone, rowsTotal: settings.rowsTotal, seconds: (performance.now() - started) / 1000 };
      }
      writeFinalFiles(record.dir, acc);
      storeCatalogRows(tables, record.id, acc);
      if (ctx.defaultLabels ?? true) await writeDefaultLabels(catalog, record, ctx.model, ctx.sae);
      tables.progress(record.id, rowsDone, acc.tokensSeen);
      tables.setStatus(record.id, 'completed');
      rmSync(checkpointFile, { force: true });
      return { name: manifest.name, dir: record.dir, tokens: acc.tokensSeen, rowsDone, rowsTotal: settings.rowsTotal, seconds: (performance.now() - started) / 1000 };
    });
    if (outcome.status === 'stopped') tables.setStatus(record.id, 'stopped');
    if (outcome.status === 'failed') tables.setStatus(record.id, 'failed', outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
    return outcome;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    reader.close();
    await saeSessions.release();
  }
}

function stripped(s: AnalysisManifest['settings']): AccumulatorSettings {
  const { excludeTokenIds: _e, batchRows: _b, rowsTotal: _r, ...rest } = s;
  return rest;
}

/** Runs dataset rows [start, end) through the model to the hook and the SAE: one accumulator batch. */
export async function encodeRows(
  ctx: { model: Model; sae: SaeModel; intraOpNumThreads?: number },
  hook: string,
  reader: TokenStoreReader,
  index: TokenIndex,
  start: number,
  end: number,
  exclude: ReadonlySet<number>,
  saeSessions: SessionCache,
): Promise<ActivationBatch> {
  const rows = reader.read(start, end);
  const T = Math.max(...rows.map((r) => r.ids.length));
  const padId = index.tokenizer.padTokenId ?? index.options.padTokenId ?? 0;
  const B = rows.length;
  const tokens = new Int32Array(B * T).fill(padId);
  rows.forEach((r, b) => tokens.set(r.ids, b * T));
  const needsMask = rows.some((r) => r.realTokens < T);
  const mask = needsMask ? { data: Int32Array.from({ length: B * T }, (_, i) => (i % T < rows[Math.floor(i / T)].realTokens ? 1 : 0)), shape: [B, T] as const } : undefined;
  const { cache } = await ctx.model.run({ data: tokens, shape: [B, T] }, { cache: [hook], logits: 'none', ...(mask ? { attentionMask: mask } : {}) });
  const x = cache.get(hook)!.data;
  const { featureActs } = await runSae(ctx.sae, x, { cache: saeSessions, intraOpNumThreads: ctx.intraOpNumThreads });
  const tokenIds = new Uint32Array(B * T);
  tokenIds.set(tokens);
  const include = new Uint8Array(B * T);
  const segments: BatchSegment[] = rows.map((r, b) => {
    for (let t = 0; t < r.realTokens; t++) include[b * T + t] = exclude.has(r.ids[t]) ? 0 : 1;
    return { row: r.index, firstToken: 0, offset: b * T, length: r.realTokens };
  });
  return { acts: featureActs, tokenIds, include, segments };
}

function storeCatalogRows(tables: FeatureTables, id: string, acc: FeatureAccumulator): void {
  const rows = Array.from({ length: acc.S }, (_, f) => {
    const fired = acc.count[f];
    const top = acc.topExamples(f);
    return { feature: f, fired, density: acc.tokensSeen > 0 ? fired / acc.tokensSeen : 0, meanActive: fired > 0 ? acc.sum[f] / fired : null, max: top.length ? top[0].value : null };
  });
  const topTokens: { feature: number; tokenId: number; examples: number }[] = [];
  for (let f = 0; f < acc.S; f++) {
    const counts = new Map<number, number>();
    for (const e of acc.topExamples(f)) {
      const id = e.tokenIds[e.token - e.windowStart];
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [tokenId, examples] of counts) topTokens.push({ feature: f, tokenId, examples });
  }
  tables.storeFeatures(id, rows, topTokens);
}

/** SAELens' exclude_special_tokens for a tokenized dataset: its BOS / EOS / separator ids. */
export function specialTokenIds(index: TokenIndex): number[] {
  const o = index.options;
  const ids = [index.tokenizer.bosTokenId, index.tokenizer.eosTokenId, o.bosTokenId, o.eosTokenId, o.separatorTokenId, o.beginSequenceTokenId];
  return [...new Set(ids.filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);
}
