/**
 * `mistudio models architectures` and `mistudio models inspect --precision` end to end (a child
 * process): the listed architectures are exactly those with a PyTorch-checked fixture, and the
 * printed memory estimate is the model's own.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../models/index.js';
import { MODEL_FIXTURES } from './helpers/model-reference.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.ts');

function mistudio(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, MISTUDIO_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mistudio models architectures / inspect --precision', () => {
  it('architectures --json lists every architecture, each with a tiny fixture checked against PyTorch', () => {
    const r = mistudio('models', 'architectures', '--json');
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; modelTypes: string[]; positions: string; mlp: string }[];
    expect(list.map((a) => a.name).sort()).toEqual(['gemma2', 'gemma3', 'gpt2', 'gpt_neo', 'gpt_neox', 'llama', 'mistral', 'opt', 'phi3', 'qwen2', 'qwen3']);
    const fixtureTypes = new Set(
      readdirSync(MODEL_FIXTURES)
        .filter((d) => d.startsWith('tiny-'))
        .map((d) => JSON.parse(readFileSync(path.join(MODEL_FIXTURES, d, 'config.json'), 'utf8')).model_type as string),
    );
    expect([...fixtureTypes].sort()).toEqual(list.flatMap((a) => a.modelTypes).sort());
    expect(list.find((a) => a.name === 'gpt_neo')).toMatchObject({ positions: 'learned', mlp: 'plain' });
    expect(list.find((a) => a.name === 'gemma3')).toMatchObject({ modelTypes: ['gemma3_text'], positions: 'rotary', mlp: 'gated' });
    const text = mistudio('models', 'architectures');
    expect(text.stdout.trim().split('\n')).toHaveLength(list.length);
  });

  it('inspect --precision int4 --json adds the memory estimate in bytes', async () => {
    const dir = path.join(MODEL_FIXTURES, 'tiny-gemma2');
    const r = mistudio('models', 'inspect', dir, '--precision', 'int4', '--block-size', '128', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    const model = await loadModel(dir, { precision: 'int4', quantBlockSize: 128 });
    expect(info).toMatchObject({ architecture: 'gemma2', precision: 'int4', quantBlockSize: 128, memoryEstimateBytes: model.precision.estimate.estimatedBytes, weightBytes: model.precision.estimate.weightBytes });
    const f32 = JSON.parse(mistudio('models', 'inspect', dir, '--json').stdout);
    expect(f32.precision).toBe('f32');
    expect(f32.memoryEstimateBytes).toBeGreaterThan(info.memoryEstimateBytes);
    const text = mistudio('models', 'inspect', dir, '--precision', 'int4', '--block-size', '128');
    expect(text.stdout).toMatch(new RegExp(`memoryEstimateBytes\\s+${info.memoryEstimateBytes}\\b`));
  });

  it('rejects an unknown precision with the fix', () => {
    const r = mistudio('models', 'inspect', path.join(MODEL_FIXTURES, 'tiny-gpt2'), '--precision', 'bf16');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bf16 checkpoints load exactly as 'f32'/);
  });
});
