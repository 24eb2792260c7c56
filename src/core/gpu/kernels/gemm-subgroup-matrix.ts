/**
 * C[M, N] = op(A) op(B) on tensor cores through Dawn's `chromium_experimental_subgroup_matrix`:
 * f32 operands are rounded to f16 as they are staged into workgroup memory, products accumulate in
 * f32 (the precision of PyTorch's bf16 autocast, with a longer mantissa). Two tilings of C, each
 * from 32-wide subgroups that own a block of 16×16 result matrices:
 *
 * - 64×64 tiles, 128 invocations: 2×2 subgroups of 2×2 matrices; 12 KiB of workgroup memory, under
 *   WebGPU's default 16 KiB, so every adapter with the matrices can run it;
 * - 128×128 tiles, 256 invocations: 2×4 subgroups of 4×2 matrices; half the operand traffic per
 *   multiply-add, for 24 KiB of workgroup memory (GPUs offer 32 KiB or more).
 *
 * The accumulators go out one 16×16 matrix per subgroup at a time through workgroup memory, so the
 * same epilogues as the tiled f32 GEMM (gemm.ts) apply, through the same interface (gemmInterface).
 *
 * Not yet run on tensor cores (issue 11): the capability probe selects it only when asked to
 * (MISTUDIO_WEBGPU_GEMM=subgroup-matrix-f16), and bench/gpu/gemm-check compares both tilings with a
 * float64 product of the f16-rounded operands and times them.
 */
import { gemmInterface, operandIndex, type Epilogue, type GemmShape } from './gemm.js';

/**
 * The extension's builtins changed signature in Dawn: the layout moved from a bool argument (now
 * deprecated) to a template parameter. Both are generated; `subgroupMatrixSyntax` finds the first
 * one this Dawn compiles. The subgroup's place always comes from @builtin(subgroup_id): the matrix
 * builtins need subgroup-uniform offsets, and the uniformity analysis treats anything derived from
 * local_invocation_index as varying (Dawn's null backend rejects that spelling).
 */
export interface SubgroupMatrixSyntax {
  layout: 'template' | 'argument';
}

const SYNTAXES: SubgroupMatrixSyntax[] = [{ layout: 'template' }, { layout: 'argument' }];

/** Rows and columns of C one workgroup computes. */
export type SubgroupMatrixTile = 64 | 128;
export const SUBGROUP_MATRIX_TILES: readonly SubgroupMatrixTile[] = [128, 64];

interface Tiling {
  /** Subgroups down and across the tile. */
  subgroupRows: number;
  subgroupCols: number;
  /** 16×16 result matrices down and across each subgroup's block. */
  matrixRows: number;
  matrixCols: number;
}

const TILINGS: Record<SubgroupMatrixTile, Tiling> = {
  64: { subgroupRows: 2, subgroupCols: 2, matrixRows: 2, matrixCols: 2 },
  128: { subgroupRows: 2, subgroupCols: 4, matrixRows: 4, matrixCols: 2 },
};

/** K per staged slab: two 16-deep multiply-accumulate steps between barriers. */
const DEFAULT_DEPTH = 32;
export type SubgroupMatrixDepth = 16 | 32;
/** The one shape and subgroup width this kernel is written for. */
export const SUBGROUP_MATRIX_SHAPE = { M: 16, N: 16, K: 16, subgroupSize: 32 } as const;
/** 16×16 f32 staging for the result matrix each subgroup is writing out. */
const STAGE = 256;

function subgroups(tile: SubgroupMatrixTile): number {
  return TILINGS[tile].subgroupRows * TILINGS[tile].subgroupCols;
}

function subgroupMatrixInvocations(tile: SubgroupMatrixTile): number {
  return subgroups(tile) * SUBGROUP_MATRIX_SHAPE.subgroupSize;
}

/** Workgroup memory: the A and B slabs in f16 and one staged result matrix per subgroup. */
export function subgroupMatrixWorkgroupBytes(tile: SubgroupMatrixTile, depth: SubgroupMatrixDepth = DEFAULT_DEPTH): number {
  return 2 * tile * depth * 2 + subgroups(tile) * STAGE * 4;
}

/** Whether a device with these limits can run `tile` at the default depth. */
export function subgroupMatrixTileFits(tile: SubgroupMatrixTile, limits: { maxComputeWorkgroupStorageSize: number; maxComputeInvocationsPerWorkgroup: number }): boolean {
  return limits.maxComputeWorkgroupStorageSize >= subgroupMatrixWorkgroupBytes(tile) && limits.maxComputeInvocationsPerWorkgroup >= subgroupMatrixInvocations(tile);
}

export function subgroupMatrixWorkgroups(M: number, N: number, tile: SubgroupMatrixTile): [number, number] {
  return [Math.ceil(N / tile), Math.ceil(M / tile)];
}

function load(syntax: SubgroupMatrixSyntax, type: string, array: string, offset: string, stride: number): string {
  return syntax.layout === 'template'
    ? `subgroupMatrixLoad<${type}, row_major>(&${array}, ${offset}, ${stride}u)`
    : `subgroupMatrixLoad<${type}>(&${array}, ${offset}, false, ${stride}u)`;
}

function store(syntax: SubgroupMatrixSyntax, array: string, offset: string, value: string, stride: number): string {
  return syntax.layout === 'template'
    ? `subgroupMatrixStore<row_major>(&${array}, ${offset}, ${value}, ${stride}u)`
    : `subgroupMatrixStore(&${array}, ${offset}, ${value}, false, ${stride}u)`;
}

export interface SubgroupMatrixOptions {
  syntax?: SubgroupMatrixSyntax;
  tile?: SubgroupMatrixTile;
  /** K per staged slab (default 32); 16 halves the slabs' workgroup memory for twice the barriers. */
  depth?: SubgroupMatrixDepth;
}

