import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { loadModel, type Model } from '../models/index.js';
import { ActivationStore, extractActivations, floatToHalf, halfToFloat, MiStudioError, readManifest, resumeExtraction } from '../index.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

const LLAMA = path.join(FIXTURES, 'models', 'tiny-llama');
const GPT2 = path.join(FIXTURES, 'models', 'tiny-gpt2');
const HOOKS = ['blocks.1.hook_resid_post', 'blocks.0.hook_mlp_out', 'blocks.0.attn.hook_z'];

let ws: TempWorkspace;
let model: Model;
let datasetDir: string;
let gpt2DatasetDir: string;

beforeAll(async () => {
  ws = await tempWorkspace();
  const text = readFileSync(path.join(GUTENBERG, 'austen-emma.txt'), 'utf8').slice(0, 6000);
  const file = path.join(ws.scratch, 'emma.txt');
  writeFileSync(file, text);
  await addDataset(ws.catalog, file, { name: 'emma' });
  datasetDir = (await tokenizeDataset(ws.catalog, 'emma', { tokenizer: LLAMA, contextSize: 16, name: 'emma-llama' })).dir;
  gpt2DatasetDir = (await tokenizeDataset(ws.catalog, 'emma', { tokenizer: GPT2, contextSize: 16, name: 'emma-gpt2' })).dir;
  model = await loadModel(LLAMA, { threads: 1 });
});
afterAll(() => ws?.dispose());

function digestHookDirs(dir: string, hooks: string[]): string {
  const h = createHash('sha256');
  for (const hook of hooks) for (const f of readdirSync(path.join(dir, hook)).sort()) h.update(f).update(readFileSync(path.join(dir, hook, f)));
  return h.digest('hex');
}

