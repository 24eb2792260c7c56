/**
 * Central finite differences of an independent float64 loss (helpers/sae-reference-loss.ts)
 * against the raw gradients of the ONNX step graphs, for every parameter entry. JumpReLU's threshold
 * is the exception: its loss is piecewise constant in θ, and the graph gives the straight-through
 * estimate there instead (checked against PyTorch in sae-step.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../engine/random.js';
import { SessionCache } from '../engine/sessions.js';
import { parameterShape, parameterSpecs } from '../sae/parameters.js';
import { SaeStepRunner } from '../sae/step-runner.js';
import { referenceLoss, type ReferenceSetup } from './helpers/sae-reference-loss.js';
import { relativeError } from './helpers/sae-fixtures.js';

const cache = new SessionCache();
afterAll(() => cache.release());

async function check(setup: ReferenceSetup, sparse = false): Promise<number> {
  const { dIn: d, dSae: S, batch: B } = setup;
  const rng = new Rng(setup.architecture.length * 7919 + (sparse ? 1 : 0));
  const params: Record<string, Float32Array> = {};
  for (const spec of parameterSpecs(setup.architecture)) {
    const size = parameterShape(spec, d, S).reduce((a, b) => a * b, 1);
    const scale = spec.kind === 'ds' ? 0.5 : 0.2;
    params[spec.name] = Float32Array.from({ length: size }, () => rng.normal() * scale);
  }
  if (params.threshold) params.threshold = params.threshold.map((t) => Math.abs(t));
  const x = Float32Array.from({ length: B * d }, () => rng.normal() + 0.2);
  const runner = await SaeStepRunner.create(
    { architecture: setup.architecture, dIn: d, dSae: S, batch: B, k: setup.k, rescaleActsByDecoderNorm: true, jumpreluBandwidth: 0.05,
      adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, gradientClipNorm: 1, sparse, exposeGradients: true },
    params, undefined, { device: 'cpu', intraOpNumThreads: 1, cache },
  );
  const metrics = await runner.step({
    x, coefficient: setup.coefficient, stepSize: 1e-3, biasCorrection2Sqrt: 1,
    aux: setup.dead?.length ? { deadIndices: setup.dead, kAux: setup.kAux!, auxScale: setup.auxScale! } : undefined,
  });
  const p64 = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v)]));
  const x64 = Float64Array.from(x);
  const base = referenceLoss(setup, p64, x64);
  expect(Math.abs(metrics.loss - base.loss) / base.loss).toBeLessThan(1e-5);
  const eps = 1e-6;
  let worst = 0;
  for (const name of Object.keys(params)) {
    if (setup.architecture === 'jumprelu' && name === 'threshold') continue;
    const fd = new Float64Array(params[name].length);
    for (let i = 0; i < fd.length; i++) {
      const keep = p64[name][i];
      p64[name][i] = keep + eps;
      const up = referenceLoss(setup, p64, x64, base.residual).loss;
      p64[name][i] = keep - eps;
      const down = referenceLoss(setup, p64, x64, base.residual).loss;
      p64[name][i] = keep;
      fd[i] = (up - down) / (2 * eps);
    }
    const err = relativeError(metrics.gradients![name], fd);
    expect(err, `${setup.architecture} ${name}`).toBeLessThan(1e-3);
    worst = Math.max(worst, err);
  }
  await runner.release();
  console.log(`${setup.architecture}${sparse ? ' (sparse)' : ''}: worst relative error vs central differences ${worst.toExponential(2)}`);
  return worst;
}

const base = { dIn: 6, dSae: 20, batch: 12, k: 3, coefficient: 0.3 };

describe('SAE step-graph gradients match central differences of a float64 reference loss', () => {
  it('standard', () => check({ ...base, architecture: 'standard' }));
  it('topk with AuxK (sparse path)', () => check({ ...base, architecture: 'topk', dead: [0, 4, 7, 11, 19], kAux: 3, auxScale: 0.8 }, true));
  it('topk with AuxK (dense path)', () => check({ ...base, architecture: 'topk', dead: [0, 4, 7, 11, 19], kAux: 3, auxScale: 0.8 }));
  it('batchtopk with AuxK', () => check({ ...base, architecture: 'batchtopk', dead: [2, 3, 9], kAux: 3, auxScale: 0.5 }));
  it('jumprelu (all but the STE threshold)', () => check({ ...base, architecture: 'jumprelu' }));
  it('gated', () => check({ ...base, architecture: 'gated' }));
});
