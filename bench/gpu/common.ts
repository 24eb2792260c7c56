/**
 * Shared by the GPU machine's scripts (probe, kernel-check, sae-step-wgsl): JSON-line output,
 * options, the guarded WebGPU context, SAE specs, seeded parameters and batches, and the
 * comparison of two step runners. Imports only the core modules it needs, never an index, so that
 * the esbuild bundles stay free of native addons other than the external webgpu and onnxruntime-node.
 */
import type { GemmVariant } from '../../src/core/gpu/capabilities.js';
import { acquireGpu, type GpuContext } from '../../src/core/gpu/dawn-device.js';
import { withTimeout } from '../../src/core/gpu/timeout.js';
import { Rng } from '../../src/core/engine/random.js';
import { resolveTrainingConfig, type TrainingConfig } from '../../src/core/sae/config.js';
import { initialParameters } from '../../src/core/sae/init.js';
import { parameterSpecs, type SaeParameters } from '../../src/core/sae/parameters.js';
import type { AdamMoments, StepInputs, StepMetrics, TrainingStepRunner } from '../../src/core/sae/step-runner.js';
import type { WgslStepSpec } from '../../src/core/sae/wgsl-step-runner.js';
import { option } from '../lib/args.js';

export type Json = Record<string, unknown>;
export type GpuArchitecture = 'standard' | 'topk';

/** One JSON line on stdout; stdout carries nothing else. */
export function emit(line: Json): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function log(script: string, message: string): void {
  process.stderr.write(`[${script}] ${message}\n`);
}

export function errorMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

export function positiveOption(args: string[], name: string, fallback: number, integer = true): number {
  const raw = option(args, name, String(fallback));
  const value = Number(raw);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  return value;
}

export function architectureOption(args: string[], fallback: GpuArchitecture): GpuArchitecture {
  const arch = option(args, 'arch', fallback);
  if (arch !== 'standard' && arch !== 'topk') throw new Error(`--arch must be standard or topk, got ${arch}`);
  return arch;
}

/** --gemm: the GEMM variant a script's WGSL step runs on. */
export function gemmOption(args: string[]): GemmVariant {
  const gemm = option(args, 'gemm', 'tiled-f32');
  if (gemm !== 'tiled-f32' && gemm !== 'subgroup-matrix-f16') throw new Error(`--gemm must be tiled-f32 or subgroup-matrix-f16, got ${gemm}`);
  return gemm;
}

/**
 * The shared Dawn context, or undefined without an adapter; rejects when Dawn does not answer in time.
 * `gemm` subgroup-matrix-f16 asks for the opt-in tensor-core GEMM where the adapter has it.
 */
export function guardedGpu(timeoutMs: number, gemm: GemmVariant = 'tiled-f32'): Promise<GpuContext | undefined> {
  // Read when the device is acquired (dawn-device.ts).
  if (gemm === 'subgroup-matrix-f16') process.env.MISTUDIO_WEBGPU_GEMM = gemm;
  // acquireGpu bounds requestAdapter and requestDevice; this also bounds loading Dawn itself.
  return withTimeout(acquireGpu({ timeoutMs }), timeoutMs + 5_000, 'acquireGpu');
}

/** Why this adapter does not run `gemm` (a fact about the machine, reported as skipped), if it does not. */
export function gemmUnavailable(gpu: GpuContext, gemm: GemmVariant): string | undefined {
  return gpu.capabilities.gemm === gemm ? undefined : `the ${gemm} GEMM is not available here: ${gpu.capabilities.reason}`;
}

/** What the JSON lines call the device: the adapter's description, else its device or vendor name. */
export function deviceName(gpu: GpuContext): string {
  const a = gpu.capabilities.adapter;
  return a.description || a.device || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
}

export interface Sizes {
  batch: number;
  dIn: number;
  dSae: number;
  k: number;
}

/** The training config a run of these sizes would resolve to (SAELens-like defaults). */
export function trainingConfig(architecture: GpuArchitecture, sizes: Sizes): TrainingConfig {
  return resolveTrainingConfig({
    architecture, dIn: sizes.dIn, dSae: sizes.dSae, k: sizes.k, rescaleActsByDecoderNorm: true,
    batchSizeTokens: sizes.batch, trainingTokens: sizes.batch * 1000,
  });
}

/** The step spec the trainer would build from `cfg` (trainer.ts createRunner), sparse topk. */
export function stepSpec(cfg: TrainingConfig, batch: number, exposeGradients: boolean): WgslStepSpec {
  return {
    architecture: cfg.architecture, dIn: cfg.dIn, dSae: cfg.dSae, batch, k: cfg.k,
    rescaleActsByDecoderNorm: cfg.rescaleActsByDecoderNorm, jumpreluBandwidth: cfg.jumpreluBandwidth,
    adamBeta1: cfg.adamBeta1, adamBeta2: cfg.adamBeta2, adamEpsilon: cfg.adamEpsilon, gradientClipNorm: cfg.gradientClipNorm,
    sparse: cfg.architecture === 'topk', exposeGradients,
  };
}

