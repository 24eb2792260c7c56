/**
 * `mistudio models inspect|predict|generate` end to end (a child process), checked against the
 * PyTorch reference logits of the tiny fixtures and against greedy decoding without a KV cache.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { argmax, logSoftmax, topK } from '../models/logits.js';
import { loadModel, readSafetensorsHeader, readSafetensorsTensor } from '../models/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, 'fixtures', 'models');
const MAIN = path.join(here, '..', 'cli', 'main.ts');

function mistudio(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, MISTUDIO_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mistudio models', () => {
  it('inspect --json reports the architecture, sizes and every hook', async () => {
    const dir = path.join(FIXTURES, 'tiny-gpt2');
    const r = mistudio('models', 'inspect', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ architecture: 'gpt2', nLayers: 2, dModel: 64, nHeads: 4, vocabSize: 320 });
    const model = await loadModel(dir);
    expect(info.hooks).toEqual(model.hookNames());
    expect(info.hooks).toContain('hook_pos_embed');
    expect(info.hooks).toContain('blocks.1.attn.hook_pattern');
  });

  it('predict --json gives the top-K next tokens with PyTorch log-probabilities', () => {
    const dir = path.join(FIXTURES, 'tiny-gpt2');
    const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8'));
    // Row 2 of the right-padded batch is the unpadded prompt 'Attention heads move information'.
    const ids: number[] = ref.inputs.right.input_ids[2];
    expect(ref.inputs.right.attention_mask[2].every((m: number) => m === 1)).toBe(true);
    const logits = readSafetensorsTensor(readSafetensorsHeader(path.join(dir, 'reference.safetensors')), 'right/logits');
    const [, T, V] = logits.shape;
    const row = (logits.data as Float32Array).subarray((2 * T + T - 1) * V, (2 * T + T) * V);
    const want = topK(logSoftmax(row), 4);

    const r = mistudio('models', 'predict', dir, '--prompt', 'Attention heads move information', '--top', '4', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { promptTokens: number; tokens: { id: number; text: string; logprob: number }[] };
    expect(out.promptTokens).toBe(ids.length);
    expect(out.tokens.map((t) => t.id)).toEqual(want.map((w) => w.id));
    for (let i = 0; i < want.length; i++) expect(Math.abs(out.tokens[i].logprob - want[i].value)).toBeLessThan(1e-4);
    expect(typeof out.tokens[0].text).toBe('string');
  });

  it('generate streams the greedy continuation (KV cache) that full forward passes also choose', async () => {
    const dir = path.join(FIXTURES, 'tiny-llama');
    const r = mistudio('models', 'generate', dir, '--prompt', 'The cat', '--max-tokens', '6');
    expect(r.code, r.stderr).toBe(0);
    const model = await loadModel(dir);
    const ids = model.tokenizer.encode('The cat');
    const generated: number[] = [];
    for (let i = 0; i < 6; i++) {
      const out = await model.run([[...ids, ...generated]], { logits: 'last' });
      const next = argmax(out.logits!.data);
      generated.push(next);
      if (next === model.config.eosTokenId) break;
    }
    expect(r.stdout).toBe(`The cat${model.tokenizer.decode(generated, { skipSpecialTokens: true })}\n`);
  });

  it('reports bad input as a one-line error with exit code 1', () => {
    const r = mistudio('models', 'inspect', path.join(FIXTURES, 'no-such-model'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mistudio: .*no-such-model/m);
    const usage = mistudio('models', 'predict', path.join(FIXTURES, 'tiny-gpt2'));
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/--prompt is required/);
  });
});
