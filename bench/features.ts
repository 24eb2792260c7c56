/**
 * Feature statistics throughput: the streaming pass of src/core/analysis (density, sums, doubling
 * histogram, top-k with context windows, interval examples, token sample) over 1M tokens of SAE
 * feature activations, against a NumPy/PyTorch implementation of the same statistics
 * (bench/features_torch.py) on the same data, in one run. The activations are synthetic SAE-like
 * codes — L0 active features per token, feature frequencies skewed (a few dense, many rare),
 * log-normal values — written once to a temp folder that both sides read; each side densifies a
 * batch into [batch, d_sae] (what the SAE graph returns) outside the timed region. The two sides'
 * results are compared through a digest (fired counts, sums, histograms, top values, sample keys).
 *
 *   npm run bench -- features --json [--tokens N] [--d-sae S] [--l0 L] [--threads T]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeatureAccumulator, type BatchSegment } from '../src/core/analysis/feature-accumulator.js';
import { defaultThreadCount } from '../src/core/engine/sessions.js';
import { Rng } from '../src/core/engine/random.js';
import { option } from './lib/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** L0 distinct features per token (skewed towards low indices), log-normal values, random token ids. */
function generate(tokens: number, dSae: number, l0: number, seed: number) {
  const rng = new Rng(seed);
  const features = new Uint32Array(tokens * l0);
  const values = new Float32Array(tokens * l0);
  const ids = new Uint32Array(tokens);
  const scale = Float32Array.from({ length: dSae }, () => 0.5 + 4 * rng.next());
  const chosen = new Int32Array(dSae).fill(-1);
  for (let t = 0; t < tokens; t++) {
    ids[t] = rng.int(49152);
    for (let j = 0; j < l0; j++) {
      let f: number;
      do f = Math.floor(dSae * rng.next() ** 2.5);
      while (chosen[f] === t);
      chosen[f] = t;
      features[t * l0 + j] = f;
      values[t * l0 + j] = scale[f] * Math.exp(0.6 * rng.normal());
    }
  }
  return { features, values, ids };
}

export async function run(args: string[], json: boolean): Promise<void> {
  const tokens = Number(option(args, 'tokens', String(2 ** 20)));
  const dSae = Number(option(args, 'd-sae', '4096'));
  const l0 = Number(option(args, 'l0', '32'));
  const threads = Number(option(args, 'threads', String(defaultThreadCount())));
  const context = 128;
  const batch = 4096;
  const settings = { dSae, topK: 20, windowBefore: 12, windowAfter: 4, histogramBins: 64, intervalGroups: 8, samplesPerInterval: 4, seed: 0, sampleRowProbability: 16384 / tokens, maxSampleNonZeros: 2 ** 40 };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ms-bench-features-'));
  try {
    const data = generate(tokens, dSae, l0, 7);
    writeFileSync(path.join(dir, 'features.u32'), data.features);
    writeFileSync(path.join(dir, 'values.f32'), data.values);
    writeFileSync(path.join(dir, 'ids.u32'), data.ids);

    // Ours.
    const acc = new FeatureAccumulator(settings);
    const dense = new Float32Array(batch * dSae);
    const include = new Uint8Array(batch).fill(1);
    let seconds = 0;
    for (let b0 = 0; b0 < tokens; b0 += batch) {
      const n = Math.min(batch, tokens - b0);
      dense.fill(0);
      for (let i = 0; i < n * l0; i++) dense[Math.floor(i / l0) * dSae + data.features[b0 * l0 + i]] = data.values[b0 * l0 + i];
      const segments: BatchSegment[] = [];
      for (let o = 0; o < n; o += context) segments.push({ row: (b0 + o) / context, firstToken: 0, offset: o, length: Math.min(context, n - o) });
      const start = performance.now();
      acc.addBatch({ acts: dense.subarray(0, n * dSae), tokenIds: data.ids.subarray(b0, b0 + n), include: include.subarray(0, n), segments });
      seconds += (performance.now() - start) / 1000;
    }
    const finishStart = performance.now();
    let topValues = 0;
    let topCount = 0;
    for (let f = 0; f < dSae; f++) {
      const top = acc.topExamples(f);
      acc.intervalExamples(f);
      topCount += top.length;
      for (const e of top) topValues += e.value;
    }
    seconds += (performance.now() - finishStart) / 1000;
    let histogram = 0;
    let fired = 0;
    let sum = 0;
    for (let f = 0; f < dSae; f++) {
      fired += acc.count[f];
      sum += acc.sum[f];
      for (let b = 0; b < settings.histogramBins; b++) histogram += acc.histogram[f * settings.histogramBins + b] * (b + 1) * ((f % 97) + 1);
    }
    let sampleKeys = 0;
    for (let i = 0; i < acc.sampleCount.length; i++) for (let j = 0; j < acc.sampleCount[i]; j++) sampleKeys += acc.sampleKey[i * settings.samplesPerInterval + j];
    const digest = { fired, sum, histogram, topValues, topCount, sampleKeys, sampleNonZeros: acc.tokenSample.nonZeros };

    // NumPy/PyTorch.
    const py = spawnSync(path.join(root, '.venv', 'bin', 'python'), [
      path.join(root, 'bench', 'features_torch.py'), '--dir', dir, '--tokens', String(tokens), '--d-sae', String(dSae), '--l0', String(l0), '--context', String(context),
      '--batch', String(batch), '--sample-p', String(settings.sampleRowProbability), '--threads', String(threads),
    ], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) }, maxBuffer: 1 << 24 });
    if (py.status !== 0) throw new Error(`the NumPy/PyTorch twin failed:\n${py.stderr}`);
    const twin = JSON.parse(py.stdout.trim().split('\n').pop()!) as { seconds: number; digest: typeof digest; torch: string; numpy: string };
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
    const agree = Object.fromEntries(Object.keys(digest).map((k) => [k, close(digest[k as keyof typeof digest], twin.digest[k as keyof typeof digest])]));
    const row = {
      bench: 'features', tokens, dSae, l0, topK: settings.topK, window: settings.windowBefore + 1 + settings.windowAfter, histogramBins: settings.histogramBins, threads,
      featuresPerSecond: Math.round(dSae / seconds), torchFeaturesPerSecond: Math.round(dSae / twin.seconds), ratio: Number((twin.seconds / seconds).toFixed(2)),
      seconds: Number(seconds.toFixed(2)), torchSeconds: Number(twin.seconds.toFixed(2)), tokensPerSecond: Math.round(tokens / seconds),
      resultsAgree: Object.values(agree).every(Boolean), agree, torch: twin.torch, numpy: twin.numpy,
    };
    if (json) console.log(JSON.stringify(row));
    else console.log(`features: ${row.featuresPerSecond} features/s (${row.seconds} s for ${tokens} tokens × ${dSae} features) vs NumPy/PyTorch ${row.torchFeaturesPerSecond} features/s (${row.torchSeconds} s): ${row.ratio}× · results agree: ${row.resultsAgree}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run(process.argv.slice(2).filter((a) => a !== '--json'), process.argv.includes('--json'));
}
