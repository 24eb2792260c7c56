/**
 * topk and batchtopk (SAELens v6), with rescale_acts_by_decoder_norm and AuxK.
 *
 *   pre = xc W_encT^T + b_enc,  n_i = ‖W_dec[i]‖,  h = pre ⊙ n  (selection as if rows had unit norm)
 *   topk:      z = relu(TopK_k(h)) per row;  batchtopk: z = TopK_{k·B}(relu(h)) over the whole batch
 *   recon = (z / n) W_dec + b_dec,   L = mean_b ‖recon - x‖² + aux
 *
 * Backward. For a selected latent with h > 0, z/n = relu(pre), so recon depends on n only through
 * which latents are selected: the two paths through n (h = pre·n and z/n) cancel exactly
 * (∂/∂n of (pre·n)/n = 0), and likewise for the AuxK term. What remains:
 *   a = z / n (coefficients),  da = dR W_dec^T at the selected entries
 *   dpre = da at selected entries with h > 0,   dW_dec = a^T dR,   dW_encT = dpre^T xc
 *
 * AuxK (dead latents only; SAELens calculate_topk_aux_loss): among the dead latents take the
 * k_aux = min(d/2, nDead) largest h per row (not rectified), reconstruct the detached residual
 * e = x - recon with them and no bias: ra = (h_sel / n) W_dec.  aux = scale · mean_b ‖ra - e‖².
 * It is computed on the dead columns only ([B, nDead] instead of [B, S]) and its row gradients are
 * scatter-added into the dead latents' rows.
 *
 * The sparse topk path decodes with only the k active decoder rows per token ([B, k, d] gathered,
 * a batched [1, k] × [k, d] product) and takes dL/da from the same rows; the weight gradients use
 * [B, S] matrices and GEMMs (see below for why not a scatter-add). The dense path (SAELens/PyTorch's
 * formulation) does the forward decode and dL/da with full GEMMs too.
 */
import { MiStudioError } from '../errors.js';
import type { Value } from '../engine/graph-builder.js';
import type { GradientContext, GradientResult } from './step-graph.js';
import { common } from './step-graph.js';

interface Encoded {
  xc: Value;
  /** [S] decoder row norms and their reciprocals (1 when not rescaling). */
  n?: Value;
  rn?: Value;
  /** [B, S] selection scores h. */
  h: Value;
}

function encode(ctx: GradientContext): Encoded {
  const { o, p, spec } = ctx;
  const xc = common.centred(ctx);
  const pre = o.add(o.gemm(xc, p.W_encT, 0, 1), p.b_enc);
  if (!spec.rescaleActsByDecoderNorm) return { xc, h: pre };
  const n = o.rowNorms(p.W_dec);
  // SAELens multiplies by 1 / ‖W_dec‖ (a reciprocal, then a product); so do we.
  return { xc, n, rn: o.div(o.f(1), n), h: o.mul(pre, n) };
}

export function topKGradients(ctx: GradientContext): GradientResult {
  const { o, p, spec } = ctx;
  const { batch: B, dIn: d, dSae: S, k } = spec;
  if (!Number.isInteger(k) || k < 1 || k > S) throw new MiStudioError('INVALID_CONFIG', `topk needs an integer k in [1, ${S}], got ${k}`, { field: 'k' });
  const enc = encode(ctx);
  const [vals, idx] = o.topk(enc.h, o.ints([k])); // [B, k]
  const z = o.relu(vals);
  const a = enc.rn ? o.mul(z, o.gather(enc.rn, idx)) : z; // [B, k]
  const active = o.gt(vals, o.f(0));
  let recon: Value;
  let dWdec: Value;
  let dWencT: Value;
  let dbEnc: Value;
  let fired: Value;
  let mse: Value;
  let dR: Value;
  if (spec.sparse) {
    const rows = o.gather(p.W_dec, idx); // [B, k, d]
    recon = o.add(o.reshape(o.matmul(o.unsqueeze(a, [1]), rows), [B, d]), p.b_dec);
    ({ mse, dR } = common.mse(ctx, recon));
    const da = o.reshape(o.matmul(rows, o.unsqueeze(dR, [2])), [B, k]); // dR · W_dec[idx]
    const dPre = o.where(active, da, o.f(0)); // [B, k]
    // The weight gradients accumulate k rank-1 updates per token into shared rows. onnxruntime's CPU
    // ScatterND with reduction 'add' splits its updates over threads without synchronisation, so
    // rows hit by several tokens lose updates when intraOpNumThreads > 1. The accumulation therefore
    // goes through [B, S] matrices written by ScatterElements without reduction (a row's k indices
    // are distinct, so no element is written twice) and GEMMs, which are exact and deterministic.
    const A = o.scatterElements(o.zeros([B, S]), idx, a, 1); // [B, S]
    const dPreDense = o.scatterElements(o.zeros([B, S]), idx, dPre, 1); // [B, S]
    dWdec = o.gemm(A, dR, 1, 0);
    dWencT = o.gemm(dPreDense, enc.xc, 1, 0);
    dbEnc = o.sum(dPreDense, [0]);
    fired = o.sum(o.scatterElements(o.zeros([B, S]), idx, o.float(active), 1), [0]);
  } else {
    const A = o.scatterElements(o.zeros([B, S]), idx, a, 1); // [B, S]
    recon = o.add(o.matmul(A, p.W_dec), p.b_dec);
    ({ mse, dR } = common.mse(ctx, recon));
    const da = o.gatherElements(o.gemm(dR, p.W_dec, 0, 1), idx, 1);
    const dPre = o.scatterElements(o.zeros([B, S]), idx, o.where(active, da, o.f(0)), 1);
    dWdec = o.gemm(A, dR, 1, 0);
    dWencT = o.gemm(dPre, enc.xc, 1, 0);
    dbEnc = o.sum(dPre, [0]);
    fired = o.sum(o.scatterElements(o.zeros([B, S]), idx, o.float(active), 1), [0]);
  }
  const grads = { W_encT: dWencT, b_enc: dbEnc, W_dec: dWdec, b_dec: o.sum(dR, [0]) };
  const auxLoss = ctx.aux ? addAuxK(ctx, enc, recon, grads) : o.f(0);
  grads.b_dec = common.bDecGrad(ctx, grads.b_dec, grads.b_enc);
  return {
    mse,
    sparsity: o.f(0),
    aux: auxLoss,
    l0: o.div(o.sumAll(o.float(active)), o.f(B)),
    l1: o.div(o.sumAll(z), o.f(B)),
    fired,
    grads,
  };
}

