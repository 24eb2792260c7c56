import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGgufModelFiles } from '../models/gguf/index.js';
import { compareConfig, compareTokenizer, compareWeights, type ModelRef } from './helpers/gguf-reference.js';

// Tiny random llama/gpt2 models converted as llama.cpp's converter does (Q/K row permutation, Conv1D
// transposes, mixed quant types) and read back by transformers' GGUF loader: its state dict, config
// and tokenizer are the reference (tests/python/make_gguf_fixtures.py).
const FIX = new URL('./fixtures/gguf/', import.meta.url).pathname;

for (const name of ['tiny-llama', 'tiny-gpt2']) {
  describe(`GGUF ${name} matches transformers' GGUF loader`, async () => {
    const ref = JSON.parse(readFileSync(join(FIX, `${name}.expected.json`), 'utf8')) as ModelRef;
    const model = await loadGgufModelFiles(join(FIX, `${name}.gguf`));

    it('config', () => {
      compareConfig(model.config, ref.config);
      expect(model.format).toBe('gguf');
    });

    it('tensor names, shapes and values (Q/K un-permuted, Conv1D transposed)', () => {
      const { maxAbs, checked } = compareWeights(model, ref.tensors);
      expect(checked).toBeGreaterThan(1);
      expect(maxAbs).toBeLessThanOrEqual(1e-6);
    });

    it('tokenizer ids, decodings and pipeline', () => {
      compareTokenizer(model, ref.tokenizer);
    });
  });
}

describe('GGUF weight source', () => {
  it('names a missing tensor and the file', async () => {
    const path = join(FIX, 'tiny-llama.gguf');
    const model = await loadGgufModelFiles(path);
    expect(model.weights.has('model.layers.0.self_attn.q_proj.weight')).toBe(true);
    expect(() => model.weights.get('model.layers.9.self_attn.q_proj.weight')).toThrow(/not in this GGUF file.*tiny-llama\.gguf/);
    expect(model.storedPrecision).toBe('Q8_0');
  });
});
