/**
 * CE loss recovered and KL with the SAE spliced in, against SAELens' formulas computed in PyTorch
 * (tests/python/make_ce_eval_fixtures.py: forward hooks on the HF model, sae_lens.evals._kl), plus
 * the limits an exact and an empty reconstruction must hit, held-out evaluation rows, and the
 * evaluator inside the trainer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractActivations } from '../activations/extract.js';
import { ActivationStore } from '../activations/store.js';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import { Job } from '../jobs/job.js';
import { loadModel, type Model } from '../models/index.js';
import { createCeLossEvaluator, evaluateCeLoss, heldOutTokenRows } from '../sae/ce-loss-eval.js';
import { loadSaeLens } from '../sae/saelens-format.js';
import type { SaeModel } from '../sae/sae-model.js';
import { StoreActivationSource } from '../sae/store-activation-source.js';
import { trainSae, type TrainingMetrics, type TrainingResult } from '../sae/trainer.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

interface Reference {
  hook: string;
  ignore_tokens: number[];
  rows: number[][];
  ce_tokens: number;
  metrics: Record<'ce_loss_without_sae' | 'ce_loss_with_sae' | 'ce_loss_with_ablation' | 'kl_div_with_sae' | 'kl_div_with_ablation' | 'ce_loss_score' | 'kl_div_score' | 'explained_variance' | 'l0', number>;
}

const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'sae', 'ce-eval.json'), 'utf8')) as Reference;
let model: Model;
let sae: SaeModel;

beforeAll(async () => {
  model = await loadModel(path.join(FIXTURES, 'models', 'tiny-llama'), { device: 'cpu', threads: 1 });
  sae = loadSaeLens(path.join(FIXTURES, 'analysis', 'llama', 'sae')).model;
});
afterAll(async () => model?.release());

/** A standard SAE with latents [x, −x] through ReLU: decodes to exactly x. */
function identitySae(d: number): SaeModel {
  const S = 2 * d;
  const W_enc = new Float32Array(d * S);
  const W_dec = new Float32Array(S * d);
  for (let j = 0; j < d; j++) {
    W_enc[j * S + j] = 1;
    W_enc[j * S + d + j] = -1;
    W_dec[j * d + j] = 1;
    W_dec[(d + j) * d + j] = -1;
  }
  return {
    architecture: 'standard', dIn: d, dSae: S, rescaleActsByDecoderNorm: false, applyBDecToInput: true, normalizeActivations: 'none',
    weights: { W_enc, b_enc: new Float32Array(S), W_dec, b_dec: new Float32Array(d) }, metadata: {},
  };
}

describe('CE loss recovered with the SAE spliced in', () => {
  it('equals SAELens get_recons_loss metrics computed in PyTorch (ignored BOS positions, batches of 2)', async () => {
    const m = await evaluateCeLoss(model, sae, ref.hook, ref.rows, { ignoreTokenIds: ref.ignore_tokens, batchRows: 2 });
    const want = ref.metrics;
    console.log(`CE loss recovered ${m.ceLossRecovered} (PyTorch ${want.ce_loss_score}), KL with SAE ${m.klDivWithSae} (PyTorch ${want.kl_div_with_sae})`);
    expect(m.tokens).toBe(ref.ce_tokens);
    expect(Math.abs(m.ceLossClean - want.ce_loss_without_sae)).toBeLessThan(1e-4);
    expect(Math.abs(m.ceLossWithSae - want.ce_loss_with_sae)).toBeLessThan(1e-4);
    expect(Math.abs(m.ceLossZeroAblation - want.ce_loss_with_ablation)).toBeLessThan(1e-4);
    expect(Math.abs(m.klDivWithSae - want.kl_div_with_sae)).toBeLessThan(1e-4);
    expect(Math.abs(m.klDivZeroAblation - want.kl_div_with_ablation)).toBeLessThan(1e-4);
    expect(Math.abs(m.ceLossRecovered - want.ce_loss_score)).toBeLessThan(2e-3);
    expect(Math.abs(m.klDivScore - want.kl_div_score)).toBeLessThan(2e-3);
    expect(Math.abs(m.explainedVariance - want.explained_variance)).toBeLessThan(1e-4);
    // L0 counts a ReLU at ~0 as firing or not: allow one or two float32 borderline latents over all positions.
    const positions = ref.rows.flat().filter((id) => !ref.ignore_tokens.includes(id)).length;
    expect(Math.abs(m.l0 - want.l0) * positions).toBeLessThanOrEqual(2);
    // Without the mask the BOS positions are replaced and scored too: a different number.
    const unmasked = await evaluateCeLoss(model, sae, ref.hook, ref.rows);
    expect(unmasked.tokens).toBe(ref.rows.length * (ref.rows[0].length - 1));
    expect(Math.abs(unmasked.ceLossWithSae - m.ceLossWithSae)).toBeGreaterThan(1e-4);
  });

  it('an exact reconstruction recovers everything; an empty one recovers nothing', async () => {
    const exact = await evaluateCeLoss(model, identitySae(sae.dIn), ref.hook, ref.rows);
    expect(exact.ceLossRecovered).toBeCloseTo(1, 4);
    expect(exact.klDivWithSae).toBeLessThan(1e-6);
    expect(exact.klDivScore).toBeCloseTo(1, 4);
    expect(exact.explainedVariance).toBeCloseTo(1, 5);
    const empty: SaeModel = { ...sae, weights: { ...sae.weights, W_dec: new Float32Array(sae.weights.W_dec.length), b_dec: new Float32Array(sae.dIn) } };
    const none = await evaluateCeLoss(model, empty, ref.hook, ref.rows);
    expect(Math.abs(none.ceLossRecovered)).toBeLessThan(1e-6);
    expect(none.klDivWithSae).toBeCloseTo(none.klDivZeroAblation, 8);
  });

  it('the evaluator reuses the clean and ablated terms and gives the same numbers on every call', async () => {
    const evaluate = createCeLossEvaluator(model, ref.hook, ref.rows, { ignoreTokenIds: ref.ignore_tokens, batchRows: 3 });
    const a = await evaluate(sae, 1);
    const b = await evaluate(identitySae(sae.dIn), 2);
    const c = await evaluate(sae, 3);
    expect(c).toEqual(a);
    expect(b.ceLossClean).toBe(a.ceLossClean);
    expect(b.ceLossZeroAblation).toBe(a.ceLossZeroAblation);
    expect(b.ceLossRecovered).toBeCloseTo(1, 4);
  });

  it('rejects rows too short to predict a token and a hook the model lacks', () => {
    expect(() => createCeLossEvaluator(model, ref.hook, [[1]])).toThrow(/at least 2/);
    expect(() => createCeLossEvaluator(model, 'blocks.9.hook_resid_post', ref.rows)).toThrow(/blocks\.9/);
  });
});

