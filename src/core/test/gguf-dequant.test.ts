import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGgufFile, readTensorFloat32 } from '../models/gguf/index.js';

// Expected values: gguf-py's numpy `dequantize` on the same bytes (tests/python/make_gguf_fixtures.py).
const FIX = new URL('./fixtures/gguf/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(FIX, 'quants.expected.json'), 'utf8')) as {
  tensors: { name: string; type: string; shape: number[]; values: string }[];
};
const file = parseGgufFile(join(FIX, 'quants.gguf'));

function decode(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

describe('GGUF dequantization matches gguf-py (numpy)', () => {
  for (const t of expected.tensors) {
    it(`${t.type} (${t.name}, shape [${t.shape.join(', ')}]) is bit-identical`, () => {
      const info = file.tensors.find((x) => x.name === t.name)!;
      const ours = readTensorFloat32(file.path, info);
      const ref = decode(t.values);
      expect(ours.length).toBe(ref.length);
      let maxAbs = 0;
      let mismatches = 0;
      for (let i = 0; i < ref.length; i++) {
        // Object.is: -0 vs 0 and infinities must match too
        if (!Object.is(ours[i], ref[i])) mismatches++;
        if (Number.isFinite(ref[i])) maxAbs = Math.max(maxAbs, Math.abs(ours[i] - ref[i]));
      }
      expect(maxAbs).toBe(0);
      expect(mismatches).toBe(0);
      // guard against a vacuous comparison: the data is not constant
      expect(new Set(ref).size).toBeGreaterThan(8);
    });
  }
});
