/**
 * Training run history and templates in the catalog, the job status mirrored into it, multi-hook
 * training in one job (each hook bit-identical to training it alone, stop + resume), the memory
 * estimate against free RAM / GPU memory, and out-of-memory during a step (injected: the step
 * runner throws onnxruntime's allocation error) halving the batch and continuing, also across resume.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ActivationStoreWriter } from '../activations/store-writer.js';
import { ActivationStore } from '../activations/store.js';
import { openCatalog, type Catalog } from '../catalog/index.js';
import { Rng } from '../engine/random.js';
import { Job, type JobEvent } from '../jobs/job.js';
import { SyntheticDictionarySource } from '../sae/activation-source.js';
import { CHECKPOINT_FILE, readCheckpoint } from '../sae/checkpoint.js';
import { resolveTrainingConfig } from '../sae/config.js';
import { assertFitsInMemory, estimateTrainingMemory, isOutOfMemoryError } from '../sae/memory-estimate.js';
import { resumeHooks, trainHooks, type MultiHookJob } from '../sae/multi-hook.js';
import { appendLossPoint, TrainingRunsTable } from '../sae/run-history.js';
import { TrainingTemplates } from '../sae/training-templates.js';
import { SaeStepRunner } from '../sae/step-runner.js';
import { StoreActivationSource } from '../sae/store-activation-source.js';
import { resumeTraining, trainSae, type TrainingJob, type TrainingMetrics, type TrainingResult } from '../sae/trainer.js';

const base = mkdtempSync(path.join(os.tmpdir(), 'mistudio-runs-'));
let catalog: Catalog;
beforeAll(async () => {
  catalog = await openCatalog({ root: path.join(base, 'ws') });
});
afterAll(() => {
  catalog?.close();
  rmSync(base, { recursive: true, force: true });
});
let n = 0;
const fresh = () => path.join(base, `d${n++}`);

const SMALL = { architecture: 'topk' as const, dIn: 16, dSae: 48, k: 4, batchSizeTokens: 64, trainingTokens: 64 * 40, lr: 3e-3, seed: 3, metricsInterval: 5, checkpointInterval: 1000 };
const source = () => new SyntheticDictionarySource({ d: 16, features: 30, activePerRow: 3, seed: 9, noise: 0.01 });

describe('run history and templates in the catalog', () => {
  it('creates, lists, filters, records metrics with a bounded loss history, and deletes runs with their files', () => {
    const runs = new TrainingRunsTable(catalog);
    const cfg = resolveTrainingConfig(SMALL);
    const dirs = [fresh(), fresh(), fresh()];
    for (const d of dirs) {
      mkdirSync(d);
      writeFileSync(path.join(d, 'config.json'), '{}');
    }
    const a = runs.create({ name: 'h-a', config: cfg, hook: 'blocks.1.hook_resid_post', runDir: dirs[0] });
    runs.create({ name: 'h-b', config: cfg, runDir: dirs[1], status: 'running' });
    runs.create({ name: 'h-c', config: cfg, runDir: dirs[2] });
    expect(() => runs.create({ name: 'h-a', config: cfg, runDir: dirs[0] })).toThrow(/already exists/);
    expect(() => runs.create({ name: '../x', config: cfg, runDir: dirs[0] })).toThrow(/invalid run name/);
    expect(a).toMatchObject({ status: 'pending', step: 0, totalSteps: 40, architecture: 'topk', hook: 'blocks.1.hook_resid_post', lossHistory: [] });
    expect(runs.freeName('h-a')).toBe('h-a-2');
    runs.setStatus(a.id, 'failed', 'boom');
    expect(runs.list({ status: 'failed' }).map((r) => r.name)).toEqual(['h-a']);
    expect(runs.list({ status: ['failed', 'running'] }).map((r) => r.name).sort()).toEqual(['h-a', 'h-b']);
    expect(runs.get('h-a').finishedAt).not.toBeNull();

    const m = { step: 0, tokens: 0, totalSteps: 40, lr: 1, sparsityCoefficient: 0, loss: 0, mseLoss: 0.5, sparsityLoss: 0, auxLoss: 0, l0: 4, l1: 1, explainedVariance: 0.9, deadLatents: 2, latentsBelowThreshold: 2, denseLatents: 0, meanLog10Density: -1, densityHistogram: { edges: [], counts: [] }, tokensPerSecond: 1, batchSizeTokens: 64 } as TrainingMetrics;
    for (let s = 1; s <= 600; s++) runs.recordMetrics(a.id, { ...m, step: s, loss: 1 / s, ...(s === 600 ? { eval: { ceLossRecovered: 0.93, klDivWithSae: 0.1 } } : {}) });
    const rec = runs.get('h-a');
    expect(rec.lossHistory.length).toBeLessThanOrEqual(256);
    expect(rec.lossHistory.length).toBeGreaterThan(128);
    expect(rec.lossHistory.at(-1)).toEqual([600, 1 / 600]);
    expect(rec.lossHistory[0]).toEqual([1, 1]);
    expect(rec).toMatchObject({ step: 600, mse: 0.5, explainedVariance: 0.9, l0: 4, deadLatents: 2, ceLossRecovered: 0.93, klDiv: 0.1 });
    expect(rec.metrics).not.toHaveProperty('densityHistogram');
    // A later metrics row without evaluation keeps the last CE loss recovered.
    runs.recordMetrics(a.id, { ...m, step: 601 });
    expect(runs.get('h-a').ceLossRecovered).toBe(0.93);

    // Thinning keeps the newest point and halves the density.
    let h: [number, number][] = [];
    for (let s = 0; s < 10; s++) h = appendLossPoint(h, [s, s], 4);
    expect(h.at(-1)).toEqual([9, 9]);
    expect(h.length).toBeLessThanOrEqual(4);

    // A run 'running' in another live process is refused unless forced; files go with the row.
    catalog.db.prepare('UPDATE training_runs SET pid = ? WHERE name = ?').run(process.ppid, 'h-b');
    expect(() => runs.delete(['h-b'])).toThrow(/running in process/);
    expect(runs.delete(['h-a', 'h-b'], { force: true }).map((r) => r.name)).toEqual(['h-a', 'h-b']);
    expect(existsSync(dirs[0])).toBe(false);
    expect(existsSync(dirs[1])).toBe(false);
    expect(runs.deleteWhere({ status: 'pending' }, { keepFiles: true }).map((r) => r.name)).toEqual(['h-c']);
    expect(existsSync(dirs[2])).toBe(true);
    expect(() => runs.get('h-a')).toThrow(/no training run named 'h-a'/);
  });

  it('named templates: save, apply with overrides (validated), edit, delete', () => {
    const t = new TrainingTemplates(catalog);
    t.save('topk-8x', { architecture: 'topk', expansionFactor: 8, k: 32, lr: 1e-3 }, { description: 'SAELens-like topk' });
    expect(() => t.save('topk-8x', { k: 1 })).toThrow(/already exists/);
    expect(() => t.save('bad', { kk: 3 } as never)).toThrow(/unknown training config field 'kk'/);
    const cfg = t.apply('topk-8x', { dIn: 64 });
    expect(cfg).toMatchObject({ architecture: 'topk', dIn: 64, dSae: 512, k: 32, lr: 1e-3 });
    expect(t.apply('topk-8x', { dIn: 64, dSae: 100 }).dSae).toBe(100);
    expect(() => t.apply('topk-8x', { dIn: 2 })).toThrow(/k \(32\) is larger than dSae \(16\)/);
    const edited = t.edit('topk-8x', { k: 16, lr: null });
    expect(edited.config).toEqual({ architecture: 'topk', expansionFactor: 8, k: 16 });
    expect(edited.description).toBe('SAELens-like topk');
    expect(t.list().map((x) => x.name)).toEqual(['topk-8x']);
    t.delete('topk-8x');
    expect(() => t.get('topk-8x')).toThrow(/no training template/);
  });

  it('the job status follows into the catalog: running, paused, running, stopped; resume completes the same row', async () => {
    const runs = new TrainingRunsTable(catalog);
    const runDir = fresh();
    const job: TrainingJob = new Job('tracked', { kind: 'sae-training' });
    const seen: string[] = [];
    let pausedOnce = false;
    job.on((e) => {
      if (e.type === 'progress' && e.progress.done === 64 * 10 && !pausedOnce) {
        pausedOnce = true;
        job.pause('checking the catalog');
      }
      if (e.type === 'status' && e.status === 'paused') {
        setImmediate(() => {
          seen.push(`${runs.get('tracked-run').status}:${runs.get('tracked-run').statusReason}`);
          job.resume();
        });
      }
      if (e.type === 'progress' && e.progress.done === 64 * 25) {
        seen.push(runs.get('tracked-run').status);
        job.stop();
      }
    });
    const first = await trainSae(SMALL, { runDir, source: source(), job, intraOpNumThreads: 1, history: { catalog, name: 'tracked-run' } });
    expect(first.status).toBe('stopped');
    expect(seen).toEqual(['paused:checking the catalog', 'running']);
    const stopped = runs.get('tracked-run');
    expect(stopped).toMatchObject({ status: 'stopped', step: 25, tokens: 64 * 25, saeDir: null });
    expect(stopped.lossHistory.map(([s]) => s)).toEqual([5, 10, 15, 20, 25]);

    const second = await resumeTraining({ runDir, source: source(), intraOpNumThreads: 1, history: { catalog } });
    expect(second.status).toBe('completed');
    expect(runs.list().filter((r) => r.runDir === runDir)).toHaveLength(1);
    const done = runs.get('tracked-run');
    expect(done).toMatchObject({ status: 'completed', step: 40, saeDir: path.join(runDir, 'sae'), pid: null });
    expect(done.explainedVariance).toBeGreaterThan(0);
    expect(done.l0).toBeLessThanOrEqual(4);
    expect(done.finishedAt).not.toBeNull();
  });
});

/** Two hooks of different widths, written as an extraction folder would hold them. */
function writeExtraction(dir: string): void {
  const rng = new Rng(5);
  for (const [hook, d] of [['blocks.0.hook_resid_post', 16], ['blocks.1.hook_mlp_out', 24]] as const) {
    const w = ActivationStoreWriter.create(path.join(dir, hook), { hook, d, dtype: 'float32', positions: false, rowsPerShard: 500, source: { model: 'synthetic' } });
    const rows = new Float32Array(2000 * d);
    for (let i = 0; i < rows.length; i++) rows[i] = rng.next() < 0.2 ? rng.normal() : 0;
    w.append(rows);
    w.finish();
  }
}