describe('held-out rows and evaluation during training', () => {
  let ws: TempWorkspace;
  let datasetDir: string;
  const HOOK = 'blocks.0.hook_resid_post';
  beforeAll(async () => {
    ws = await tempWorkspace();
    const file = path.join(ws.scratch, 'emma.txt');
    writeFileSync(file, readFileSync(path.join(GUTENBERG, 'austen-emma.txt'), 'utf8').slice(0, 8000));
    await addDataset(ws.catalog, file, { name: 'emma' });
    datasetDir = (await tokenizeDataset(ws.catalog, 'emma', { tokenizer: path.join(FIXTURES, 'models', 'tiny-llama'), contextSize: 16, name: 'emma-llama' })).dir;
  });
  afterAll(() => ws?.dispose());

  it('takes the dataset rows after the last one the extraction read, and trains with CE evaluated on them', async () => {
    const out = path.join(ws.root, 'acts');
    await extractActivations(model, datasetDir, out, { hooks: [HOOK], tokens: 600, batchSize: 8 });
    const store = ActivationStore.open(path.join(out, HOOK));
    const positions = store.readPositions(0, store.count);
    let lastUsed = 0;
    for (let i = 0; i < store.count; i++) lastUsed = Math.max(lastUsed, positions[i * 2]);
    store.close();
    const held = heldOutTokenRows(path.join(out, HOOK), { rows: 6 });
    expect(held.firstRow).toBe(lastUsed + 1);
    expect(held.rows).toHaveLength(6);
    const index = readDatasetIndex(datasetDir) as TokenIndex;
    const reader = new TokenStoreReader(datasetDir, index);
    expect(held.rows[0]).toEqual(Array.from(reader.read(lastUsed + 1, lastUsed + 2)[0].ids));
    reader.close();
    expect(held.ignoreTokenIds).toContain(index.tokenizer.bosTokenId);

    const job = new Job<TrainingResult, TrainingMetrics>('with-eval', { kind: 'sae-training' });
    const evals: { step: number; eval: Record<string, number> }[] = [];
    job.on((e) => e.type === 'metrics' && e.metrics.eval && evals.push({ step: e.metrics.step, eval: e.metrics.eval }));
    const source = new StoreActivationSource(ActivationStore.open(path.join(out, HOOK)), { batchRows: 64, bufferRows: 256, seed: 1 });
    const outcome = await trainSae(
      { architecture: 'topk', dIn: 64, dSae: 128, k: 16, batchSizeTokens: 64, trainingTokens: 64 * 30, lr: 3e-3, evalInterval: 12, metricsInterval: 5 },
      { runDir: path.join(ws.root, 'run'), source, job, intraOpNumThreads: 1, evaluate: createCeLossEvaluator(model, HOOK, held.rows, { ignoreTokenIds: held.ignoreTokenIds }) },
    );
    expect(outcome.status).toBe('completed');
    expect(evals.map((e) => e.step)).toEqual([12, 24, 30]);
    const last = outcome.result!.lastEval!;
    expect(last).toEqual(evals[2].eval);
    for (const k of ['ceLossClean', 'ceLossWithSae', 'ceLossZeroAblation', 'ceLossRecovered', 'klDivWithSae']) expect(Number.isFinite(last[k]), k).toBe(true);
    // The final evaluation is of the SAE that was saved.
    const again = await evaluateCeLoss(model, loadSaeLens(outcome.result!.saeDir!).model, HOOK, held.rows, { ignoreTokenIds: held.ignoreTokenIds });
    expect(again.ceLossWithSae).toBeCloseTo(last.ceLossWithSae, 5);
  });

  it('says so when the extraction read every row', async () => {
    const out = path.join(ws.root, 'all');
    await extractActivations(model, datasetDir, out, { hooks: [HOOK], batchSize: 8 });
    expect(() => heldOutTokenRows(path.join(out, HOOK))).toThrow(/none is held out/);
  });
});
