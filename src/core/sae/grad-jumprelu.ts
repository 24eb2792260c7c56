/**
 * jumprelu (SAELens v6 JumpReLU training, sparsity mode "step", STE to the threshold only).
 *
 *   θ ← max(θ, 0) (projected before the step, as SAELens does on the parameter)
 *   pre = xc W_encT^T + b_enc,  z = pre ⊙ [pre > θ],  recon = z W_dec + b_dec
 *   L = mean_b ‖recon - x‖² + c · mean_b Σ_i H(pre_bi - θ_i)
 *
 * The step H has zero derivative almost everywhere; the straight-through estimator replaces
 * ∂H(u)/∂θ by -(1/ε) rect(u/ε) (bandwidth ε, rect = 1 on (-½, ½)), and JumpReLU's jump gives
 * ∂z/∂θ ≈ -(θ/ε) rect(u/ε). With dz = dR W_dec^T:
 *   dθ_i = -(1/ε) Σ_b rect((pre_bi - θ_i)/ε) (θ_i dz_bi + c/B)
 *   dpre = dz ⊙ [pre > θ]   (no STE term into pre: SAELens jumprelu_ste_to_input = false)
 *   dW_dec = z^T dR,  dW_encT = dpre^T xc,  db_enc = Σ_b dpre,  db_dec = Σ_b dR - (Σ_b dpre) W_encT
 */
import type { GradientContext, GradientResult } from './step-graph.js';
import { common } from './step-graph.js';

export function jumpReluGradients(ctx: GradientContext): GradientResult {
  const { o, p, spec } = ctx;
  const B = spec.batch;
  const bw = spec.jumpreluBandwidth;
  const theta = p.threshold; // already projected to ≥ 0 by the step graph
  const xc = common.centred(ctx);
  const pre = o.add(o.gemm(xc, p.W_encT, 0, 1), p.b_enc);
  const firing = o.gt(pre, theta);
  const z = o.where(firing, pre, o.f(0));
  const recon = o.add(o.matmul(z, p.W_dec), p.b_dec);
  const { mse, dR } = common.mse(ctx, recon);
  const { l0, fired } = common.l0AndFired(ctx, firing);
  const sparsity = o.mul(ctx.coefficient, l0);

  const dz = o.gemm(dR, p.W_dec, 0, 1);
  const dPre = o.where(firing, dz, o.f(0));
  const u = o.div(o.sub(pre, theta), o.f(bw));
  const rect = o.float(o.and(o.gt(u, o.f(-0.5)), o.lt(u, o.f(0.5))));
  const perEntry = o.add(o.mul(dz, theta), o.div(ctx.coefficient, o.f(B)));
  const dTheta = o.mul(o.sum(o.mul(rect, perEntry), [0]), o.f(-1 / bw));
  const dbEnc = o.sum(dPre, [0]);
  return {
    mse,
    sparsity,
    aux: o.f(0),
    l0,
    l1: o.div(o.sumAll(z), o.f(B)),
    fired,
    grads: {
      W_encT: o.gemm(dPre, xc, 1, 0),
      b_enc: dbEnc,
      W_dec: o.gemm(z, dR, 1, 0),
      b_dec: common.bDecGrad(ctx, o.sum(dR, [0]), dbEnc),
      threshold: dTheta,
    },
  };
}