describe('multi-hook training in one job', () => {
  it('trains each hook in turn like training it alone; stop then resume finishes the rest; the catalog has one row per hook', async () => {
    const extraction = fresh();
    writeExtraction(extraction);
    const hooks = ['blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out'];
    const cfg = { architecture: 'topk' as const, expansionFactor: 2, k: 4, batchSizeTokens: 50, trainingTokens: 50 * 24, lr: 2e-3, seed: 1, metricsInterval: 4, checkpointInterval: 5 };
    const runsDir = fresh();
    const job: MultiHookJob = new Job('multi', { kind: 'sae-training' });
    const logs: string[] = [];
    job.on((e: JobEvent<TrainingMetrics>) => {
      if (e.type === 'log') logs.push(e.message);
      // Stop in the middle of the second hook (progress is over both hooks).
      if (e.type === 'progress' && e.progress.done === 50 * 24 + 50 * 10) job.stop();
    });
    const first = await trainHooks(cfg, { extractionDir: extraction, hooks, runsDir, job, bufferRows: 400, intraOpNumThreads: 1, history: { catalog, name: 'multi' } });
    expect(first.status).toBe('stopped');
    expect(first.result!.runs.map((r) => !!r.result?.saeDir)).toEqual([true, false]);
    expect(logs.some((l) => l.startsWith('training blocks.1.hook_mlp_out (2 of 2)'))).toBe(true);
    const runs = new TrainingRunsTable(catalog);
    expect(runs.list({ group: 'multi' }).map((r) => [r.name, r.status, r.config.dIn, r.config.dSae])).toEqual([
      ['multi/blocks.0.hook_resid_post', 'completed', 16, 32],
      ['multi/blocks.1.hook_mlp_out', 'stopped', 24, 48],
    ]);
    expect(readCheckpoint(path.join(first.result!.runs[1].runDir, CHECKPOINT_FILE)).state.step).toBe(10);

    const second = await resumeHooks(runsDir, { intraOpNumThreads: 1, catalog });
    expect(second.status).toBe('completed');
    expect(runs.list({ group: 'multi' }).map((r) => r.status)).toEqual(['completed', 'completed']);

    // Each hook equals a single-hook run on the same store with the same settings, bit for bit.
    for (const [i, hook] of hooks.entries()) {
      const store = ActivationStore.open(path.join(extraction, hook));
      const alone = await trainSae({ ...cfg, dIn: store.d, metadata: { hook_name: hook } }, { runDir: fresh(), source: new StoreActivationSource(store, { batchRows: 50, bufferRows: 400, seed: 0 }), intraOpNumThreads: 1 });
      const multi = path.join(second.result!.runs[i].runDir, 'sae', 'sae_weights.safetensors');
      expect(readFileSync(multi).equals(readFileSync(path.join(alone.result!.saeDir!, 'sae_weights.safetensors'))), hook).toBe(true);
    }
  });

  it('rejects a width mismatch and a missing hook before anything starts', async () => {
    const extraction = fresh();
    writeExtraction(extraction);
    await expect(trainHooks({ architecture: 'topk', dIn: 16, dSae: 32, k: 4 }, { extractionDir: extraction, hooks: ['blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out'], runsDir: fresh() })).rejects.toThrow(/dIn is 16 but blocks\.1\.hook_mlp_out has width 24/);
    await expect(trainHooks({ architecture: 'topk', dSae: 32, k: 4 }, { extractionDir: extraction, hooks: ['blocks.5.hook_resid_post'], runsDir: fresh() })).rejects.toThrow(/no activation store/);
  });
});