export function batchTopKGradients(ctx: GradientContext): GradientResult {
  const { o, p, spec } = ctx;
  const { batch: B, dSae: S } = spec;
  const kTotal = Math.floor(spec.k * B);
  if (kTotal < 1 || kTotal > B * S) throw new MiStudioError('INVALID_CONFIG', `batchtopk keeps k × batch = ${kTotal} activations, outside [1, ${B * S}]`, { field: 'k' });
  const enc = encode(ctx);
  const flat = o.reshape(o.relu(enc.h), [B * S]);
  const [vals, flatIdx] = o.topk(flat, o.ints([kTotal]));
  const z = o.reshape(o.scatterElements(o.zeros([B * S]), flatIdx, vals, 0), [B, S]); // feature acts
  const A = enc.rn ? o.mul(z, enc.rn) : z;
  const recon = o.add(o.matmul(A, p.W_dec), p.b_dec);
  const { mse, dR } = common.mse(ctx, recon);
  const active = o.gt(z, o.f(0));
  const dPre = o.where(active, o.gemm(dR, p.W_dec, 0, 1), o.f(0));
  const grads = { W_encT: o.gemm(dPre, enc.xc, 1, 0), b_enc: o.sum(dPre, [0]), W_dec: o.gemm(A, dR, 1, 0), b_dec: o.sum(dR, [0]) };
  const auxLoss = ctx.aux ? addAuxK(ctx, enc, recon, grads) : o.f(0);
  grads.b_dec = common.bDecGrad(ctx, grads.b_dec, grads.b_enc);
  const { l0, fired } = common.l0AndFired(ctx, active);
  // The smallest positive activation feeds SAELens' running threshold (the saved JumpReLU threshold).
  const minPositiveAct = o.minAll(o.where(active, z, o.f(Infinity)));
  return { mse, sparsity: o.f(0), aux: auxLoss, l0, l1: o.div(o.sumAll(z), o.f(B)), fired, grads, extra: { minPositiveAct } };
}

/** Adds the AuxK loss's gradients into `grads` (rows of the dead latents) and returns the loss. */
function addAuxK(ctx: GradientContext, enc: Encoded, recon: Value, grads: Record<string, Value>): Value {
  const { o, p, spec } = ctx;
  const { deadIndices, kAux, auxScale } = ctx.aux!;
  const B = spec.batch;
  const hDead = o.gather(enc.h, deadIndices, 1); // [B, nDead]
  const [vals, local] = o.topk(hDead, kAux); // [B, kAux]
  const coefVals = enc.rn ? o.mul(vals, o.gather(o.gather(enc.rn, deadIndices), local)) : vals;
  const A = o.scatterElements(o.zerosLike(hDead), local, coefVals, 1); // [B, nDead]
  const wDead = o.gather(p.W_dec, deadIndices); // [nDead, d]
  const residual = o.sub(ctx.x, recon); // detached: no gradient flows into recon from here
  const err = o.sub(o.matmul(A, wDead), residual);
  const loss = o.mul(auxScale, o.div(o.sumSquares(err), o.f(B)));
  const dRa = o.mul(err, o.mul(auxScale, o.f(2 / B))); // [B, d]
  const dA = o.gemm(dRa, wDead, 0, 1); // [B, nDead]
  const dPre = o.scatterElements(o.zerosLike(hDead), local, o.gatherElements(dA, local, 1), 1);
  const rows = o.unsqueeze(deadIndices, [1]); // [nDead, 1]
  grads.W_dec = o.scatterND(grads.W_dec, rows, o.gemm(A, dRa, 1, 0), 'add');
  grads.W_encT = o.scatterND(grads.W_encT, rows, o.gemm(dPre, enc.xc, 1, 0), 'add');
  grads.b_enc = o.scatterND(grads.b_enc, rows, o.sum(dPre, [0]), 'add');
  return loss;
}
