/**
 * Workspace views with 10,000 training runs (issue 12, acceptance 3: filtering and paging answer
 * within 200 ms). Generates the runs through the run-history API (each with 8 metrics rows, so
 * loss histories and final metrics are real), then times:
 *   - `pageRuns` (the catalog query + row mapping) for the default page, random pages, every
 *     status filter, a text filter, and sorts by final metrics and by hyperparameters (JSON);
 *   - the kernel round trip of a `page` action: comm message in → query → `w.set` message out,
 *     through the real CellRuntime and `showRuns` glue.
 *
 *   node --import tsx bench/run.ts views --json [--runs 10000] [--repeat 40]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
// The built core, as the kernel runs it (the glue below imports it too).
import { openCatalog, type ListQuery } from '@mistudio/core/catalog/index';
import { pageRuns, RUN_STATUSES } from '@mistudio/core/sae/index';
import { generateRuns } from '../src/core/test/helpers/workspace-runs.js';
import { CellRuntime } from '../kernel-extensions/src/cell-runtime.js';
import { Outbox } from '../kernel-extensions/src/outbox.js';
import { installRuntime } from '../kernel-extensions/src/runtime-registry.js';
import { showRuns } from '../kernel-extensions/src/runs-view.js';
import { SendQueue } from '../kernel-extensions/src/send-queue.js';
import { newHeader, Signer, type JupyterMessage } from '../kernel-extensions/src/wire.js';
import { renderSnapshot } from '../widgets/src/static/index.js';
import { option } from './lib/args.js';

const TARGET_MS = 200;

function stats(ms: number[]): { p50Ms: number; p95Ms: number; maxMs: number; count: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50Ms: at(0.5), p95Ms: at(0.95), maxMs: s[s.length - 1], count: s.length };
}

export async function run(args: string[], json: boolean): Promise<void> {
  const count = Number(option(args, 'runs', '10000'));
  const repeat = Number(option(args, 'repeat', '40'));
  const emit = (line: Record<string, unknown>) => console.log(json ? JSON.stringify(line) : Object.entries(line).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`).join(' '));
  const work = mkdtempSync(path.join(os.tmpdir(), 'mistudio-bench-views-'));
  try {
    const catalog = await openCatalog({ root: path.join(work, 'ws') });
    let t0 = performance.now();
    generateRuns(catalog, count, { metricsPerRun: 8 });
    emit({ bench: 'views', phase: 'generate', runs: count, seconds: (performance.now() - t0) / 1000 });

    const pages = Math.ceil(count / 25);
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const cases: [string, () => ListQuery][] = [
      ['first-page', () => ({})],
      ['random-page', () => ({ page: Math.floor(random() * pages) })],
      ['last-page', () => ({ page: pages - 1 })],
      ...RUN_STATUSES.map((s) => [`status-${s}`, () => ({ status: s, page: Math.floor(random() * 20) })] as [string, () => ListQuery]),
      ['text-filter', () => ({ query: 'blocks.3', page: Math.floor(random() * 10) })],
      ['sort-mse', () => ({ sort: 'mse', order: 'asc', page: Math.floor(random() * pages) })],
      ['sort-ev-completed', () => ({ sort: 'ev', order: 'desc', status: 'completed', page: Math.floor(random() * 50) })],
      ['sort-dSae-json', () => ({ sort: 'dSae', order: 'desc', page: Math.floor(random() * pages) })],
      ['sort-lr-json-filtered', () => ({ sort: 'lr', status: 'failed', query: 'topk', page: 0 })],
      ['sort-progress', () => ({ sort: 'progress', order: 'desc', page: Math.floor(random() * pages) })],
      ['sort-name-last-page', () => ({ sort: 'name', order: 'asc', page: pages - 1 })],
    ];
    const worst: number[] = [];
    for (const [name, make] of cases) {
      const ms: number[] = [];
      let rows = 0;
      let total = 0;
      for (let i = 0; i < repeat; i++) {
        const q = make();
        const t = performance.now();
        const page = pageRuns(catalog, q);
        ms.push(performance.now() - t);
        rows = page.rows.length;
        total = page.total;
      }
      const s = stats(ms);
      worst.push(s.maxMs);
      emit({ bench: 'views', query: name, runs: count, matching: total, rowsPerPage: rows, ...s, targetMs: TARGET_MS });
    }

    // Kernel round trip: a `page` comm message answered by showRuns' w.set (the update message sent).
    const signer = new Signer('hmac-sha256', 'bench');
    let sent = 0;
    const outbox = new Outbox(new SendQueue(), signer, 'bench', { send: async () => void sent++ });
    const runtime = new CellRuntime(outbox, renderSnapshot);
    installRuntime(runtime);
    runtime.beginExecute(newHeader('execute_request', 'bench'));
    t0 = performance.now();
    const view = showRuns(catalog);
    emit({ bench: 'views', phase: 'open-view', ms: performance.now() - t0 });
    const ms: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const payload = i % 3 === 0 ? { page: Math.floor(random() * pages) } : i % 3 === 1 ? { status: RUN_STATUSES[i % RUN_STATUSES.length], page: 0 } : { sort: 'mse', order: 'asc', page: Math.floor(random() * pages), status: '' };
      const message: JupyterMessage = { identities: [], header: newHeader('comm_msg', 'bench'), parent_header: {}, metadata: {}, content: { comm_id: view.widget.modelId, data: { method: 'custom', content: { event: 'page', payload } } }, buffers: [] };
      const t = performance.now();
      runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
      ms.push(performance.now() - t);
    }
    const s = stats(ms);
    worst.push(s.maxMs);
    emit({ bench: 'views', query: 'kernel-page-roundtrip', runs: count, ...s, targetMs: TARGET_MS, messagesSent: sent });
    view.widget.close();
    emit({ bench: 'views', summary: true, runs: count, worstMs: Math.max(...worst), targetMs: TARGET_MS, withinTarget: Math.max(...worst) < TARGET_MS });
    catalog.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  await run(args.filter((a) => a !== '--json'), args.includes('--json'));
}
