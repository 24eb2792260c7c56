/**
 * `device: 'webgpu'` through the trainer as a notebook or the CLI would use it, on SwiftShader: the
 * device check (onnxruntime's WebGPU provider), the WGSL step runner on Node's Dawn with the
 * parameters and Adam moments resident on the device, checkpoints read back from it. The loss curve
 * follows the CPU run's, and a stopped then resumed run ends bit-identical to an uninterrupted one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SWIFTSHADER_ICD } from '../gpu/dawn-device.js';
import { Job } from '../jobs/job.js';
import { SyntheticDictionarySource } from '../sae/activation-source.js';
import type { TrainingConfigInput } from '../sae/config.js';
import { resumeTraining, trainSae, type TrainingMetrics, type TrainingResult } from '../sae/trainer.js';
import { WgslSaeStepRunner } from '../sae/wgsl-step-runner.js';
import { expectSameState } from './helpers/resume-state.js';
import { RESUME_CONFIG, RESUME_THREADS, resumeSource } from './helpers/sae-train-setup.js';
import { tempDirs } from './helpers/temp-dirs.js';

const tmp = tempDirs('mistudio-sae-webgpu-');

beforeAll(() => {
  // Both Dawns (onnxruntime's, for the device check, and npm webgpu's, for the kernels) read these
  // when they first create their instance, which happens in the tests below.
  vi.stubEnv('VK_DRIVER_FILES', SWIFTSHADER_ICD);
  vi.stubEnv('MISTUDIO_WEBGPU_SOFTWARE', '1');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

async function lossCurve(config: TrainingConfigInput): Promise<{ losses: number[]; result: TrainingResult }> {
  const losses: number[] = [];
  const job = new Job<TrainingResult, TrainingMetrics>('curve', { kind: 'sae-training' });
  job.on((e) => e.type === 'metrics' && losses.push(e.metrics.loss));
  const source = new SyntheticDictionarySource({ d: 32, features: 64, activePerRow: 3, seed: 1, noise: 0.01 });
  const out = await trainSae(config, { runDir: tmp(), source, job, intraOpNumThreads: 1 });
  expect(out.status).toBe('completed');
  return { losses, result: out.result! };
}

describe("trainer on device 'webgpu' (WGSL kernels, SwiftShader)", () => {
  for (const architecture of ['topk', 'standard'] as const) {
    it(`${architecture}: the loss curve follows the CPU run's over 40 steps`, async () => {
      const config: TrainingConfigInput = { architecture, dIn: 32, dSae: 128, k: 3, batchSizeTokens: 256, trainingTokens: 256 * 40, lr: 3e-3, seed: 7, deadFeatureWindow: 20, metricsInterval: 10 };
      const create = vi.spyOn(WgslSaeStepRunner, 'create');
      const gpu = await lossCurve({ ...config, device: 'webgpu' });
      expect(create, 'the WGSL runner trained, not the onnxruntime graph').toHaveBeenCalled();
      create.mockRestore();
      const cpu = await lossCurve({ ...config, device: 'cpu' });
      expect(gpu.losses).toHaveLength(4);
      gpu.losses.forEach((loss, i) => expect(Math.abs(loss - cpu.losses[i]) / cpu.losses[i], `metrics ${i + 1}`).toBeLessThan(1e-4));
      // The steps changed the loss, so equal curves compare real updates, not one repeated state.
      expect((Math.max(...gpu.losses) - Math.min(...gpu.losses)) / Math.max(...gpu.losses)).toBeGreaterThan(0.05);
    });
  }

  it('stop, then resume, ends bit-identical to an uninterrupted webgpu run (moments read back from and restored to the device)', async () => {
    const config = { ...RESUME_CONFIG, device: 'webgpu' as const, trainingTokens: 128 * 40 };
    const straight = tmp();
    expect((await trainSae(config, { runDir: straight, source: resumeSource(), intraOpNumThreads: RESUME_THREADS })).status).toBe('completed');
    const interrupted = tmp();
    const job = new Job<TrainingResult, TrainingMetrics>('to-stop', { kind: 'sae-training' });
    job.on((e) => {
      if (e.type === 'progress' && e.progress.done === 128 * 17) job.stop();
    });
    expect((await trainSae(config, { runDir: interrupted, source: resumeSource(), job, intraOpNumThreads: RESUME_THREADS })).status).toBe('stopped');
    expect((await resumeTraining({ runDir: interrupted, source: resumeSource(), intraOpNumThreads: RESUME_THREADS })).status).toBe('completed');
    expectSameState(straight, interrupted);
    expect(readFileSync(path.join(interrupted, 'sae', 'sae_weights.safetensors')).equals(readFileSync(path.join(straight, 'sae', 'sae_weights.safetensors')))).toBe(true);
  });
});
