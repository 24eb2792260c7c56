/**
 * Which tensors each architecture trains, and their shapes. The encoder is held transposed while
 * training, `W_encT` [S, d], so that it has the same row layout as `W_dec` [S, d]: the sparse topk
 * gradients of both are then scatters of d-wide rows, and the encoder GEMM reads it with transB.
 * Files (SAELens) store `W_enc` [d, S]; the format module transposes at the boundary.
 */
import type { Architecture } from './config.js';

export interface ParameterSpec {
  name: string;
  /** 'ds' = [dSae, dIn], 's' = [dSae], 'd' = [dIn]. */
  kind: 'ds' | 's' | 'd';
}

const ENC_DEC: ParameterSpec[] = [
  { name: 'W_encT', kind: 'ds' },
  { name: 'b_enc', kind: 's' },
  { name: 'W_dec', kind: 'ds' },
  { name: 'b_dec', kind: 'd' },
];

export function parameterSpecs(architecture: Architecture): ParameterSpec[] {
  switch (architecture) {
    case 'standard':
    case 'topk':
    case 'batchtopk':
      return ENC_DEC;
    case 'jumprelu':
      return [...ENC_DEC, { name: 'threshold', kind: 's' }];
    case 'gated':
      return [
        { name: 'W_encT', kind: 'ds' },
        { name: 'b_gate', kind: 's' },
        { name: 'b_mag', kind: 's' },
        { name: 'r_mag', kind: 's' },
        { name: 'W_dec', kind: 'ds' },
        { name: 'b_dec', kind: 'd' },
      ];
  }
}

export function parameterShape(spec: ParameterSpec, dIn: number, dSae: number): number[] {
  return spec.kind === 'ds' ? [dSae, dIn] : spec.kind === 's' ? [dSae] : [dIn];
}

/** Parameters by name, float32, in the training layout above. */
export type SaeParameters = Record<string, Float32Array>;
