import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectGguf, loadGgufModelFiles } from '../models/gguf/index.js';
import { compareConfig, compareTokenizer } from './helpers/gguf-reference.js';

// The real SmolLM2-135M-Instruct Q4_1 file (`bash scripts/setup.sh --test`) against transformers'
// GGUF loader: config, dequantized + un-permuted tensor rows and checksums, tokenizer ids
// (fixtures from tests/python/make_gguf_fixtures.py --real).
const SMOL = new URL('../../../.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const FIX = new URL('./fixtures/', import.meta.url).pathname;

interface Spot { shape: number[]; sum: number; weighted: number; sumsq: number; rows?: Record<string, number[]>; first64?: number[] }

describe('SmolLM2-135M GGUF files match transformers', async () => {
  if (!existsSync(SMOL)) throw new Error(`${SMOL} is missing: run \`bash scripts/setup.sh --test\``);
  const ref = JSON.parse(readFileSync(`${FIX}smollm2-gguf-tensors.json`, 'utf8')) as { config: Record<string, unknown>; tensors: Record<string, Spot> };
  const model = await loadGgufModelFiles(SMOL);

  it('config', () => {
    compareConfig(model.config, ref.config);
    expect(model.config.bos_token_id).toBe(1);
    expect(model.config.eos_token_id).toBe(2);
    expect(model.storedPrecision).toBe('Q4_1');
  });

  it('tensor spot checks (rows after Q/K un-permutation) and whole-tensor checksums', () => {
    let maxAbs = 0;
    for (const [name, r] of Object.entries(ref.tensors)) {
      const w = model.weights.get(name);
      expect(w.shape, name).toEqual(r.shape);
      const data = w.data as Float32Array;
      const cols = r.shape[r.shape.length - 1];
      const spots: [number, number[]][] = r.rows
        ? Object.entries(r.rows).map(([row, values]) => [Number(row) * cols, values])
        : [[0, r.first64!]];
      for (const [offset, values] of spots) {
        values.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(data[offset + i] - v))));
      }
      let sum = 0, weighted = 0, absSum = 0;
      for (let i = 0; i < data.length; i++) {
        sum += data[i];
        weighted += data[i] * ((i % 13) - 6);
        absSum += Math.abs(data[i]);
      }
      const tol = 1e-9 * (absSum * 7 + 1);
      expect(Math.abs(sum - r.sum), `${name} sum`).toBeLessThan(tol);
      expect(Math.abs(weighted - r.weighted), `${name} weighted checksum (row order)`).toBeLessThan(tol);
    }
    expect(maxAbs).toBeLessThanOrEqual(1e-6);
  });

  it('tokenizer ids and decodings equal transformers (add_bos_token from the file: false)', () => {
    const tok = JSON.parse(readFileSync(`${FIX}smollm2-gguf-tokenizer.json`, 'utf8'));
    compareTokenizer(model, tok);
    expect(model.tokenizer!.tokenizerConfig).toMatchObject({ bos_token: '<|im_start|>', eos_token: '<|im_end|>', add_bos_token: false });
    expect(String(model.tokenizer!.tokenizerConfig.chat_template)).toMatch(/im_start/);
  });

  it('inspects without reading tensor data', () => {
    const info = inspectGguf(SMOL);
    expect(info.architecture).toBe('llama');
    expect(info.tensors).toHaveLength(272);
    expect(info.tensors.find((t) => t.name === 'blk.0.attn_q.weight')).toMatchObject({ hfName: 'model.layers.0.self_attn.q_proj.weight', type: 'Q4_1', shape: [576, 576], supported: true });
    expect(info.metadata['tokenizer.ggml.tokens']).toMatchObject({ type: 'array<string>', length: 49152 });
    expect(info.problem).toBeUndefined();
    expect(JSON.parse(JSON.stringify(info)).config.num_key_value_heads).toBe(3);
  });
});