describe('activation extraction', () => {
  it('stores exactly what model.run caches at the kept positions (f32 bit-for-bit, f16 at rounding)', async () => {
    const out = path.join(ws.root, 'ex-f32');
    const summary = await extractActivations(model, datasetDir, out, { hooks: HOOKS, batchSize: 3, rowsPerShard: 40, tokens: 150 });
    expect(summary.status).toBe('completed');
    expect(summary.tokens).toBe(150);
    const f16 = path.join(ws.root, 'ex-f16');
    await extractActivations(model, datasetDir, f16, { hooks: HOOKS, batchSize: 3, rowsPerShard: 40, tokens: 150, dtype: 'float16' });

    const index = JSON.parse(readFileSync(path.join(datasetDir, 'index.json'), 'utf8'));
    const tokens = new Uint32Array(readFileSync(path.join(datasetDir, 'tokens.bin')).buffer.slice(0));
    const T = index.contextSize as number;
    for (const hook of HOOKS) {
      const store = ActivationStore.open(path.join(out, hook), { verify: 'checksum' });
      const half = ActivationStore.open(path.join(f16, hook));
      expect(store.count).toBe(150);
      const positions = store.readPositions(0, store.count);
      const rows = store.readRows(0, store.count);
      const halfRows = half.readRows(0, half.count);
      // Recompute independently: run each dataset row batch as extraction would, then pick positions.
      const byRow = new Map<number, Float32Array>();
      for (let i = 0; i < store.count; i++) {
        const datasetRow = positions[i * 2];
        const t = positions[i * 2 + 1];
        const batchStart = datasetRow - (datasetRow % 3);
        if (!byRow.has(batchStart)) {
          const batch = Array.from({ length: 3 }, (_, k) => Array.from(tokens.subarray((batchStart + k) * T, (batchStart + k + 1) * T)));
          byRow.set(batchStart, (await model.run(batch, { cache: [hook], logits: 'none' })).cache.get(hook)!.data);
        }
        // BOS positions are excluded by default.
        expect(tokens[datasetRow * T + t]).not.toBe(index.tokenizer.bosTokenId);
        const data = byRow.get(batchStart)!;
        const d = store.d;
        const offset = ((datasetRow - batchStart) * T + t) * d;
        for (let j = 0; j < d; j++) {
          expect(rows[i * d + j]).toBe(data[offset + j]);
          expect(halfRows[i * d + j]).toBe(halfToFloat(floatToHalf(data[offset + j])));
        }
      }
    }
  });

  it('multi-hook extraction equals single-hook extractions', async () => {
    const multi = path.join(ws.root, 'ex-f32');
    for (const hook of HOOKS) {
      const single = path.join(ws.root, `single-${hook}`);
      await extractActivations(model, datasetDir, single, { hooks: [hook], batchSize: 3, rowsPerShard: 40, tokens: 150 });
      expect(digestHookDirs(single, [hook])).toBe(digestHookDirs(multi, [hook]));
    }
  });

  it('resumes after kill -9 to a store identical to an uninterrupted run', async () => {
    const ref = path.join(ws.root, 'ex-ref');
    await extractActivations(model, datasetDir, ref, { hooks: HOOKS, batchSize: 1, rowsPerShard: 20 });
    const dir = path.join(ws.root, 'ex-killed');
    const script = path.join(ws.scratch, 'extract-child.mts');
    writeFileSync(script, `
      import { loadModel } from ${JSON.stringify(path.resolve('src/core/models/index.ts'))};
      import { extractActivations } from ${JSON.stringify(path.resolve('src/core/activations/index.ts'))};
      const model = await loadModel(${JSON.stringify(LLAMA)}, { threads: 1 });
      let n = 0;
      await extractActivations(model, ${JSON.stringify(datasetDir)}, ${JSON.stringify(dir)}, { hooks: ${JSON.stringify(HOOKS)}, batchSize: 1, rowsPerShard: 20 }, {
        onProgress: async () => { if (++n === 6) process.stdout.write('ready\\n'); await new Promise((r) => setTimeout(r, 5)); },
      });
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => { if (b.toString().includes('ready')) resolve(); });
      child.on('exit', (code) => reject(new Error(`extraction child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    const partial = readManifest(path.join(dir, HOOKS[0]));
    expect(partial.complete).toBe(false);
    expect(ActivationStore.open(path.join(dir, HOOKS[0]), { verify: 'checksum' }).count).toBe(partial.count);
    const summary = await resumeExtraction(model, dir);
    expect(summary.status).toBe('completed');
    expect(digestHookDirs(dir, HOOKS)).toBe(digestHookDirs(ref, HOOKS));
  });

  it('refuses a dataset tokenized with another vocabulary, naming both tokenizers, unless overridden', async () => {
    const out = path.join(ws.root, 'ex-vocab');
    let err: unknown;
    try {
      await extractActivations(model, gpt2DatasetDir, out, { hooks: [HOOKS[0]], tokens: 10 });
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MiStudioError);
    expect((err as Error).message).toContain('tiny-gpt2');
    expect((err as Error).message).toContain('tiny-llama');
    expect((err as Error).message).toMatch(/token id \d+|vocabulary sizes/);
    // Refused before any work: nothing was written.
    expect(existsSync(out)).toBe(false);
  });

  it('rejects hooks the model lacks (with the nearest names) and per-pattern hooks', async () => {
    await expect(extractActivations(model, datasetDir, path.join(ws.root, 'ex-bad'), { hooks: ['blocks.1.hook_resid_pots'] })).rejects.toThrow(/blocks\.1\.hook_resid_post/);
    await expect(extractActivations(model, datasetDir, path.join(ws.root, 'ex-bad2'), { hooks: ['blocks.0.attn.hook_pattern'] })).rejects.toThrow(/not one vector per token/);
    expect(existsSync(path.join(ws.root, 'ex-bad'))).toBe(false);
    expect(existsSync(path.join(ws.root, 'ex-bad2'))).toBe(false);
  });
});