/** The project's initialiser (W_encT = W_dec, rows of norm decoderInitNorm); `biases` also randomises b_enc and b_dec. */
export function seededParameters(cfg: TrainingConfig, seed: number, biases = false): SaeParameters {
  const rng = new Rng(seed);
  const params = initialParameters(cfg, rng);
  if (biases) {
    for (let i = 0; i < params.b_enc.length; i++) params.b_enc[i] = (rng.next() * 2 - 1) * 0.01;
    for (let i = 0; i < params.b_dec.length; i++) params.b_dec[i] = (rng.next() * 2 - 1) * 0.1;
  }
  return params;
}

/** Standard-normal activations [batch, dIn]. */
export function randomBatch(rng: Rng, batch: number, dIn: number): Float32Array {
  const x = new Float32Array(batch * dIn);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

/** The trainer's step scalars for Adam step t (1-based) at a constant learning rate. */
export function stepScalars(cfg: TrainingConfig, t: number): Omit<StepInputs, 'x' | 'aux'> {
  return {
    coefficient: cfg.architecture === 'topk' ? 0 : cfg.sparsityCoefficient,
    stepSize: cfg.lr / (1 - cfg.adamBeta1 ** t),
    biasCorrection2Sqrt: Math.sqrt(1 - cfg.adamBeta2 ** t),
  };
}

/** max|a − b| / max|b|: the error relative to the reference tensor's scale; rows (of `rowLength` values) in `skip` left out. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, rowLength = 1, skip: ReadonlySet<number> = new Set()): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (skip.size && skip.has(Math.floor(i / rowLength))) continue;
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    // NaN must not compare away as "not larger".
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst / (scale || 1);
}

/** Metrics compared with the reference's; gradNorm is checked against the float64 norm instead. */
export const COMPARED_METRICS = ['loss', 'mseLoss', 'sparsityLoss', 'l0', 'l1', 'totalVariance'] as const;

export interface State {
  params: SaeParameters;
  moments: AdamMoments;
}

/** The global gradient norm, accumulated in float64. */
export function norm64(grads: SaeParameters): number {
  let squares = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) squares += g[i] * g[i];
  return Math.sqrt(squares);
}

/**
 * The step's Adam update in float64 from `state` with the raw gradients `grads`, as the WGSL kernels
 * and the graph compute it (clip_grad_norm_ coefficient min(clip / (‖g‖ + 1e-6), 1), then
 * torch.optim.Adam with the trainer's stepSize and sqrt(1 − β2^t)).
 */
export function adam64(spec: WgslStepSpec, state: State, grads: SaeParameters, inputs: StepInputs): { params: Record<string, Float64Array>; m: Record<string, Float64Array>; v: Record<string, Float64Array> } {
  const clip = Math.min(spec.gradientClipNorm / (norm64(grads) + 1e-6), 1);
  // The constants reach both implementations as float32 (1 − float32(0.999) is 1.3e-5 off 0.001).
  const [beta1, beta2, eps, stepSize, bc2] = [spec.adamBeta1, spec.adamBeta2, spec.adamEpsilon, inputs.stepSize, inputs.biasCorrection2Sqrt].map(Math.fround);
  const next = { params: {} as Record<string, Float64Array>, m: {} as Record<string, Float64Array>, v: {} as Record<string, Float64Array> };
  for (const [name, p] of Object.entries(state.params)) {
    const g = grads[name];
    const [m, v] = [state.moments.m[name], state.moments.v[name]];
    const [p1, m1, v1] = [new Float64Array(p.length), new Float64Array(p.length), new Float64Array(p.length)];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * clip;
      m1[i] = m[i] + (gi - m[i]) * (1 - beta1);
      v1[i] = v[i] * beta2 + gi * gi * (1 - beta2);
      p1[i] = p[i] - (m1[i] / (Math.sqrt(v1[i]) / bc2 + eps)) * stepSize;
    }
    next.params[name] = p1;
    next.m[name] = m1;
    next.v[name] = v1;
  }
  return next;
}

export interface Comparison {
  /** Per tensor and metric, the worst relative error over the steps. */
  maxRelErr: Record<string, number>;
  /** Per step, the latents whose fire counts differ (a pre-activation on the other side of 0 or of the k-th value). */
  firedCountMismatches: number[];
  committed: boolean;
  /** Candidate parameters after each step against the reference's from the same state (Adam's first steps are sign-like, so this is information, not a criterion). */
  paramsVsReference: number;
  /** How far the parameters moved from the initial ones (relative), so that matching Adam updates mean something. */
  paramsMoved: number;
  msPerStep: { candidate: number[]; reference: number[] };
}

