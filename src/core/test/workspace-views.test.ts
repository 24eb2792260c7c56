/**
 * The catalog queries behind the workspace views (issue 12): the models table (registered local
 * models, hub models found in the download cache — including a cancelled download — and delete),
 * and paging of models, extractions and training runs: totals, counts per status, filters, sorts,
 * clamped pages, rejected sort keys, the indexes the queries use, and bulk run deletion that
 * removes exactly the chosen rows and directories. Parameter counts are checked against the
 * Python safetensors reader.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, pageExtractions, type Catalog } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';
import { downloadModel } from '../models/index.js';
import { pageRuns, thinHistory, TrainingRunsTable } from '../sae/index.js';
import { FakeModelHub } from './helpers/fake-model-hub.js';
import { generateRuns } from './helpers/workspace-runs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, 'fixtures', 'models');
const repoRoot = path.resolve(here, '..', '..', '..');
const MAIN = path.join(here, '..', 'cli', 'main.ts');

/** Parameters of model directories as PyTorch's safetensors reader counts them (every stored tensor, reference files excluded). */
function pythonParameterCounts(dirs: string[]): number[] {
  const script = `import glob, os, sys\nfrom safetensors import safe_open\nfor d in sys.argv[1:]:\n    n = 0\n    for f in glob.glob(os.path.join(d, '*.safetensors')):\n        if 'reference' in os.path.basename(f): continue\n        with safe_open(f, 'pt') as s:\n            for k in s.keys(): n += s.get_tensor(k).numel()\n    print(n)`;
  const r = spawnSync(path.join(repoRoot, '.venv', 'bin', 'python'), ['-c', script, ...dirs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n').map(Number);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ms-views-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('models table', () => {
  let catalog: Catalog;
  const hub = new FakeModelHub({ 'test-org/tiny-llama': path.join(FIXTURES, 'tiny-llama'), 'test-org/tiny-gpt2': path.join(FIXTURES, 'tiny-gpt2') });
  const cacheDir = path.join(tmp, 'hub-cache');

  let expectedParams: Record<string, number>;
  beforeAll(async () => {
    catalog = await openCatalog({ root: path.join(tmp, 'ws-models') });
    await hub.start();
    const [gpt2, llama] = pythonParameterCounts([path.join(FIXTURES, 'tiny-gpt2'), path.join(FIXTURES, 'tiny-llama')]);
    expectedParams = { gpt2, llama };
  });
  afterAll(async () => {
    catalog.close();
    await hub.stop();
  });

  it('registers local models with parameters, precision and size read from headers', () => {
    const gpt2 = catalog.models.register(path.join(FIXTURES, 'tiny-gpt2'));
    expect(gpt2).toMatchObject({ name: 'tiny-gpt2', origin: 'local', architecture: 'gpt2', format: 'safetensors', precision: 'float32', status: 'ready' });
    expect(gpt2.parameters).toBe(expectedParams.gpt2);
    const llama = catalog.models.register(path.join(FIXTURES, 'tiny-llama'), { name: 'llama-local' });
    expect(llama.parameters).toBe(expectedParams.llama);
    // the model's files only: both shards, index, config and tokenizer files — not reference.*
    expect(llama.bytes).toBe(137456 + 108480 + 1701 + 805 + 24771 + 248);
    const dup = (() => { try { catalog.models.register(path.join(FIXTURES, 'tiny-gpt2'), { name: 'again' }); } catch (e) { return e; } })();
    expect((dup as MiStudioError).code).toBe('ALREADY_EXISTS');
    const missing = (() => { try { catalog.models.register(path.join(FIXTURES, 'no-such-model')); } catch (e) { return e; } })();
    expect((missing as MiStudioError).code).toBe('FILE_NOT_FOUND');
  });

  it('lists hub models of the cache, a cancelled download as incomplete, and picks up its completion', async () => {
    await downloadModel('test-org/tiny-gpt2', { cacheDir, endpoint: hub.endpoint });
    hub.stall.add('model-00001-of-00002.safetensors');
    const controller = new AbortController();
    const pending = downloadModel('test-org/tiny-llama', { cacheDir, endpoint: hub.endpoint, signal: controller.signal, onProgress: (p) => p.phase === 'progress' && p.file === 'model-00001-of-00002.safetensors' && controller.abort() });
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(catalog.models.refresh(cacheDir)).toEqual({ added: 2, updated: 0, removed: 0 });
    const cached = catalog.models.page({ status: 'cache' });
    expect(cached.rows.map((m) => [m.name, m.status])).toEqual([['test-org/tiny-gpt2', 'ready'], ['test-org/tiny-llama', 'incomplete']]);
    expect(cached.rows[1].error).toMatch(/model-00001-of-00002\.safetensors/);
    expect(cached.counts).toEqual({ local: 2, cache: 2 });

    hub.stall.clear();
    await downloadModel('test-org/tiny-llama', { cacheDir, endpoint: hub.endpoint });
    expect(hub.requests.some((r) => r.range)).toBe(true); // resumed from the .part file
    expect(catalog.models.refresh(cacheDir)).toEqual({ added: 0, updated: 1, removed: 0 });
    const llama = catalog.models.get('test-org/tiny-llama');
    expect(llama).toMatchObject({ status: 'ready', architecture: 'llama', parameters: expectedParams.llama });
  });

  it('pages with origin filter, text filter and sorting; rejects unknown sort keys', () => {
    const byParams = catalog.models.page({ sort: 'parameters', order: 'desc' });
    const params = byParams.rows.map((m) => m.parameters!);
    expect(params).toEqual([...params].sort((a, b) => b - a));
    expect(catalog.models.page({ query: 'llama' }).rows.map((m) => m.name)).toEqual(['llama-local', 'test-org/tiny-llama']);
    expect(catalog.models.page({ query: 'llama' }).counts).toEqual({ local: 1, cache: 1 });
    const page = catalog.models.page({ pageSize: 3, page: 7 });
    expect(page).toMatchObject({ page: 1, pages: 2, total: 4 });
    expect(page.rows).toHaveLength(1);
    expect(() => catalog.models.page({ sort: 'name; DROP TABLE models' })).toThrow(/cannot sort by/);
    expect(() => catalog.models.page({ status: 'remote' })).toThrow(/unknown status/);
  });

  it('deletes cached models with their files and forgets local ones without touching them', () => {
    const repoDir = path.join(cacheDir, 'models--test-org--tiny-llama');
    expect(existsSync(repoDir)).toBe(true);
    const removed = catalog.models.delete(['test-org/tiny-llama', 'tiny-gpt2']);
    expect(removed.map((m) => m.name)).toEqual(['test-org/tiny-llama', 'tiny-gpt2']);
    expect(existsSync(repoDir)).toBe(false);
    expect(readdirSync(cacheDir)).toEqual(['models--test-org--tiny-gpt2']);
    expect(existsSync(path.join(FIXTURES, 'tiny-gpt2', 'model.safetensors'))).toBe(true);
    expect(catalog.models.list().map((m) => m.name)).toEqual(['llama-local', 'test-org/tiny-gpt2']);
    expect(() => catalog.models.delete(['nope'])).toThrow(/no model named 'nope'/);
  });

  it('mistudio models list --json shows the same page', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'models', 'list', '--workspace', catalog.root, '--cache', cacheDir, '--json', '--sort', 'name'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rows.map((m: { name: string }) => m.name)).toEqual(catalog.models.page({ sort: 'name' }).rows.map((m) => m.name));
    expect(out.counts).toEqual({ local: 1, cache: 1 });
  });
});

