/**
 * Every WGSL kernel and every step-runner configuration through the validation of the Dawn that
 * bench/gpu runs on the GPU machine (npm `webgpu`, null backend): the tensor-core GEMM included,
 * which Chromium's SwiftShader cannot compile. The numbers are checked elsewhere (gpu-wgsl.test.ts on
 * SwiftShader; bench/gpu on a GPU); this catches what would otherwise surface first on a lent GPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemmShader } from '../gpu/kernels/gemm.js';
import { SUBGROUP_MATRIX_TILES, subgroupMatrixGemmShader, subgroupMatrixSyntax, subgroupMatrixWorkgroupBytes } from '../gpu/kernels/gemm-subgroup-matrix.js';
import { WgslSaeStepRunner, type WgslStepSpec } from '../sae/wgsl-step-runner.js';
import { openNullGpu, type NullGpu } from './helpers/dawn-null.js';
import { wgslTestSpec } from './helpers/sae-fixtures.js';

let gpu: NullGpu;
beforeAll(async () => {
  gpu = await openNullGpu();
});
afterAll(() => gpu?.device.destroy());

const LAYOUTS = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
];
const RELU_BIAS = { bindings: '@group(0) @binding(4) var<storage, read> bias: array<f32>;', body: 'return max(acc + bias[col], 0.0);' };

function pipeline(code: string) {
  const module = gpu.device.createShaderModule({ code });
  gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
}

describe("Dawn's null backend (the GPU run's Dawn) validates the kernels", () => {
  it('rejects a kernel with an error, so a clean pass below means something', async () => {
    const errors = await gpu.validationErrors(() => pipeline(subgroupMatrixGemmShader(LAYOUTS[0]).replace('f16(v)', 'v')));
    expect(errors.join('\n')).toMatch(/f16|type/);
  });

  it('the subgroup-matrix GEMM compiles in both tilings, both depths and all three layouts, with an epilogue, in the template spelling', async () => {
    const probe = await subgroupMatrixSyntax(gpu.device);
    expect(probe).toEqual({ syntax: { layout: 'template' }, errors: [] });
    // The null adapter allows only WebGPU's default 16 KiB of workgroup memory: every variant fits it
    // but 128×128 tiles at depth 32 (for GPUs, which offer more), which must be refused by that alone.
    const refusal = new RegExp(`workgroup storage \\(${subgroupMatrixWorkgroupBytes(128, 32)} bytes\\) is larger than the maximum allowed`);
    for (const tile of SUBGROUP_MATRIX_TILES) {
      for (const depth of [16, 32] as const) {
        const fits = subgroupMatrixWorkgroupBytes(tile, depth) <= gpu.device.limits.maxComputeWorkgroupStorageSize;
        expect(fits).toBe(!(tile === 128 && depth === 32));
        for (const shape of LAYOUTS) {
          for (const epilogue of [undefined, RELU_BIAS]) {
            const what = JSON.stringify({ tile, depth, shape, epilogue });
            const errors = await gpu.validationErrors(() => pipeline(subgroupMatrixGemmShader(shape, epilogue, { syntax: probe.syntax, tile, depth })));
            if (fits) expect(errors, what).toEqual([]);
            else expect(errors.length === 1 && refusal.test(errors[0]), `${what}: ${errors.join('; ')}`).toBe(true);
          }
        }
      }
    }
  });

  it('the tiled f32 GEMM compiles in all three layouts', async () => {
    for (const shape of LAYOUTS) expect(await gpu.validationErrors(() => pipeline(gemmShader(shape, RELU_BIAS)))).toEqual([]);
  });

  const spec = (architecture: 'standard' | 'topk', overrides: Partial<WgslStepSpec> = {}) =>
    wgslTestSpec(architecture, { dIn: 64, dSae: 1024, batch: 256, k: 16 }, { exposeGradients: false, ...overrides });
  const cases: [string, WgslStepSpec][] = [
    ['standard', spec('standard')],
    ['topk, sparse weight gradients', spec('topk')],
    ['topk, dense weight gradients', spec('topk', { sparse: false, rescaleActsByDecoderNorm: false })],
  ];

  for (const gemm of ['tiled-f32', 'subgroup-matrix-f16'] as const) {
    for (const [name, s] of cases) {
      it(`${name} with the ${gemm} GEMM: the runner builds and runs a plain and an AuxK step without a validation error`, async () => {
        const { dIn: d, dSae: S } = s;
        const params = { W_encT: new Float32Array(S * d), b_enc: new Float32Array(S), W_dec: new Float32Array(S * d), b_dec: new Float32Array(d) };
        const runner = await WgslSaeStepRunner.create(s, params, undefined, { device: gpu.device, capabilities: { ...gpu.capabilities, gemm } });
        const x = new Float32Array(s.batch * d);
        const step = { x, coefficient: 0.5, stepSize: 1e-3, biasCorrection2Sqrt: 0.05 };
        const aux = s.architecture === 'topk' ? { aux: { deadIndices: [1, 5, 9, 700], kAux: 4, auxScale: 0.125 } } : {};
        expect(await gpu.validationErrors(() => runner.step(step))).toEqual([]);
        expect(await gpu.validationErrors(() => runner.step({ ...step, ...aux }))).toEqual([]);
        await runner.release();
      });
    }
  }
});