function track(into: Record<string, number>, key: string, value: number): void {
  into[key] = Math.max(into[key] ?? 0, Number.isNaN(value) ? Infinity : value);
}

/**
 * Runs `steps` on the candidate (the GPU runner, one instance for all steps, so that the state it
 * keeps between steps is covered) and, for each step, on a reference made from the candidate's state
 * before that step: both start every step from the same parameters and moments, so that rounding
 * differences do not compound into diverging runs. Compared per step:
 * - gradients, candidate against reference, leaving out the rows of latents whose fire counts differ
 *   (an activation rounded to the other side of a threshold changes its latent's gradients outright);
 * - metrics, |a − b| / |b|, except gradNorm: the candidate's against the float64 norm of its gradients;
 * - the candidate's new parameters and moments against adam64 applied to the candidate's own
 *   gradients (Adam's first steps move each weight by about ±lr whatever the gradient's size, so
 *   comparing with the reference's parameters would only measure which near-zero gradients
 *   changed sign); referenceAdam checks adam64 against the reference's update the same way.
 * `guard` wraps every await of the candidate with a timeout.
 */
export async function compareSteps(
  candidate: TrainingStepRunner,
  reference: (state: State) => Promise<TrainingStepRunner>,
  steps: StepInputs[],
  guard: <T>(p: Promise<T>, what: string) => Promise<T>,
): Promise<Comparison> {
  const spec = candidate.spec;
  const kinds = new Map(parameterSpecs(spec.architecture).map((p) => [p.name, p.kind]));
  const maxRelErr: Record<string, number> = {};
  const firedCountMismatches: number[] = [];
  let committed = true;
  let paramsVsReference = 0;
  const msPerStep = { candidate: [] as number[], reference: [] as number[] };
  const read = async (runner: TrainingStepRunner, g: typeof guard): Promise<State> => ({ params: await g(runner.parameters(), 'parameters'), moments: await g(runner.moments(), 'moments') });
  const initial = await read(candidate, guard);
  let state = initial;
  for (let i = 0; i < steps.length; i++) {
    const ref = await reference(state);
    try {
      let t0 = performance.now();
      const got: StepMetrics = await guard(candidate.step(steps[i]), `step ${i + 1}`);
      msPerStep.candidate.push(performance.now() - t0);
      t0 = performance.now();
      const want = await ref.step(steps[i]);
      msPerStep.reference.push(performance.now() - t0);
      committed &&= got.committed && want.committed;
      for (const m of COMPARED_METRICS) track(maxRelErr, m, Math.abs(got[m] - want[m]) / (Math.abs(want[m]) || 1));
      const flipped = new Set<number>();
      for (let j = 0; j < want.firedCount.length; j++) if (got.firedCount[j] !== want.firedCount[j]) flipped.add(j);
      firedCountMismatches.push(flipped.size);
      if (!got.gradients || !want.gradients) throw new Error('both runners must expose their gradients');
      // Against the float64 norm of the candidate's own gradients: the graph's float32 ReduceSumSquare
      // over millions of values is itself off by ~6e-5 at the kernel check's size.
      const norm = norm64(got.gradients);
      track(maxRelErr, 'gradNorm', Math.abs(got.gradNorm - norm) / (norm || 1));
      for (const [name, g] of Object.entries(want.gradients)) {
        const kind = kinds.get(name);
        const rowLength = kind === 'ds' ? spec.dIn : 1;
        track(maxRelErr, `grad_${name}`, relativeError(got.gradients[name] ?? [], g, rowLength, kind === 'd' ? new Set() : flipped));
      }
      const after = await read(candidate, guard);
      const expected = adam64(spec, state, got.gradients, steps[i]);
      const refAfter = await read(ref, (p) => p);
      const refExpected = adam64(spec, state, want.gradients, steps[i]);
      for (const name of Object.keys(state.params)) {
        track(maxRelErr, 'params', relativeError(after.params[name], expected.params[name]));
        track(maxRelErr, 'adamM', relativeError(after.moments.m[name], expected.m[name]));
        track(maxRelErr, 'adamV', relativeError(after.moments.v[name], expected.v[name]));
        track(maxRelErr, 'referenceAdam', relativeError(refAfter.params[name], refExpected.params[name]));
        paramsVsReference = Math.max(paramsVsReference, relativeError(after.params[name], refAfter.params[name]));
      }
      state = after;
    } finally {
      await ref.release();
    }
  }
  let paramsMoved = 0;
  for (const name of Object.keys(state.params)) paramsMoved = Math.max(paramsMoved, relativeError(state.params[name], initial.params[name]));
  return { maxRelErr, firedCountMismatches, committed, paramsVsReference, paramsMoved, msPerStep };
}

/** Rounds for the JSON lines: 3 significant digits. */
export function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(3)) : value;
}
