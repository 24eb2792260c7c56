/**
 * The tensor-core GEMM's indexing, run on SwiftShader through Node's Dawn: its subgroup-matrix
 * builtins are swapped for plain-WGSL functions of the same semantics (helpers/subgroup-matrix-
 * emulation.ts), the rest of the kernel runs as written. The GEMM alone on ragged sizes in every
 * layout, then whole training steps of the WGSL runner with that GEMM against the CPU graph: grids,
 * epilogues and write-out are checked here; the hardware's f16 arithmetic only on a GPU (bench/gpu).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createArray, readFloats } from '../gpu/buffers.js';
import { ComputeKernel, uniformBuffer } from '../gpu/compute.js';
import { requireGpu, type GpuContext } from '../gpu/dawn-device.js';
import { SUBGROUP_MATRIX_TILES, subgroupMatrixGemmShader, subgroupMatrixWorkgroups } from '../gpu/kernels/gemm-subgroup-matrix.js';
import { Rng } from '../engine/random.js';
import { SaeStepRunner } from '../sae/step-runner.js';
import { WgslSaeStepRunner } from '../sae/wgsl-step-runner.js';
import { maxRelativeError, wgslTestSpec } from './helpers/sae-fixtures.js';
import { emulateSubgroupMatrix } from './helpers/subgroup-matrix-emulation.js';

vi.mock('../gpu/kernels/gemm-subgroup-matrix.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../gpu/kernels/gemm-subgroup-matrix.js')>();
  return {
    ...real,
    // The emulation keeps the slabs in f32, twice their f16 size: the 128×128 tiling's would pass
    // SwiftShader's 32 KiB of workgroup memory at depth 32, so it is emulated at depth 16 (the 64×64
    // tiling covers depth 32).
    subgroupMatrixGemmShader: (...[shape, epilogue, options = {}]: Parameters<typeof real.subgroupMatrixGemmShader>) =>
      emulateSubgroupMatrix(real.subgroupMatrixGemmShader(shape, epilogue, options.tile === 128 ? { ...options, depth: 16 } : options)),
    // SwiftShader has no subgroup matrices to probe; the emulation is written for the template spelling.
    subgroupMatrixSyntax: async () => ({ syntax: { layout: 'template' as const }, errors: [] }),
  };
});

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await requireGpu({ software: true });
});

const rand = new Rng(21);
const randoms = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand.next() * 2 - 1) * scale);

describe('subgroup-matrix GEMM (emulated builtins) on SwiftShader', () => {
  for (const tile of SUBGROUP_MATRIX_TILES) for (const [transA, transB] of [[false, false], [false, true], [true, false]] as const) {
    it(`${tile}×${tile} tiles, ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}, with a bias+ReLU epilogue: matches a float64 product on ragged sizes`, async () => {
      const M = 300, N = 270, K = 70; // several tiles of either size, none full at the edges; K not a multiple of 32
      const a = randoms(M * K);
      const b = randoms(K * N);
      const bias = randoms(N, 0.5);
      const { device } = gpu;
      const epilogue = { bindings: '@group(0) @binding(4) var<storage, read> bias: array<f32>;', body: 'return max(acc + bias[col], 0.0);' };
      const kernel = new ComputeKernel(device, 'gemm', subgroupMatrixGemmShader({ transA, transB }, epilogue, { tile }));
      const out = createArray(device, M * N, 'c');
      const group = kernel.bind([uniformBuffer(device, 'dims', new Uint32Array([M, N, K])), createArray(device, a.length, 'a', a).buffer, createArray(device, b.length, 'b', b).buffer, out.buffer, createArray(device, N, 'bias', bias).buffer]);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      kernel.dispatch(pass, group, ...subgroupMatrixWorkgroups(M, N, tile));
      pass.end();
      device.queue.submit([encoder.finish()]);
      const got = await readFloats(device, out);
      const want = new Float64Array(M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[transA ? k * M + i : i * K + k] * b[transB ? j * K + k : k * N + j];
          want[i * N + j] = Math.max(s + bias[j], 0);
        }
      }
      expect(maxRelativeError(got, want)).toBeLessThan(1e-5);
      // Half the outputs are clamped: a kernel writing zeros everywhere must not pass.
      expect(got.filter((v) => v > 0).length).toBeGreaterThan(M * N * 0.3);
    });
  }

  const spec = (architecture: 'standard' | 'topk') => wgslTestSpec(architecture, { dIn: 40, dSae: 150, batch: 70, k: 6 });

  for (const [architecture, tile] of [['standard', 128], ['topk', 64]] as const) {
    it(`${architecture}, ${tile}×${tile} tiles: two WGSL training steps with this GEMM equal the CPU graph (metrics, gradients, parameters)`, async () => {
      const s = spec(architecture);
      const { dIn: d, dSae: S } = s;
      const params = { W_encT: randoms(S * d, 0.3), b_enc: randoms(S, 0.05), W_dec: randoms(S * d, 0.3), b_dec: randoms(d, 0.1) };
      const steps = [1, 2].map((t) => ({ x: randoms(s.batch * d), coefficient: 0.5, stepSize: 1e-2 / (1 - 0.9 ** t), biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** t) }));
      const wgsl = await WgslSaeStepRunner.create(s, params, undefined, { ...gpu, capabilities: { ...gpu.capabilities, gemm: 'subgroup-matrix-f16', subgroupMatrixTile: tile } });
      const cpu = await SaeStepRunner.create(s, params, undefined, { device: 'cpu', intraOpNumThreads: 1 });
      try {
        for (const [i, step] of steps.entries()) {
          const got = await wgsl.step(step);
          const want = await cpu.step(step);
          for (const name of ['loss', 'mseLoss', 'l0', 'gradNorm'] as const) expect(Math.abs(got[name] - want[name]) / Math.max(1, Math.abs(want[name])), `step ${i + 1} ${name}`).toBeLessThan(1e-5);
          expect(Array.from(got.firedCount), `step ${i + 1} fired`).toEqual(Array.from(want.firedCount));
          for (const [name, g] of Object.entries(want.gradients!)) expect(maxRelativeError(got.gradients![name], g), `step ${i + 1} grad ${name}`).toBeLessThan(2e-5);
        }
        const gotParams = await wgsl.parameters();
        const wantParams = await cpu.parameters();
        // Looser than the gradients: Adam's m/√v magnifies the GEMM's different summation order
        // (16-wide blocks) in components whose gradients are near zero.
        for (const name of Object.keys(params)) expect(maxRelativeError(gotParams[name], wantParams[name]), `param ${name}`).toBeLessThan(1e-4);
        expect(maxRelativeError(gotParams.W_dec, params.W_dec), 'the steps moved W_dec').toBeGreaterThan(1e-2);
      } finally {
        await wgsl.release();
        await cpu.release();
      }
    });
  }
});

