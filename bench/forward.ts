/**
 * SmolLM2-135M forward passes (batch 8 × 128 tokens, logits for every position) on CPU: this engine
 * against PyTorch transformers (bench/forward_torch.py) on the same GGUF weights, with the same
 * thread count. The two engines' passes alternate, so a busy machine slows both alike, and the
 * ratio compares medians. Also reports how far the two engines' logits are apart.
 *
 *   npm run bench -- forward --json [--model file.gguf|dir] [--threads N] [--iterations N] [--batch B] [--tokens T]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defaultThreadCount } from '../src/core/engine/sessions.js';
import { loadModel } from '../src/core/models/index.js';
import { option, median } from './lib/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The PyTorch twin as a child process answering one JSON line per "run". */
async function startTorch(model: string, batch: number, tokens: number, threads: number) {
  const python = path.join(root, '.venv', 'bin', 'python');
  const child = spawn(python, [path.join(root, 'bench', 'forward_torch.py'), '--model', model, '--batch', String(batch), '--tokens', String(tokens), '--threads', String(threads)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TQDM_DISABLE: '1' },
  });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the PyTorch twin exited early (see its stderr above)');
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  const ready = await next();
  return {
    ready,
    async pass(): Promise<{ seconds: number; sample: number[] }> {
      child.stdin.write('run\n');
      return (await next()) as { seconds: number; sample: number[] };
    },
    stop() {
      child.stdin.end('quit\n');
    },
  };
}

export async function run(args: string[], json: boolean): Promise<void> {
  const modelPath = path.resolve(root, option(args, 'model', '.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf'));
  if (!existsSync(modelPath)) throw new Error(`${modelPath} is missing; run scripts/setup.sh --bench`);
  const threads = Number(option(args, 'threads', String(defaultThreadCount())));
  const iterations = Number(option(args, 'iterations', '5'));
  const batch = Number(option(args, 'batch', '8'));
  const tokens = Number(option(args, 'tokens', '128'));
  const emit = (line: Record<string, unknown>) => console.log(json ? JSON.stringify(line) : Object.entries(line).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(4) : v}`).join(' '));

  const torch = await startTorch(modelPath, batch, tokens, threads);
  try {
    let t0 = performance.now();
    const model = await loadModel(modelPath, { device: 'cpu', threads });
    const vocab = model.config.vocabSize;
    const ids = Array.from({ length: batch }, (_, b) => Array.from({ length: tokens }, (_, t) => (b * 131 + t * 7919 + 17) % vocab));
    const ours = async () => {
      const t = performance.now();
      const out = await model.run(ids);
      return { seconds: (performance.now() - t) / 1000, sample: Array.from(out.logits!.data.subarray((tokens - 1) * vocab, (tokens - 1) * vocab + 16)) };
    };
    // Warm-up: builds our graph and session, and lets PyTorch settle its allocator.
    const firstOurs = await ours();
    const loadSeconds = (performance.now() - t0) / 1000 - firstOurs.seconds;
    t0 = performance.now();
    await torch.pass();
    const times = { ours: [] as number[], torch: [] as number[] };
    let maxLogitDiff = 0;
    for (let i = 0; i < iterations; i++) {
      const a = await ours();
      const b = await torch.pass();
      times.ours.push(a.seconds);
      times.torch.push(b.seconds);
      for (let k = 0; k < a.sample.length; k++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(a.sample[k] - b.sample[k]));
    }
    const n = batch * tokens;
    const oursTps = n / median(times.ours);
    const torchTps = n / median(times.torch);
    const common = { bench: 'forward', model: path.basename(modelPath), batch, tokens, threads, iterations };
    emit({ ...common, engine: 'mistudio', tokensPerSecond: oursTps, secondsPerPassMedian: median(times.ours), secondsPerPassBest: Math.min(...times.ours), loadSeconds, firstPassSeconds: firstOurs.seconds });
    emit({ ...common, engine: 'pytorch', tokensPerSecond: torchTps, secondsPerPassMedian: median(times.torch), secondsPerPassBest: Math.min(...times.torch), loadSeconds: torch.ready.loadSeconds as number, attention: torch.ready.attention as string, torch: torch.ready.torch as string });
    emit({ ...common, engine: 'ratio', ratio: oursTps / torchTps, maxAbsLogitDiff: maxLogitDiff });
    await model.release();
  } finally {
    torch.stop();
  }
}
