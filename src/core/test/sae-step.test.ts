/**
 * The hand-derived training-step graphs against PyTorch autograd on SAELens v6's own training
 * classes (fixtures from tests/python/make_sae_fixtures.py): loss terms, raw gradients, and the
 * parameters and Adam moments after one clipped Adam step from a non-zero optimizer state.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../engine/random.js';
import { SessionCache } from '../engine/sessions.js';
import { SaeStepRunner, type StepMetrics } from '../sae/step-runner.js';
import type { Architecture } from '../sae/config.js';
import { fromSaeLensLayout, relativeError } from './helpers/sae-fixtures.js';

interface StepFixture {
  architecture: Architecture;
  config: { dIn: number; dSae: number; batch: number; k: number; coefficient: number; jumpreluBandwidth: number; lr: number; adamBeta1: number; adamBeta2: number; adamEpsilon: number; step: number };
  x: number[];
  deadMask: boolean[];
  params: Record<string, number[]>;
  adamM: Record<string, number[]>;
  adamV: Record<string, number[]>;
  expected: {
    loss: number; mseLoss: number; sparsityLoss: number; auxLoss: number; l0: number; gradNorm: number; topkThreshold?: number;
    grads: Record<string, number[]>; params: Record<string, number[]>; adamM: Record<string, number[]>; adamV: Record<string, number[]>;
  };
}

const cache = new SessionCache();
afterAll(() => cache.release());

function load(arch: string): StepFixture {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/sae/step-${arch}.json`, import.meta.url)), 'utf8')) as StepFixture;
}

async function runFixture(f: StepFixture, sparse: boolean): Promise<StepMetrics> {
  const c = f.config;
  const layout = (rec: Record<string, number[]>) => fromSaeLensLayout(rec, c.dIn, c.dSae);
  const runner = await SaeStepRunner.create(
    {
      architecture: f.architecture, dIn: c.dIn, dSae: c.dSae, batch: c.batch, k: c.k, rescaleActsByDecoderNorm: true,
      jumpreluBandwidth: c.jumpreluBandwidth, adamBeta1: c.adamBeta1, adamBeta2: c.adamBeta2, adamEpsilon: c.adamEpsilon,
      gradientClipNorm: 1, sparse, exposeGradients: true,
    },
    layout(f.params), { m: layout(f.adamM), v: layout(f.adamV) }, { device: 'cpu', intraOpNumThreads: 1, cache },
  );
  const dead = f.deadMask.flatMap((d, i) => (d ? [i] : []));
  const kAuxBase = Math.floor(c.dIn / 2);
  const metrics = await runner.step({
    x: Float32Array.from(f.x),
    coefficient: c.coefficient,
    stepSize: c.lr / (1 - c.adamBeta1 ** c.step),
    biasCorrection2Sqrt: Math.sqrt(1 - c.adamBeta2 ** c.step),
    aux: dead.length ? { deadIndices: dead, kAux: Math.min(kAuxBase, dead.length), auxScale: c.coefficient * Math.min(dead.length / kAuxBase, 1) } : undefined,
  });
  const params = await runner.parameters();
  const moments = await runner.moments();
  const want = { grads: layout(f.expected.grads), params: layout(f.expected.params), m: layout(f.expected.adamM), v: layout(f.expected.adamV) };
  const errors: Record<string, number> = {};
  for (const name of Object.keys(want.grads)) {
    errors[`grad ${name}`] = relativeError(metrics.gradients![name], want.grads[name]);
    errors[`param ${name}`] = relativeError(params[name], want.params[name]);
    errors[`adam_m ${name}`] = relativeError(moments.m[name], want.m[name]);
    errors[`adam_v ${name}`] = relativeError(moments.v[name], want.v[name]);
  }
  for (const [name, err] of Object.entries(errors)) expect(err, `${f.architecture} ${name}`).toBeLessThan(1e-4);
  expect(metrics.loss).toBeCloseTo(f.expected.loss, 3);
  expect(relativeError([metrics.mseLoss], [f.expected.mseLoss])).toBeLessThan(1e-5);
  expect(relativeError([metrics.sparsityLoss], [f.expected.sparsityLoss])).toBeLessThan(1e-5);
  expect(relativeError([metrics.auxLoss], [f.expected.auxLoss])).toBeLessThan(1e-5);
  expect(relativeError([metrics.gradNorm], [f.expected.gradNorm])).toBeLessThan(1e-5);
  expect(metrics.l0).toBeCloseTo(f.expected.l0, 5);
  if (f.expected.topkThreshold !== undefined) {
    // SAELens' first threshold update from 0: 0.99 · 0 + 0.01 · min positive activation.
    expect(0.01 * metrics.minPositiveAct!).toBeCloseTo(f.expected.topkThreshold, 6);
  }
  const worst = Math.max(...Object.values(errors));
  console.log(`${f.architecture}${f.architecture === 'topk' ? (sparse ? ' (sparse)' : ' (dense)') : ''}: worst relative error vs PyTorch ${worst.toExponential(2)}`);
  await runner.release();
  return metrics;
}

describe('SAE training-step graphs match PyTorch autograd + Adam (SAELens v6 losses)', () => {
  for (const arch of ['standard', 'batchtopk', 'jumprelu', 'gated'] as const) {
    it(arch, async () => {
      await runFixture(load(arch), false);
    });
  }
  it('topk, sparse decode/gradients', async () => {
    await runFixture(load('topk'), true);
  });
  it('topk, dense formulation', async () => {
    await runFixture(load('topk'), false);
  });
  it('topk: the sparse and dense formulations agree when no latent is dead (no AuxK)', async () => {
    const f = load('topk');
    const c = f.config;
    const layout = (rec: Record<string, number[]>) => fromSaeLensLayout(rec, c.dIn, c.dSae);
    const results = [];
    for (const sparse of [true, false]) {
      const runner = await SaeStepRunner.create(
        { architecture: 'topk', dIn: c.dIn, dSae: c.dSae, batch: c.batch, k: c.k, rescaleActsByDecoderNorm: true, jumpreluBandwidth: 0.05,
          adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, gradientClipNorm: 1, sparse, exposeGradients: true },
        layout(f.params), undefined, { device: 'cpu', intraOpNumThreads: 1, cache },
      );
      results.push(await runner.step({ x: Float32Array.from(f.x), coefficient: 1, stepSize: 1e-3, biasCorrection2Sqrt: 1 }));
    }
    expect(results[0].auxLoss).toBe(0);
    for (const name of Object.keys(results[1].gradients!)) {
      expect(relativeError(results[0].gradients![name], results[1].gradients![name]), name).toBeLessThan(1e-6);
    }
  });
  it('topk sparse gradients stay exact with several threads at a size where onnxruntime parallelises scatters', async () => {
    // Many tokens select the same latents, so the weight-gradient accumulation hits shared rows from
    // several threads; the sparse and dense formulations must still agree (and runs must repeat).
    const [B, d, S, k] = [512, 128, 1024, 32];
    const rng = new Rng(3);
    const params = {
      W_encT: Float32Array.from({ length: S * d }, () => rng.normal() * 0.05),
      b_enc: new Float32Array(S),
      W_dec: Float32Array.from({ length: S * d }, () => rng.normal() * 0.05),
      b_dec: new Float32Array(d),
    };
    const x = Float32Array.from({ length: B * d }, () => rng.normal());
    const grads = [];
    for (const sparse of [true, true, false]) {
      const runner = await SaeStepRunner.create(
        { architecture: 'topk', dIn: d, dSae: S, batch: B, k, rescaleActsByDecoderNorm: true, jumpreluBandwidth: 0.05,
          adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, gradientClipNorm: 1, sparse, exposeGradients: true },
        params, undefined, { device: 'cpu', intraOpNumThreads: 2, cache },
      );
      grads.push((await runner.step({ x, coefficient: 1, stepSize: 1e-3, biasCorrection2Sqrt: 1 })).gradients!);
    }
    for (const name of Object.keys(grads[2])) {
      expect(relativeError(grads[0][name], grads[2][name]), name).toBeLessThan(1e-5);
      expect(Buffer.from(grads[0][name].buffer).equals(Buffer.from(grads[1][name].buffer)), `${name} repeats`).toBe(true);
    }
  });
});