describe('extraction history paging', () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await openCatalog({ root: path.join(tmp, 'ws-extractions') });
    const statuses = ['completed', 'completed', 'failed', 'stopped', 'running'] as const;
    for (let i = 0; i < 23; i++) {
      const rec = catalog.extractions.create({ name: `ex-${String(i).padStart(2, '0')}`, model: i % 2 ? 'tiny-gpt2' : 'tiny-llama', datasetId: null, hooks: [`blocks.${i % 3}.hook_resid_post`], config: { batchSize: 4 } });
      catalog.extractions.update(rec.id, { status: statuses[i % 5], tokens: 1000 * (i + 1), bytes: 4096 * (i + 1), durationSeconds: i });
    }
  });
  afterAll(() => catalog.close());

  it('counts per status, filters, sorts and pages', () => {
    const all = pageExtractions(catalog, { pageSize: 10 });
    expect(all.counts).toEqual({ running: 4, stopped: 4, completed: 10, failed: 5 });
    expect(all).toMatchObject({ total: 23, pages: 3, page: 0 });
    const failed = pageExtractions(catalog, { status: 'failed', sort: 'tokens', order: 'asc' });
    expect(failed.rows.map((r) => r.name)).toEqual(['ex-02', 'ex-07', 'ex-12', 'ex-17', 'ex-22']);
    expect(failed.rows[0]).toMatchObject({ tokens: 3000, bytes: 12288, hooks: ['blocks.2.hook_resid_post'], dataset: null, status: 'failed' });
    const hook1 = pageExtractions(catalog, { query: 'blocks.1.' });
    expect(hook1.total).toBe(8);
    expect(Object.values(hook1.counts).reduce((a, b) => a + b, 0)).toBe(8);
  });
});

