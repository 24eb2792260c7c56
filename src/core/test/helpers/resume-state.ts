/** The bit-for-bit comparison the resume tests end with (CPU and WebGPU runs alike). */
import path from 'node:path';
import { expect } from 'vitest';
import { CHECKPOINT_FILE, readCheckpoint } from '../../sae/checkpoint.js';

/** Every parameter, moment and statistic of two checkpoints compared bit for bit, and the run state (all but wall-clock time). */
export function expectSameState(a: string, b: string): void {
  const ca = readCheckpoint(path.join(a, CHECKPOINT_FILE));
  const cb = readCheckpoint(path.join(b, CHECKPOINT_FILE));
  const same = (x: Float32Array, y: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  for (const [name, data] of Object.entries(ca.params)) {
    expect(same(cb.params[name], data), `param ${name}`).toBe(true);
    expect(same(cb.moments.m[name], ca.moments.m[name]), `adam_m ${name}`).toBe(true);
    expect(same(cb.moments.v[name], ca.moments.v[name]), `adam_v ${name}`).toBe(true);
  }
  expect(same(cb.statistics.stepsSinceFired, ca.statistics.stepsSinceFired)).toBe(true);
  expect(same(cb.statistics.windowFireCounts, ca.statistics.windowFireCounts)).toBe(true);
  const { trainingSeconds: _a, ...stateA } = ca.state;
  const { trainingSeconds: _b, ...stateB } = cb.state;
  expect(stateB).toEqual(stateA);
}
