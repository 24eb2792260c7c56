/**
 * C[M, N] = op(A) op(B) on tensor cores through Dawn's `chromium_experimental_subgroup_matrix`:
 * f32 operands are rounded to f16 as they are staged into workgroup memory, products accumulate in
 * f32 (the precision of PyTorch's bf16 autocast, with a longer mantissa). A workgroup of 128
 * invocations computes a 64×64 tile of C; with 32-wide subgroups each of its 4 subgroups owns a
 * 32×32 quarter as 2×2 result matrices of 16×16. The accumulators go out one 16×16 matrix per
 * subgroup at a time through workgroup memory, so the same epilogues as the tiled f32 GEMM (gemm.ts)
 * apply, through the same interface (gemmInterface), and the kernel needs 12 KiB of workgroup memory:
 * under WebGPU's default 16 KiB limit, so no adapter is refused for it.
 *
 * Not yet verified on a GPU (issue 11): the capability probe selects it only when asked to
 * (MISTUDIO_WEBGPU_GEMM=subgroup-matrix-f16), and bench/gpu/gemm-check compares it with a float64
 * product of the f16-rounded operands.
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

export const SUBGROUP_MATRIX_TILE = 64;
const BK = 32;
/** The one shape and subgroup width this kernel is written for. */
export const SUBGROUP_MATRIX_SHAPE = { M: 16, N: 16, K: 16, subgroupSize: 32 } as const;
/** 16×16 f32 staging for the result matrix each of the 4 subgroups is writing out. */
const STAGE = 256;
/** Workgroup memory: A and B slabs in f16 (2 × 64 × 32 × 2 bytes) and one staged result matrix per subgroup. */
export const SUBGROUP_MATRIX_WORKGROUP_BYTES = 2 * 64 * BK * 2 + 4 * STAGE * 4;

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

export function subgroupMatrixGemmShader(shape: GemmShape, epilogue: Epilogue = { body: 'return acc;' }, syntax: SubgroupMatrixSyntax = SYNTAXES[0]): string {
  const { a: aIndex, b: bIndex } = operandIndex(shape);
  // Staging walks follow the stored layout, so neighbouring invocations read neighbouring addresses.
  const aWalk = shape.transA ? 'let mm = idx % 64u; let kk = idx / 64u;' : `let kk = idx % ${BK}u; let mm = idx / ${BK}u;`;
  const bWalk = shape.transB ? `let kk = idx % ${BK}u; let nn = idx / ${BK}u;` : 'let nn = idx % 64u; let kk = idx / 64u;';
  const left = 'subgroup_matrix_left<f16, 16, 16>';
  const right = 'subgroup_matrix_right<f16, 16, 16>';
  const result = 'subgroup_matrix_result<f32, 16, 16>';
  const mac: string[] = [];
  for (let i = 0; i < 2; i++) {
    mac.push(`let l${i} = ${load(syntax, left, 'As', `(rowOff + ${i * 16}u) * ${BK}u + kk`, BK)};`);
  }
  for (let j = 0; j < 2; j++) {
    mac.push(`let r${j} = ${load(syntax, right, 'Bs', `kk * 64u + colOff + ${j * 16}u`, 64)};`);
  }
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) mac.push(`c${i}${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, c${i}${j});`);
  // Each subgroup stages its (i, j) result matrix, then all 128 invocations apply the epilogue to
  // the 4 staged matrices; no invocation assumes which subgroup it belongs to.
  const writeOut: string[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      writeOut.push(`${store(syntax, 'Cs', `sg * ${STAGE}u`, `c${i}${j}`, 16)};
  workgroupBarrier();
  for (var e = t; e < ${4 * STAGE}u; e += 128u) {
    let s = e / ${STAGE}u;
    let row = rowBase + (s / 2u) * 32u + ${i * 16}u + (e % ${STAGE}u) / 16u;
    let col = colBase + (s % 2u) * 32u + ${j * 16}u + e % 16u;
    if (row < dims.M && col < dims.N) { c[row * dims.N + col] = epilogue(row, col, Cs[e]); }
  }
  workgroupBarrier();`);
    }
  }
  return /* wgsl */ `
enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;
${gemmInterface(epilogue)}
var<workgroup> As: array<f16, ${64 * BK}>; // [64][${BK}]
var<workgroup> Bs: array<f16, ${BK * 64}>; // [${BK}][64]
var<workgroup> Cs: array<f32, ${4 * STAGE}>; // [subgroup][16][16]

@compute @workgroup_size(128)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sg: u32) {
  let rowBase = wid.y * 64u;
  let colBase = wid.x * 64u;
  let rowOff = (sg / 2u) * 32u;
  let colOff = (sg % 2u) * 32u;
  var c00 = ${result}();
  var c01 = ${result}();
  var c10 = ${result}();
  var c11 = ${result}();
  for (var k0 = 0u; k0 < dims.K; k0 += ${BK}u) {
    for (var l = 0u; l < ${(64 * BK) / 128}u; l++) {
      let idx = t + l * 128u;
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
        Bs[kk * 64u + nn] = f16(v);
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
    const module = device.createShaderModule({ label: `subgroup-matrix probe ${name}`, code: subgroupMatrixGemmShader({ transA: false, transB: false }, undefined, syntax) });
    const info = await module.getCompilationInfo();
    await device.popErrorScope();
    const error = info.messages.find((m) => m.type === 'error');
    if (!error) return { syntax, errors };
    errors.push(`${name}: ${error.lineNum}:${error.linePos} ${error.message}`);
  }
  return { errors };
}
