/**
 * topk weight gradients from the B·k selected entries instead of dense [B, S] matrices. With
 * entry e = b·k + j (row b's j-th pick: latent idx[e], coefficient a[e], pre-activation gradient
 * dPreK[e]) and latent i's entries grouped by latent-segments.ts (row ascending):
 *   dW_dec[i, :]  = Σ_e a[e]     · dR[b_e, :]      (= Aᵀ dR, A the dense scatter of a)
 *   dW_encT[i, :] = Σ_e dPreK[e] · xc[b_e, :]      (= Dᵀ xc)
 *   db_enc[i]     = Σ_e dPreK[e]
 *   fired[i]      = #{e : a[e] > 0}                (f32, as the dense column count of A > 0)
 * Latents no row selected get zeros: every output element is written, nothing needs clearing.
 * Work is O(B·k·d) against the dense path's 2·B·S·d multiply-adds.
 *
 * Mapping. WEIGHT_GRADS: one workgroup per (latent, tile of 128 columns of d); its invocations own
 * one column each and walk the segment in order, 128 entries at a time: the entries' rows and
 * coefficients are staged in workgroup memory, then every invocation adds a[e]·dR[b_e, col] and
 * dPreK[e]·xc[b_e, col] (both sums in one walk, coalesced reads of a row's columns). Each sum is taken
 * in segment order, so the result does not depend on scheduling. A latent with ~10 entries costs one
 * short stage; a hot latent selected by every row walks B entries (2·B fmas an invocation) in each
 * of its ⌈d/128⌉ workgroups while the other latents' workgroups run beside it: it bounds the kernel's
 * tail, not its total.
 * LATENT_SUMS: one workgroup per latent, each invocation a strided share of the segment, then a
 * fixed tree in workgroup memory (as in reductions.ts) — again a fixed order; counts are exact in
 * f32. The two are separate kernels because together they would bind 10 storage buffers, over
 * WebGPU's default limit of 8 a stage.
 *
 * Bindings (shared numbering; each kernel declares those it uses):
 *   0 p (uniform Grad), 1 segmentStart [S+1] u32, 2 entryOrder [B·k] u32, 3 a [B·k], 4 dPreK [B·k],
 *   5 dR [B, d], 6 xc [B, d], 7 gradWdec [S, d], 8 gradWencT [S, d], 9 gradBenc [S], 10 fired [S].
 *   WEIGHT_GRADS uses 0–8, LATENT_SUMS 0–4 and 9–10.
 */
import type { GpuArray } from '../buffers.js';
import { ComputeKernel, uniformBuffer, workgroupGrid } from '../compute.js';
import { LatentSegments, type KernelDispatch } from './latent-segments.js';
import { GROUP_INDEX, PER_GROUP, WG } from './grid.js';

const GRAD_STRUCT = /* wgsl */ `struct Grad { k: u32, S: u32, d: u32, tiles: u32 }`;
const COMMON = /* wgsl */ `
${GRAD_STRUCT}
@group(0) @binding(0) var<uniform> p: Grad;
@group(0) @binding(1) var<storage, read> segmentStart: array<u32>;
@group(0) @binding(2) var<storage, read> entryOrder: array<u32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> dPreK: array<f32>;`;

/** gradWdec and gradWencT, one workgroup per (latent, column tile): dispatch S · tiles workgroups. */
export const WEIGHT_GRADS = /* wgsl */ `
${COMMON}
@group(0) @binding(5) var<storage, read> dR: array<f32>;
@group(0) @binding(6) var<storage, read> xc: array<f32>;
@group(0) @binding(7) var<storage, read_write> gradWdec: array<f32>;
@group(0) @binding(8) var<storage, read_write> gradWencT: array<f32>;
var<workgroup> rowBase: array<u32, ${WG}>;
var<workgroup> coefA: array<f32, ${WG}>;
var<workgroup> coefD: array<f32, ${WG}>;
${PER_GROUP} {
  let g = ${GROUP_INDEX};
  let i = g / p.tiles;
  if (i >= p.S) { return; }
  let col = (g % p.tiles) * ${WG}u + t;
  let start = segmentStart[i];
  let end = segmentStart[i + 1u];
  var accA = 0.0;
  var accD = 0.0;
  for (var s = start; s < end; s += ${WG}u) {
    let m = min(${WG}u, end - s);
    if (t < m) {
      let e = entryOrder[s + t];
      rowBase[t] = (e / p.k) * p.d;
      coefA[t] = a[e];
      coefD[t] = dPreK[e];
    }
    workgroupBarrier();
    if (col < p.d) {
      for (var j = 0u; j < m; j++) {
        let at = rowBase[j] + col;
        accA = fma(coefA[j], dR[at], accA);
        accD = fma(coefD[j], xc[at], accD);
      }
    }
    workgroupBarrier();
  }
  if (col < p.d) {
    gradWdec[i * p.d + col] = accA;
    gradWencT[i * p.d + col] = accD;
  }
}`;

