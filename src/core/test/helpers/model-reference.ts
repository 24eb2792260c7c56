/**
 * Reading the PyTorch references of the tiny model fixtures (tests/python/make_tiny_*.py) and
 * comparing activations with them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { readSafetensorsHeader, readSafetensorsTensor, type HookTensor } from '../../models/index.js';

export const MODEL_FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models');

export interface InterventionCase {
  name: string;
  hook: string;
  op: 'zero' | 'add' | 'replace';
  value?: 'other' | 'steer' | 'v_delta';
  positions?: number[];
}

export interface ModelReference {
  inputs: Record<'right' | 'left', { input_ids: number[][]; attention_mask: number[][] }>;
  interventions: { input_ids: number[][]; other_input_ids: number[][]; layer: number; cases: InterventionCase[] };
  /** Hooks recorded (make_tiny_architectures.py only). */
  hooks?: string[];
  model_type?: string;
}

export function loadModelReference(fixture: string) {
  const dir = path.join(MODEL_FIXTURES, fixture);
  const json = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as ModelReference;
  const header = readSafetensorsHeader(path.join(dir, 'reference.safetensors'));
  const tensor = (name: string): HookTensor => {
    const t = readSafetensorsTensor(header, name);
    return { data: t.data as Float32Array, shape: [...t.shape] };
  };
  return { dir, json, tensor, names: [...header.entries.keys()] };
}

/** Max |a - b| over the positions where mask[b][t] is 1 (position axis 1, or 2 for patterns). */
export function maxAbsDiff(got: HookTensor, want: HookTensor, mask?: number[][], positionAxis = 1): number {
  expect(got.shape).toEqual(want.shape);
  const shape = want.shape;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  let max = 0;
  for (let i = 0; i < want.data.length; i++) {
    if (mask) {
      const b = Math.floor(i / strides[0]) % shape[0];
      const t = Math.floor(i / strides[positionAxis]) % shape[positionAxis];
      if (!mask[b][t]) continue;
    }
    const d = Math.abs(got.data[i] - want.data[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}
