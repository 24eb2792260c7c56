/**
 * `mistudio train`: Ctrl-C stops with a checkpoint (exit 130), --resume finishes the run (exit 0);
 * the run history in the workspace catalog follows it, and `train list|show|rm --json` read and prune it;
 * `train templates` saves, lists, shows and removes training templates, and `--template` applies one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { extractActivations } from '../activations/extract.js';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { loadModel } from '../models/index.js';
import { readCheckpoint } from '../sae/checkpoint.js';
import { loadSaeLens } from '../sae/saelens-format.js';
import { FIXTURES, GUTENBERG, tempWorkspace } from './helpers/dataset-workspace.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-train-cli-'));
const workspace = path.join(dir, 'ws');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], interruptAfterOutput = false): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'train', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MISTUDIO_WORKSPACE: workspace } });
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

/** `mistudio train <args> --json` → parsed stdout. */
function cliJson(args: string[]): { code: number | null; json: unknown; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'train', ...args, '--json'], { encoding: 'utf8', env: { ...process.env, MISTUDIO_WORKSPACE: workspace } });
  return { code: r.status, json: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

it('records runs in the catalog: list, show (metrics, loss history) and rm with files, by name and in bulk', async () => {
  const config = path.join(dir, 'named.json');
  writeFileSync(config, JSON.stringify({
    name: 'cli-run', architecture: 'topk', dIn: 16, dSae: 32, k: 4, lr: 3e-3, batchSizeTokens: 64, trainingTokens: 64 * 50, metricsInterval: 10,
    activations: { synthetic: { d: 16, features: 40, activePerRow: 3, seed: 5 } },
  }));
  const done = await cli(['--config', config]);
  expect(done.code, done.stderr).toBe(0);
  const list = cliJson(['list']);
  expect(list.code).toBe(0);
  const names = (list.json as { name: string; status: string }[]).map((r) => `${r.name}:${r.status}`);
  expect(names).toContain('cli-run:completed');
  expect(names.some((n) => /^topk-synthetic-\d{8}-\d{6}:completed$/.test(n))).toBe(true); // the first test's run, resumed to the end
  const show = cliJson(['show', 'cli-run']).json as { runDir: string; saeDir: string; step: number; totalSteps: number; explainedVariance: number; lossHistory: [number, number][] };
  expect(show.runDir).toBe(path.join(workspace, 'runs', 'cli-run'));
  expect(show.saeDir).toBe(path.join(show.runDir, 'sae'));
  expect([show.step, show.totalSteps]).toEqual([50, 50]);
  expect(show.lossHistory.map(([s]) => s)).toEqual([10, 20, 30, 40, 50]);
  expect(show.explainedVariance).toBeGreaterThan(0);
  const text = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'train', 'show', 'cli-run'], { encoding: 'utf8', env: { ...process.env, MISTUDIO_WORKSPACE: workspace } });
  expect(text.stdout).toMatch(/loss +[▁▂▃▄▅▆▇█]{5}/);
  const rm = cliJson(['rm', 'cli-run']);
  expect(rm.json).toEqual({ removed: [{ name: 'cli-run', runDir: show.runDir, filesRemoved: true }] });
  expect(existsSync(show.runDir)).toBe(false);
  expect(cliJson(['show', 'cli-run']).stderr).toMatch(/no training run named 'cli-run'/);
  const bulk = cliJson(['rm', '--status', 'completed', '--keep-files']);
  expect((bulk.json as { removed: unknown[] }).removed).toHaveLength(1);
  expect(existsSync(path.join(dir, 'run', 'sae'))).toBe(true);
  expect(cliJson(['list']).json).toEqual([]);
});