/** gradBenc and fired, one workgroup per latent: dispatch S workgroups. */
export const LATENT_SUMS = /* wgsl */ `
${COMMON}
@group(0) @binding(9) var<storage, read_write> gradBenc: array<f32>;
@group(0) @binding(10) var<storage, read_write> fired: array<f32>;
var<workgroup> sh: array<vec2<f32>, ${WG}>; // (Σ dPreK, count of a > 0)
${PER_GROUP} {
  let i = ${GROUP_INDEX};
  if (i >= p.S) { return; }
  let end = segmentStart[i + 1u];
  var acc = vec2<f32>(0.0, 0.0);
  for (var s = segmentStart[i] + t; s < end; s += ${WG}u) {
    let e = entryOrder[s];
    acc += vec2<f32>(dPreK[e], select(0.0, 1.0, a[e] > 0.0));
  }
  sh[t] = acc;
  workgroupBarrier();
  for (var h = ${WG / 2}u; h > 0u; h >>= 1u) {
    if (t < h) { sh[t] = sh[t] + sh[t + h]; }
    workgroupBarrier();
  }
  if (t == 0u) {
    gradBenc[i] = sh[0].x;
    fired[i] = sh[0].y;
  }
}`;

export interface SparseGradSizes {
  B: number;
  k: number;
  S: number;
  d: number;
}

/** Device buffers: idx u32 [B, k]; a, dPreK [B, k]; dR, xc [B, d]; outputs gradWdec, gradWencT [S, d], gradBenc, fired [S] (f32). */
export interface SparseGradBuffers {
  idx: GPUBuffer;
  a: GPUBuffer;
  dPreK: GPUBuffer;
  dR: GPUBuffer;
  xc: GPUBuffer;
  gradWdec: GPUBuffer;
  gradWencT: GPUBuffer;
  gradBenc: GPUBuffer;
  fired: GPUBuffer;
}

/**
 * The latent grouping followed by the two gradient kernels, bound once to `buffers`. `dispatches`
 * is the list in order (for a runner's plan); `encode` records it into a compute pass. Inputs must be
 * written before the pass runs; the outputs are complete after it.
 */
export class SparseWeightGradients {
  readonly segments: LatentSegments;
  readonly dispatches: KernelDispatch[];
  private readonly uniform: GPUBuffer;

  constructor(device: GPUDevice, readonly sizes: SparseGradSizes, buffers: SparseGradBuffers) {
    const { S, d, k } = sizes;
    this.segments = new LatentSegments(device, sizes, buffers.idx);
    const tiles = Math.max(1, Math.ceil(d / WG));
    this.uniform = uniformBuffer(device, 'sparse weight gradients', new Uint32Array([k, S, d, tiles]));
    const slots = [this.uniform, this.segments.segmentStart.buffer, this.segments.entryOrder.buffer, buffers.a, buffers.dPreK, buffers.dR, buffers.xc, buffers.gradWdec, buffers.gradWencT, buffers.gradBenc, buffers.fired];
    const dispatch = (label: string, code: string, used: number[], grid: [number, number]): KernelDispatch => {
      const kernel = new ComputeKernel(device, label, code);
      return { kernel, group: kernel.bind(slots.map((b, i) => (used.includes(i) ? b : undefined))), grid };
    };
    this.dispatches = [
      ...this.segments.dispatches,
      dispatch('sparse weight grads', WEIGHT_GRADS, [0, 1, 2, 3, 4, 5, 6, 7, 8], workgroupGrid(S * tiles, 1)),
      dispatch('sparse latent sums', LATENT_SUMS, [0, 1, 2, 3, 4, 9, 10], workgroupGrid(S, 1)),
    ];
  }

  /** Latent i's entries are entryOrder[segmentStart[i] .. segmentStart[i+1]) (u32), by row. */
  get segmentStart(): GpuArray {
    return this.segments.segmentStart;
  }

  get entryOrder(): GpuArray {
    return this.segments.entryOrder;
  }

  encode(pass: GPUComputePassEncoder): void {
    for (const d of this.dispatches) d.kernel.dispatch(pass, d.group, d.grid[0], d.grid[1]);
  }

  /** Destroys the scratch and uniform buffers this made (not the caller's). */
  destroy(): void {
    this.segments.destroy();
    this.uniform.destroy();
  }
}
