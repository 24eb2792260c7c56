/**
 * standard (SAELens v6 `standard`): ReLU encoder, L1 penalty weighted by decoder row norms.
 *
 *   pre = xc W_encT^T + b_enc,  z = relu(pre),  recon = z W_dec + b_dec,  n_i = ‖W_dec[i]‖
 *   L = mean_b ‖recon - x‖² + c · mean_b Σ_i z_bi n_i
 *
 * Backward:
 *   dR = 2 (recon - x) / B
 *   dz = dR W_dec^T + (c/B) n            dpre = dz ⊙ [pre > 0]
 *   dW_dec = z^T dR + (c/B) (Σ_b z_bi) W_dec[i] / n_i     (the norm's gradient is W/‖W‖)
 *   dW_encT = dpre^T xc,  db_enc = Σ_b dpre,  db_dec = Σ_b dR - (Σ_b dpre) W_encT
 */
import type { GradientContext, GradientResult } from './step-graph.js';
import { common } from './step-graph.js';

export function standardGradients(ctx: GradientContext): GradientResult {
  const { o, p, spec } = ctx;
  const B = spec.batch;
  const xc = common.centred(ctx);
  const pre = o.add(o.gemm(xc, p.W_encT, 0, 1), p.b_enc); // [B, S]
  const z = o.relu(pre);
  const recon = o.add(o.matmul(z, p.W_dec), p.b_dec); // [B, d]
  const n = o.rowNorms(p.W_dec); // [S]
  const { mse, dR } = common.mse(ctx, recon);
  const zSum = o.sum(z, [0]); // [S]
  const cOverB = o.div(ctx.coefficient, o.f(B));
  const sparsity = o.mul(cOverB, o.sumAll(o.mul(zSum, n)));

  const firing = o.gt(pre, o.f(0));
  const dz = o.add(o.gemm(dR, p.W_dec, 0, 1), o.mul(n, cOverB));
  const dPre = o.where(firing, dz, o.f(0));
  const normGrad = o.mul(o.unsqueeze(o.mul(o.div(zSum, n), cOverB), [1]), p.W_dec);
  const dWdec = o.add(o.gemm(z, dR, 1, 0), normGrad);
  const dWencT = o.gemm(dPre, xc, 1, 0);
  const dbEnc = o.sum(dPre, [0]);
  const dbDec = common.bDecGrad(ctx, o.sum(dR, [0]), dbEnc);
  const { l0, fired } = common.l0AndFired(ctx, firing);
  return {
    mse,
    sparsity,
    aux: o.f(0),
    l0,
    l1: o.div(o.sumAll(zSum), o.f(B)),
    fired,
    grads: { W_encT: dWencT, b_enc: dbEnc, W_dec: dWdec, b_dec: dbDec },
  };
}
