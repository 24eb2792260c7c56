/**
 * Deterministic reductions: every sum is taken in a fixed order (a strided pass per thread, then a
 * tree in workgroup memory), so a step computes the same bits each time it runs.
 */
import { ITEM_INDEX, PER_ITEM, WG } from './grid.js';

/**
 * `workgroupTotal(t, v)`: the sum of every invocation's `v`, returned to all of them, by a fixed tree
 * in workgroup memory. Every invocation must call it (it holds barriers); it can be called again at
 * once, as it waits for every read of its result before returning.
 */
export const WORKGROUP_TOTAL = /* wgsl */ `
var<workgroup> sh: array<f32, ${WG}>;
fn workgroupTotal(t: u32, v: f32) -> f32 {
  sh[t] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { sh[t] = sh[t] + sh[t + s]; }
    workgroupBarrier();
  }
  let total = sh[0];
  workgroupBarrier();
  return total;
}`;

/**
 * partials[offset + g] = scale · Σ src[i]² over workgroup g's share of [0, n) (squares: false sums
 * the values). Dispatch PARTIAL_GROUPS workgroups.
 */
export const PARTIAL_GROUPS = 256;

export function partialSumShader(squares: boolean): string {
  return /* wgsl */ `
struct P { n: u32, offset: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
${WORKGROUP_TOTAL}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) g: vec3<u32>) {
  let chunk = (p.n + ${PARTIAL_GROUPS - 1}u) / ${PARTIAL_GROUPS}u;
  let start = g.x * chunk;
  let end = min(start + chunk, p.n);
  var acc = 0.0;
  for (var i = start + t; i < end; i += ${WG}u) { let v = src[i]; acc += ${squares ? 'v * v' : 'v'}; }
  let total = workgroupTotal(t, acc);
  if (t == 0u) { partials[p.offset + g.x] = total; }
}`;
}

/** scalars[slot] = scale · Σ partials[0..count) (one workgroup). */
export const SUM_PARTIALS = /* wgsl */ `
struct P { count: u32, slot: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;
${WORKGROUP_TOTAL}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32) {
  var acc = 0.0;
  for (var i = t; i < p.count; i += ${WG}u) { acc += partials[i]; }
  let total = workgroupTotal(t, acc);
  if (t == 0u) { scalars[p.slot] = total * p.scale; }
}`;

/**
 * Per column of src [R, C]: sums[c] = Σ_r src[r, c] (added to what sums holds when `accumulate`) and,
 * when `withCounts`, counts[c] = the number of rows with src[r, c] > 0. One invocation per column;
 * neighbours read neighbouring columns.
 */
export function columnSumShader(withCounts: boolean, accumulate = false): string {
  return /* wgsl */ `
struct P { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
${withCounts ? '@group(0) @binding(3) var<storage, read_write> counts: array<f32>;' : ''}
${PER_ITEM} {
  let c = ${ITEM_INDEX};
  if (c >= p.cols) { return; }
  var s = 0.0;
  var n = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let v = src[r * p.cols + c];
    s += v;
    ${withCounts ? 'if (v > 0.0) { n += 1.0; }' : ''}
  }
  sums[c] = ${accumulate ? 'sums[c] + s' : 's'};
  ${withCounts ? 'counts[c] = n;' : ''}
}`;
}
