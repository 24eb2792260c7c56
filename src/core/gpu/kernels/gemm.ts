/**
 * C[M, N] = op(A) op(B), f32, workgroup-tiled: a tile of C per workgroup, each invocation
 * accumulating a block of it in registers while slabs of A and B pass through workgroup memory
 * (GemmConfig). Transposes are compile-time, so the SAE step's three shapes share one kernel:
 *   NT (encoder, dR W_decᵀ)  — A [M, K], B stored [N, K]
 *   NN (decoder)             — A [M, K], B [K, N]
 *   TN (weight gradients)    — A stored [K, M], B [K, N]
 * An epilogue (WGSL) maps each accumulated value before it is stored: bias, activation, masks,
 * or adding to what C holds.
 *
 * Bindings: 0 dims {M, N, K}, 1 A, 2 B, 3 C, then the epilogue's own from 4 on.
 */
export interface GemmShape {
  transA: boolean;
  transB: boolean;
}

export interface Epilogue {
  /** Declarations of bindings 4, 5, ... (`@group(0) @binding(4) var<storage, read> bias: array<f32>;`). */
  bindings?: string;
  /** Body of `fn epilogue(row: u32, col: u32, acc: f32) -> f32`; `c[row * dims.N + col]` is C's old value. */
  body: string;
}

/**
 * The blocking: `threads`² invocations, each accumulating `perThread`² values of C in registers,
 * make a tile of (threads · perThread)² while `depth`-deep slabs of A and B pass through workgroup
 * memory. More values a thread means more multiply-adds per workgroup-memory read.
 */
export interface GemmConfig {
  threads: 8 | 16;
  perThread: 4 | 8;
  depth: 8 | 16;
}

/**
 * 16×16 invocations of 8×8 values (128×128 tiles, the classic SGEMM blocking): what every adapter
 * gets, SwiftShader included (where it is also the faster one). SMALL_GEMM, 8×8 invocations of 4×4,
 * uses fewer registers per invocation; bench/gpu/gemm-check measures both on the GPU.
 */
export const DEFAULT_GEMM: GemmConfig = { threads: 16, perThread: 8, depth: 8 };
export const SMALL_GEMM: GemmConfig = { threads: 8, perThread: 4, depth: 16 };

/** Where element (m, k) of op(A) and (k, n) of op(B) live in the stored operands. */
export function operandIndex(shape: GemmShape): { a: string; b: string } {
  return { a: shape.transA ? 'k * dims.M + m' : 'm * dims.K + k', b: shape.transB ? 'n * dims.K + k' : 'k * dims.N + n' };
}

/** The bindings and the epilogue every GEMM kernel shares, so that the variants are interchangeable. */
export function gemmInterface(epilogue: Epilogue): string {
  return /* wgsl */ `
struct Dims { M: u32, N: u32, K: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
${epilogue.bindings ?? ''}

fn epilogue(row: u32, col: u32, acc: f32) -> f32 {
  ${epilogue.body}
}
`;
}

export function gemmShader(shape: GemmShape, epilogue: Epilogue = { body: 'return acc;' }, config: GemmConfig = DEFAULT_GEMM): string {
  const { threads: T, perThread: R, depth: D } = config;
  const tile = T * R;
  const slab = D * tile;
  const loads = slab / (T * T);
  const { a: aIndex, b: bIndex } = operandIndex(shape);
  // The walk over a slab follows the stored layout, so neighbouring invocations read neighbouring addresses.
  const aLoad = shape.transA ? `let mm = idx % ${tile}u; let kk = idx / ${tile}u;` : `let kk = idx % ${D}u; let mm = idx / ${D}u;`;
  const bLoad = shape.transB ? `let kk = idx % ${D}u; let nn = idx / ${D}u;` : `let nn = idx % ${tile}u; let kk = idx / ${tile}u;`;
  return /* wgsl */ `${gemmInterface(epilogue)}
var<workgroup> As: array<f32, ${slab}>; // [${D}][${tile}], k-major
var<workgroup> Bs: array<f32, ${slab}>; // [${D}][${tile}], k-major

@compute @workgroup_size(${T}, ${T})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * ${T}u + tx;
  let rowBase = wid.y * ${tile}u;
  let colBase = wid.x * ${tile}u;
  var acc: array<f32, ${R * R}>;
  for (var i = 0u; i < ${R * R}u; i++) { acc[i] = 0.0; }
  var k0 = 0u;
  loop {
    if (k0 >= dims.K) { break; }
    for (var l = 0u; l < ${loads}u; l++) {
      let idx = t + l * ${T * T}u;
      {
        ${aLoad}
        let m = rowBase + mm;
        let k = k0 + kk;
        var v = 0.0;
        if (m < dims.M && k < dims.K) { v = a[${aIndex}]; }
        As[kk * ${tile}u + mm] = v;
      }
      {
        ${bLoad}
        let n = colBase + nn;
        let k = k0 + kk;
        var v = 0.0;
        if (n < dims.N && k < dims.K) { v = b[${bIndex}]; }
        Bs[kk * ${tile}u + nn] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${D}u; kk++) {
      var av: array<f32, ${R}>;
      var bv: array<f32, ${R}>;
      for (var i = 0u; i < ${R}u; i++) {
        av[i] = As[kk * ${tile}u + ty * ${R}u + i];
        bv[i] = Bs[kk * ${tile}u + tx * ${R}u + i];
      }
      for (var i = 0u; i < ${R}u; i++) {
        for (var j = 0u; j < ${R}u; j++) {
          acc[i * ${R}u + j] = fma(av[i], bv[j], acc[i * ${R}u + j]);
        }
      }
    }
    workgroupBarrier();
    k0 += ${D}u;
  }
  for (var i = 0u; i < ${R}u; i++) {
    let row = rowBase + ty * ${R}u + i;
    if (row >= dims.M) { continue; }
    for (var j = 0u; j < ${R}u; j++) {
      let col = colBase + tx * ${R}u + j;
      if (col < dims.N) { c[row * dims.N + col] = epilogue(row, col, acc[i * ${R}u + j]); }
    }
  }
}
`;
}

/** Workgroups for a [M, N] result. */
export function gemmWorkgroups(M: number, N: number, config: GemmConfig = DEFAULT_GEMM): [number, number] {
  const tile = config.threads * config.perThread;
  return [Math.ceil(N / tile), Math.ceil(M / tile)];
}
