/**
 * The trainer end to end: dictionary recovery on synthetic sparse data, bit-identical resume (after
 * a cooperative stop, and after SIGKILL of a child process mid-run), NaN-loss pause with the last
 * good state checkpointed, and invalid configurations rejected before the first step.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { Job } from '../jobs/job.js';
import { readJobRecord } from '../jobs/job.js';
import { InMemoryActivationSource, SyntheticDictionarySource } from '../sae/activation-source.js';
import { CHECKPOINT_FILE, readCheckpoint } from '../sae/checkpoint.js';
import { resumeTraining, trainSae, JOB_RECORD_FILE, type TrainingMetrics, type TrainingResult } from '../sae/trainer.js';
import { loadSaeLens } from '../sae/saelens-format.js';
import { expectSameState } from './helpers/resume-state.js';
import { tempDirs } from './helpers/temp-dirs.js';
import { RESUME_CONFIG, RESUME_THREADS, resumeSource } from './helpers/sae-train-setup.js';

const tmp = tempDirs('mistudio-sae-');

describe('SAE trainer', () => {
  it('a topk SAE recovers > 90% of a synthetic sparse dictionary (max cosine > 0.9)', async () => {
    const source = new SyntheticDictionarySource({ d: 32, features: 64, activePerRow: 3, seed: 1, noise: 0.01 });
    const metrics: TrainingMetrics[] = [];
    const job = new Job<TrainingResult, TrainingMetrics>('recovery', { kind: 'sae-training' });
    job.on((e) => e.type === 'metrics' && metrics.push(e.metrics));
    const runDir = tmp();
    const out = await trainSae(
      { architecture: 'topk', dIn: 32, dSae: 128, k: 3, batchSizeTokens: 256, trainingTokens: 256 * 600, lr: 3e-3, seed: 7, deadFeatureWindow: 50, metricsInterval: 50 },
      { runDir, source, job, intraOpNumThreads: 1 },
    );
    expect(out.status).toBe('completed');
    const W = out.result!.model.weights.W_dec; // unit rows after SAELens' topk norm folding
    const { d, features } = { d: 32, features: 64 };
    let recovered = 0;
    for (let f = 0; f < features; f++) {
      let best = -1;
      for (let i = 0; i < 128; i++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += W[i * d + j] * source.features[f * d + j];
        best = Math.max(best, dot);
      }
      if (best > 0.9) recovered++;
    }
    console.log(`recovered ${recovered}/${features} ground-truth features (${((100 * recovered) / features).toFixed(1)}%)`);
    expect(recovered / features).toBeGreaterThan(0.9);
    const last = metrics.at(-1)!;
    expect(metrics.length).toBe(12);
    expect(last.step).toBe(600);
    expect(last.l0).toBeLessThanOrEqual(3);
    expect(last.explainedVariance).toBeGreaterThan(0.8);
    expect(last.densityHistogram.counts.reduce((a, b) => a + b, 0)).toBe(128);
    expect(last.tokensPerSecond).toBeGreaterThan(0);
    // The finished run is an SAELens directory with sparsity.safetensors.
    const loaded = loadSaeLens(out.result!.saeDir!);
    expect(loaded.model.architecture).toBe('topk');
    expect(loaded.log10Sparsity!.length).toBe(128);
    expect(readJobRecord(path.join(runDir, JOB_RECORD_FILE))!.status).toBe('completed');
  });

  it('stop, then resume, ends bit-identical to an uninterrupted run', async () => {
    const straight = tmp();
    expect((await trainSae(RESUME_CONFIG, { runDir: straight, source: resumeSource(), intraOpNumThreads: RESUME_THREADS })).status).toBe('completed');
    const interrupted = tmp();
    const job = new Job<TrainingResult, TrainingMetrics>('to-stop', { kind: 'sae-training' });
    job.on((e) => {
      if (e.type === 'progress' && e.progress.done === 128 * 33) job.stop();
    });
    const first = await trainSae(RESUME_CONFIG, { runDir: interrupted, source: resumeSource(), job, intraOpNumThreads: RESUME_THREADS });
    expect(first.status).toBe('stopped');
    expect(readCheckpoint(path.join(interrupted, CHECKPOINT_FILE)).state.step).toBe(33);
    expect(readJobRecord(path.join(interrupted, JOB_RECORD_FILE))!.status).toBe('stopped');
    const second = await resumeTraining({ runDir: interrupted, source: resumeSource(), intraOpNumThreads: RESUME_THREADS });
    expect(second.status).toBe('completed');
    expectSameState(straight, interrupted);
    expect(readFileSync(path.join(interrupted, 'sae', 'sae_weights.safetensors')).equals(readFileSync(path.join(straight, 'sae', 'sae_weights.safetensors')))).toBe(true);
  });

  it('kill -9 of a training process mid-run, then resume, ends bit-identical to an uninterrupted run', async () => {
    const straight = tmp();
    await trainSae(RESUME_CONFIG, { runDir: straight, source: resumeSource(), intraOpNumThreads: RESUME_THREADS });
    const killed = tmp();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/sae-train-child.ts', import.meta.url)), killed], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastStep = 0;
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const steps = [...chunk.matchAll(/step (\d+)/g)].map((m) => Number(m[1]));
      if (steps.length) lastStep = steps.at(-1)!;
      if (lastStep >= 40 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    expect(await exit).toBe('SIGKILL');
    const atKill = readCheckpoint(path.join(killed, CHECKPOINT_FILE)).state.step;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(120);
    expect(readJobRecord(path.join(killed, JOB_RECORD_FILE))!.status).toBe('running'); // what a crash leaves
    const resumed = await resumeTraining({ runDir: killed, source: resumeSource(), intraOpNumThreads: RESUME_THREADS });
    expect(resumed.status).toBe('completed');
    expectSameState(straight, killed);
  });

  it('a non-finite loss pauses the run with the last good state checkpointed', async () => {
    const runDir = tmp();
    const source = new SyntheticDictionarySource({ d: 8, features: 16, activePerRow: 2, seed: 3 });
    const job = new Job<TrainingResult, TrainingMetrics>('nan', { kind: 'sae-training' });
    const statuses: string[] = [];
    let reason = '';
    job.on((e) => {
      if (e.type !== 'status') return;
      statuses.push(e.status);
      if (e.status === 'paused') {
        reason = e.reason ?? '';
        setImmediate(() => job.stop());
      }
    });
    // An absurd learning rate makes the second step's reconstruction overflow to Infinity.
    const out = await trainSae({ architecture: 'standard', dIn: 8, dSae: 16, batchSizeTokens: 32, trainingTokens: 32 * 10, lr: 1e30 }, { runDir, source, job, intraOpNumThreads: 1 });
    expect(statuses).toEqual(['running', 'paused', 'stopping', 'stopped']);
    expect(out.status).toBe('stopped');
    expect(reason).toMatch(/loss became (NaN|Infinity) at step 1/);
    const ckpt = readCheckpoint(path.join(runDir, CHECKPOINT_FILE));
    expect(ckpt.state.step).toBe(1);
    for (const data of Object.values(ckpt.params)) expect(data.every(Number.isFinite)).toBe(true);
  });

  it('rejects invalid configurations before starting, naming the field', async () => {
    const source = new SyntheticDictionarySource({ d: 8, features: 16, activePerRow: 2, seed: 3 });
    const base = { architecture: 'topk' as const, dIn: 8, dSae: 16, k: 4, batchSizeTokens: 32, trainingTokens: 320 };
    const cases: Array<[Record<string, unknown>, string, ActivationSourceLike?]> = [
      [{ k: 17 }, 'k'],
      [{ lr: -1e-3 }, 'lr'],
      [{ dIn: 12 }, 'dIn'],
      [{ lrScheduler: 'exponential' }, 'lrScheduler'],
      [{ dtype: 'float16' }, 'dtype'],
      [{}, 'activations', new InMemoryActivationSource(Float32Array.from({ length: 64 * 8 }, (_, i) => (i === 77 ? Number.NaN : 0.5)), 8)],
    ];
    for (const [patch, field, src] of cases) {
      const runDir = tmp();
      const err = await trainSae({ ...base, ...patch } as never, { runDir, source: src ?? source }).catch((e: unknown) => e);
      expect(err, field).toBeInstanceOf(MiStudioError);
      expect((err as MiStudioError).field, (err as Error).message).toBe(field);
      expect((err as Error).message).toContain(field === 'activations' ? 'NaN' : field);
      expect(existsSync(path.join(runDir, CHECKPOINT_FILE))).toBe(false);
    }
  });
});

type ActivationSourceLike = InMemoryActivationSource;