describe('memory', () => {
  it('estimates against free RAM on CPU and against free GPU memory on a GPU device', () => {
    const cfg = resolveTrainingConfig({ architecture: 'topk', dIn: 576, dSae: 4608, k: 64 });
    const cpu = estimateTrainingMemory(cfg, 2 ** 40);
    expect(cpu.fits).toBe(true);
    expect(cpu.gpu).toBeUndefined();
    const gpuFull = estimateTrainingMemory(cfg, 2 ** 40, 'cuda', 2 ** 20);
    expect(gpuFull.gpu!.totalBytes).toBe(cpu.totalBytes);
    expect(gpuFull.totalBytes).toBeLessThan(cpu.totalBytes); // the host keeps only batches and copies
    expect(gpuFull.fits).toBe(false);
    expect(() => assertFitsInMemory(gpuFull)).toThrow(/GPU memory.*only 0\.00 GiB is free.*train on device cpu/);
    expect(estimateTrainingMemory(cfg, 2 ** 40, 'webgpu', null).fits).toBe(true); // nvidia-smi unreadable: not checked
    expect(() => assertFitsInMemory(estimateTrainingMemory(cfg, 2 ** 20))).toThrow(/only 0\.00 GiB is free.*field batchSizeTokens/);
    expect(isOutOfMemoryError(new Error('Failed to allocate memory for requested buffer of size 67108864'))).toBe(true);
    expect(isOutOfMemoryError(new Error('std::bad_alloc'))).toBe(true);
    expect(isOutOfMemoryError(new Error('shape mismatch'))).toBe(false);
  });
});

