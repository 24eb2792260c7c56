/**
 * Analysis tools against independent references, on the tiny random-init Llama (RMSNorm) and GPT-2
 * (LayerNorm) with small SAELens SAEs (tests/python/make_analysis_fixtures.py):
 * - logit lens = W_dec[f] through the final norm weight and W_U, computed in PyTorch (float64) the
 *   TransformerLens way (fold_ln, with and without center_unembed);
 * - ablation: per-position cross-entropy with the feature zeroed where it fires equals the same
 *   intervention done with a PyTorch forward hook;
 * - correlations equal numpy's corrcoef on the same sampled activations (numpy run here);
 * - steering: α = 0 equals plain greedy generation; α ≠ 0 equals the 'add' intervention step by step.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ablateFeature, decoderNeighbours, logitLens, SampleCorrelations, steerFeature, steeringIntervention, type TokenSample } from '../analysis/index.js';
import { Rng } from '../engine/random.js';
import { argmax } from '../models/logits.js';
import { greedyGenerate, loadModel, type Model } from '../models/index.js';
import { loadSaeLens, type SaeModel } from '../sae/index.js';
import { FIXTURES } from './helpers/dataset-workspace.js';

const ROOT = path.resolve(FIXTURES, '..', '..', '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

interface Reference {
  hook: string;
  logit_lens: { features: number[]; centered: number[][]; uncentered: number[][] };
  ablation: { feature: number; hook: string; cases: { tokens: number[]; activations: number[]; ce_clean: number[]; ce_ablated: number[] }[] };
}

for (const arch of ['llama', 'gpt2'] as const) {
  describe(`tiny ${arch}: logit lens and ablation vs PyTorch`, () => {
    const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'analysis', arch, 'reference.json'), 'utf8')) as Reference;
    let model: Model;
    let sae: SaeModel;
    beforeAll(async () => {
      model = await loadModel(path.join(FIXTURES, 'models', `tiny-${arch}`), { device: 'cpu', threads: 1 });
      sae = loadSaeLens(path.join(FIXTURES, 'analysis', arch, 'sae')).model;
    });
    afterAll(async () => model?.release());

    it('logit lens equals W_dec[f] · diag(g) · W_U (centered and not)', async () => {
      for (const center of [true, false]) {
        const got = await logitLens(model, sae, ref.hook, ref.logit_lens.features, { centerUnembed: center, top: 5 });
        const want = center ? ref.logit_lens.centered : ref.logit_lens.uncentered;
        const V = want[0].length;
        const all = await import('../analysis/index.js').then((m) => m.directionLogits(model, m.decoderRows(sae, ref.logit_lens.features), { centerUnembed: center }));
        let maxErr = 0;
        want.forEach((row, i) => row.forEach((v, t) => (maxErr = Math.max(maxErr, Math.abs(all[i * V + t] - v)))));
        console.log(`logit lens ${arch} (${center ? 'centered' : 'uncentered'}): max |Δ| vs PyTorch ${maxErr.toExponential(2)}`);
        expect(maxErr).toBeLessThan(2e-5);
        got.forEach((r, i) => {
          const order = want[i].map((v, t) => ({ v, t }));
          expect(r.positive.map((x) => x.tokenId)).toEqual([...order].sort((a, b) => b.v - a.v).slice(0, 5).map((x) => x.t));
          expect(r.negative.map((x) => x.tokenId)).toEqual([...order].sort((a, b) => a.v - b.v).slice(0, 5).map((x) => x.t));
          expect(r.histogram.counts.reduce((a, b) => a + b, 0)).toBe(V);
        });
      }
    });

    it('ablation: cross-entropy per position equals the PyTorch intervention', async () => {
      const { feature, cases } = ref.ablation;
      const r = await ablateFeature(model, sae, ref.hook, feature, cases.map((c) => c.tokens));
      let actErr = 0, cleanErr = 0, ablErr = 0;
      r.sequences.forEach((s, i) => {
        s.activations.forEach((a, t) => (actErr = Math.max(actErr, Math.abs(a - cases[i].activations[t]))));
        s.ceClean.forEach((c, t) => (cleanErr = Math.max(cleanErr, Math.abs(c - cases[i].ce_clean[t]))));
        s.ceAblated.forEach((c, t) => (ablErr = Math.max(ablErr, Math.abs(c - cases[i].ce_ablated[t]))));
      });
      console.log(`ablation ${arch}: feature ${feature}, ΔCE ${r.deltaCe.toExponential(3)}; max |Δ| vs PyTorch: activations ${actErr.toExponential(2)}, CE clean ${cleanErr.toExponential(2)}, CE ablated ${ablErr.toExponential(2)}; splice ${r.spliceMaxAbsLogitDiff.toExponential(2)}`);
      expect(actErr).toBeLessThan(1e-5);
      expect(cleanErr).toBeLessThan(2e-5);
      expect(ablErr).toBeLessThan(2e-5);
      const flat = (k: 'ce_clean' | 'ce_ablated') => cases.flatMap((c) => c[k]);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const wantDelta = mean(flat('ce_ablated')) - mean(flat('ce_clean'));
      expect(Math.abs(r.deltaCe - wantDelta)).toBeLessThan(1e-5);
      expect(r.deltaCe).not.toBe(0); // the ablation does something
      expect(r.positionsAblated).toBe(cases.flatMap((c) => c.activations).filter((a) => a > 0).length);
      // SAE + error spliced in without ablation reproduces the clean model.
      expect(r.spliceMaxAbsLogitDiff).toBeLessThan(2e-5);
      expect(r.perplexityAblated).toBeCloseTo(Math.exp(r.meanCeAblated), 10);
    });
  });
}

describe('correlations and neighbours', () => {
  it('Pearson correlations equal numpy corrcoef on the same sampled activations', () => {
    // A sparse token sample with correlated features (f1 follows f0, f3 anti-follows f0).
    const S = 12, N = 400;
    const rng = new Rng(3);
    const dense = new Float32Array(N * S);
    for (let t = 0; t < N; t++) {
      const a = rng.next() < 0.3 ? rng.next() * 3 : 0;
      dense[t * S + 0] = a;
      dense[t * S + 1] = a > 0 && rng.next() < 0.8 ? a * 0.5 + rng.next() : 0;
      dense[t * S + 3] = a === 0 && rng.next() < 0.4 ? rng.next() : 0;
      for (let f = 4; f < S; f++) if (rng.next() < 0.15) dense[t * S + f] = rng.next() * 2;
    }
    // f2 never fires: its variance is 0 and numpy gives nan.
    const features: number[] = [], values: number[] = [], offsets = [0];
    for (let t = 0; t < N; t++) {
      for (let f = 0; f < S; f++) if (dense[t * S + f] > 0) (features.push(f), values.push(dense[t * S + f]));
      offsets.push(features.length);
    }
    const sample: TokenSample = {
      rows: Uint32Array.from({ length: N }, (_, t) => t >> 4), tokens: Uint32Array.from({ length: N }, (_, t) => t & 15), tokenIds: new Uint32Array(N),
      offsets: Float64Array.from(offsets), features: Uint32Array.from(features), values: Float32Array.from(values),
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ms-corr-'));
    try {
      writeFileSync(path.join(dir, 'x.f32'), dense);
      const script = `import numpy as np, json, warnings; warnings.filterwarnings('ignore'); x = np.fromfile(r'${path.join(dir, 'x.f32')}', dtype=np.float32).reshape(${N}, ${S}).astype(np.float64); print(json.dumps(np.nan_to_num(np.corrcoef(x.T), nan=-9).tolist()))`;
      const want = JSON.parse(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' })) as number[][];
      const c = new SampleCorrelations(sample, S);
      let maxErr = 0;
      for (let f = 0; f < S; f++) {
        const got = c.all(f);
        for (let g = 0; g < S; g++) {
          if (want[f][g] === -9) expect(Number.isNaN(got[g])).toBe(true);
          else maxErr = Math.max(maxErr, Math.abs(got[g] - want[f][g]));
        }
      }
      console.log(`correlations: max |Δ| vs numpy corrcoef ${maxErr.toExponential(2)}`);
      expect(maxErr).toBeLessThan(1e-9);
      const r0 = c.correlations(0, 3);
      expect(r0.positive[0].feature).toBe(1);
      expect(r0.negative[0].feature).toBe(3);
      expect(r0.positive.map((x) => x.value)).toEqual([...r0.positive.map((x) => x.value)].sort((a, b) => b - a));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decoder neighbours are the largest cosines of W_dec rows', () => {
    const sae = loadSaeLens(path.join(FIXTURES, 'analysis', 'llama', 'sae')).model;
    const d = sae.dIn;
    const W = sae.weights.W_dec;
    const cos = (a: number, b: number) => {
      let ab = 0, aa = 0, bb = 0;
      for (let j = 0; j < d; j++) (ab += W[a * d + j] * W[b * d + j]), (aa += W[a * d + j] ** 2), (bb += W[b * d + j] ** 2);
      return ab / Math.sqrt(aa * bb);
    };
    const want = Array.from({ length: sae.dSae }, (_, g) => ({ g, c: cos(7, g) })).filter((x) => x.g !== 7).sort((a, b) => b.c - a.c).slice(0, 4);
    const got = decoderNeighbours(sae, 7, 4);
    expect(got.map((x) => x.feature)).toEqual(want.map((x) => x.g));
    got.forEach((x, i) => expect(x.value).toBeCloseTo(want[i].c, 6));
  });
});

describe('steering', () => {
  let model: Model;
  let sae: SaeModel;
  beforeAll(async () => {
    model = await loadModel(path.join(FIXTURES, 'models', 'tiny-llama'), { device: 'cpu', threads: 1 });
    sae = loadSaeLens(path.join(FIXTURES, 'analysis', 'llama', 'sae')).model;
  });
  afterAll(async () => model?.release());

  it('α = 0 is plain greedy decoding; α ≠ 0 follows the add intervention step by step', async () => {
    const hook = 'blocks.0.hook_resid_post';
    const prompt = [1, 40, 77, 120, 9];
    const r = await steerFeature(model, sae, hook, 5, prompt, { alphas: [30], maxTokens: 6, stopAtEos: false });
    expect(r.generations.map((g) => g.alpha)).toEqual([0, 30]);
    expect(r.generations[0].tokenIds).toEqual(await greedyGenerate(model, prompt, { maxTokens: 6, stopAtEos: false }));
    // Reproduce the steered continuation with explicit runs: the vector is 30 · W_dec[5] at every position.
    const d = sae.dIn;
    const vec = Float32Array.from(sae.weights.W_dec.subarray(5 * d, 6 * d), (x) => 30 * x);
    const ids = [...prompt];
    for (let i = 0; i < 6; i++) {
      const out = await model.run([ids], { interventions: [{ hook, op: 'add', value: { data: vec, shape: [d] } }], logits: 'last' });
      ids.push(argmax(out.logits!.data.subarray(0, model.config.vocabSize)));
    }
    expect(r.generations[1].tokenIds).toEqual(ids.slice(prompt.length));
    expect(r.generations[1].tokenIds).not.toEqual(r.generations[0].tokenIds);
    expect(steeringIntervention(model, sae, hook, 5, 30)).toEqual({ hook, op: 'add', value: { data: vec, shape: [d] } });
  });
});
