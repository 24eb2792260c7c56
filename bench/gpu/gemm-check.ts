/**
 * Each GEMM kernel the WGSL step can use, in each of its three layouts (NT encoder, NN decoder,
 * TN weight gradients), against a float64 product of the same operands on the CPU — for the
 * subgroup-matrix kernel, of the operands rounded to f16 as it stages them, so that both variants
 * are held to f32 accumulation error. Ragged sizes exercise the tile edges. Then each variant's
 * speed on a square product. JSON lines:
 *
 *   {"bench":"gpu-gemm-check","gemm":..,"layout":"NT"|"NN"|"TN","M":..,"N":..,"K":..,"maxRelErr":..,"tolerance":..,"pass":bool}
 *   {"bench":"gpu-gemm-speed","gemm":..,"size":4096,"msPerCall":..,"tflops":..}
 *   {"bench":"gpu-gemm-check","gemm":"subgroup-matrix-f16","skipped":reason}   (adapter without it)
 *
 *   node --import tsx bench/gpu/gemm-check.ts [--m 1000 --n 777 --k 515 --speed-size 4096 --timeout-seconds 30]
 */
import { floatToHalf, halfToFloat } from '../../src/core/engine/float16.js';
import { Rng } from '../../src/core/engine/random.js';
import { createArray, readFloats } from '../../src/core/gpu/buffers.js';
import { describeCapabilities } from '../../src/core/gpu/capabilities.js';
import { ComputeKernel, uniformBuffer } from '../../src/core/gpu/compute.js';
import { DEFAULT_GEMM, gemmShader, gemmWorkgroups, SMALL_GEMM, type GemmConfig, type GemmShape } from '../../src/core/gpu/kernels/gemm.js';
import { SUBGROUP_MATRIX_TILES, subgroupMatrixGemmShader, subgroupMatrixSyntax, subgroupMatrixTileFits, subgroupMatrixWorkgroups } from '../../src/core/gpu/kernels/gemm-subgroup-matrix.js';
import { withTimeout } from '../../src/core/gpu/timeout.js';
import { emit, errorMessage, guardedGpu, log, positiveOption, round } from './common.js';

const args = process.argv.slice(2);
const say = (message: string) => log('gemm-check', message);
const LAYOUTS: Record<string, GemmShape> = { NT: { transA: false, transB: true }, NN: { transA: false, transB: false }, TN: { transA: true, transB: false } };
const TOLERANCE = { 'tiled-f32': 1e-5, 'subgroup-matrix-f16': 1e-4 } as const;

interface Kernel {
  code: string;
  grid(M: number, N: number): [number, number];
}

function roundToHalf(values: Float32Array): Float32Array {
  return values.map((v) => halfToFloat(floatToHalf(v)));
}

function reference(shape: GemmShape, a: Float32Array, b: Float32Array, M: number, N: number, K: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const av = shape.transA ? a[k * M + i] : a[i * K + k];
      if (av === 0) continue;
      for (let j = 0; j < N; j++) c[i * N + j] += av * (shape.transB ? b[j * K + k] : b[k * N + j]);
    }
  }
  return c;
}