it('one job trains an SAE per hook of an extraction, with CE loss recovered on held-out rows, all in the run history', async () => {
  const ws = await tempWorkspace();
  try {
    const text = path.join(ws.scratch, 'emma.txt');
    writeFileSync(text, readFileSync(path.join(GUTENBERG, 'austen-emma.txt'), 'utf8').slice(0, 8000));
    await addDataset(ws.catalog, text, { name: 'emma' });
    const llama = path.join(FIXTURES, 'models', 'tiny-llama');
    const dataset = (await tokenizeDataset(ws.catalog, 'emma', { tokenizer: llama, contextSize: 16, name: 'emma-llama' })).dir;
    const model = await loadModel(llama, { threads: 1 });
    const hooks = ['blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out'];
    const extraction = path.join(dir, 'extraction');
    await extractActivations(model, dataset, extraction, { hooks, tokens: 400, batchSize: 8 });
    await model.release();
    const config = path.join(dir, 'multi.json');
    writeFileSync(config, JSON.stringify({
      name: 'cli-multi', architecture: 'topk', expansionFactor: 2, k: 8, lr: 3e-3, batchSizeTokens: 64, trainingTokens: 64 * 12, evalInterval: 6,
      activations: { extraction, hooks, bufferRows: 256 }, evaluation: { rows: 4 },
    }));
    const r = await cli(['--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/evaluating CE loss recovered on 4 held-out rows/);
    expect(r.stderr).toMatch(/training blocks\.1\.hook_mlp_out \(2 of 2\)/);
    const rows = cliJson(['list', '--group', 'cli-multi']).json as { name: string; status: string; ceLossRecovered: number | null; saeDir: string }[];
    expect(rows.map((x) => [x.name, x.status])).toEqual([['cli-multi/blocks.0.hook_resid_post', 'completed'], ['cli-multi/blocks.1.hook_mlp_out', 'completed']]);
    for (const x of rows) {
      expect(Number.isFinite(x.ceLossRecovered)).toBe(true);
      expect(existsSync(path.join(x.saeDir, 'cfg.json'))).toBe(true);
    }
    expect(loadSaeLens(rows[1].saeDir).model.metadata.hook_name).toBe('blocks.1.hook_mlp_out');
  } finally {
    ws.dispose();
  }
});

it('templates: save from a train config (run fields left out), list, show, train with --template under the file\'s fields, rm', async () => {
  const full = path.join(dir, 'template-source.json');
  writeFileSync(full, JSON.stringify({
    name: 'not-in-template', architecture: 'topk', dIn: 16, expansionFactor: 4, k: 4, lr: 3e-3, batchSizeTokens: 64, trainingTokens: 64 * 20,
    activations: { synthetic: { d: 16, features: 40, activePerRow: 3, seed: 5 } },
  }));
  const saved = cliJson(['templates', 'save', 'small-topk', '--config', full, '--description', 'k=4, 4x']);
  expect(saved.code, saved.stderr).toBe(0);
  expect(saved.json).toMatchObject({ name: 'small-topk', description: 'k=4, 4x', config: { architecture: 'topk', dIn: 16, expansionFactor: 4, k: 4, lr: 3e-3, batchSizeTokens: 64, trainingTokens: 64 * 20 } });
  expect(Object.keys((saved.json as { config: object }).config)).not.toContain('activations');
  expect(cliJson(['templates', 'save', 'small-topk', '--config', full]).stderr).toMatch(/already exists/);
  expect((cliJson(['templates', 'list']).json as { name: string }[]).map((t) => t.name)).toEqual(['small-topk']);
  expect(cliJson(['templates', 'show', 'small-topk']).json).toMatchObject({ config: { k: 4 } });

  // The run's file gives only the data, a name and two overrides: k, and dSae instead of the template's expansionFactor.
  const runConfig = path.join(dir, 'from-template.json');
  writeFileSync(runConfig, JSON.stringify({ name: 'templated', k: 2, dSae: 48, activations: { synthetic: { d: 16, features: 40, activePerRow: 3, seed: 5 } } }));
  const trained = await cli(['--config', runConfig, '--template', 'small-topk']);
  expect(trained.code, trained.stderr).toBe(0);
  const run = cliJson(['show', 'templated']).json as { runDir: string; totalSteps: number };
  expect(run.totalSteps).toBe(20);
  expect(JSON.parse(readFileSync(path.join(run.runDir, 'config.json'), 'utf8'))).toMatchObject({ architecture: 'topk', dIn: 16, dSae: 48, k: 2, lr: 3e-3, batchSizeTokens: 64 });
  expect((await cli(['--resume', run.runDir, '--template', 'small-topk'])).stderr).toMatch(/--template applies only to new runs/);
  expect((await cli(['--config', runConfig, '--template', 'nope', '--name', 'other'])).stderr).toMatch(/no training template named 'nope'.*templates: small-topk/s);

  const bad = path.join(dir, 'bad-template.json');
  writeFileSync(bad, JSON.stringify({ architecture: 'topk', kk: 3 }));
  expect(cliJson(['templates', 'save', 'bad', '--config', bad]).stderr).toMatch(/unknown training config field 'kk'/);
  expect(cliJson(['templates', 'rm', 'small-topk']).json).toEqual({ removed: 'small-topk' });
  expect(cliJson(['templates', 'list']).json).toEqual([]);
});
