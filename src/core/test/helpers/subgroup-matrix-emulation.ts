/**
 * Rewrites the tensor-core GEMM (gemm-subgroup-matrix.ts) into plain WGSL that SwiftShader runs:
 * each subgroup-matrix builtin becomes a function with the extension's documented semantics for
 * 16×16 row-major matrices (element (r, c) of a matrix at `offset` is `array[offset + r·stride + c]`),
 * operating on the kernel's own workgroup arrays. Everything else — staging, tile and subgroup
 * offsets, bounds, the write-out and the epilogues — runs as written, so the tests check the kernel's
 * indexing on ragged sizes; only the hardware's own arithmetic is left to bench/gpu.
 *
 * Operands stay f32 (no f16 rounding), so results compare with f32 references at f32 tolerances.
 * The 32 lanes of a subgroup are invocations t / 32; lane l owns elements 8l .. 8l+7 of a result.
 */
const PRELUDE = /* wgsl */ `
struct SmOperand { offset: u32, stride: u32 }
struct SmResult { v: array<f32, 8> }
var<private> smLane: u32;

// Operands are read at multiply time: the kernel loads and multiplies between the same barriers.
fn smMultiplyAccumulate(l: SmOperand, r: SmOperand, c: SmResult) -> SmResult {
  var out = c;
  for (var q = 0u; q < 8u; q++) {
    let e = smLane * 8u + q;
    let row = e / 16u;
    let col = e % 16u;
    var acc = out.v[q];
    for (var kk = 0u; kk < 16u; kk++) {
      acc += As[l.offset + row * l.stride + kk] * Bs[r.offset + kk * r.stride + col];
    }
    out.v[q] = acc;
  }
  return out;
}

fn smStore(offset: u32, c: SmResult, stride: u32) {
  for (var q = 0u; q < 8u; q++) {
    let e = smLane * 8u + q;
    Cs[offset + (e / 16u) * stride + e % 16u] = c.v[q];
  }
}
`;

function replaceAll(code: string, pattern: RegExp, replacement: string, what: string): string {
  if (!pattern.test(code)) throw new Error(`subgroup-matrix emulation: the kernel no longer contains ${what}; update the emulation`);
  return code.replace(pattern, replacement);
}

export function emulateSubgroupMatrix(code: string): string {
  let out = code.replace(/^enable (f16|subgroups|chromium_experimental_subgroup_matrix);$/gm, '');
  out = replaceAll(out, /array<f16, /g, 'array<f32, ', 'f16 workgroup arrays');
  out = replaceAll(out, /= f16\((\w+)\);/g, '= $1;', 'f16 staging');
  out = replaceAll(out, /, @builtin\(subgroup_id\) sg: u32\) \{/, ') {\n  let sg = t / 32u;\n  smLane = t % 32u;', 'the subgroup_id builtin');
  out = replaceAll(out, /subgroup_matrix_result<f32, 16, 16>\(\)/g, 'SmResult()', 'result matrices');
  out = replaceAll(out, /subgroupMatrixLoad<subgroup_matrix_(?:left|right)<f16, 16, 16>, row_major>\(&(?:As|Bs), ([^,]+), (\d+u)\)/g, 'SmOperand($1, $2)', 'template-spelled loads');
  out = replaceAll(out, /subgroupMatrixMultiplyAccumulate\(/g, 'smMultiplyAccumulate(', 'multiply-accumulates');
  out = replaceAll(out, /subgroupMatrixStore<row_major>\(&Cs, ([^,]+), (\w+), (\d+u)\)/g, 'smStore($1, $2, $3)', 'template-spelled stores');
  if (/subgroup_?[mM]atrix|f16/.test(out)) throw new Error('subgroup-matrix emulation: a builtin was left unreplaced');
  return PRELUDE + out;
}
