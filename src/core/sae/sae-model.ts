/**
 * A trained SAE for inference, in SAELens v6 terms (architecture standard | topk | jumprelu | gated,
 * weights W_enc [d_in, d_sae], W_dec [d_sae, d_in], ...), plus its encode/decode graphs and the
 * conversion from a finished training run (what SAELens' save_inference_model does: fold the
 * activation-normalisation scale, fold decoder norms for topk, save batchtopk as jumprelu).
 */
import { MiStudioError } from '../errors.js';
import type { ResolvedDevice } from '../engine/devices.js';
import { GraphBuilder, type Value } from '../engine/graph-builder.js';
import { SessionCache } from '../engine/sessions.js';
import { ort } from '../engine/tensors.js';
import type { TrainingConfig } from './config.js';
import { Ops } from './graph-ops.js';
import type { SaeParameters } from './parameters.js';

export type InferenceArchitecture = 'standard' | 'topk' | 'jumprelu' | 'gated';

export interface SaeModel {
  architecture: InferenceArchitecture;
  dIn: number;
  dSae: number;
  /** topk only. */
  k?: number;
  /** topk only: select as if decoder rows had unit norm. */
  rescaleActsByDecoderNorm: boolean;
  applyBDecToInput: boolean;
  /** 'none', or 'expected_average_only_in' (a scale applied outside the SAE, as in SAELens). */
  normalizeActivations: 'none' | 'expected_average_only_in';
  /** SAELens names and layouts. */
  weights: Record<string, Float32Array>;
  /** cfg.json metadata (model_name, hook_name, training details, ...). */
  metadata: Record<string, unknown>;
}

/** Tensor names and shapes each inference architecture stores ('ds' = [d_in, d_sae], 'sd' = [d_sae, d_in]). */
export const WEIGHT_LAYOUT: Record<InferenceArchitecture, Record<string, 'ds' | 'sd' | 's' | 'd'>> = {
  standard: { W_enc: 'ds', b_enc: 's', W_dec: 'sd', b_dec: 'd' },
  topk: { W_enc: 'ds', b_enc: 's', W_dec: 'sd', b_dec: 'd' },
  jumprelu: { W_enc: 'ds', b_enc: 's', W_dec: 'sd', b_dec: 'd', threshold: 's' },
  gated: { W_enc: 'ds', b_gate: 's', b_mag: 's', r_mag: 's', W_dec: 'sd', b_dec: 'd' },
};

export function weightShape(kind: 'ds' | 'sd' | 's' | 'd', dIn: number, dSae: number): number[] {
  return kind === 'ds' ? [dIn, dSae] : kind === 'sd' ? [dSae, dIn] : kind === 's' ? [dSae] : [dIn];
}

export interface TrainedState {
  /** expected_average_only_in scale the run multiplied activations by (null when none). */
  normScale: number | null;
  /** batchtopk: the running threshold (in units of pre-activation × decoder norm). */
  topkThreshold?: number;
}

/** The inference SAE of a training run (parameters in the training layout). */
export function modelFromTraining(cfg: TrainingConfig, params: SaeParameters, state: TrainedState): SaeModel {
  const { dIn: d, dSae: S } = cfg;
  const W_enc = new Float32Array(d * S);
  for (let i = 0; i < S; i++) for (let j = 0; j < d; j++) W_enc[j * S + i] = params.W_encT[i * d + j];
  const W_dec = Float32Array.from(params.W_dec);
  const b_dec = Float32Array.from(params.b_dec);
  let threshold = state.topkThreshold;
  // fold_activation_norm_scaling_factor: the SAE then takes raw activations.
  if (state.normScale !== null) {
    const s = state.normScale;
    for (let q = 0; q < W_enc.length; q++) W_enc[q] *= s;
    for (let q = 0; q < W_dec.length; q++) W_dec[q] /= s;
    for (let q = 0; q < d; q++) b_dec[q] /= s;
    if (threshold !== undefined && cfg.rescaleActsByDecoderNorm) threshold /= s;
  }
  const weights: Record<string, Float32Array> = { W_enc, W_dec, b_dec };
  for (const name of ['b_enc', 'b_gate', 'b_mag', 'r_mag', 'threshold']) if (params[name]) weights[name] = Float32Array.from(params[name]);
  const topkLike = cfg.architecture === 'topk' || cfg.architecture === 'batchtopk';
  if (topkLike && cfg.rescaleActsByDecoderNorm) {
    // _fold_norm_topk: unit decoder rows; encoder columns and b_enc absorb the norms.
    for (let i = 0; i < S; i++) {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += W_dec[i * d + j] ** 2;
      const n = Math.max(Math.sqrt(sq), 1e-8);
      for (let j = 0; j < d; j++) {
        W_dec[i * d + j] /= n;
        W_enc[j * S + i] *= n;
      }
      weights.b_enc[i] *= n;
    }
  }
  const details = trainingDetails(cfg);
  const metadata = { ...cfg.metadata, training_architecture: cfg.architecture, training_architecture_details: details };
  const base = { dIn: d, dSae: S, applyBDecToInput: true, normalizeActivations: 'none' as const, weights, metadata };
  if (cfg.architecture === 'batchtopk') {
    weights.threshold = new Float32Array(S).fill(threshold ?? 0);
    return { ...base, architecture: 'jumprelu', rescaleActsByDecoderNorm: false };
  }
  if (cfg.architecture === 'topk') return { ...base, architecture: 'topk', k: cfg.k, rescaleActsByDecoderNorm: cfg.rescaleActsByDecoderNorm };
  return { ...base, architecture: cfg.architecture, rescaleActsByDecoderNorm: false };
}

