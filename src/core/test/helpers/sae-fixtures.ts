/** Shared helpers for the SAE tests: layout conversion from SAELens names, error measures, WGSL step specs. */
import type { WgslStepSpec } from '../../sae/wgsl-step-runner.js';

/** SAELens stores W_enc [d, S]; training holds W_encT [S, d]. Other tensors keep their names. */
export function fromSaeLensLayout(rec: Record<string, ArrayLike<number>>, dIn: number, dSae: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, values] of Object.entries(rec)) {
    if (name === 'W_enc') {
      const t = new Float32Array(dIn * dSae);
      for (let i = 0; i < dIn; i++) for (let j = 0; j < dSae; j++) t[j * dIn + i] = values[i * dSae + j];
      out.W_encT = t;
    } else {
      out[name] = Float32Array.from(values);
    }
  }
  return out;
}

/** ‖got - want‖ / ‖want‖ (absolute ‖got‖ when want is all zeros). */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs ${want.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** max |got - want| / max |want|: the worst element against the tensor's scale (1 when want is all zeros). */
export function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (scale || 1));
  return worst;
}

/**
 * A step spec for the WGSL tests at the given sizes: Adam's usual betas, gradient clipping at 1,
 * decoder-norm rescaling, sparse topk gradients and exposed gradients unless `overrides` say otherwise.
 */
export function wgslTestSpec(architecture: 'standard' | 'topk', sizes: { dIn: number; dSae: number; batch: number; k: number }, overrides: Partial<WgslStepSpec> = {}): WgslStepSpec {
  return {
    architecture, ...sizes, rescaleActsByDecoderNorm: true, jumpreluBandwidth: 0.001,
    adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, gradientClipNorm: 1, sparse: true, exposeGradients: true, ...overrides,
  };
}