export function subgroupMatrixGemmShader(shape: GemmShape, epilogue: Epilogue = { body: 'return acc;' }, options: SubgroupMatrixOptions = {}): string {
  const syntax = options.syntax ?? SYNTAXES[0];
  const T = options.tile ?? 64;
  const BK = options.depth ?? DEFAULT_DEPTH;
  const { subgroupRows, subgroupCols, matrixRows, matrixCols } = TILINGS[T];
  const threads = subgroupMatrixInvocations(T);
  const blockRows = matrixRows * 16;
  const blockCols = matrixCols * 16;
  const { a: aIndex, b: bIndex } = operandIndex(shape);
  // Staging walks follow the stored layout, so neighbouring invocations read neighbouring addresses.
  const aWalk = shape.transA ? `let mm = idx % ${T}u; let kk = idx / ${T}u;` : `let kk = idx % ${BK}u; let mm = idx / ${BK}u;`;
  const bWalk = shape.transB ? `let kk = idx % ${BK}u; let nn = idx / ${BK}u;` : `let nn = idx % ${T}u; let kk = idx / ${T}u;`;
  const left = 'subgroup_matrix_left<f16, 16, 16>';
  const right = 'subgroup_matrix_right<f16, 16, 16>';
  const result = 'subgroup_matrix_result<f32, 16, 16>';
  const pairs: [number, number][] = [];
  for (let i = 0; i < matrixRows; i++) for (let j = 0; j < matrixCols; j++) pairs.push([i, j]);
  const mac: string[] = [];
  for (let i = 0; i < matrixRows; i++) mac.push(`let l${i} = ${load(syntax, left, 'As', `(rowOff + ${i * 16}u) * ${BK}u + kk`, BK)};`);
  for (let j = 0; j < matrixCols; j++) mac.push(`let r${j} = ${load(syntax, right, 'Bs', `kk * ${T}u + colOff + ${j * 16}u`, T)};`);
  for (const [i, j] of pairs) mac.push(`c${i}${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, c${i}${j});`);
  // Each subgroup stages its (i, j) result matrix, then all invocations apply the epilogue to the
  // staged matrices; no invocation assumes which subgroup it belongs to.
  const writeOut = pairs.map(([i, j]) => `${store(syntax, 'Cs', `sg * ${STAGE}u`, `c${i}${j}`, 16)};
  workgroupBarrier();
  for (var e = t; e < ${subgroups(T) * STAGE}u; e += ${threads}u) {
    let s = e / ${STAGE}u;
    let row = rowBase + (s / ${subgroupCols}u) * ${blockRows}u + ${i * 16}u + (e % ${STAGE}u) / 16u;
    let col = colBase + (s % ${subgroupCols}u) * ${blockCols}u + ${j * 16}u + e % 16u;
    if (row < dims.M && col < dims.N) { c[row * dims.N + col] = epilogue(row, col, Cs[e]); }
  }
  workgroupBarrier();`);
  return /* wgsl */ `
enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;
${gemmInterface(epilogue)}
var<workgroup> As: array<f16, ${T * BK}>; // [${T}][${BK}]
var<workgroup> Bs: array<f16, ${BK * T}>; // [${BK}][${T}]
var<workgroup> Cs: array<f32, ${subgroups(T) * STAGE}>; // [subgroup][16][16]

@compute @workgroup_size(${threads})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sg: u32) {
  let rowBase = wid.y * ${T}u;
  let colBase = wid.x * ${T}u;
  // ${subgroupRows}×${subgroupCols} subgroups, each a ${blockRows}×${blockCols} block.
  let rowOff = (sg / ${subgroupCols}u) * ${blockRows}u;
  let colOff = (sg % ${subgroupCols}u) * ${blockCols}u;
  ${pairs.map(([i, j]) => `var c${i}${j} = ${result}();`).join('\n  ')}
  for (var k0 = 0u; k0 < dims.K; k0 += ${BK}u) {
    for (var l = 0u; l < ${(T * BK) / threads}u; l++) {
      let idx = t + l * ${threads}u;
      {
        ${aWalk}
        let m = rowBase + mm;
        let k = k0 + kk;
        var v = 0.0;
        if (m < dims.M && k < dims.K) { v = a[${aIndex}]; }
        As[mm * ${BK}u + kk] = f16(v);
      }
      {
        ${bWalk}
        let n = colBase + nn;
        let k = k0 + kk;
        var v = 0.0;
        if (n < dims.N && k < dims.K) { v = b[${bIndex}]; }
        Bs[kk * ${T}u + nn] = f16(v);
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk += 16u) {
      ${mac.join('\n      ')}
    }
    workgroupBarrier();
  }
  ${writeOut.join('\n  ')}
}`;
}

/**
 * The first spelling of the builtins this Dawn compiles; when none does, `errors` holds each
 * spelling's first compiler error, which is what fixing the kernel needs.
 */
export async function subgroupMatrixSyntax(device: GPUDevice): Promise<{ syntax?: SubgroupMatrixSyntax; errors: string[] }> {
  const errors: string[] = [];
  for (const syntax of SYNTAXES) {
    const name = syntax.layout;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: `subgroup-matrix probe ${name}`, code: subgroupMatrixGemmShader({ transA: false, transB: false }, undefined, { syntax }) });
    const info = await module.getCompilationInfo();
    await device.popErrorScope();
    const error = info.messages.find((m) => m.type === 'error');
    if (!error) return { syntax, errors };
    errors.push(`${name}: ${error.lineNum}:${error.linePos} ${error.message}`);
  }
  return { errors };
}