async function main(): Promise<number> {
  const M = positiveOption(args, 'm', 1000);
  const N = positiveOption(args, 'n', 777);
  const K = positiveOption(args, 'k', 515);
  const speedSize = positiveOption(args, 'speed-size', 4096);
  const timeoutMs = positiveOption(args, 'timeout-seconds', 30, false) * 1000;
  const guard = <T>(p: Promise<T>, what: string) => withTimeout(p, timeoutMs, what);
  const gpu = await guardedGpu(timeoutMs);
  if (!gpu) {
    emit({ bench: 'gpu-gemm-check', error: 'no WebGPU adapter' });
    return 1;
  }
  const { device } = gpu;
  const variants = new Map<string, { tolerance: number; make: (shape: GemmShape) => Kernel }>();
  const tiled = (config: GemmConfig) => ({ tolerance: TOLERANCE['tiled-f32'], make: (shape: GemmShape) => ({ code: gemmShader(shape, undefined, config), grid: (m: number, n: number) => gemmWorkgroups(m, n, config) }) });
  // The blocking the runner uses, then the smaller one, for the speed comparison between them.
  variants.set('tiled-f32', tiled(DEFAULT_GEMM));
  variants.set('tiled-f32 8x8 threads of 4x4', tiled(SMALL_GEMM));
  const withMatrices = describeCapabilities(gpu.capabilities.adapter, { subgroupMatrix: true });
  if (withMatrices.gemm === 'subgroup-matrix-f16') {
    const { syntax, errors } = await guard(subgroupMatrixSyntax(device), 'compiling the subgroup-matrix probe');
    if (syntax) {
      say(`subgroup-matrix builtins: layout ${syntax.layout}`);
      // Every tiling the device's limits allow, the runner's choice (the largest) first.
      for (const tile of SUBGROUP_MATRIX_TILES) {
        if (!subgroupMatrixTileFits(tile, device.limits)) continue;
        variants.set(`subgroup-matrix-f16 ${tile}x${tile}`, { tolerance: TOLERANCE['subgroup-matrix-f16'], make: (shape) => ({ code: subgroupMatrixGemmShader(shape, undefined, { syntax, tile }), grid: (m, n) => subgroupMatrixWorkgroups(m, n, tile) }) });
      }
    } else {
      emit({ bench: 'gpu-gemm-check', gemm: 'subgroup-matrix-f16', error: 'this Dawn compiles no spelling of the kernel', compilerErrors: errors });
    }
  } else {
    emit({ bench: 'gpu-gemm-check', gemm: 'subgroup-matrix-f16', skipped: withMatrices.reason });
  }

  const run = async (kernel: Kernel, m: number, n: number, k: number, a: Float32Array, b: Float32Array, repeats: number) => {
    const program = new ComputeKernel(device, 'gemm check', kernel.code);
    const out = createArray(device, m * n, 'c');
    const inputs = [uniformBuffer(device, 'dims', new Uint32Array([m, n, k])), createArray(device, a.length, 'a', a).buffer, createArray(device, b.length, 'b', b).buffer];
    const group = program.bind([...inputs, out.buffer]);
    const times: number[] = [];
    let result = new Float32Array(0);
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      program.dispatch(pass, group, ...kernel.grid(m, n));
      pass.end();
      device.queue.submit([encoder.finish()]);
      await guard(device.queue.onSubmittedWorkDone(), 'a GEMM');
      times.push(performance.now() - start);
      if (r === 0) result = await guard(readFloats(device, out), 'reading a GEMM back');
    }
    for (const buffer of [...inputs, out.buffer]) buffer.destroy();
    return { result, times };
  };

  const rng = new Rng(3);
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
  let failed = false;
  for (const [variant, { tolerance, make }] of variants) {
    for (const [layout, shape] of Object.entries(LAYOUTS)) {
      const a = random(M * K);
      const b = random(K * N);
      const { result } = await run(make(shape), M, N, K, a, b, 1);
      const want = variant.startsWith('subgroup-matrix-f16') ? reference(shape, roundToHalf(a), roundToHalf(b), M, N, K) : reference(shape, a, b, M, N, K);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(result[i] - want[i]));
      const maxRelErr = worst / scale;
      const pass = maxRelErr <= tolerance;
      failed ||= !pass;
      emit({ bench: 'gpu-gemm-check', gemm: variant, layout, M, N, K, maxRelErr: round(maxRelErr), tolerance, pass });
    }
    const size = speedSize;
    const { times } = await run(make(LAYOUTS.NN), size, size, size, random(size * size), random(size * size), 6);
    const ms = [...times.slice(1)].sort((x, y) => x - y)[Math.floor((times.length - 1) / 2)];
    emit({ bench: 'gpu-gemm-speed', gemm: variant, size, msPerCall: round(ms), tflops: round((2 * size ** 3) / (ms / 1000) / 1e12) });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (cause) => {
    emit({ bench: 'gpu-gemm-check', error: errorMessage(cause) });
    process.exit(1);
  },
);
