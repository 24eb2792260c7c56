/**
 * The side files of a finished analysis, in its folder `<workspace>/analyses/<id>/`:
 *
 * - `analysis.json`    what was analysed and how (AnalysisManifest)
 * - `features.bin`     per-feature statistics and examples, feature-major so one feature's records
 *                      are read with positioned reads (a 64k-feature SAE is not loaded whole):
 *                      count, sum, exponent, histogram [S, bins]; top examples sorted by value
 *                      [S, K] (+ windows [S, K, W]); interval examples [S, G, R] sorted by value
 * - `token-sample.bin` the sampled tokens' sparse activations (CSR), for correlations and negatives
 * - `sae/`             the SAE analysed, in SAELens format (so the analysis is self-contained)
 *
 * plus, while the job runs, `checkpoint.bin` (the accumulator state and the next row) and `job.json`.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { readArraysFile, readArraysHeader, writeArraysFile, type StoredArray } from './binary-container.js';
import type { AccumulatorSettings, ExampleRecord, FeatureAccumulator } from './feature-accumulator.js';

export const MANIFEST_FILE = 'analysis.json';
export const FEATURES_FILE = 'features.bin';
export const TOKEN_SAMPLE_FILE = 'token-sample.bin';
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const JOB_FILE = 'job.json';
export const SAE_SUBDIR = 'sae';

/** analysis.json */
export interface AnalysisManifest {
  format: 'mistudio-feature-analysis';
  version: 1;
  name: string;
  model: string;
  hook: string;
  dIn: number;
  dSae: number;
  saeArchitecture: string;
  /** Where the SAE came from (a directory), when it was loaded from one. */
  saeSource: string | null;
  dataset: { id: string; name: string; rows: number; tokenizerDir: string };
  settings: AccumulatorSettings & { excludeTokenIds: number[]; batchRows: number; rowsTotal: number };
}

interface FeaturesMeta {
  tokens: number;
  settings: AccumulatorSettings;
}

/** Writes features.bin and token-sample.bin from a finished accumulator (sorted examples). */
export function writeFinalFiles(dir: string, acc: FeatureAccumulator): void {
  const { S, K, W, G, R } = acc;
  const top = {
    topCount: new Uint16Array(S),
    topValue: new Float32Array(S * K),
    topRow: new Uint32Array(S * K),
    topToken: new Uint32Array(S * K),
    topWindowStart: new Uint32Array(S * K),
    topWindowLength: new Uint16Array(S * K),
    topIds: new Uint32Array(S * K * W),
    topVals: new Float32Array(S * K * W),
  };
  const samples = {
    sampleCount: new Uint8Array(S * G),
    sampleValue: new Float32Array(S * G * R),
    sampleRow: new Uint32Array(S * G * R),
    sampleToken: new Uint32Array(S * G * R),
    sampleWindowStart: new Uint32Array(S * G * R),
    sampleWindowLength: new Uint16Array(S * G * R),
    sampleIds: new Uint32Array(S * G * R * W),
    sampleVals: new Float32Array(S * G * R * W),
  };
  const put = (slot: number, e: ExampleRecord, t: { value: Float32Array; row: Uint32Array; token: Uint32Array; start: Uint32Array; length: Uint16Array; ids: Uint32Array; vals: Float32Array }) => {
    t.value[slot] = e.value;
    t.row[slot] = e.row;
    t.token[slot] = e.token;
    t.start[slot] = e.windowStart;
    t.length[slot] = e.tokenIds.length;
    t.ids.set(e.tokenIds, slot * W);
    t.vals.set(e.values, slot * W);
  };
  const topT = { value: top.topValue, row: top.topRow, token: top.topToken, start: top.topWindowStart, length: top.topWindowLength, ids: top.topIds, vals: top.topVals };
  const sampleT = { value: samples.sampleValue, row: samples.sampleRow, token: samples.sampleToken, start: samples.sampleWindowStart, length: samples.sampleWindowLength, ids: samples.sampleIds, vals: samples.sampleVals };
  for (let f = 0; f < S; f++) {
    const ex = acc.topExamples(f);
    top.topCount[f] = ex.length;
    ex.forEach((e, j) => put(f * K + j, e, topT));
    acc.intervalExamples(f).forEach((group, g) => {
      samples.sampleCount[f * G + g] = group.length;
      group.forEach((e, j) => put((f * G + g) * R + j, e, sampleT));
    });
  }
  const meta: FeaturesMeta = { tokens: acc.tokensSeen, settings: acc.settings };
  writeArraysFile(path.join(dir, FEATURES_FILE), meta, { count: acc.count, sum: acc.sum, exponent: acc.exponent, histogram: acc.histogram, ...top, ...samples });
  writeArraysFile(path.join(dir, TOKEN_SAMPLE_FILE), { tokens: acc.tokenSample.tokenCount }, acc.tokenSample.arrays());
}

