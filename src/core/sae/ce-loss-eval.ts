/**
 * Downstream evaluation of an SAE, as SAELens' get_recons_loss / get_downstream_reconstruction_metrics
 * compute it: next-token cross-entropy of the model clean, with the hook replaced by the SAE's
 * reconstruction, and with the hook zero-ablated; CE loss recovered
 * (`ce_loss_score` = (CE_ablation − CE_sae) / (CE_ablation − CE_clean)), and the KL divergence
 * KL(clean ‖ spliced) per position with its score. Positions holding ignored tokens (special tokens
 * such as BOS, as SAELens' ignore_tokens) keep their original activation in the spliced run and are
 * not scored; the zero ablation zeroes every position, as SAELens does. Means are over all scored
 * positions of all rows (SAELens concatenates per-token values, then averages). The explained
 * variance and L0 of the SAE at those positions come along, since the activations are at hand.
 *
 * The evaluation rows should be held out from training: `heldOutTokenRows` takes the rows of the
 * tokenized dataset after the last row an activation store's extraction read.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { ActivationStore } from '../activations/store.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import { SessionCache } from '../engine/sessions.js';
import { MiStudioError } from '../errors.js';
import { hookShape } from '../models/architectures/index.js';
import { checkHookNames } from '../models/hooks.js';
import type { Model } from '../models/model.js';
import { runSae, type SaeModel } from './sae-model.js';

/** The metrics of one evaluation (SAELens names in the comments). */
export interface CeLossMetrics {
  /** ce_loss_without_sae */
  ceLossClean: number;
  /** ce_loss_with_sae */
  ceLossWithSae: number;
  /** ce_loss_with_ablation */
  ceLossZeroAblation: number;
  /** ce_loss_score: 1 = the SAE costs nothing, 0 = as bad as zeroing the hook. */
  ceLossRecovered: number;
  /** kl_div_with_sae: mean KL(clean ‖ with SAE) per position, nats. */
  klDivWithSae: number;
  /** kl_div_with_ablation */
  klDivZeroAblation: number;
  /** kl_div_score */
  klDivScore: number;
  /** Explained variance of the reconstruction at the evaluated positions (1 − Σ‖x − x̂‖² / Σ‖x − x̄‖²). */
  explainedVariance: number;
  /** Mean number of active latents per evaluated position. */
  l0: number;
  /** Positions scored for cross-entropy. */
  tokens: number;
}

export interface CeLossEvalOptions {
  /** Token ids whose positions are left as they are and not scored (SAELens ignore_tokens). */
  ignoreTokenIds?: readonly number[];
  /** Rows per forward pass (default 4). */
  batchRows?: number;
  intraOpNumThreads?: number;
}

interface BatchBaseline {
  /** Sum of clean CE and of zero-ablation CE and KL over the batch's scored positions. */
  ceClean: number;
  ceZero: number;
  klZero: number;
  ceCount: number;
  klCount: number;
}

/**
 * An evaluator for the trainer's `evaluate` hook: the clean and zero-ablated terms do not depend on
 * the SAE, so they are computed at the first call and reused; each call runs the model clean (for
 * the activations and the reference distribution) and with the SAE spliced in.
 */
export function createCeLossEvaluator(model: Model, hook: string, rows: readonly (readonly number[])[], options: CeLossEvalOptions = {}): (sae: SaeModel, step: number) => Promise<Record<string, number>> {
  checkHookNames([hook], model.hookNames(), 'hook');
  if (rows.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'no token rows to evaluate on', { field: 'rows' });
  for (const [i, r] of rows.entries()) {
    if (r.length < 2) throw new MiStudioError('INVALID_ARGUMENT', `evaluation row ${i} has ${r.length} tokens; cross-entropy needs at least 2`, { field: 'rows' });
  }
  const batchRows = options.batchRows ?? 4;
  const ignore = new Set(options.ignoreTokenIds ?? []);
  const batches: (readonly (readonly number[])[])[] = [];
  for (let i = 0; i < rows.length; i += batchRows) batches.push(rows.slice(i, i + batchRows));
  const baselines: (BatchBaseline | undefined)[] = new Array(batches.length);
  return async (sae: SaeModel) => {
    const sessions = new SessionCache();
    const sum = { ceClean: 0, ceSae: 0, ceZero: 0, klSae: 0, klZero: 0, ceCount: 0, klCount: 0, squaredError: 0, squaredNorm: 0, active: 0 };
    const xSum = new Float64Array(sae.dIn);
    try {
      for (const [b, batch] of batches.entries()) {
        const r = await evaluateBatch(model, sae, hook, batch, ignore, baselines[b], sessions, options.intraOpNumThreads, xSum);
        baselines[b] = r.baseline;
        sum.ceClean += r.baseline.ceClean;
        sum.ceZero += r.baseline.ceZero;
        sum.klZero += r.baseline.klZero;
        sum.ceCount += r.baseline.ceCount;
        sum.klCount += r.baseline.klCount;
        sum.ceSae += r.ceSae;
        sum.klSae += r.klSae;
        sum.squaredError += r.squaredError;
        sum.squaredNorm += r.squaredNorm;
        sum.active += r.active;
      }
    } finally {
      await sessions.release();
    }
    if (sum.ceCount === 0) throw new MiStudioError('INVALID_ARGUMENT', 'no position of the evaluation rows could be scored (all ignored tokens?)', { field: 'rows' });
    const ceClean = sum.ceClean / sum.ceCount;
    const ceSae = sum.ceSae / sum.ceCount;
    const ceZero = sum.ceZero / sum.ceCount;
    const klSae = sum.klSae / sum.klCount;
    const klZero = sum.klZero / sum.klCount;
    let meanSquaredNorm = 0;
    for (const v of xSum) meanSquaredNorm += (v / sum.klCount) ** 2;
    const metrics: CeLossMetrics = {
      ceLossClean: ceClean,
      ceLossWithSae: ceSae,
      ceLossZeroAblation: ceZero,
      ceLossRecovered: (ceZero - ceSae) / (ceZero - ceClean),
      klDivWithSae: klSae,
      klDivZeroAblation: klZero,
      klDivScore: (klZero - klSae) / klZero,
      explainedVariance: 1 - sum.squaredError / (sum.squaredNorm - sum.klCount * meanSquaredNorm),
      l0: sum.active / sum.klCount,
      tokens: sum.ceCount,
    };
    return { ...metrics };
  };
}

