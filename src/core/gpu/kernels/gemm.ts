/**
 * C[M, N] = op(A) op(B), f32, workgroup-tiled: a tile of C per workgroup (64×64 from 16×16 threads
 * on GPUs), each thread accumulating a 4×4 block in registers while 16-deep slabs of A and B pass
 * through workgroup memory. Transposes are compile-time, so the SAE step's three shapes share one kernel:
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

/** Threads per side of the workgroup; the tile of C is 4× that. */
export type GemmThreads = 8 | 16;

/**
 * 16×16 threads on GPUs. SwiftShader crashes (futex abort in its fiber scheduler) on workgroups of
 * 256 invocations that use barriers, so software adapters get 8×8.
 */
export function gemmThreads(software: boolean): GemmThreads {
  return software ? 8 : 16;
}

export function gemmShader(shape: GemmShape, epilogue: Epilogue = { body: 'return acc;' }, threads: GemmThreads = 16): string {
  const T = threads;
  const tile = 4 * T;
  const slab = 16 * tile;
  const loads = slab / (T * T);
  const aIndex = shape.transA ? 'k * dims.M + m' : 'm * dims.K + k';
  const bIndex = shape.transB ? 'n * dims.K + k' : 'k * dims.N + n';
  // Each thread loads 4 elements of each slab; the walk follows the stored layout so neighbouring
  // threads read neighbouring addresses.
  const aLoad = shape.transA ? `let mm = idx % ${tile}u; let kk = idx / ${tile}u;` : 'let kk = idx % 16u; let mm = idx / 16u;';
  const bLoad = shape.transB ? 'let kk = idx % 16u; let nn = idx / 16u;' : `let nn = idx % ${tile}u; let kk = idx / ${tile}u;`;
  return /* wgsl */ `
struct Dims { M: u32, N: u32, K: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
${epilogue.bindings ?? ''}

var<workgroup> As: array<f32, ${slab}>; // [16][${tile}], k-major
var<workgroup> Bs: array<f32, ${slab}>; // [16][${tile}], k-major

fn epilogue(row: u32, col: u32, acc: f32) -> f32 {
  ${epilogue.body}
}

@compute @workgroup_size(${T}, ${T})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * ${T}u + tx;
  let rowBase = wid.y * ${tile}u;
  let colBase = wid.x * ${tile}u;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
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
    for (var kk = 0u; kk < 16u; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        av[i] = As[kk * ${tile}u + ty * 4u + i];
        bv[i] = Bs[kk * ${tile}u + tx * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i * 4u + j] = fma(av[i], bv[j], acc[i * 4u + j]);
        }
      }
    }
    workgroupBarrier();
    k0 += 16u;
  }
  for (var i = 0u; i < 4u; i++) {
    let row = rowBase + ty * 4u + i;
    if (row >= dims.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = colBase + tx * 4u + j;
      if (col < dims.N) { c[row * dims.N + col] = epilogue(row, col, acc[i * 4u + j]); }
    }
  }
}
`;
}

/** Workgroups for a [M, N] result. */
export function gemmWorkgroups(M: number, N: number, threads: GemmThreads = 16): [number, number] {
  return [Math.ceil(N / (4 * threads)), Math.ceil(M / (4 * threads))];
}