/** The analysis's own copy of its dataset's tokenizer, so the analysis outlives the dataset. */
export const ANALYSIS_TOKENIZER_DIR = 'tokenizer';

/** Where an analysis's tokenizer is: its own copy, or (analyses made before copies) the dataset's. */
export function analysisTokenizerDir(dir: string, manifest: AnalysisManifest): string {
  const own = path.join(dir, ANALYSIS_TOKENIZER_DIR);
  return existsSync(own) ? own : manifest.dataset.tokenizerDir;
}

/** The tokenized dataset an analysis read; its rows are needed only to resume or to re-run rows. */
export function analysisDatasetDir(manifest: AnalysisManifest): string {
  const dir = path.dirname(manifest.dataset.tokenizerDir);
  if (!existsSync(dir)) {
    throw new MiStudioError('NOT_FOUND', `the dataset '${manifest.dataset.name}' this analysis read has been deleted`, { file: dir, field: 'dataset', hint: 'pass the sequences to run explicitly; browsing, labels and search need only the analysis folder' });
  }
  return dir;
}

export function readManifestFile(dir: string): AnalysisManifest {
  const file = path.join(dir, MANIFEST_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AnalysisManifest;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', 'analysis manifest is missing or not valid JSON', { file, cause, hint: 'the analysis folder is damaged; run the analysis again' });
  }
}

/** Per-feature statistics of one feature. */
export interface FeatureStats {
  feature: number;
  /** Tokens analysed (excluded tokens are not counted). */
  tokens: number;
  fired: number;
  density: number;
  /** Mean activation where the feature fires (0 when it never does). */
  meanActive: number;
  /** Mean activation over all tokens (zeros included). */
  meanOverTokens: number;
  max: number;
  /** Histogram of the non-zero activations: bin i counts values in [i·width, (i+1)·width). */
  histogram: { binWidth: number; counts: number[] };
}

/** The token sample: sampled tokens and their sparse activations (CSR). */
export interface TokenSample {
  rows: Uint32Array;
  tokens: Uint32Array;
  tokenIds: Uint32Array;
  offsets: Float64Array;
  features: Uint32Array;
  values: Float32Array;
}

/** Reads features.bin: small arrays at open, one feature's examples at a time on demand. */
export class FeaturesFile {
  readonly S: number;
  readonly K: number;
  readonly W: number;
  readonly G: number;
  readonly R: number;
  readonly NB: number;
  readonly tokens: number;
  private readonly count: Float64Array;
  private readonly sum: Float64Array;
  private readonly exponent: Int16Array;
  private readonly offsets = new Map<string, number>();
  private readonly fd: number;
  private sample?: TokenSample;

  constructor(readonly dir: string) {
    const file = path.join(dir, FEATURES_FILE);
    const header = readArraysHeader<FeaturesMeta>(file);
    const s = header.meta.settings;
    this.tokens = header.meta.tokens;
    this.S = s.dSae;
    this.K = s.topK;
    this.W = s.windowBefore + 1 + s.windowAfter;
    this.G = s.intervalGroups;
    this.R = s.samplesPerInterval;
    this.NB = s.histogramBins;
    for (const e of header.arrays) this.offsets.set(e.name, e.offset);
    this.fd = openSync(file, 'r');
    this.count = this.slice(Float64Array, 'count', 0, this.S);
    this.sum = this.slice(Float64Array, 'sum', 0, this.S);
    this.exponent = this.slice(Int16Array, 'exponent', 0, this.S);
  }

