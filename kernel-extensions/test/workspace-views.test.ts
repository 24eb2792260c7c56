/**
 * The kernel side of the workspace views (issue 12): `showRuns`, `showExtractions`, `showModels`
 * and `showModel` answer the front end's comm actions from a real catalog — one page per `page`
 * action, counts and filters, bulk delete of exactly the selected runs (rows and directories),
 * templates (save / edit / apply / delete), opening a run's monitor, and a hub download from a
 * loopback hub that reports progress, can be cancelled and resumes.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '@mistudio/core/catalog/index';
import { loadModel, modelCard } from '@mistudio/core/models/index';
import { TrainingTemplates } from '@mistudio/core/sae/index';
import { FakeModelHub } from '../../src/core/test/helpers/fake-model-hub.js';
import { generateRuns } from '../../src/core/test/helpers/workspace-runs.js';
import { CellRuntime } from '../src/cell-runtime.js';
import { showExtractions } from '../src/extractions-view.js';
import { showModel } from '../src/model-card.js';
import { showModels } from '../src/models-view.js';
import { Outbox } from '../src/outbox.js';
import { showRuns } from '../src/runs-view.js';
import { installRuntime } from '../src/runtime-registry.js';
import { SendQueue } from '../src/send-queue.js';
import type { WidgetHandle } from '../src/types.js';
import { type JupyterMessage, newHeader, parseMessage, Signer } from '../src/wire.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'core', 'test', 'fixtures', 'models');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ms-kernel-views-'));
/** comm_open messages the kernel sent: the widgets it opened, by tag. */
const opened: { tag: string; props: Record<string, unknown> }[] = [];
let runtime: CellRuntime;
let catalog: Catalog;

function send(w: WidgetHandle, event: string, payload: Record<string, unknown>): void {
  const message: JupyterMessage = { identities: [], header: newHeader('comm_msg', 'client'), parent_header: {}, metadata: {}, content: { comm_id: w.modelId, data: { method: 'custom', content: { event, payload } } }, buffers: [] };
  runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
}

type Row = { id: string; name: string; status: string };
const rows = (w: WidgetHandle) => w.props.rows as Row[];

