/**
 * Feature ablation with the SAE spliced into the model. At the SAE's hook the activation x is
 * replaced by SAE(x) + error, where error = x − SAE(x), so the spliced model's forward equals the
 * clean one; ablating feature f replaces it instead by SAE_{a_f = 0}(x) + error at the positions
 * where f fires (a_f > 0), which is x − a_f · W_dec[f] there. Other features keep their
 * activations (the SAE is not re-encoded), as in SAELens / SAEDashboard ablations. Measured: the
 * per-position cross-entropy of the next token, clean and ablated, their means, the perplexities,
 * and the mean change of every vocabulary logit over the positions where the feature fired.
 */
import { MiStudioError } from '../errors.js';
import { SessionCache } from '../engine/sessions.js';
import { logSoftmax } from '../models/logits.js';
import type { Model } from '../models/model.js';
import { runSae, type SaeModel } from '../sae/sae-model.js';
import { extremes, type TokenValue } from './logit-lens.js';
import { hookVectorShape, saeHookWidth } from './sae-hook.js';

export interface AblationOptions {
  /** Most-changed vocabulary tokens reported each way (default 10). */
  topTokens?: number;
  intraOpNumThreads?: number;
}

export interface AblatedSequence {
  tokenIds: number[];
  /** The feature's activation at each position. */
  activations: number[];
  /** Cross-entropy of predicting token t+1 at position t (length T − 1), clean and ablated. */
  ceClean: number[];
  ceAblated: number[];
  /** Logit of the actual next token: ablated − clean, per position (length T − 1). */
  nextTokenLogitDelta: number[];
}

export interface AblationResult {
  feature: number;
  hook: string;
  sequences: AblatedSequence[];
  /** Positions where the feature fired and was zeroed. */
  positionsAblated: number;
  /** Mean cross-entropy over every predicted position of every sequence. */
  meanCeClean: number;
  meanCeAblated: number;
  deltaCe: number;
  perplexityClean: number;
  perplexityAblated: number;
  /** Mean logit change (ablated − clean) over the positions where the feature fired. */
  promoted: TokenValue[];
  suppressed: TokenValue[];
  /** Largest |logit| difference between the model with SAE + error spliced in (no ablation) and the clean model. */
  spliceMaxAbsLogitDiff: number;
}

/** Zeroes `feature` wherever it fires in each token sequence and measures the effect. */
export async function ablateFeature(model: Model, sae: SaeModel, hook: string, feature: number, sequences: readonly (readonly number[])[], options: AblationOptions = {}): Promise<AblationResult> {
  if (!Number.isInteger(feature) || feature < 0 || feature >= sae.dSae) throw new MiStudioError('INVALID_ARGUMENT', `feature ${feature} is outside [0, ${sae.dSae})`, { field: 'feature' });
  const d = saeHookWidth(model, hook);
  if (d !== sae.dIn) throw new MiStudioError('SHAPE_MISMATCH', `the SAE reads ${sae.dIn}-wide activations but ${hook} gives ${d}`, { field: 'hook' });
  if (sequences.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'no sequences to ablate on', { field: 'sequences' });
  const V = model.config.vocabSize;
  const vectorShape = hookVectorShape(model, hook);
  const wDec = sae.weights.W_dec.subarray(feature * d, (feature + 1) * d);
  const sessions = new SessionCache();
  const out: AblatedSequence[] = [];
  const logitDeltaSum = new Float64Array(V);
  let positionsAblated = 0;
  let spliceMaxAbsLogitDiff = 0;
  try {
    for (const ids of sequences) {
      const T = ids.length;
      if (T < 2) throw new MiStudioError('INVALID_ARGUMENT', 'each sequence needs at least 2 tokens (cross-entropy predicts the next token)', { field: 'sequences' });
      const clean = await model.run([ids], { cache: [hook] });
      const x = clean.cache.get(hook)!.data; // [T, d]
      const { featureActs, reconstruction } = await runSae(sae, x, { cache: sessions, intraOpNumThreads: options.intraOpNumThreads });
      const S = sae.dSae;
      const acts = Array.from({ length: T }, (_, t) => featureActs[t * S + feature]);
      const firing = acts.flatMap((a, t) => (a > 0 ? [t] : []));
      // SAE(x) with a_f zeroed, plus the error term x − SAE(x).
      const spliced = new Float32Array(T * d);
      const unablated = new Float32Array(T * d);
      for (let t = 0; t < T; t++) {
        const a = acts[t] > 0 ? acts[t] : 0;
        for (let j = 0; j < d; j++) {
          const i = t * d + j;
          const error = x[i] - reconstruction[i];
          unablated[i] = reconstruction[i] + error;
          spliced[i] = reconstruction[i] - a * wDec[j] + error;
        }
      }
      const check = await model.run([ids], { interventions: [{ hook, op: 'replace', value: { data: unablated, shape: [1, T, ...vectorShape] } }] });
      for (let i = 0; i < check.logits!.data.length; i++) spliceMaxAbsLogitDiff = Math.max(spliceMaxAbsLogitDiff, Math.abs(check.logits!.data[i] - clean.logits!.data[i]));
      const ablated = firing.length
        ? await model.run([ids], { interventions: [{ hook, op: 'replace', positions: firing, value: { data: spliced, shape: [1, T, ...vectorShape] } }] })
        : clean;
      const cl = clean.logits!.data;
      const ab = ablated.logits!.data;
      const ceClean: number[] = [];
      const ceAblated: number[] = [];
      const nextTokenLogitDelta: number[] = [];
      for (let t = 0; t < T - 1; t++) {
        const next = ids[t + 1];
        ceClean.push(-logSoftmax(cl.subarray(t * V, (t + 1) * V))[next]);
        ceAblated.push(-logSoftmax(ab.subarray(t * V, (t + 1) * V))[next]);
        nextTokenLogitDelta.push(ab[t * V + next] - cl[t * V + next]);
      }
      for (const t of firing) for (let v = 0; v < V; v++) logitDeltaSum[v] += ab[t * V + v] - cl[t * V + v];
      positionsAblated += firing.length;
      out.push({ tokenIds: [...ids], activations: acts, ceClean, ceAblated, nextTokenLogitDelta });
    }
  } finally {
    await sessions.release();
  }
  const all = (k: 'ceClean' | 'ceAblated') => out.flatMap((s) => s[k]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanCeClean = mean(all('ceClean'));
  const meanCeAblated = mean(all('ceAblated'));
  const meanDelta = Float64Array.from(logitDeltaSum, (s) => (positionsAblated > 0 ? s / positionsAblated : 0));
  const top = options.topTokens ?? 10;
  return {
    feature,
    hook,
    sequences: out,
    positionsAblated,
    meanCeClean,
    meanCeAblated,
    deltaCe: meanCeAblated - meanCeClean,
    perplexityClean: Math.exp(meanCeClean),
    perplexityAblated: Math.exp(meanCeAblated),
    promoted: positionsAblated ? extremes(meanDelta, top, 1) : [],
    suppressed: positionsAblated ? extremes(meanDelta, top, -1) : [],
    spliceMaxAbsLogitDiff,
  };
}
