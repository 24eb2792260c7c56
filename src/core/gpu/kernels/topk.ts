/**
 * topk SAE kernels: per-row selection of the k largest scores, the sparse decode through only those
 * k decoder rows, dL/da from the same rows, and the scatter into [B, S] for the weight-gradient GEMMs.
 */
import { AUX_STRUCT, SIZES_STRUCT, SLOT } from './sae-step.js';
import { GROUP_INDEX, ITEM_INDEX, PER_GROUP, PER_ITEM, WG } from './grid.js';
import { WORKGROUP_TOTAL } from './reductions.js';

/** Largest k the selection kernel's workgroup memory holds (its sort buffer is 4 bytes an entry). */
export const MAX_TOPK = 2048;

/** The power of two the selection sorts in; one per compiled variant. */
export function sortSize(maxK: number): number {
  return Math.max(2, 2 ** Math.ceil(Math.log2(maxK)));
}

const ROW = `let b = ${GROUP_INDEX};\n  if (b >= sz.B) { return; }`;

export interface SelectVariant {
  rescale: boolean;
  /** 'main': all S latents, k = sz.k, a = relu(vals)·rn. 'aux': the dead latents of `dead`, k = aux.k, coefficients vals·rn (not rectified). */
  mode: 'main' | 'aux';
  /** Upper bound of k, fixing the sort buffer. */
  maxK: number;
}

/**
 * One workgroup per row of h [B, S]: a 4-round radix select (8 bits a round, on order-preserving keys
 * of the f32 bits) finds the k-th largest score among the candidates; the scores above it, then
 * enough of the ties, are collected and sorted by candidate position, so the decode sums in a fixed
 * order. Which of several exactly equal scores are kept is unspecified, as in torch.topk.
 * Outputs (row stride k): idx = latent, vals = h[idx], a = the decode coefficient.
 * Bindings: 0 sizes, 1 h, 2 rn (rescale), 3 idx, 4 vals, 5 a; aux: 6 aux sizes, 7 dead.
 */
export function topkSelectShader(v: SelectVariant): string {
  const P = sortSize(v.maxK);
  const aux = v.mode === 'aux';
  const K = aux ? 'aux.k' : 'sz.k';
  const N = aux ? 'aux.n' : 'sz.S';
  const latent = (i: string) => (aux ? `dead[${i}]` : i);
  const coef = aux ? (v.rescale ? 'v * rn[f]' : 'v') : v.rescale ? 'max(v, 0.0) * rn[f]' : 'max(v, 0.0)';
  return /* wgsl */ `
${SIZES_STRUCT}
${AUX_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> h: array<f32>;
${v.rescale ? '@group(0) @binding(2) var<storage, read> rn: array<f32>;' : ''}
@group(0) @binding(3) var<storage, read_write> idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> vals: array<f32>;
@group(0) @binding(5) var<storage, read_write> a: array<f32>;
${aux ? '@group(0) @binding(6) var<uniform> aux: Aux;\n@group(0) @binding(7) var<storage, read> dead: array<u32>;' : ''}
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> counters: array<atomic<u32>, 2>;
var<workgroup> state: array<u32, 3>; // prefix, mask, how many of the k-th key to keep
var<workgroup> sel: array<u32, ${P}>;
fn key(v: f32) -> u32 {
  let u = bitcast<u32>(v);
  return select(u | 0x80000000u, ~u, (u & 0x80000000u) != 0u);
}
${PER_GROUP} {
  ${ROW}
  let base = b * sz.S;
  let K = ${K};
  if (t == 0u) { state[0] = 0u; state[1] = 0u; state[2] = K; }
  workgroupBarrier();
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    atomicStore(&hist[t], 0u);
    atomicStore(&hist[t + ${WG}u], 0u);
    workgroupBarrier();
    let prefix = state[0];
    let mask = state[1];
    for (var i = t; i < ${N}; i += ${WG}u) {
      let kv = key(h[base + ${latent('i')}]);
      if ((kv & mask) == prefix) { atomicAdd(&hist[(kv >> shift) & 255u], 1u); }
    }
    workgroupBarrier();
    if (t == 0u) {
      var above = 0u;
      var digit = 255u;
      loop {
        let c = atomicLoad(&hist[digit]);
        if (above + c >= state[2] || digit == 0u) { break; }
        above += c;
        digit -= 1u;
      }
      state[0] = prefix | (digit << shift);
      state[1] = mask | (255u << shift);
      state[2] = state[2] - above;
    }
    workgroupBarrier();
  }
  let kth = state[0];
  let ties = state[2];
  if (t < 2u) { atomicStore(&counters[t], 0u); }
  for (var i = t; i < ${P}u; i += ${WG}u) { sel[i] = 0xffffffffu; }
  workgroupBarrier();
  let firstTie = K - ties;
  for (var i = t; i < ${N}; i += ${WG}u) {
    let kv = key(h[base + ${latent('i')}]);
    if (kv > kth) {
      sel[atomicAdd(&counters[0], 1u)] = i;
    } else if (kv == kth) {
      let slot = atomicAdd(&counters[1], 1u);
      if (slot < ties) { sel[firstTie + slot] = i; }
    }
  }
  workgroupBarrier();
  // Bitonic sort of sel (padded with 0xffffffff) by candidate position.
  for (var size = 2u; size <= ${P}u; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var p = t; p < ${P / 2}u; p += ${WG}u) {
        let lo = 2u * stride * (p / stride) + (p % stride);
        let hi = lo + stride;
        let ascending = (lo & size) == 0u;
        let x = sel[lo];
        let y = sel[hi];
        if ((x > y) == ascending) { sel[lo] = y; sel[hi] = x; }
      }
      workgroupBarrier();
    }
  }
  for (var j = t; j < K; j += ${WG}u) {
    let f = ${latent('sel[j]')};
    let v = h[base + f];
    idx[b * K + j] = f;
    vals[b * K + j] = v;
    a[b * K + j] = ${coef};
  }
}`;
}