  /** Reads `length` elements of array `name` from element `start`. */
  private slice<T extends StoredArray>(C: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, name: string, start: number, length: number): T {
    const offset = this.offsets.get(name);
    if (offset === undefined) throw new MiStudioError('CORRUPT_FILE', `array ${name} is missing`, { file: path.join(this.dir, FEATURES_FILE), field: name });
    const bytes = new Uint8Array(length * C.BYTES_PER_ELEMENT);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, offset + start * C.BYTES_PER_ELEMENT + done);
      if (n === 0) throw new MiStudioError('CORRUPT_FILE', `features file is truncated in array ${name}`, { file: path.join(this.dir, FEATURES_FILE) });
      done += n;
    }
    return new C(bytes.buffer);
  }

  private checkFeature(f: number): void {
    if (!Number.isInteger(f) || f < 0 || f >= this.S) throw new MiStudioError('INVALID_ARGUMENT', `feature ${f} is outside [0, ${this.S})`, { field: 'feature' });
  }

  /** Fired counts of every feature. */
  firedCounts(): Float64Array {
    return this.count;
  }

  statistics(f: number): FeatureStats {
    this.checkFeature(f);
    const fired = this.count[f];
    const sum = this.sum[f];
    const counts = Array.from(this.slice(Float64Array, 'histogram', f * this.NB, this.NB));
    const top = this.slice(Float32Array, 'topValue', f * this.K, 1);
    return {
      feature: f,
      tokens: this.tokens,
      fired,
      density: this.tokens > 0 ? fired / this.tokens : 0,
      meanActive: fired > 0 ? sum / fired : 0,
      meanOverTokens: this.tokens > 0 ? sum / this.tokens : 0,
      max: fired > 0 ? top[0] : 0,
      histogram: { binWidth: fired > 0 ? 2 ** this.exponent[f] : 0, counts: fired > 0 ? counts : [] },
    };
  }

  /** Top examples, largest first. */
  topExamples(f: number): ExampleRecord[] {
    this.checkFeature(f);
    const n = this.slice(Uint16Array, 'topCount', f, 1)[0];
    return this.examples('top', f * this.K, n);
  }

  /** Interval examples: for each of the G equal-width intervals of [0, bins·width), the sampled firings. */
  intervalExamples(f: number): { lower: number; upper: number; fired: number; examples: ExampleRecord[] }[] {
    this.checkFeature(f);
    const counts = this.slice(Uint8Array, 'sampleCount', f * this.G, this.G);
    const width = 2 ** this.exponent[f];
    const hist = this.slice(Float64Array, 'histogram', f * this.NB, this.NB);
    const perGroup = this.NB / this.G;
    return Array.from(counts, (n, g) => {
      let fired = 0;
      for (let i = g * perGroup; i < (g + 1) * perGroup; i++) fired += hist[i];
      return { lower: g * perGroup * width, upper: (g + 1) * perGroup * width, fired, examples: this.examples('sample', (f * this.G + g) * this.R, n) };
    }).filter((g) => g.fired > 0);
  }

  private examples(prefix: 'top' | 'sample', firstSlot: number, n: number): ExampleRecord[] {
    if (n === 0) return [];
    const W = this.W;
    const value = this.slice(Float32Array, `${prefix}Value`, firstSlot, n);
    const row = this.slice(Uint32Array, `${prefix}Row`, firstSlot, n);
    const token = this.slice(Uint32Array, `${prefix}Token`, firstSlot, n);
    const start = this.slice(Uint32Array, `${prefix}WindowStart`, firstSlot, n);
    const length = this.slice(Uint16Array, `${prefix}WindowLength`, firstSlot, n);
    const ids = this.slice(Uint32Array, `${prefix}Ids`, firstSlot * W, n * W);
    const vals = this.slice(Float32Array, `${prefix}Vals`, firstSlot * W, n * W);
    return Array.from({ length: n }, (_, j) => ({
      row: row[j],
      token: token[j],
      value: value[j],
      windowStart: start[j],
      tokenIds: Array.from(ids.subarray(j * W, j * W + length[j])),
      values: Array.from(vals.subarray(j * W, j * W + length[j])),
    }));
  }

  /** The token sample (read once, then kept). */
  tokenSample(): TokenSample {
    if (!this.sample) {
      const { arrays } = readArraysFile<{ tokens: number }>(path.join(this.dir, TOKEN_SAMPLE_FILE));
      this.sample = {
        rows: arrays.tokenSampleRows as Uint32Array,
        tokens: arrays.tokenSampleTokens as Uint32Array,
        tokenIds: arrays.tokenSampleIds as Uint32Array,
        offsets: arrays.tokenSampleOffsets as Float64Array,
        features: arrays.tokenSampleFeatures as Uint32Array,
        values: arrays.tokenSampleValues as Float32Array,
      };
    }
    return this.sample;
  }

  close(): void {
    closeSync(this.fd);
  }
}
