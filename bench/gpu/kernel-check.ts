/**
 * The WGSL SAE step on the machine's GPU against the onnxruntime CPU graph it reimplements, at a
 * moderate size: for standard and topk (k = 64, decoder-norm rescaling), three steps of one
 * WgslSaeStepRunner (exposeGradients) on seeded parameters and batches, each step also run by a CPU
 * SaeStepRunner (intraOpNumThreads = all cores) created from the GPU runner's state before it, so
 * that both start every step from the same parameters and moments (compareSteps in common.ts; free
 * runs of the two drift apart within a step or two, because Adam's first updates are about ±lr per
 * weight whatever the gradient's size, so a near-zero gradient rounded to the other sign moves its
 * weight 2·lr the other way). Per architecture one JSON line:
 *
 *   {"bench":"gpu-kernel-check","arch":..,"batch":..,"dIn":..,"dSae":..,"k":..,"tolerance":1e-4,"device":..,"gemm":..,
 *    "maxRelErr":{"loss":..,"mseLoss":..,"sparsityLoss":..,"l0":..,"l1":..,"totalVariance":..,"gradNorm":..,
 *      "grad_W_encT":..,"grad_b_enc":..,"grad_W_dec":..,"grad_b_dec":..,"params":..,"adamM":..,"adamV":..,"referenceAdam":..},
 *    "pass":bool,"committed":bool,"firedCountMismatches":[per step],"paramsVsCpu":..,"paramsMoved":..,
 *    "gpuMsPerStep":[..],"cpuMsPerStep":[..]}
 *
 * Relative error = max|gpu − cpu| / max|cpu| per tensor, metrics |gpu − cpu| / |cpu|, worst over the
 * steps; gradNorm is the GPU's against the float64 norm of the GPU's gradients (the graph's own
 * float32 norm is ~6e-5 off at this size). Gradients leave out the rows of latents whose fire counts differ (firedCountMismatches: an
 * activation that rounded to the other side of 0, or of the k-th value, changes its latent's
 * gradients outright). params/adamM/adamV: the GPU's state after each step against a float64 Adam
 * applied to the GPU's own gradients; referenceAdam: the same for the CPU graph, which ties that
 * float64 Adam to the reference. paramsVsCpu (GPU against CPU parameters after the same step) is
 * information only. pass = every maxRelErr ≤ tolerance and every step committed. The step's GEMMs
 * are covered by the gradients, so there is no separate GEMM check.
 *
 * With --gemm subgroup-matrix-f16 the step runs on the tensor-core GEMM (f16 operands) and the
 * default tolerance is 5e-3; an adapter without it gives one "skipped" line.
 *
 *   node --import tsx bench/gpu/kernel-check.ts [--batch 512 --d-in 768 --d-sae 4096 --k 64
 *     --tolerance 1e-4 --timeout-seconds 30 --arch standard|topk --gemm tiled-f32|subgroup-matrix-f16]
 */
