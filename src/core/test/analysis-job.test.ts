/**
 * The feature analysis job end to end on the tiny random-init Llama with a small SAELens SAE
 * (fixtures of tests/python/make_analysis_fixtures.py) over a tokenized Gutenberg text:
 * - feature activations of the batched pass equal a per-row recomputation (model.run + runSae);
 * - top examples are exactly the maxima of a brute-force recomputation, with their windows;
 *   density, mean, max and the histogram match; the catalog rows agree;
 * - a stopped analysis resumes from its checkpoint to byte-identical results;
 * - default labels, manual labels, favorites, and search by label text / token / prompt.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import { Job } from '../jobs/job.js';
import { loadModel, type Model } from '../models/index.js';
import { loadSaeLens, runSae, type SaeModel } from '../sae/index.js';
import { SessionCache } from '../engine/sessions.js';
import {
  FeatureAnalysis,
  analyzeFeatures,
  encodeRows,
  resumeFeatureAnalysis,
  specialTokenIds,
  type AnalysisSettingsInput,
  type FeatureAnalysisJob,
} from '../analysis/index.js';
import { FEATURES_FILE } from '../analysis/analysis-files.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

const MODEL_DIR = path.join(FIXTURES, 'models', 'tiny-llama');
const SAE_DIR = path.join(FIXTURES, 'analysis', 'llama', 'sae');
const HOOK = 'blocks.0.hook_resid_post';
const SETTINGS: AnalysisSettingsInput = { topK: 8, windowBefore: 4, windowAfter: 2, histogramBins: 16, intervalGroups: 4, samplesPerInterval: 2, batchTokens: 256, sampleTokens: 1500, seed: 5 };

let ws: TempWorkspace;
let model: Model;
let sae: SaeModel;
let index: TokenIndex;
let datasetDir: string;
let analysis: FeatureAnalysis;
/** Dense feature activations of every dataset token [N, S], recomputed row by row. */
let dense: Float32Array;
let rowsOf: { ids: Uint32Array; real: number }[];

beforeAll(async () => {
  ws = await tempWorkspace();
  await addDataset(ws.catalog, path.join(GUTENBERG, 'carroll-alice.txt'), { name: 'alice', limit: 60 });
  const tok = await tokenizeDataset(ws.catalog, 'alice', { tokenizer: MODEL_DIR, contextSize: 32, name: 'alice-32' });
  datasetDir = tok.dir;
  index = readDatasetIndex(datasetDir) as TokenIndex;
  model = await loadModel(MODEL_DIR, { device: 'cpu', threads: 1 });
  sae = loadSaeLens(SAE_DIR).model;
  const outcome = await analyzeFeatures({ catalog: ws.catalog, name: 'alice-features', dataset: 'alice-32', model, sae: SAE_DIR, ...SETTINGS });
  expect(outcome.status).toBe('completed');
  analysis = FeatureAnalysis.open(ws.catalog, 'alice-features');

  // Brute force: every row through the model alone, then the SAE.
  const reader = new TokenStoreReader(datasetDir, index);
  rowsOf = reader.read(0, index.rows).map((r) => ({ ids: Uint32Array.from(r.ids), real: r.realTokens }));
  reader.close();
  const T = index.contextSize;
  dense = new Float32Array(index.rows * T * sae.dSae);
  for (let r = 0; r < index.rows; r++) {
    const { cache } = await model.run([Array.from(rowsOf[r].ids)], { cache: [HOOK], logits: 'none' });
    const { featureActs } = await runSae(sae, cache.get(HOOK)!.data);
    dense.set(featureActs, r * T * sae.dSae);
  }
});

afterAll(async () => {
  analysis?.close();
  await model?.release();
  ws?.dispose();
});

