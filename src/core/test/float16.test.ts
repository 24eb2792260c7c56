import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat, halfToFloat32Array } from '../index.js';

const fixture = readFileSync(new URL('./fixtures/float16.bin', import.meta.url));
const n = 8192;
const inputs = new Float32Array(fixture.buffer.slice(fixture.byteOffset, fixture.byteOffset + n * 4));
const numpyHalves = new Uint16Array(fixture.buffer.slice(fixture.byteOffset + n * 4, fixture.byteOffset + n * 6));

describe('float16', () => {
  it('rounds float32 to half exactly as numpy does (ties to even, subnormals, overflow)', () => {
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const ours = floatToHalf(inputs[i]);
      const isNaN = (numpyHalves[i] & 0x7c00) === 0x7c00 && (numpyHalves[i] & 0x3ff) !== 0;
      if (isNaN ? !Number.isNaN(halfToFloat(ours)) : ours !== numpyHalves[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('decodes numpy halves back to the values numpy would give', () => {
    const decoded = halfToFloat32Array(numpyHalves);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(inputs[i])) expect(Number.isNaN(decoded[i])).toBe(true);
      else if (Number.isFinite(decoded[i])) expect(Math.abs(decoded[i] - inputs[i])).toBeLessThanOrEqual(Math.max(Math.abs(inputs[i]) * 2 ** -11, 2 ** -25));
    }
  });

  it('round-trips every finite half bit pattern', () => {
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(floatToHalf(halfToFloat(h))).toBe(h);
    }
  });
});