beforeAll(async () => {
  const signer = new Signer('hmac-sha256', 'k');
  const outbox = new Outbox(new SendQueue(), signer, 's', {
    send: async (frames: Buffer[]) => {
      const m = parseMessage(frames, signer);
      if (m.header.msg_type === 'comm_open') {
        const state = (m.content.data as { state: { tag: string; props: Record<string, unknown> } }).state;
        opened.push({ tag: state.tag, props: state.props });
      }
    },
  });
  runtime = new CellRuntime(outbox, (tag) => `<div>${tag}</div>`);
  installRuntime(runtime);
  runtime.beginExecute(newHeader('execute_request', 'client'));
  catalog = await openCatalog({ root: path.join(tmp, 'ws') });
});
afterAll(() => {
  catalog.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('showRuns', () => {
  const dirs = path.join(tmp, 'runs');
  let w: WidgetHandle;
  beforeAll(() => {
    generateRuns(catalog, 30, { dirsUnder: dirs });
    w = showRuns(catalog, { pageSize: 10 }).widget;
  });

  it('opens on the newest page with counts per status, and answers page, filter and sort actions', () => {
    expect(w.tag).toBe('ms-runs');
    expect(w.props).toMatchObject({ total: 30, page: 0, pages: 3, counts: { completed: 12, failed: 4, stopped: 4, running: 4, paused: 3, pending: 3, stopping: 0 } });
    expect(rows(w).map((r) => r.name)).toEqual(Array.from({ length: 10 }, (_, i) => `run-${String(29 - i).padStart(5, '0')}`));
    send(w, 'page', { page: 0, pageSize: 10, status: 'failed', sort: 'name', order: 'asc', query: '' });
    expect(rows(w).map((r) => r.name)).toEqual(['run-00003', 'run-00011', 'run-00019', 'run-00027']);
    expect(w.props).toMatchObject({ total: 4, status: 'failed', error: '' });
    send(w, 'page', { sort: 'drop table' });
    expect(String(w.props.error)).toMatch(/cannot sort by/);
    expect(w.props.status).toBe('failed'); // the failed request changed nothing
  });

  it('bulk delete removes exactly the selected runs: rows and run directories', () => {
    send(w, 'page', { page: 0, status: '', sort: 'created', order: 'desc' });
    const chosen = [rows(w)[1], rows(w)[4], rows(w)[7]];
    const before = readdirSync(dirs);
    send(w, 'delete', { ids: chosen.map((r) => r.id) });
    expect(w.props.message).toBe('deleted 3 runs and their files');
    expect(readdirSync(dirs).sort()).toEqual(before.filter((d) => !chosen.some((c) => c.name === d)).sort());
    expect(w.props.total).toBe(27);
    const left = (showRuns(catalog, { pageSize: 200 }).widget.props.rows as Row[]).map((r) => r.name);
    expect(left).toHaveLength(27);
    for (const c of chosen) expect(left).not.toContain(c.name);
  });

  it('opens a run monitor with its loss history, last L0 and dead latents', () => {
    const run = rows(w).find((r) => r.status === 'completed')!;
    opened.length = 0;
    send(w, 'open-monitor', { id: run.id });
    const monitor = opened.find((o) => o.tag === 'ms-training-monitor')!;
    expect(monitor.props).toMatchObject({ status: 'finished', totalSteps: 40 });
    const metrics = monitor.props.metrics as { step: number; loss: number; l0?: number }[];
    expect(metrics.map((m) => m.step)).toEqual([10, 20, 30, 40]);
    expect(metrics[3].l0).toBeTypeOf('number');
  });

  it('training templates: from a run, save, edit, apply, delete', () => {
    const run = rows(w)[0];
    send(w, 'template-from', { run: run.id });
    const draft = w.props.templateDraft as { name: string; config: Record<string, unknown> };
    expect(draft.name).toBe(`${run.name}-template`);
    expect(draft.config).not.toHaveProperty('dIn');
    send(w, 'save-template', { name: 'small-topk', description: 'k 8', config: { architecture: 'topk', k: 8, lr: 1e-3 } });
    expect(w.props.templateDraft).toBeNull();
    expect((w.props.templates as { name: string }[]).map((t) => t.name)).toEqual(['small-topk']);
    send(w, 'save-template', { name: 'small-topk', config: { architecture: 'topk', k: 16 } });
    expect(String(w.props.error)).toMatch(/already exists/);
    send(w, 'save-template', { name: 'small-topk', config: { architecture: 'topk', k: 16 }, overwrite: true });
    expect(new TrainingTemplates(catalog).get('small-topk').config).toEqual({ architecture: 'topk', k: 16 });
    send(w, 'apply-template', { name: 'small-topk' });
    expect((w.props.applied as { template: string }).template).toBe('small-topk');
    send(w, 'save-template', { name: 'bad', config: { architecture: 'topk', nonsense: 1 } });
    expect(String(w.props.error)).toMatch(/nonsense/);
    send(w, 'delete-template', { name: 'small-topk' });
    expect(w.props.templates).toEqual([]);
  });
});

describe('showExtractions', () => {
  it('pages the history, deletes, and turns an extraction into a template', () => {
    for (let i = 0; i < 4; i++) {
      const rec = catalog.extractions.create({ name: `ex-${i}`, model: 'tiny-gpt2', datasetId: null, hooks: [`blocks.${i}.hook_resid_post`], config: { hooks: [`blocks.${i}.hook_resid_post`], batchSize: 8, dtype: 'float16', tokens: 5000 } });
      catalog.extractions.update(rec.id, { status: i === 3 ? 'failed' : 'completed', tokens: 5000, bytes: 640_000, durationSeconds: 2 });
    }
    const w = showExtractions(catalog).widget;
    expect(w.props).toMatchObject({ total: 4, counts: { completed: 3, failed: 1, running: 0, stopped: 0 } });
    send(w, 'page', { status: 'failed' });
    expect(rows(w).map((r) => r.name)).toEqual(['ex-3']);
    send(w, 'delete', { names: ['ex-3'] });
    expect(w.props).toMatchObject({ total: 0, counts: { failed: 0, completed: 3 } });
    expect(existsSync(path.join(catalog.root, 'activations'))).toBe(true);
    send(w, 'template-from', { extraction: 'ex-1' });
    expect(w.props.templateDraft).toEqual({ name: 'ex-1-template', config: { hooks: ['blocks.1.hook_resid_post'], tokens: 5000, batchSize: 8, dtype: 'float16' } });
    send(w, 'save-template', { name: 'l1-f16', config: { hooks: ['blocks.1.hook_resid_post'], dtype: 'float16' } });
    send(w, 'apply-template', { name: 'l1-f16' });
    expect(w.props.applied).toMatchObject({ template: 'l1-f16', config: { dtype: 'float16' } });
    expect(catalog.extractions.getTemplate('l1-f16').config).toEqual({ hooks: ['blocks.1.hook_resid_post'], dtype: 'float16' });
    send(w, 'delete-template', { name: 'l1-f16' });
    expect(w.props.templates).toEqual([]);
  });
});

describe('showModels and showModel', () => {
  const hub = new FakeModelHub({ 'test-org/tiny-llama': path.join(FIXTURES, 'tiny-llama') });
  const cacheDir = path.join(tmp, 'hub');
  beforeAll(() => hub.start());
  afterAll(() => hub.stop());

  it('downloads with progress, cancels, resumes, lists and deletes', async () => {
    catalog.models.register(path.join(FIXTURES, 'tiny-gpt2'));
    const w = showModels(catalog, { cacheDir, endpoint: hub.endpoint }).widget;
    expect(w.props).toMatchObject({ total: 1, counts: { local: 1, cache: 0 } });
    hub.stall.add('model-00001-of-00002.safetensors');
    send(w, 'download', { id: 'test-org/tiny-llama' });
    await expect.poll(() => (w.props.download as { fileBytes?: number } | null)?.fileBytes, { timeout: 10_000 }).toBe(16 * 1024);
    expect(w.props.download).toMatchObject({ id: 'test-org/tiny-llama', status: 'downloading', file: 'model-00001-of-00002.safetensors', fileTotal: 137456, filesDone: 2 });
    send(w, 'cancel-download', {});
    await expect.poll(() => (w.props.download as { status: string }).status, { timeout: 10_000 }).toBe('cancelled');
    expect(rows(w).map((r) => [r.name, r.status])).toEqual([['test-org/tiny-llama', 'incomplete'], ['tiny-gpt2', 'ready']]);
    hub.stall.clear();
    send(w, 'download', { id: 'test-org/tiny-llama' });
    await expect.poll(() => (w.props.download as { status: string }).status, { timeout: 10_000 }).toBe('completed');
    expect(rows(w).map((r) => [r.name, r.status])).toEqual([['test-org/tiny-llama', 'ready'], ['tiny-gpt2', 'ready']]);
    expect(hub.requests.some((r) => r.range === 'bytes=16384-')).toBe(true);
    send(w, 'page', { status: 'cache' });
    expect(w.props).toMatchObject({ total: 1, counts: { local: 1, cache: 1 } });
    send(w, 'delete', { names: ['test-org/tiny-llama'] });
    expect(w.props).toMatchObject({ total: 0, message: 'deleted test-org/tiny-llama' });
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('showModel displays the model card data', async () => {
    const model = await loadModel(path.join(FIXTURES, 'tiny-llama'));
    const w = showModel(model);
    const card = modelCard(model);
    expect(w.tag).toBe('ms-model-card');
    expect(w.props.hooks).toEqual(card.hooks);
    expect(w.props).toMatchObject({ architecture: 'llama', parameters: card.parameters, nLayers: card.nLayers });
  });
});