/** SAELens' metadata.training_architecture_details for each training architecture. */
function trainingDetails(cfg: TrainingConfig): Record<string, unknown> {
  const common = { decoder_init_norm: cfg.decoderInitNorm };
  switch (cfg.architecture) {
    case 'standard':
      return { ...common, l1_coefficient: cfg.sparsityCoefficient, lp_norm: 1.0, l1_warm_up_steps: cfg.sparsityWarmUpSteps };
    case 'gated':
      return { ...common, l1_coefficient: cfg.sparsityCoefficient, l1_warm_up_steps: cfg.sparsityWarmUpSteps };
    case 'topk':
      return { ...common, use_sparse_activations: false, aux_loss_coefficient: cfg.auxKCoefficient };
    case 'batchtopk':
      return { ...common, k: cfg.k, use_sparse_activations: false, aux_loss_coefficient: cfg.auxKCoefficient, rescale_acts_by_decoder_norm: cfg.rescaleActsByDecoderNorm, topk_threshold_lr: cfg.topkThresholdLr };
    case 'jumprelu':
      return {
        ...common, jumprelu_init_threshold: cfg.jumpreluInitThreshold, jumprelu_bandwidth: cfg.jumpreluBandwidth, jumprelu_sparsity_loss_mode: 'step',
        l0_coefficient: cfg.sparsityCoefficient, l0_warm_up_steps: cfg.sparsityWarmUpSteps, pre_act_loss_coefficient: null, jumprelu_tanh_scale: 4.0,
        jumprelu_ste_to_input: false, target_l0: null,
      };
  }
}

function modelKey(m: SaeModel, rows: number): string {
  return `sae-infer|${m.architecture}|${m.dIn}|${m.dSae}|${m.k ?? 0}|${m.rescaleActsByDecoderNorm}|${m.applyBDecToInput}|${rows}`;
}

/** encode → feature activations [rows, S]; decode → reconstruction [rows, d] of those. */
function buildInferenceGraph(m: SaeModel, rows: number): Uint8Array {
  const g = new GraphBuilder();
  const o = new Ops(g);
  const { dIn: d, dSae: S } = m;
  const w: Record<string, Value> = {};
  for (const [name, kind] of Object.entries(WEIGHT_LAYOUT[m.architecture])) w[name] = g.input(name, 'float32', weightShape(kind, d, S));
  const x = g.input('x', 'float32', [rows, d]);
  const xc = m.applyBDecToInput ? o.sub(x, w.b_dec) : x;
  let acts: Value;
  let decodeCoef: Value;
  switch (m.architecture) {
    case 'standard':
      acts = o.relu(o.add(o.matmul(xc, w.W_enc), w.b_enc));
      decodeCoef = acts;
      break;
    case 'jumprelu': {
      const pre = o.add(o.matmul(xc, w.W_enc), w.b_enc);
      acts = o.where(o.gt(pre, w.threshold), o.relu(pre), o.f(0));
      decodeCoef = acts;
      break;
    }
    case 'gated': {
      const P = o.matmul(xc, w.W_enc);
      const mag = o.relu(o.add(o.matmul(xc, o.mul(w.W_enc, o.exp(w.r_mag))), w.b_mag));
      acts = o.where(o.gt(o.add(P, w.b_gate), o.f(0)), mag, o.f(0));
      decodeCoef = acts;
      break;
    }
    case 'topk': {
      let h = o.add(o.matmul(xc, w.W_enc), w.b_enc);
      const n = m.rescaleActsByDecoderNorm ? o.rowNorms(w.W_dec) : undefined;
      if (n) h = o.mul(h, n);
      const [vals, idx] = o.topk(h, o.ints([m.k!]));
      acts = o.scatterElements(o.zerosLike(h), idx, o.relu(vals), 1);
      // acts / n (SAELens multiplies by 1/n; onnxruntime 1.30's basic optimiser mis-rewrites that
      // pattern when acts is also a graph output, and the two differ by at most an ulp).
      decodeCoef = n ? o.div(acts, n) : acts;
      break;
    }
  }
  g.output(acts, 'featureActs', 'float32', [rows, S]);
  g.output(o.add(o.matmul(decodeCoef, w.W_dec), w.b_dec), 'reconstruction', 'float32', [rows, d]);
  return g.build(`mistudio SAE inference: ${m.architecture}`);
}

export interface SaeRunOptions {
  device?: ResolvedDevice;
  intraOpNumThreads?: number;
  cache?: SessionCache;
}

/** Feature activations [rows, S] and reconstruction [rows, d] of x [rows, d]. */
export async function runSae(m: SaeModel, x: Float32Array, options: SaeRunOptions = {}): Promise<{ featureActs: Float32Array; reconstruction: Float32Array }> {
  if (x.length % m.dIn !== 0) throw new MiStudioError('SHAPE_MISMATCH', `input of ${x.length} values is not rows of width d_in = ${m.dIn}`, { field: 'x' });
  const rows = x.length / m.dIn;
  const cache = options.cache ?? new SessionCache();
  try {
    const session = await cache.get(modelKey(m, rows), { device: options.device ?? 'cpu', intraOpNumThreads: options.intraOpNumThreads }, () => buildInferenceGraph(m, rows));
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', x, [rows, m.dIn]) };
    for (const [name, kind] of Object.entries(WEIGHT_LAYOUT[m.architecture])) feeds[name] = new ort.Tensor('float32', m.weights[name], weightShape(kind, m.dIn, m.dSae));
    const out = await session.run(feeds);
    return { featureActs: Float32Array.from(out.featureActs.data as Float32Array), reconstruction: Float32Array.from(out.reconstruction.data as Float32Array) };
  } finally {
    if (!options.cache) await cache.release();
  }
}
