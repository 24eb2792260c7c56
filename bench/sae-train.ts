/**
 * SAE training throughput on CPU: one training step (forward, backward, clip, Adam, firing
 * statistics) of this engine's ONNX step graphs against SAELens v6 on PyTorch
 * (bench/sae_train_torch.py), d = 576, d_sae = 4608, batch 4096, the same thread count. topk runs
 * both our sparse formulation (k active decoder rows per token) and the dense one SAELens uses.
 * Steps of the engines alternate, so machine load slows both alike; ratios compare medians.
 * No latent is dead in these first steps, so AuxK does not run in either engine.
 *
 *   npm run bench -- sae-train --json [--threads N] [--iterations N] [--k K] [--batch B]
 *   node --import tsx bench/run.ts sae-train --json
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defaultThreadCount } from '../src/core/engine/sessions.js';
import { Rng } from '../src/core/engine/random.js';
import { resolveTrainingConfig, type Architecture } from '../src/core/sae/config.js';
import { FeatureStatistics } from '../src/core/sae/feature-statistics.js';
import { initialParameters } from '../src/core/sae/init.js';
import { SaeStepRunner } from '../src/core/sae/step-runner.js';
import { option, median } from './lib/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function startTorch(arch: string, k: number, d: number, dSae: number, batch: number, threads: number) {
  const child = spawn(path.join(root, '.venv', 'bin', 'python'), [path.join(root, 'bench', 'sae_train_torch.py'), '--arch', arch, '--k', String(k), '--d', String(d), '--d-sae', String(dSae), '--batch', String(batch), '--threads', String(threads)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
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
    async step(): Promise<number> {
      child.stdin.write('run\n');
      return (await next()).seconds as number;
    },
    stop() {
      child.stdin.end('quit\n');
    },
  };
}

async function startOurs(architecture: Architecture, k: number, d: number, dSae: number, batch: number, threads: number, sparse: boolean) {
  const cfg = resolveTrainingConfig({ architecture, dIn: d, dSae, k, batchSizeTokens: batch });
  const rng = new Rng(0);
  const runner = await SaeStepRunner.create(
    { architecture, dIn: d, dSae, batch, k, rescaleActsByDecoderNorm: true, jumpreluBandwidth: 0.05, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, gradientClipNorm: 1, sparse, exposeGradients: false },
    initialParameters(cfg, rng), undefined, { device: 'cpu', intraOpNumThreads: threads },
  );
  const batches = Array.from({ length: 4 }, () => Float32Array.from({ length: batch * d }, () => rng.normal()));
  const stats = new FeatureStatistics(dSae, cfg.deadFeatureWindow, cfg.featureSamplingWindow);
  let t = 0;
  return {
    async step(): Promise<number> {
      const start = performance.now();
      t++;
      const m = await runner.step({ x: batches[t % batches.length], coefficient: 1, stepSize: 3e-4 / (1 - 0.9 ** t), biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** t) });
      stats.record(m.firedCount, batch);
      return (performance.now() - start) / 1000;
    },
    release: () => runner.release(),
  };
}

export async function run(args: string[], json: boolean): Promise<void> {
  const threads = Number(option(args, 'threads', String(defaultThreadCount())));
  const iterations = Number(option(args, 'iterations', '5'));
  const k = Number(option(args, 'k', '32'));
  const batch = Number(option(args, 'batch', '4096'));
  const [d, dSae] = [576, 4608];
  const cases: Array<{ arch: 'standard' | 'topk'; sparse: boolean; label: string }> = [
    { arch: 'standard', sparse: false, label: 'standard' },
    { arch: 'topk', sparse: true, label: 'topk (sparse)' },
    { arch: 'topk', sparse: false, label: 'topk (dense)' },
  ];
  for (const c of cases) {
    const ours = await startOurs(c.arch, k, d, dSae, batch, threads, c.sparse);
    const torch = await startTorch(c.arch, k, d, dSae, batch, threads);
    await ours.step();
    await torch.step();
    const oursS: number[] = [];
    const torchS: number[] = [];
    for (let i = 0; i < iterations; i++) {
      oursS.push(await ours.step());
      torchS.push(await torch.step());
    }
    torch.stop();
    await ours.release();
    const oursTps = batch / median(oursS);
    const torchTps = batch / median(torchS);
    const row = {
      bench: 'sae-train', architecture: c.arch, formulation: c.sparse ? 'sparse' : 'dense', k: c.arch === 'topk' ? k : null, d, dSae, batch, threads, iterations,
      tokensPerSecond: Math.round(oursTps), torchTokensPerSecond: Math.round(torchTps), ratio: Number((oursTps / torchTps).toFixed(3)),
      secondsPerStep: Number(median(oursS).toFixed(4)), torchSecondsPerStep: Number(median(torchS).toFixed(4)), torch: torch.ready.torch,
    };
    if (json) console.log(JSON.stringify(row));
    else console.log(`${c.label.padEnd(14)} ${row.tokensPerSecond} tokens/s vs PyTorch ${row.torchTokensPerSecond} tokens/s: ratio ${row.ratio} (${threads} threads)`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run(process.argv.slice(2).filter((a) => a !== '--json'), process.argv.includes('--json'));
}
