/**
 * `mistudio activations` end to end (child processes over a real workspace): extract into the
 * catalog, list, inspect with checksum verification, templates, and rm removing rows and files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivationStore } from '../activations/index.js';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { loadModel } from '../models/index.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(here, '..', 'cli', 'main.ts');
const LLAMA = path.join(FIXTURES, 'models', 'tiny-llama');
let ws: TempWorkspace;

function mistudio(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--workspace', ws.root], { encoding: 'utf8', env: { ...process.env, MISTUDIO_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  ws = await tempWorkspace();
  const file = path.join(ws.scratch, 'emma.txt');
  writeFileSync(file, readFileSync(path.join(GUTENBERG, 'austen-emma.txt'), 'utf8').slice(0, 4000));
  await addDataset(ws.catalog, file, { name: 'emma' });
  await tokenizeDataset(ws.catalog, 'emma', { tokenizer: LLAMA, contextSize: 16, name: 'emma-llama' });
});
afterAll(() => ws?.dispose());

describe('mistudio activations', () => {
  it('extracts into the catalog, lists, inspects, applies templates and removes', async () => {
    let r = mistudio('activations', 'templates', 'save', 'resid1', '--hooks', 'blocks.1.hook_resid_post', '--tokens', '64', '--batch-size', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    r = mistudio('activations', 'extract', '--model', LLAMA, '--dataset', 'emma-llama', '--template', 'resid1', '--dtype', 'float16', '--name', 'ex1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout);
    expect(rec).toMatchObject({ name: 'ex1', status: 'completed', tokens: 64, hooks: ['blocks.1.hook_resid_post'] });
    expect(rec.config).toMatchObject({ tokens: 64, batchSize: 2, dtype: 'float16' });

    r = mistudio('activations', 'list', '--json');
    const list = JSON.parse(r.stdout);
    expect(list.map((e: { name: string }) => e.name)).toEqual(['ex1']);
    expect(list[0].bytes).toBe(64 * 64 * 2);

    r = mistudio('activations', 'inspect', 'ex1', '--verify', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.stores[0]).toMatchObject({ hook: 'blocks.1.hook_resid_post', rows: 64, d: 64, dtype: 'float16', complete: true, verified: true });
    // The stored rows are the model's activations (first row checked against a direct run).
    const store = ActivationStore.open(path.join(rec.dir, 'blocks.1.hook_resid_post'));
    const [row, t] = store.readPositions(0, 1);
    const tokens = new Uint32Array(readFileSync(path.join(ws.catalog.datasets.get('emma-llama').dir, 'tokens.bin')).buffer.slice(0));
    const model = await loadModel(LLAMA, { threads: 1 });
    const batch = [Array.from(tokens.subarray(row * 16, row * 16 + 16)), Array.from(tokens.subarray((row + 1) * 16, (row + 1) * 16 + 16))];
    const direct = (await model.run(batch, { cache: ['blocks.1.hook_resid_post'], logits: 'none' })).cache.get('blocks.1.hook_resid_post')!;
    const got = store.readRows(0, 1);
    for (let j = 0; j < 64; j++) expect(Math.abs(got[j] - direct.data[t * 64 + j])).toBeLessThanOrEqual(Math.abs(direct.data[t * 64 + j]) * 2 ** -10 + 1e-7);
    store.close();

    // A duplicate name is refused; an unknown hook is refused before a row is created.
    r = mistudio('activations', 'extract', '--model', LLAMA, '--dataset', 'emma-llama', '--hooks', 'blocks.9.hook_resid_post', '--name', 'ex2');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown hook 'blocks\.9\.hook_resid_post'/);
    expect(JSON.parse(mistudio('activations', 'list', '--json').stdout)).toHaveLength(1);

    r = mistudio('activations', 'rm', 'ex1');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(rec.dir)).toBe(false);
    expect(JSON.parse(mistudio('activations', 'list', '--json').stdout)).toEqual([]);
  });
});