import os from 'node:os';
import { MiStudioError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/engine/random.js';
import { withTimeout } from '../../src/core/gpu/timeout.js';
import { SessionCache } from '../../src/core/engine/sessions.js';
import { SaeStepRunner } from '../../src/core/sae/step-runner.js';
import { WgslSaeStepRunner, wgslStepSupport } from '../../src/core/sae/wgsl-step-runner.js';
import { option } from '../lib/args.js';
import { compareSteps, deviceName, emit, errorMessage, gemmOption, gemmUnavailable, guardedGpu, log, positiveOption, randomBatch, round, seededParameters, stepScalars, stepSpec, trainingConfig, type GpuArchitecture, type Json } from './common.js';

const args = process.argv.slice(2);
const say = (message: string) => log('kernel-check', message);
const STEPS = 3;

async function main(): Promise<number> {
  const sizes = {
    batch: positiveOption(args, 'batch', 512),
    dIn: positiveOption(args, 'd-in', 768),
    dSae: positiveOption(args, 'd-sae', 4096),
    k: positiveOption(args, 'k', 64),
  };
  const wantGemm = gemmOption(args);
  // f16 GEMM operands carry 2^-11 relative error each; their gradients are held to f16 tolerance.
  const tolerance = positiveOption(args, 'tolerance', wantGemm === 'subgroup-matrix-f16' ? 5e-3 : 1e-4, false);
  const timeoutMs = positiveOption(args, 'timeout-seconds', 30, false) * 1000;
  const only = option(args, 'arch', '');
  const architectures = (['standard', 'topk'] as const).filter((a) => !only || a === only);
  if (architectures.length === 0) throw new Error(`--arch must be standard or topk, got ${only}`);
  const guard = <T>(p: Promise<T>, what: string) => withTimeout(p, timeoutMs, what);

  const gpu = await guardedGpu(timeoutMs, wantGemm);
  if (!gpu) {
    emit({ bench: 'gpu-kernel-check', error: 'no WebGPU adapter' });
    return 1;
  }
  const unavailable = gemmUnavailable(gpu, wantGemm);
  if (unavailable) {
    emit({ bench: 'gpu-kernel-check', gemm: wantGemm, skipped: unavailable });
    return 0;
  }
  const device = deviceName(gpu);
  const threads = os.availableParallelism();
  say(`${device} (${gpu.capabilities.gemm}); CPU reference on ${threads} threads; B=${sizes.batch} d=${sizes.dIn} S=${sizes.dSae} k=${sizes.k}`);
  let failed = false;
  let wedged: string | undefined;
  for (const arch of architectures) {
    const head: Json = { bench: 'gpu-kernel-check', arch, ...sizes, tolerance, device, gemm: gpu.capabilities.gemm };
    if (wedged) {
      emit({ ...head, pass: false, error: `skipped: ${wedged}` });
      failed = true;
      continue;
    }
    try {
      const line = await check(arch, sizes, tolerance, threads, gpu, guard);
      emit({ ...head, ...line });
      failed ||= !line.pass;
    } catch (cause) {
      failed = true;
      emit({ ...head, pass: false, error: errorMessage(cause) });
      // withTimeout's error: the device did not answer, and would not for the next architecture either.
      if (cause instanceof MiStudioError && cause.code === 'DEVICE_UNAVAILABLE' && /did not finish in/.test(cause.message)) wedged = cause.message;
    }
  }
  return failed ? 1 : 0;
}

async function check(
  arch: GpuArchitecture,
  sizes: { batch: number; dIn: number; dSae: number; k: number },
  tolerance: number,
  threads: number,
  gpu: NonNullable<Awaited<ReturnType<typeof guardedGpu>>>,
  guard: <T>(p: Promise<T>, what: string) => Promise<T>,
): Promise<Json & { pass: boolean }> {
  const cfg = trainingConfig(arch, sizes);
  const spec = stepSpec(cfg, sizes.batch, true);
  const unsupported = wgslStepSupport(spec);
  if (unsupported) throw new Error(unsupported);
  // Random biases too, so that the first step already exercises them.
  const params = seededParameters(cfg, 11, true);
  const rng = new Rng(5);
  const steps = Array.from({ length: STEPS }, (_, i) => ({ x: randomBatch(rng, sizes.batch, sizes.dIn), ...stepScalars(cfg, i + 1) }));
  // One session for the references of every step: each is a new runner on the GPU runner's state.
  const sessions = new SessionCache();
  const candidate = await guard(WgslSaeStepRunner.create(spec, params, undefined, gpu), 'creating the step runner');
  try {
    const c = await compareSteps(candidate, (state) => SaeStepRunner.create(spec, state.params, state.moments, { device: 'cpu', intraOpNumThreads: threads, cache: sessions }), steps, guard);
    const maxRelErr = Object.fromEntries(Object.entries(c.maxRelErr).map(([k, v]) => [k, round(v)]));
    const worst = Object.entries(c.maxRelErr).reduce((a, b) => (b[1] > a[1] ? b : a));
    const pass = c.committed && Object.values(c.maxRelErr).every((v) => v <= tolerance);
    say(`${arch}: ${pass ? 'pass' : 'FAIL'}, worst ${worst[0]} ${worst[1].toExponential(2)}, fired-count mismatches ${c.firedCountMismatches.join('/')}`);
    return {
      maxRelErr, pass, committed: c.committed, firedCountMismatches: c.firedCountMismatches,
      paramsVsCpu: round(c.paramsVsReference), paramsMoved: round(c.paramsMoved),
      gpuMsPerStep: c.msPerStep.candidate.map((v) => Number(v.toFixed(1))), cpuMsPerStep: c.msPerStep.reference.map((v) => Number(v.toFixed(1))),
    };
  } finally {
    await guard(candidate.release(), 'release');
    await sessions.release();
  }
}

main().then(
  (code) => process.exit(code),
  (cause) => {
    emit({ bench: 'gpu-kernel-check', error: errorMessage(cause) });
    process.exit(1);
  },
);
