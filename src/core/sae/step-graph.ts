/**
 * One SAE training step as one ONNX graph: forward, the hand-derived backward of the architecture
 * (grad-*.ts), SAELens' global gradient-norm clip, and Adam, returning the new parameters and
 * optimizer moments plus the step's metrics. The trainer feeds the `*_next` outputs back as the next
 * step's inputs, so parameters never leave the runtime between steps.
 *
 * Inputs:  x [B, d]; every parameter p and its Adam moments `adam_m_p`, `adam_v_p`; scalars
 *          `coefficient` (sparsity coefficient after warm-up), `stepSize` (lr / (1 - β1^t)),
 *          `biasCorrection2Sqrt` (sqrt(1 - β2^t)); with AuxK: `deadIndices` [nDead] int64,
 *          `kAux` [1] int64, `auxScale` (coefficient × min(nDead / (d/2), 1)).
 * Outputs: `p_next`, `adam_m_p_next`, `adam_v_p_next`; scalars `loss`, `mseLoss`, `sparsityLoss`,
 *          `auxLoss`, `l0`, `l1`, `totalVariance`, `gradNorm`; `firedCount` [S] (rows each latent
 *          fired on); batchtopk: `minPositiveAct`; with exposeGradients: `grad_p` (before clipping).
 */
import { GraphBuilder, type Value } from '../engine/graph-builder.js';
import type { Architecture } from './config.js';
import { Ops } from './graph-ops.js';
import { parameterShape, parameterSpecs } from './parameters.js';
import { standardGradients } from './grad-standard.js';
import { batchTopKGradients, topKGradients } from './grad-topk.js';
import { jumpReluGradients } from './grad-jumprelu.js';
import { gatedGradients } from './grad-gated.js';

export interface StepGraphSpec {
  architecture: Architecture;
  dIn: number;
  dSae: number;
  batch: number;
  /** topk: per row; batchtopk: mean per row. */
  k: number;
  rescaleActsByDecoderNorm: boolean;
  jumpreluBandwidth: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  gradientClipNorm: number;
  /** topk/batchtopk: include the AuxK loss over the dead latents given as inputs. */
  withAux: boolean;
  /** topk: decode and take decoder/encoder gradients through only the k active rows (else dense). */
  sparse: boolean;
  /** Also output the raw gradients (tests compare them with PyTorch autograd). */
  exposeGradients: boolean;
}

/** What an architecture's forward/backward sees. */
export interface GradientContext {
  o: Ops;
  spec: StepGraphSpec;
  /** [B, d] */
  x: Value;
  /** By parameter name, in the training layout of parameters.ts. */
  p: Record<string, Value>;
  /** Sparsity coefficient scalar. */
  coefficient: Value;
  aux?: { deadIndices: Value; kAux: Value; auxScale: Value };
}

/** What an architecture's forward/backward produces (all scalars are per-token means). */
export interface GradientResult {
  mse: Value;
  sparsity: Value;
  aux: Value;
  l0: Value;
  l1: Value;
  /** [S] float: rows each latent fired on. */
  fired: Value;
  grads: Record<string, Value>;
  extra?: Record<string, Value>;
}

export const METRIC_OUTPUTS = ['loss', 'mseLoss', 'sparsityLoss', 'auxLoss', 'l0', 'l1', 'totalVariance', 'gradNorm'] as const;
export type MetricName = (typeof METRIC_OUTPUTS)[number];

export function stepGraphKey(spec: StepGraphSpec): string {
  return `sae-step|${JSON.stringify(spec)}`;
}

