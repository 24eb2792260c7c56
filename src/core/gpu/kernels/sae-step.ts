/**
 * The SAE training step's own kernels (the GEMMs and reductions live in gemm.ts and reductions.ts).
 * Shapes: x, xc, recon, dR [B, d]; W_encT, W_dec [S, d]; b_enc, n [S]; b_dec [d];
 * topk: vals, a, dPreK [B, k] and idx [B, k] (u32, ascending within a row).
 *
 * `scalars` (f32) is the step's metric block, read back once per step:
 */
import { ITEM_INDEX, PER_ITEM, WG } from './grid.js';
import { WORKGROUP_TOTAL } from './reductions.js';

export const SLOT = {
  mse: 0,
  sparsity: 1,
  aux: 2,
  l0: 3,
  l1: 4,
  totalVariance: 5,
  gradNormSquared: 6,
  loss: 7,
  gradNorm: 8,
  clip: 9,
  committed: 10,
  /** Σ_i zSum_i n_i before scaling (standard). */
  weightedL1: 11,
  count: 16,
} as const;

/** Sizes every step kernel reads; one uniform buffer per runner. */
export const SIZES_STRUCT = /* wgsl */ `struct Sizes { B: u32, d: u32, S: u32, k: u32, beta1: f32, beta2: f32, eps: f32, clipNorm: f32 }`;
/** The AuxK pass's sizes, rewritten each step: n dead latents, k kept per row, the loss scale. */
export const AUX_STRUCT = /* wgsl */ `struct Aux { n: u32, k: u32, scale: f32, pad: u32 }`;
/** The per-step scalars, written before each submission. */
export const STEP_STRUCT = /* wgsl */ `struct Step { coefficient: f32, stepSize: f32, bc2Sqrt: f32, pad: f32 }`;


/** xc = x - b_dec (SAELens apply_b_dec_to_input). */
export const CENTRE = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> bDec: array<f32>;
@group(0) @binding(3) var<storage, read_write> xc: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= sz.B * sz.d) { return; }
  xc[i] = x[i] - bDec[i % sz.d];
}`;

/** n[i] = ‖W_dec[i]‖ and rn[i] = 1 / n[i] (SAELens takes the reciprocal, then multiplies). */
export const ROW_NORMS = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> wDec: array<f32>;
@group(0) @binding(2) var<storage, read_write> n: array<f32>;
@group(0) @binding(3) var<storage, read_write> rn: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= sz.S) { return; }
  var s = 0.0;
  for (var j = 0u; j < sz.d; j++) { let w = wDec[i * sz.d + j]; s += w * w; }
  let norm = sqrt(s);
  n[i] = norm;
  rn[i] = 1.0 / norm;
}`;

/** dR = 2 (recon - x) / B, and diff² for the MSE reduction, in place of recon. */
export const RESIDUAL = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> recon: array<f32>;
@group(0) @binding(3) var<storage, read_write> dR: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= sz.B * sz.d) { return; }
  let diff = recon[i] - x[i];
  dR[i] = diff * (2.0 / f32(sz.B));
  recon[i] = diff;
}`;

/**
 * Per column j of x: Σ_b (x[b, j] - mean_j)², for the batch's total variance (explained variance's
 * denominator). One invocation per column.
 */
export const COLUMN_VARIANCE = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= sz.d) { return; }
  var s = 0.0;
  for (var b = 0u; b < sz.B; b++) { s += x[b * sz.d + i]; }
  let mean = s / f32(sz.B);
  var v = 0.0;
  for (var b = 0u; b < sz.B; b++) { let c = x[b * sz.d + i] - mean; v += c * c; }
  out[i] = v;
}`;

/**
 * standard: Σ_i zSum_i, Σ_i fired_i and Σ_i zSum_i n_i in one workgroup, into the l1, l0 and
 * weightedL1 slots (unscaled; the finaliser divides).
 */