/** One evaluation over `rows`, every term computed afresh. */
export async function evaluateCeLoss(model: Model, sae: SaeModel, hook: string, rows: readonly (readonly number[])[], options: CeLossEvalOptions = {}): Promise<CeLossMetrics> {
  return (await createCeLossEvaluator(model, hook, rows, options)(sae, 0)) as unknown as CeLossMetrics;
}

/** log-softmax of row `r` of `[rows, V]` logits into `out`, in float64. */
function logSoftmaxInto(logits: Float32Array, r: number, V: number, out: Float64Array): void {
  const off = r * V;
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[off + v] > max) max = logits[off + v];
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(logits[off + v] - max);
  const lse = max + Math.log(s);
  for (let v = 0; v < V; v++) out[v] = logits[off + v] - lse;
}

/** KL(p ‖ q) from log-probabilities. */
function kl(logP: Float64Array, logQ: Float64Array): number {
  let s = 0;
  for (let v = 0; v < logP.length; v++) {
    const p = Math.exp(logP[v]);
    if (p > 0) s += p * (logP[v] - logQ[v]);
  }
  return s;
}

async function evaluateBatch(
  model: Model,
  sae: SaeModel,
  hook: string,
  batch: readonly (readonly number[])[],
  ignore: ReadonlySet<number>,
  known: BatchBaseline | undefined,
  sessions: SessionCache,
  intraOpNumThreads: number | undefined,
  xSum: Float64Array,
): Promise<{ baseline: BatchBaseline; ceSae: number; klSae: number; squaredError: number; squaredNorm: number; active: number }> {
  const B = batch.length;
  const T = Math.max(...batch.map((r) => r.length));
  const tokens = batch.map((r) => [...r, ...new Array<number>(T - r.length).fill(0)]);
  const padded = batch.some((r) => r.length < T);
  const attentionMask = padded ? batch.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? 1 : 0))) : undefined;
  const run = (extra: Parameters<Model['run']>[1]) => model.run(tokens, { ...extra, ...(attentionMask ? { attentionMask } : {}) });
  // scored[b*T + t]: a real, non-ignored position (SAELens' mask).
  const scored = new Uint8Array(B * T);
  batch.forEach((r, b) => r.forEach((id, t) => (scored[b * T + t] = ignore.has(id) ? 0 : 1)));

  const clean = await run({ cache: [hook] });
  const x = clean.cache.get(hook)!.data; // [B, T, ...] = [B*T, d]
  const d = x.length / (B * T);
  if (d !== sae.dIn) throw new MiStudioError('SHAPE_MISMATCH', `the SAE reads ${sae.dIn}-wide activations but ${hook} gives ${d}`, { field: 'hook' });
  const { reconstruction, featureActs } = await runSae(sae, x, { cache: sessions, intraOpNumThreads });
  const spliced = new Float32Array(x.length);
  let squaredError = 0;
  let squaredNorm = 0;
  let active = 0;
  for (let p = 0; p < B * T; p++) {
    const src = scored[p] ? reconstruction : x;
    spliced.set(src.subarray(p * d, (p + 1) * d), p * d);
    if (!scored[p]) continue;
    for (let j = 0; j < d; j++) {
      const v = x[p * d + j];
      squaredError += (v - reconstruction[p * d + j]) ** 2;
      squaredNorm += v * v;
      xSum[j] += v;
    }
    for (let f = p * sae.dSae; f < (p + 1) * sae.dSae; f++) if (featureActs[f] > 0) active++;
  }
  const shape = hookShape(model.config, hook, B, T);
  const withSae = await run({ interventions: [{ hook, op: 'replace', value: { data: spliced, shape } }] });
  const zero = known ? undefined : await run({ interventions: [{ hook, op: 'zero' }] });

  const cl = clean.logits!.data;
  const sa = withSae.logits!.data;
  const V = cl.length / (B * T);
  const lc = new Float64Array(V);
  const ls = new Float64Array(V);
  const lz = new Float64Array(V);
  const baseline: BatchBaseline = known ?? { ceClean: 0, ceZero: 0, klZero: 0, ceCount: 0, klCount: 0 };
  let ceSae = 0;
  let klSae = 0;
  for (let b = 0; b < B; b++) {
    const len = batch[b].length;
    for (let t = 0; t < len; t++) {
      const p = b * T + t;
      if (!scored[p]) continue;
      logSoftmaxInto(cl, p, V, lc);
      logSoftmaxInto(sa, p, V, ls);
      if (zero) logSoftmaxInto(zero.logits!.data, p, V, lz);
      klSae += kl(lc, ls);
      if (zero) {
        baseline.klZero += kl(lc, lz);
        baseline.klCount++;
      }
      // Cross-entropy of the next token: the last position predicts nothing (SAELens mask[:, :-1]).
      if (t + 1 < len) {
        const next = batch[b][t + 1];
        ceSae -= ls[next];
        if (zero) {
          baseline.ceClean -= lc[next];
          baseline.ceZero -= lz[next];
          baseline.ceCount++;
        }
      }
    }
  }
  return { baseline, ceSae, klSae, squaredError, squaredNorm, active };
}