describe('out of memory during a step', () => {
  afterEach(() => vi.restoreAllMocks());

  /** onnxruntime's CPU allocator failure for any step of more than `maxRows` rows. */
  function injectAllocationFailure(maxRows: number): { calls: number[] } {
    const original = SaeStepRunner.prototype.step;
    const seen = { calls: [] as number[] };
    vi.spyOn(SaeStepRunner.prototype, 'step').mockImplementation(async function (this: SaeStepRunner, inputs) {
      seen.calls.push(this.spec.batch);
      if (this.spec.batch > maxRows) throw new Error(`Failed to allocate memory for requested buffer of size ${this.spec.batch * this.spec.dSae * 4}`);
      return original.call(this, inputs);
    });
    return seen;
  }

  it('halves the batch until a step fits, says so (notice + log), and trains the same tokens', async () => {
    const seen = injectAllocationFailure(16);
    const job: TrainingJob = new Job('oom', { kind: 'sae-training' });
    const notices: { code: string; detail?: Record<string, unknown> }[] = [];
    const logs: string[] = [];
    const metrics: TrainingMetrics[] = [];
    job.on((e) => {
      if (e.type === 'notice') notices.push({ code: e.code, detail: e.detail });
      if (e.type === 'log') logs.push(e.message);
      if (e.type === 'metrics') metrics.push(e.metrics);
    });
    const runDir = fresh();
    const out = await trainSae(SMALL, { runDir, source: source(), job, intraOpNumThreads: 1 });
    expect(out.status).toBe('completed');
    expect(notices.map((x) => x.detail)).toEqual([
      { step: 0, fromTokensPerStep: 64, toTokensPerStep: 32 },
      { step: 0, fromTokensPerStep: 32, toTokensPerStep: 16 },
    ]);
    expect(notices.every((x) => x.code === 'batch-halved')).toBe(true);
    expect(logs.filter((l) => /out of memory at step 0 with 64 tokens per step .*Failed to allocate memory.*continuing with 32 tokens per step/.test(l))).toHaveLength(1);
    expect(seen.calls.slice(0, 3)).toEqual([64, 32, 16]);
    expect(out.result!.tokens).toBe(64 * 40);
    expect(out.result!.steps).toBe(160);
    expect(metrics.at(-1)!.batchSizeTokens).toBe(16);
    expect(metrics.at(-1)!.totalSteps).toBe(160);
    expect(readCheckpoint(path.join(runDir, CHECKPOINT_FILE)).state.stepBatchRows).toBe(16);
    expect(existsSync(path.join(runDir, 'sae', 'cfg.json'))).toBe(true);
  });

  it('a halved run stopped between the parts of a source batch resumes bit-identical', async () => {
    injectAllocationFailure(32);
    const straight = fresh();
    await trainSae(SMALL, { runDir: straight, source: source(), intraOpNumThreads: 1 });
    const stopped = fresh();
    const job: TrainingJob = new Job('oom-stop', { kind: 'sae-training' });
    job.on((e) => e.type === 'progress' && e.progress.done === 32 * 21 && job.stop()); // 21 halves: mid source batch
    expect((await trainSae(SMALL, { runDir: stopped, source: source(), job, intraOpNumThreads: 1 })).status).toBe('stopped');
    const state = readCheckpoint(path.join(stopped, CHECKPOINT_FILE)).state;
    expect(state).toMatchObject({ step: 21, partsDone: 1, stepBatchRows: 32 });
    expect((await resumeTraining({ runDir: stopped, source: source(), intraOpNumThreads: 1 })).status).toBe('completed');
    expect(readFileSync(path.join(stopped, 'sae', 'sae_weights.safetensors')).equals(readFileSync(path.join(straight, 'sae', 'sae_weights.safetensors')))).toBe(true);
  });

  it('fails with OUT_OF_MEMORY naming the field when even one row does not fit', async () => {
    injectAllocationFailure(0);
    const out = await trainSae({ ...SMALL, batchSizeTokens: 4, trainingTokens: 40 }, { runDir: fresh(), source: source(), intraOpNumThreads: 1 });
    expect(out.status).toBe('failed');
    expect(String((out.error as Error).message)).toMatch(/cannot be halved further.*field batchSizeTokens/);
  });
});