export const LATENT_TOTALS = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> zSum: array<f32>;
@group(0) @binding(2) var<storage, read> fired: array<f32>;
@group(0) @binding(3) var<storage, read> n: array<f32>;
@group(0) @binding(4) var<storage, read_write> scalars: array<f32>;
${WORKGROUP_TOTAL}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32) {
  var a = 0.0; var b = 0.0; var c = 0.0;
  for (var i = t; i < sz.S; i += ${WG}u) { a += zSum[i]; b += fired[i]; c += zSum[i] * n[i]; }
  let l1 = workgroupTotal(t, a);
  let l0 = workgroupTotal(t, b);
  let w = workgroupTotal(t, c);
  if (t == 0u) { scalars[${SLOT.l1}] = l1; scalars[${SLOT.l0}] = l0; scalars[${SLOT.weightedL1}] = w; }
}`;

/** db_dec = Σ_b dR[b] - (Σ_b dpre[b]) W_encT, one invocation per column of d. */
export const B_DEC_GRAD = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> dR: array<f32>;
@group(0) @binding(2) var<storage, read> dbEnc: array<f32>;
@group(0) @binding(3) var<storage, read> wEncT: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= sz.d) { return; }
  var s = 0.0;
  for (var b = 0u; b < sz.B; b++) { s += dR[b * sz.d + i]; }
  var e = 0.0;
  for (var f = 0u; f < sz.S; f++) { e += dbEnc[f] * wEncT[f * sz.d + i]; }
  grad[i] = s - e;
}`;

/**
 * One invocation: the loss, the gradient norm, SAELens' clip factor min(max/(‖g‖+1e-6), 1), and
 * whether the step may be committed (loss and norm finite). Finiteness is read from the exponent
 * bits: compilers may fold NaN comparisons away. The AuxK slot holds Σ err² / B when this step ran
 * AuxK (aux.n > 0) and is scaled here; otherwise it is stale and reads as 0.
 */
export const FINALIZE = /* wgsl */ `
${SIZES_STRUCT}
${STEP_STRUCT}
${AUX_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<uniform> st: Step;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;
@group(0) @binding(3) var<uniform> aux: Aux;
fn finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
@compute @workgroup_size(1)
fn main() {
  let B = f32(sz.B);
  scalars[${SLOT.sparsity}] = st.coefficient / B * scalars[${SLOT.weightedL1}];
  scalars[${SLOT.l0}] = scalars[${SLOT.l0}] / B;
  scalars[${SLOT.l1}] = scalars[${SLOT.l1}] / B;
  scalars[${SLOT.aux}] = select(0.0, scalars[${SLOT.aux}] * aux.scale, aux.n > 0u);
  let loss = scalars[${SLOT.mse}] + scalars[${SLOT.sparsity}] + scalars[${SLOT.aux}];
  scalars[${SLOT.loss}] = loss;
  let norm = sqrt(scalars[${SLOT.gradNormSquared}]);
  scalars[${SLOT.gradNorm}] = norm;
  scalars[${SLOT.clip}] = min(sz.clipNorm / (norm + 1e-6), 1.0);
  scalars[${SLOT.committed}] = select(0.0, 1.0, finite(loss) && finite(norm));
}`;

/**
 * torch.optim.Adam on one parameter, clipped gradient, skipped when the step is not committed:
 *   m ← m + (1-β1)(g-m);  v ← β2 v + (1-β2) g²;  p ← p - stepSize · m / (sqrt(v)/bc2Sqrt + eps).
 */
export const ADAM = /* wgsl */ `
${SIZES_STRUCT}
${STEP_STRUCT}
struct P { n: u32 }
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<uniform> st: Step;
@group(0) @binding(2) var<uniform> p: P;
@group(0) @binding(3) var<storage, read> scalars: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> param: array<f32>;
@group(0) @binding(6) var<storage, read_write> m: array<f32>;
@group(0) @binding(7) var<storage, read_write> v: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= p.n || scalars[${SLOT.committed}] == 0.0) { return; }
  let g = grad[i] * scalars[${SLOT.clip}];
  let mNext = m[i] + (g - m[i]) * (1.0 - sz.beta1);
  let vNext = v[i] * sz.beta2 + g * g * (1.0 - sz.beta2);
  m[i] = mNext;
  v[i] = vNext;
  param[i] = param[i] - mNext / (sqrt(vNext) / st.bc2Sqrt + sz.eps) * st.stepSize;
}`;