describe('training run paging and bulk delete', () => {
  let catalog: Catalog;
  const dirs = path.join(tmp, 'run-dirs');
  beforeAll(async () => {
    catalog = await openCatalog({ root: path.join(tmp, 'ws-runs') });
    generateRuns(catalog, 40, { dirsUnder: dirs, metricsPerRun: 5 });
  });
  afterAll(() => catalog.close());

  it('counts per status, filters by status and text, sorts by final metrics', () => {
    const p = pageRuns(catalog, { pageSize: 10 });
    expect(p.counts).toEqual({ pending: 5, running: 5, paused: 5, stopping: 0, stopped: 5, completed: 15, failed: 5 });
    expect(p.total).toBe(40);
    expect(p.rows[0].name).toBe('run-00039'); // newest first
    const completed = pageRuns(catalog, { status: 'completed', sort: 'mse', order: 'asc', pageSize: 50 });
    expect(completed.total).toBe(15);
    const mses = completed.rows.map((r) => r.mse!);
    expect(mses).toEqual([...mses].sort((a, b) => a - b));
    const topk = pageRuns(catalog, { query: 'batchtopk', pageSize: 50 });
    expect(topk.rows.every((r) => r.architecture === 'batchtopk')).toBe(true);
    expect(topk.total).toBe(8);
  });

  it('shows target vs achieved L0, hyperparameters and a thinned loss history', () => {
    const r = pageRuns(catalog, { query: 'run-00001' }).rows[0];
    expect(r).toMatchObject({ architecture: 'batchtopk', targetL0: 16, l0: 16, dIn: 64, dSae: 128, hyper: { k: 16, lr: 2e-4, batch: 256, tokens: 12800 } });
    expect(r.loss).toHaveLength(5);
    expect(r.loss[4]).toBeCloseTo(0.55 / Math.sqrt(5), 12);
    const standard = pageRuns(catalog, { query: 'run-00002' }).rows[0];
    expect(standard).toMatchObject({ architecture: 'standard', targetL0: null, hyper: { l1: 1 } });
    expect(standard.ceLossRecovered).toBeCloseTo(0.82, 12);
    const history = Array.from({ length: 256 }, (_, i) => [i, i] as [number, number]);
    const thin = thinHistory(history, 48);
    expect(thin).toHaveLength(48);
    expect(thin[0]).toBe(0);
    expect(thin[47]).toBe(255);
  });

  it('pages with an index range scan for status + creation order', () => {
    const plan = catalog.db.prepare("EXPLAIN QUERY PLAN SELECT id FROM training_runs WHERE status = 'completed' ORDER BY created_at DESC, rowid DESC LIMIT 25").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/training_runs_status_created/);
  });

  it('bulk delete removes exactly the chosen rows and run directories', () => {
    const chosen = ['run-00003', 'run-00011', 'run-00024'];
    const before = readdirSync(dirs).sort();
    new TrainingRunsTable(catalog).delete(chosen);
    expect(readdirSync(dirs).sort()).toEqual(before.filter((d) => !chosen.includes(d)));
    const left = pageRuns(catalog, { pageSize: 200 }).rows.map((r) => r.name);
    expect(left).toHaveLength(37);
    for (const c of chosen) expect(left).not.toContain(c);
  });
});