describe('feature analysis job', () => {
  it('batched activations equal a per-row recomputation; the dataset is what we think', async () => {
    expect(index.rows).toBeGreaterThan(40);
    expect(rowsOf.every((r) => r.real === index.contextSize)).toBe(true);
    const exclude = new Set(specialTokenIds(index));
    const batch = await encodeRows({ model, sae }, HOOK, new TokenStoreReader(datasetDir, index), index, 0, 8, exclude, new SessionCache());
    let maxDiff = 0;
    for (let i = 0; i < batch.acts.length; i++) maxDiff = Math.max(maxDiff, Math.abs(batch.acts[i] - dense[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('top examples are exactly the brute-force maxima; density, mean, max and histogram match', () => {
    const S = sae.dSae;
    const T = index.contextSize;
    const exclude = new Set(specialTokenIds(index));
    // The job's batches and the per-row runs agree to ~1e-6, so positions are compared exactly and values to 1e-5.
    let counted = 0;
    for (const r of rowsOf) for (let t = 0; t < r.real; t++) if (!exclude.has(r.ids[t])) counted++;
    let alive = 0;
    for (let f = 0; f < S; f++) {
      const firings: { row: number; token: number; v: number }[] = [];
      for (let r = 0; r < rowsOf.length; r++) {
        for (let t = 0; t < T; t++) {
          const v = dense[(r * T + t) * S + f];
          if (!exclude.has(rowsOf[r].ids[t]) && v > 0) firings.push({ row: r, token: t, v });
        }
      }
      const report = analysis.feature(f);
      const st = report.statistics;
      expect(st.tokens).toBe(counted);
      expect(st.fired).toBe(firings.length);
      if (firings.length === 0) continue;
      alive++;
      expect(st.density).toBeCloseTo(firings.length / counted, 12);
      expect(st.meanActive).toBeCloseTo(firings.reduce((a, x) => a + x.v, 0) / firings.length, 5);
      const want = [...firings].sort((a, b) => b.v - a.v || a.row - b.row || a.token - b.token).slice(0, SETTINGS.topK);
      expect(st.max).toBeCloseTo(want[0].v, 5);
      expect(report.topExamples.map((e) => [e.row, e.token])).toEqual(want.map((x) => [x.row, x.token]));
      report.topExamples.forEach((e, i) => {
        expect(Math.abs(e.value - want[i].v)).toBeLessThan(1e-5);
        const lo = Math.max(0, e.token - SETTINGS.windowBefore!);
        const hi = Math.min(T, e.token + SETTINGS.windowAfter! + 1);
        expect(e.windowStart).toBe(lo);
        expect(e.tokenIds).toEqual(Array.from(rowsOf[e.row].ids.subarray(lo, hi)));
        e.values.forEach((v, k) => expect(Math.abs(v - dense[(e.row * T + lo + k) * S + f])).toBeLessThan(1e-5));
        expect(e.tokens.length).toBe(e.tokenIds.length);
      });
      // Histogram: every firing binned with the final bin width.
      const width = st.histogram.binWidth;
      const hist = new Array(SETTINGS.histogramBins).fill(0);
      for (const x of firings) hist[Math.floor(x.v / width)]++;
      expect(st.histogram.counts).toEqual(hist);
      // Interval examples: real firings inside their interval; interval counts add up.
      const groups = report.intervals;
      expect(groups.reduce((a, g) => a + g.fired, 0)).toBe(firings.length);
      for (const g of groups) {
        for (const e of g.examples) {
          const v = dense[(e.row * T + e.token) * S + f];
          expect(Math.abs(v - e.value)).toBeLessThan(1e-5);
          expect(e.value).toBeGreaterThanOrEqual(g.lower - 1e-6);
          expect(e.value).toBeLessThan(g.upper + 1e-6);
        }
      }
      // The catalog row.
      const row = analysis.tables.featureRow(analysis.record.id, f)!;
      expect(row.fired).toBe(firings.length);
      expect(row.density).toBeCloseTo(st.density, 12);
      expect(row.max).toBeCloseTo(st.max, 6);
    }
    expect(alive).toBeGreaterThan(S / 2);
  });

  it('a stopped analysis resumes from its checkpoint to the same results', async () => {
    const job: FeatureAnalysisJob = new Job('interrupted', { kind: 'feature-analysis' });
    const cancel = new AbortController();
    const progress: number[] = [];
    job.on((e) => {
      if (e.type === 'progress') progress.push(e.progress.done);
      if (progress.length === 3) cancel.abort();
    });
    const first = await analyzeFeatures({ catalog: ws.catalog, name: 'interrupted', dataset: 'alice-32', model, sae: SAE_DIR, ...SETTINGS, checkpointEveryBatches: 2, defaultLabels: false, job, signal: cancel.signal });
    expect(progress).toEqual([8, 16, 24]);
    expect(first.status).toBe('stopped');
    const rec = analysis.tables.get('interrupted');
    expect(rec.status).toBe('stopped');
    expect(rec.rowsDone).toBe(3 * 8);
    expect(() => FeatureAnalysis.open(ws.catalog, 'interrupted')).toThrow(/stopped/);
    const second = await resumeFeatureAnalysis(ws.catalog, 'interrupted', { model, defaultLabels: false });
    expect(second.status).toBe('completed');
    const a = readFileSync(path.join(analysis.record.dir, FEATURES_FILE));
    const b = readFileSync(path.join(rec.dir, FEATURES_FILE));
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('default labels name the top tokens and the logit-lens tokens; manual labels and favorites', () => {
    const live = analysis.page({ aliveOnly: true, sort: 'density', descending: true, limit: 5 }).rows;
    expect(live[0].labelSource).toBe('default');
    expect(live[0].label).toMatch(/^on “.+” → “.+”/);
    const f = live[0].feature;
    analysis.setLabel(f, 'Quotation marks in dialogue');
    analysis.setFavorite(f, true);
    const row = analysis.page({ favoritesOnly: true }).rows;
    expect(row.map((r) => [r.feature, r.label, r.labelSource, r.favorite])).toEqual([[f, 'Quotation marks in dialogue', 'manual', true]]);
    expect(analysis.feature(f).labels.map((l) => l.source)).toEqual(['manual', 'default']);
    expect(() => analysis.setLabel(f, '  ')).toThrow(/empty/);
    expect(() => analysis.setFavorite(9999, true)).toThrow(/not in this analysis/);
  });

  it('search: label text (FTS word prefix and substring), token, prompt', async () => {
    const f = analysis.page({ favoritesOnly: true }).rows[0].feature;
    expect(analysis.page({ text: 'quotat' }).rows.map((r) => r.feature)).toEqual([f]); // FTS prefix
    expect(analysis.page({ text: 'ion mar' }).rows.map((r) => r.feature)).toEqual([f]); // substring
    expect(analysis.page({ text: 'DIALOGUE' }).total).toBe(1);
    expect(analysis.page({ text: '"; DROP TABLE features; --' }).total).toBe(0);

    // By token: the features whose top examples fire on it are exactly those with such an example.
    const report = analysis.feature(3);
    const e = report.topExamples[0];
    const tokenText = e.tokens[e.peakIndex];
    const byToken = analysis.searchByToken(tokenText, { limit: 1000 });
    expect(byToken.tokenIds).toContain(e.tokenIds[e.peakIndex]);
    const want: number[] = [];
    for (let g = 0; g < sae.dSae; g++) {
      if (analysis.files.topExamples(g).some((x) => byToken.tokenIds.includes(x.tokenIds[x.token - x.windowStart]))) want.push(g);
    }
    expect(byToken.rows.map((r) => r.feature)).toEqual(want);
    expect(byToken.rows.map((r) => r.feature)).toContain(3);

    // By prompt: the features firing on a dataset row, strongest first, equal the brute force.
    const ids = Array.from(rowsOf[5].ids);
    const onPrompt = await analysis.featuresOnPrompt(model, ids, { top: 5 });
    const T = index.contextSize;
    const exclude = new Set(specialTokenIds(index));
    const maxes = Array.from({ length: sae.dSae }, (_, g) => ({ g, m: Math.max(0, ...ids.map((id, t) => (exclude.has(id) ? 0 : dense[(5 * T + t) * sae.dSae + g]))) }));
    const expected = maxes.filter((x) => x.m > 0).sort((a, b) => b.m - a.m).slice(0, 5);
    expect(onPrompt.features.map((x) => x.feature)).toEqual(expected.map((x) => x.g));
    expect(onPrompt.tokens.length).toBe(ids.length);
  });

  it('outlives its dataset: browsing and labels read its own tokenizer copy; re-running rows names the deleted dataset', async () => {
    await tokenizeDataset(ws.catalog, 'alice', { tokenizer: MODEL_DIR, contextSize: 32, name: 'alice-short' });
    const outcome = await analyzeFeatures({ catalog: ws.catalog, name: 'alice-short-features', dataset: 'alice-short', model, sae: SAE_DIR, ...SETTINGS });
    expect(outcome.status).toBe('completed');
    const before = FeatureAnalysis.open(ws.catalog, 'alice-short-features').feature(3).topExamples.map((e) => e.tokens);
    ws.catalog.datasets.delete('alice-short');
    const reopened = FeatureAnalysis.open(ws.catalog, 'alice-short-features');
    expect(reopened.feature(3).topExamples.map((e) => e.tokens)).toEqual(before);
    expect(before.flat().join('').length).toBeGreaterThan(0);
    expect(() => reopened.readRows([0])).toThrow(/dataset 'alice-short' this analysis read has been deleted/);
  });
});
