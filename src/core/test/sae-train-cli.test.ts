/** `mistudio train`: Ctrl-C stops with a checkpoint (exit 130), --resume finishes the run (exit 0). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { readCheckpoint } from '../sae/checkpoint.js';
import { loadSaeLens } from '../sae/saelens-format.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-train-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], interruptAfterOutput = false): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'train', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (interruptAfterOutput && /tokens/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

it('Ctrl-C stops with a checkpoint and --resume completes the run', async () => {
  const config = path.join(dir, 'cfg.json');
  writeFileSync(config, JSON.stringify({
    architecture: 'topk', dIn: 16, dSae: 64, k: 4, batchSizeTokens: 64, trainingTokens: 64 * 3000, checkpointInterval: 100000,
    activations: { synthetic: { d: 16, features: 40, activePerRow: 3, seed: 5 } },
  }));
  const runDir = path.join(dir, 'run');
  const first = await cli(['--config', config, '--run-dir', runDir], true);
  expect(first.stderr).toContain('resume with: mistudio train --resume');
  expect(first.code).toBe(130);
  const step = readCheckpoint(path.join(runDir, 'checkpoint.safetensors')).state.step;
  expect(step).toBeGreaterThan(0);
  expect(step).toBeLessThan(3000);
  const second = await cli(['--resume', runDir]);
  expect(second.code, second.stderr).toBe(0);
  expect(existsSync(path.join(runDir, 'sae', 'cfg.json'))).toBe(true);
  expect(loadSaeLens(path.join(runDir, 'sae')).model.k).toBe(4);
  const bad = await cli(['--config', config, '--run-dir', runDir]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/already holds a training run/);
});
