/**
 * Throughput of miStudio's WGSL SAE training step (WgslSaeStepRunner) on the machine's WebGPU
 * adapter, fp32: random parameters (the project's initialiser), a few pre-generated random batches
 * cycled through, warm-up steps, then the wall clock around each `await runner.step(...)` (a step
 * reads back its metrics, so it has finished on the GPU when the await returns). Stops early once
 * --seconds-budget (counted from the start of the script) is used. One JSON line on stdout:
 *
 *   {"bench":"gpu-sae-step","impl":"mistudio","arch":..,"precision":"fp32","device":..,"gemm":..,
 *    "batch":..,"dIn":..,"dSae":..,"k":..,"msPerStep":median,"tokensPerSecond":..,"steps":n}
 *
 * then, where the device has timestamp queries, one profiled step, kernel by kernel:
 *
 *   {"bench":"gpu-sae-step-profile","arch":..,"gemm":..,"totalMs":..,"kernels":[{"label":..,"ms":..,"dispatches":n}, ...]}
 *
 * or the same head with "error" (exit code 1): no adapter, a spec the WGSL kernels do not cover,
 * a step that does not finish in time; or with "skipped" (exit code 0) when the adapter lacks the
 * --gemm variant asked for.
 *
 *   node --import tsx bench/gpu/sae-step-wgsl.ts --arch standard|topk [--batch 4096 --d-in 768
 *     --d-sae 24576 --k 64 --warmup 3 --steps 20 --seconds-budget 90 --seed 1
 *     --gemm tiled-f32|subgroup-matrix-f16]
 */
import { Rng } from '../../src/core/engine/random.js';
import { withTimeout } from '../../src/core/gpu/timeout.js';
import { WgslSaeStepRunner, wgslStepSupport } from '../../src/core/sae/wgsl-step-runner.js';
import { median, option } from '../lib/args.js';
import { architectureOption, deviceName, emit, errorMessage, gemmOption, gemmUnavailable, guardedGpu, log, positiveOption, randomBatch, seededParameters, stepScalars, stepSpec, trainingConfig, type Json } from './common.js';

const started = performance.now();
const args = process.argv.slice(2);
const say = (message: string) => log('sae-step-wgsl', message);
/** Pre-generated batches cycled through the steps. */
const BATCHES = 3;
/** The least time any single GPU wait is given, whatever is left of the budget. */
const MIN_WAIT_MS = 10_000;

let head: Json = { bench: 'gpu-sae-step', impl: 'mistudio', precision: 'fp32' };

function fail(error: string): never {
  emit({ ...head, error });
  process.exit(1);
}

async function main(): Promise<void> {
  const arch = architectureOption(args, 'standard');
  const sizes = {
    batch: positiveOption(args, 'batch', 4096),
    dIn: positiveOption(args, 'd-in', 768),
    dSae: positiveOption(args, 'd-sae', 24576),
    k: positiveOption(args, 'k', 64),
  };
  const warmup = Math.max(1, Number(option(args, 'warmup', '3')) || 0);
  const maxSteps = positiveOption(args, 'steps', 20);
  const budgetMs = positiveOption(args, 'seconds-budget', 90, false) * 1000;
  const seed = positiveOption(args, 'seed', 1);
  head = { ...head, arch, batch: sizes.batch, dIn: sizes.dIn, dSae: sizes.dSae, k: sizes.k };
  const elapsed = () => performance.now() - started;
  const left = () => Math.max(MIN_WAIT_MS, budgetMs - elapsed());
  const guard = <T>(p: Promise<T>, what: string) => withTimeout(p, left(), what);

  const cfg = trainingConfig(arch, sizes);
  const spec = stepSpec(cfg, sizes.batch, false);
  const unsupported = wgslStepSupport(spec);
  if (unsupported) fail(unsupported);

  const wantGemm = gemmOption(args);
  const gpu = await guardedGpu(Math.min(30_000, left()), wantGemm);
  if (!gpu) fail('no WebGPU adapter');
  // GEMM operands rounded to f16, products accumulated in f32 (as PyTorch's autocast, with bf16).
  head = { ...head, device: deviceName(gpu), gemm: gpu.capabilities.gemm, precision: gpu.capabilities.gemm === 'subgroup-matrix-f16' ? 'f16-operands' : 'fp32' };
  const unavailable = gemmUnavailable(gpu, wantGemm);
  if (unavailable) {
    emit({ ...head, skipped: unavailable });
    process.exit(0);
  }
  say(`${arch} B=${sizes.batch} d=${sizes.dIn} S=${sizes.dSae}${arch === 'topk' ? ` k=${sizes.k}` : ''} on ${head.device} (${gpu.capabilities.gemm})`);

  // Generated before any step, and never timed.
  const params = seededParameters(cfg, seed);
  const rng = new Rng(seed + 1);
  const batches = Array.from({ length: BATCHES }, () => randomBatch(rng, sizes.batch, sizes.dIn));
  say(`inputs ready after ${(elapsed() / 1000).toFixed(1)} s`);

  const runner = await guard(WgslSaeStepRunner.create(spec, params, undefined, gpu), 'creating the step runner');
  let t = 0;
  const step = async () => {
    t++;
    const metrics = await guard(runner.step({ x: batches[t % BATCHES], ...stepScalars(cfg, t) }), `step ${t}`);
    if (!metrics.committed) say(`step ${t} was not committed (loss ${metrics.loss}, grad norm ${metrics.gradNorm})`);
    return metrics;
  };
  // Warm-up: pipelines, first-use allocations; it gives up half the budget at most.
  for (let i = 0; i < warmup && (i === 0 || elapsed() < budgetMs / 2); i++) {
    const t0 = performance.now();
    const m = await step();
    say(`warm-up ${i + 1}: ${(performance.now() - t0).toFixed(1)} ms, loss ${m.loss.toPrecision(5)}`);
  }
  const times: number[] = [];
  while (times.length < maxSteps && (times.length === 0 || elapsed() < budgetMs)) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  if (times.length < maxSteps) say(`budget of ${budgetMs / 1000} s used after ${times.length} timed steps`);
  const ms = median(times);
  emit({ ...head, msPerStep: Number(ms.toFixed(3)), tokensPerSecond: Math.round((sizes.batch / ms) * 1000), steps: times.length });
  // Where the step's time goes, kernel by kernel: what to optimise next. Untimed, after the figure above.
  if (gpu.device.features.has('timestamp-query') && elapsed() < budgetMs) {
    t++;
    const kernels = await guard(runner.profile({ x: batches[t % BATCHES], ...stepScalars(cfg, t) }), 'the profiled step');
    const totalMs = kernels.reduce((sum, k) => sum + k.ms, 0);
    emit({ bench: 'gpu-sae-step-profile', arch, gemm: head.gemm, totalMs: Number(totalMs.toFixed(3)), kernels: kernels.map((k) => ({ ...k, ms: Number(k.ms.toFixed(3)) })) });
  }
  await guard(runner.release(), 'release');
}

main().then(
  () => process.exit(0),
  (cause) => fail(errorMessage(cause)),
);
