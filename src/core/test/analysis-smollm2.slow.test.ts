// Acceptance 1 of issue 7 on a real model: a small SAE trained here on SmolLM2-135M (GGUF Q4_1)
// activations at blocks.3.hook_resid_post, then the feature analysis job over a tokenized Gutenberg
// text. Every feature's top examples are exactly the maxima of a brute-force recomputation (model +
// SAE over every row, dense, sorted in plain code); density and the histogram match.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureAnalysis, analyzeFeatures, encodeRows, specialTokenIds } from '../analysis/index.js';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import { SessionCache } from '../engine/sessions.js';
import { loadModel, type Model } from '../models/index.js';
import { InMemoryActivationSource, trainSae, type SaeModel } from '../sae/index.js';
import { GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

const SMOL = new URL('../../../.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const HOOK = 'blocks.3.hook_resid_post';
const TOP_K = 10;

describe.skipIf(!existsSync(SMOL))('feature analysis on SmolLM2-135M with an SAE trained in the test', () => {
  let ws: TempWorkspace;
  let model: Model;
  let sae: SaeModel;
  let index: TokenIndex;
  let dir: string;
  let runDir: string;

  beforeAll(async () => {
    ws = await tempWorkspace();
    model = await loadModel(SMOL, { device: 'cpu' });
    await addDataset(ws.catalog, path.join(GUTENBERG, 'carroll-alice.txt'), { name: 'alice', limit: 120 });
    const tok = await tokenizeDataset(ws.catalog, 'alice', { tokenizer: SMOL, contextSize: 64, name: 'alice-64' });
    dir = tok.dir;
    index = readDatasetIndex(dir) as TokenIndex;
    // Training activations: the hook over the dataset's rows (special tokens excluded).
    const reader = new TokenStoreReader(dir, index);
    const exclude = new Set(specialTokenIds(index));
    const acts: number[] = [];
    for (let r = 0; r < Math.min(index.rows, 64); r += 16) {
      const rows = reader.read(r, Math.min(index.rows, r + 16));
      const { cache } = await model.run(rows.map((x) => Array.from(x.ids)), { cache: [HOOK], logits: 'none' });
      const x = cache.get(HOOK)!.data;
      rows.forEach((row, b) => row.ids.forEach((id, t) => !exclude.has(id) && acts.push(...x.subarray((b * 64 + t) * 576, (b * 64 + t + 1) * 576))));
    }
    reader.close();
    runDir = mkdtempSync(path.join(os.tmpdir(), 'ms-smol-sae-'));
    const out = await trainSae(
      { architecture: 'topk', dIn: 576, dSae: 512, k: 16, batchSizeTokens: 512, trainingTokens: 512 * 120, lr: 1e-3, seed: 3, metricsInterval: 60 },
      { runDir, source: new InMemoryActivationSource(Float32Array.from(acts), 576, 1) },
    );
    expect(out.status).toBe('completed');
    sae = out.result!.model;
  }, 600_000);

  afterAll(async () => {
    await model?.release();
    ws?.dispose();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('top examples equal the brute-force maxima; density and histogram match', async () => {
    const outcome = await analyzeFeatures({ catalog: ws.catalog, name: 'smol-l3', dataset: 'alice-64', model, sae, hook: HOOK, topK: TOP_K, windowBefore: 8, windowAfter: 2, batchTokens: 1024 });
    expect(outcome.status).toBe('completed');
    const analysis = FeatureAnalysis.open(ws.catalog, 'smol-l3');
    // Brute force: the same rows, encoded again batch by batch, held densely, sorted per feature.
    const reader = new TokenStoreReader(dir, index);
    const exclude = new Set(specialTokenIds(index));
    const S = sae.dSae;
    const T = 64;
    const dense = new Float32Array(index.rows * T * S);
    const ids = new Uint32Array(index.rows * T);
    for (let r = 0; r < index.rows; r += 16) {
      const b = await encodeRows({ model, sae }, HOOK, reader, index, r, Math.min(index.rows, r + 16), exclude, new SessionCache());
      dense.set(b.acts, r * T * S);
      ids.set(b.tokenIds, r * T);
    }
    reader.close();
    let counted = 0;
    for (let i = 0; i < ids.length; i++) if (!exclude.has(ids[i])) counted++;
    let alive = 0;
    let maxValueErr = 0;
    for (let f = 0; f < S; f++) {
      const firings: { n: number; v: number }[] = [];
      for (let n = 0; n < ids.length; n++) if (!exclude.has(ids[n]) && dense[n * S + f] > 0) firings.push({ n, v: dense[n * S + f] });
      const st = analysis.files.statistics(f);
      expect(st.tokens).toBe(counted);
      expect(st.fired).toBe(firings.length);
      if (!firings.length) continue;
      alive++;
      const want = firings.sort((a, b) => b.v - a.v || a.n - b.n).slice(0, TOP_K);
      const got = analysis.files.topExamples(f);
      expect(got.map((e) => [e.row, e.token])).toEqual(want.map((x) => [Math.floor(x.n / T), x.n % T]));
      got.forEach((e, i) => (maxValueErr = Math.max(maxValueErr, Math.abs(e.value - want[i].v))));
      const hist = new Array(st.histogram.counts.length).fill(0);
      for (const x of firings) hist[Math.floor(x.v / st.histogram.binWidth)]++;
      expect(st.histogram.counts).toEqual(hist);
    }
    console.log(`SmolLM2 analysis: ${alive}/${S} features alive over ${counted} tokens; max |Δ top value| vs brute force ${maxValueErr.toExponential(2)}`);
    expect(alive).toBeGreaterThan(S / 4);
    expect(maxValueErr).toBe(0);
    // A default label per live feature, logit lens through SmolLM2's real vocabulary.
    const row = analysis.page({ aliveOnly: true, sort: 'density', descending: true, limit: 1 }).rows[0];
    expect(row.labelSource).toBe('default');
    const lens = await analysis.logitLens(model, row.feature, { top: 5 });
    expect(lens.positiveTokens.length).toBe(5);
    analysis.close();
  });
});