export function buildStepGraph(spec: StepGraphSpec): Uint8Array {
  const g = new GraphBuilder();
  const o = new Ops(g);
  const { dIn, dSae, batch } = spec;
  const specs = parameterSpecs(spec.architecture);
  const x = g.input('x', 'float32', [batch, dIn]);
  const p: Record<string, Value> = {};
  const m: Record<string, Value> = {};
  const v: Record<string, Value> = {};
  for (const s of specs) {
    const shape = parameterShape(s, dIn, dSae);
    p[s.name] = g.input(s.name, 'float32', shape);
    m[s.name] = g.input(`adam_m_${s.name}`, 'float32', shape);
    v[s.name] = g.input(`adam_v_${s.name}`, 'float32', shape);
  }
  const coefficient = g.input('coefficient', 'float32', []);
  const stepSize = g.input('stepSize', 'float32', []);
  const bc2Sqrt = g.input('biasCorrection2Sqrt', 'float32', []);
  const aux = spec.withAux
    ? { deadIndices: g.input('deadIndices', 'int64', ['nDead']), kAux: g.input('kAux', 'int64', [1]), auxScale: g.input('auxScale', 'float32', []) }
    : undefined;

  // SAELens projects the JumpReLU threshold to ≥ 0 on the parameter itself before each step.
  if (spec.architecture === 'jumprelu') p.threshold = o.relu(p.threshold);

  const ctx: GradientContext = { o, spec, x, p, coefficient, aux };
  const r = gradients(ctx);
  const loss = o.add(o.add(r.mse, r.sparsity), r.aux);

  // clip_grad_norm_(params, max_norm): coef = min(max_norm / (‖g‖ + 1e-6), 1), applied to every grad.
  let sq: Value | undefined;
  for (const s of specs) {
    const t = o.sumSquares(r.grads[s.name]);
    sq = sq ? o.add(sq, t) : t;
  }
  const gradNorm = o.sqrt(sq!);
  const clip = o.min(o.div(o.f(spec.gradientClipNorm), o.add(gradNorm, o.f(1e-6))), o.f(1));

  // torch.optim.Adam (foreach): m ← m + (1-β1)(g-m); v ← β2 v + (1-β2) g²;
  // p ← p - stepSize · m / (sqrt(v)/sqrt(1-β2^t) + eps).
  const { adamBeta1: b1, adamBeta2: b2, adamEpsilon: eps } = spec;
  for (const s of specs) {
    const grad = o.mul(r.grads[s.name], clip);
    const mNext = o.add(m[s.name], o.mul(o.sub(grad, m[s.name]), o.f(1 - b1)));
    const vNext = o.add(o.mul(v[s.name], o.f(b2)), o.mul(o.mul(grad, grad), o.f(1 - b2)));
    const denom = o.add(o.div(o.sqrt(vNext), bc2Sqrt), o.f(eps));
    const pNext = o.sub(p[s.name], o.mul(o.div(mNext, denom), stepSize));
    const shape = parameterShape(s, dIn, dSae);
    g.output(pNext, `${s.name}_next`, 'float32', shape);
    g.output(mNext, `adam_m_${s.name}_next`, 'float32', shape);
    g.output(vNext, `adam_v_${s.name}_next`, 'float32', shape);
    if (spec.exposeGradients) g.output(r.grads[s.name], `grad_${s.name}`, 'float32', shape);
  }
  // Explained variance needs the batch's total variance: mean over rows of ‖x - mean(x)‖².
  const centred = o.sub(x, o.mean(x, [0], true));
  const totalVariance = o.div(o.sumSquares(centred), o.f(batch));
  const metrics: Record<MetricName, Value> = { loss, mseLoss: r.mse, sparsityLoss: r.sparsity, auxLoss: r.aux, l0: r.l0, l1: r.l1, totalVariance, gradNorm };
  for (const name of METRIC_OUTPUTS) g.output(metrics[name], name, 'float32', []);
  g.output(r.fired, 'firedCount', 'float32', [dSae]);
  for (const [name, value] of Object.entries(r.extra ?? {})) g.output(value, name, 'float32', []);
  return g.build(`mistudio SAE training step: ${spec.architecture}`);
}

function gradients(ctx: GradientContext): GradientResult {
  switch (ctx.spec.architecture) {
    case 'standard':
      return standardGradients(ctx);
    case 'topk':
      return topKGradients(ctx);
    case 'batchtopk':
      return batchTopKGradients(ctx);
    case 'jumprelu':
      return jumpReluGradients(ctx);
    case 'gated':
      return gatedGradients(ctx);
  }
}

/** Shared pieces of every architecture's backward pass. */
export const common = {
  /** xc = x - b_dec (SAELens apply_b_dec_to_input). [B, d] */
  centred(ctx: GradientContext): Value {
    return ctx.o.sub(ctx.x, ctx.p.b_dec);
  },
  /** MSE = mean over rows of ‖recon - x‖²; dR = ∂MSE/∂recon = 2 (recon - x) / B. */
  mse(ctx: GradientContext, recon: Value): { mse: Value; dR: Value; diff: Value } {
    const { o } = ctx;
    const diff = o.sub(recon, ctx.x);
    const mse = o.div(o.sumSquares(diff), o.f(ctx.spec.batch));
    return { mse, dR: o.mul(diff, o.f(2 / ctx.spec.batch)), diff };
  },
  /**
   * ∂L/∂b_dec: b_dec is added to the reconstruction (Σ_b dR) and subtracted from the encoder input;
   * the latter needs only the batch sum of ∂L/∂pre, pushed back through the encoder: (Σ_b dPre) W_encT.
   */
  bDecGrad(ctx: GradientContext, dRSum: Value, dPreSum: Value): Value {
    const { o } = ctx;
    return o.sub(dRSum, o.matmul(dPreSum, ctx.p.W_encT));
  },
  /** Mean over rows of the count of positive entries of acts [B, S]; and per-latent counts [S]. */
  l0AndFired(ctx: GradientContext, firing: Value): { l0: Value; fired: Value } {
    const { o } = ctx;
    const f = o.float(firing);
    const fired = o.sum(f, [0]);
    return { l0: o.div(o.sumAll(fired), o.f(ctx.spec.batch)), fired };
  },
};
