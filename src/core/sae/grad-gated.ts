/**
 * gated (SAELens v6 gated; Rajamanoharan et al. 2024), weight-shared magnitude path.
 *
 *   P = xc W_encT^T,  π_gate = P + b_gate,  π_mag = P ⊙ e^{r_mag} + b_mag
 *   f = [π_gate > 0] ⊙ relu(π_mag),  recon = f W_dec + b_dec
 *   g = relu(π_gate),  recon_gate = g W_dec + b_dec,  n_i = ‖W_dec[i]‖
 *   L = mean_b ‖recon - x‖² + c · mean_b Σ_i g_bi n_i + mean_b ‖recon_gate - x‖²
 *
 * Backward (the Heaviside gate passes no gradient):
 *   df = dR W_dec^T,   dπ_mag = df ⊙ [π_gate > 0] ⊙ [π_mag > 0]
 *   dg = dR_gate W_dec^T + (c/B) n,   dπ_gate = dg ⊙ [π_gate > 0]
 *   dW_dec = f^T dR + g^T dR_gate + (c/B)(Σ_b g_bi) W_dec[i] / n_i
 *   dr_mag = Σ_b dπ_mag ⊙ P ⊙ e^{r_mag},  db_gate = Σ_b dπ_gate,  db_mag = Σ_b dπ_mag
 *   dP = dπ_gate + dπ_mag ⊙ e^{r_mag},  dW_encT = dP^T xc,  db_dec = Σ_b (dR + dR_gate) - (Σ_b dP) W_encT
 */
import type { GradientContext, GradientResult } from './step-graph.js';
import { common } from './step-graph.js';

export function gatedGradients(ctx: GradientContext): GradientResult {
  const { o, p, spec } = ctx;
  const B = spec.batch;
  const xc = common.centred(ctx);
  const P = o.gemm(xc, p.W_encT, 0, 1); // [B, S]
  const piGate = o.add(P, p.b_gate);
  const eMag = o.exp(p.r_mag);
  const piMag = o.add(o.mul(P, eMag), p.b_mag);
  const gate = o.gt(piGate, o.f(0));
  const magOn = o.gt(piMag, o.f(0));
  const f = o.where(gate, o.relu(piMag), o.f(0));
  const recon = o.add(o.matmul(f, p.W_dec), p.b_dec);
  const { mse, dR } = common.mse(ctx, recon);
  const gAct = o.relu(piGate);
  const gSum = o.sum(gAct, [0]);
  const n = o.rowNorms(p.W_dec);
  const cOverB = o.div(ctx.coefficient, o.f(B));
  const sparsity = o.mul(cOverB, o.sumAll(o.mul(gSum, n)));
  const viaGate = o.add(o.matmul(gAct, p.W_dec), p.b_dec);
  const gateMse = common.mse(ctx, viaGate);

  const dPiMag = o.where(o.and(gate, magOn), o.gemm(dR, p.W_dec, 0, 1), o.f(0));
  const dPiGate = o.where(gate, o.add(o.gemm(gateMse.dR, p.W_dec, 0, 1), o.mul(n, cOverB)), o.f(0));
  const normGrad = o.mul(o.unsqueeze(o.mul(o.div(gSum, n), cOverB), [1]), p.W_dec);
  const dWdec = o.add(o.add(o.gemm(f, dR, 1, 0), o.gemm(gAct, gateMse.dR, 1, 0)), normGrad);
  const dP = o.add(dPiGate, o.mul(dPiMag, eMag));
  const dPSum = o.sum(dP, [0]);
  const { l0, fired } = common.l0AndFired(ctx, o.gt(f, o.f(0)));
  return {
    mse,
    sparsity,
    aux: gateMse.mse,
    l0,
    l1: o.div(o.sumAll(f), o.f(B)),
    fired,
    grads: {
      W_encT: o.gemm(dP, xc, 1, 0),
      b_gate: o.sum(dPiGate, [0]),
      b_mag: o.sum(dPiMag, [0]),
      r_mag: o.mul(o.sum(o.mul(dPiMag, P), [0]), eMag),
      W_dec: dWdec,
      b_dec: common.bDecGrad(ctx, o.add(o.sum(dR, [0]), o.sum(gateMse.dR, [0])), dPSum),
    },
  };
}