/**
 * out[b] = Σ_j a[b, j] W[idx[b, j]] (+ bias), one workgroup per row, invocations across d.
 * Bindings: 0 sizes, 1 idx, 2 a, 3 W, 4 bias, 5 out; aux (k = aux.k): 6 aux sizes.
 */
export function sparseDecodeShader(mode: 'main' | 'aux'): string {
  const aux = mode === 'aux';
  return /* wgsl */ `
${SIZES_STRUCT}
${AUX_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
${aux ? '@group(0) @binding(6) var<uniform> aux: Aux;' : '@group(0) @binding(4) var<storage, read> bias: array<f32>;'}
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
${PER_GROUP} {
  ${ROW}
  let K = ${aux ? 'aux.k' : 'sz.k'};
  for (var c = t; c < sz.d; c += ${WG}u) {
    var s = 0.0;
    for (var j = 0u; j < K; j++) { s += a[b * K + j] * w[idx[b * K + j] * sz.d + c]; }
    out[b * sz.d + c] = s${aux ? '' : ' + bias[c]'};
  }
}`;
}

/**
 * out[b, j] = dR[b] · W[idx[b, j]]: main keeps it where vals > 0 (dpre of the active latents); aux
 * keeps every selected entry, as the AuxK loss does not rectify.
 * Bindings: 0 sizes, 1 idx, 2 vals, 3 W, 4 dR, 5 out; aux: 6 aux sizes.
 */
export function sparseGradShader(mode: 'main' | 'aux'): string {
  const aux = mode === 'aux';
  return /* wgsl */ `
${SIZES_STRUCT}
${AUX_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
${aux ? '@group(0) @binding(6) var<uniform> aux: Aux;' : '@group(0) @binding(2) var<storage, read> vals: array<f32>;'}
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> dR: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
${PER_GROUP} {
  ${ROW}
  let K = ${aux ? 'aux.k' : 'sz.k'};
  for (var j = t; j < K; j += ${WG}u) {
    let row = idx[b * K + j] * sz.d;
    var s = 0.0;
    for (var c = 0u; c < sz.d; c++) { s += dR[b * sz.d + c] * w[row + c]; }
    out[b * K + j] = ${aux ? 's' : 'select(0.0, s, vals[b * K + j] > 0.0)'};
  }
}`;
}

/**
 * AuxK's error against the detached residual: err = ra - (x - recon) = ra + diff (`diff` holds
 * recon - x), written to err; dRa = err · scale · 2 / B.
 * Bindings: 0 sizes, 1 aux sizes, 2 diff, 3 ra→err, 4 dRa.
 */
export const AUX_ERROR = /* wgsl */ `
${SIZES_STRUCT}
${AUX_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<uniform> aux: Aux;
@group(0) @binding(2) var<storage, read> diff: array<f32>;
@group(0) @binding(3) var<storage, read_write> err: array<f32>;
@group(0) @binding(4) var<storage, read_write> dRa: array<f32>;
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  if (i >= sz.B * sz.d) { return; }
  let e = err[i] + diff[i];
  err[i] = e;
  dRa[i] = e * (aux.scale * (2.0 / f32(sz.B)));
}`;

/**
 * Scatters a row's entries into the dense [B, S] gradient matrices: A[b, idx] = coefficient and
 * D[b, idx] = dpre. main: both cleared beforehand, a row's indices are distinct. aux (k = aux.k):
 * A is AuxK's own and cleared; D adds, as a dead latent may also be active in the main selection.
 * Bindings: 0 sizes, 1 idx, 2 coefficients, 3 dpre, 4 dense A, 5 dense D; aux: 6 aux sizes.
 */
export function scatterShader(mode: 'main' | 'aux'): string {
  const aux = mode === 'aux';
  return /* wgsl */ `
${SIZES_STRUCT}
${AUX_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read> dPre: array<f32>;
@group(0) @binding(4) var<storage, read_write> denseA: array<f32>;
@group(0) @binding(5) var<storage, read_write> denseD: array<f32>;
${aux ? '@group(0) @binding(6) var<uniform> aux: Aux;' : ''}
${PER_ITEM} {
  let i = ${ITEM_INDEX};
  let K = ${aux ? 'aux.k' : 'sz.k'};
  if (i >= sz.B * K) { return; }
  let at = (i / K) * sz.S + idx[i];
  denseA[at] = coef[i];
  denseD[at] = ${aux ? 'denseD[at] + dPre[i]' : 'dPre[i]'};
}`;
}

/** Σ relu(vals) and the count of vals > 0 over [B, k] into the l1 and l0 slots (unscaled). */
export const TOPK_TOTALS = /* wgsl */ `
${SIZES_STRUCT}
@group(0) @binding(0) var<uniform> sz: Sizes;
@group(0) @binding(1) var<storage, read> vals: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;
${WORKGROUP_TOTAL}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  var n = 0.0;
  for (var i = t; i < sz.B * sz.k; i += ${WG}u) { let v = vals[i]; if (v > 0.0) { s += v; n += 1.0; } }
  let l1 = workgroupTotal(t, s);
  let l0 = workgroupTotal(t, n);
  if (t == 0u) { scalars[${SLOT.l1}] = l1; scalars[${SLOT.l0}] = l0; scalars[${SLOT.weightedL1}] = 0.0; }
}`;