export interface HeldOutRows {
  /** Token ids of each row (padding removed). */
  rows: number[][];
  /** The special tokens the extraction skipped (empty when it stored them): ignore them in evaluation. */
  ignoreTokenIds: number[];
  /** The tokenized dataset and the first held-out dataset row. */
  datasetDir: string;
  firstRow: number;
  /** The model the activations came from (manifest source). */
  model: string;
}

export interface HeldOutOptions {
  /** Rows to take (default 8). */
  rows?: number;
  /** Cut each row to this many tokens (default: whole rows). */
  maxTokens?: number;
}

/**
 * Rows of the tokenized dataset an activation store came from that its extraction did not read:
 * the extraction reads its split's rows in order, so every row after the last recorded position's
 * row is unseen by the SAE. Needs a store that records positions (extractActivations does).
 */
export function heldOutTokenRows(storeDir: string, options: HeldOutOptions = {}): HeldOutRows {
  const want = options.rows ?? 8;
  if (!Number.isInteger(want) || want < 1) throw new MiStudioError('INVALID_ARGUMENT', `rows must be a positive integer, got ${want}`, { field: 'rows' });
  const store = ActivationStore.open(storeDir);
  try {
    const source = store.manifest.source as { model?: string; dataset?: string; split?: string | null; includeSpecialTokens?: boolean };
    if (typeof source.dataset !== 'string' || !existsSync(source.dataset)) {
      throw new MiStudioError('NOT_FOUND', 'the activation store does not name the tokenized dataset it came from, or it is gone', { file: path.join(storeDir, 'manifest.json'), field: 'source.dataset', hint: 'pass evaluation token rows explicitly' });
    }
    if (!store.manifest.positions || store.count === 0) {
      throw new MiStudioError('NOT_FOUND', 'the activation store records no token positions, so held-out rows cannot be told apart', { file: storeDir, hint: 'pass evaluation token rows explicitly' });
    }
    const lastRow = store.readPositions(store.count - 1, 1)[0];
    const index = readDatasetIndex(source.dataset) as TokenIndex;
    let start = 0;
    let end = index.rows;
    if (source.split) {
      const s = index.splits.find((x) => x.name === source.split);
      if (s) {
        start = s.start;
        end = s.start + s.count;
      }
    }
    const first = Math.max(lastRow + 1, start);
    if (first >= end) {
      throw new MiStudioError('INVALID_ARGUMENT', `the extraction read every row of the dataset${source.split ? ` split '${source.split}'` : ''} (last row ${lastRow}), so none is held out for evaluation`, {
        file: source.dataset,
        hint: 'extract fewer tokens than the dataset holds, or pass evaluation token rows explicitly',
      });
    }
    const reader = new TokenStoreReader(source.dataset, index);
    try {
      const rows = reader.read(first, Math.min(end, first + want)).map((r) => Array.from(r.ids.subarray(0, Math.min(r.realTokens, options.maxTokens ?? Infinity))));
      return { rows, ignoreTokenIds: source.includeSpecialTokens ? [] : specialTokenIds(index), datasetDir: source.dataset, firstRow: first, model: String(source.model ?? '') };
    } finally {
      reader.close();
    }
  } finally {
    store.close();
  }
}

/** BOS / EOS / padding / separator ids of a tokenized dataset (SAELens ignores bos, eos and pad). */
function specialTokenIds(index: TokenIndex): number[] {
  const o = index.options as unknown as Record<string, unknown>;
  const ids = [index.tokenizer.bosTokenId, index.tokenizer.eosTokenId, index.tokenizer.padTokenId, o.bosTokenId, o.eosTokenId, o.separatorTokenId, o.beginSequenceTokenId, o.padTokenId];
  return [...new Set(ids.filter((x): x is number => typeof x === 'number'))];
}
