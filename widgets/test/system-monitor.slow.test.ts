// <ms-system-monitor> and <ms-system-status> in chromium, fed with what core's monitor produces
// from the recorded nvidia-smi outputs (1 and 8 GPUs) and an hour of history built by core's
// MonitorHistory: multi-GPU comparison, per-process memory, MIG slices, charts, units, the loading
// skeleton and the error state. Screenshots at sidebar width and at a wide width.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { assembleGpus, parseComputeAppsCsv, parseGpuList, parseGpuQueryCsv } from '../../src/core/monitor/nvidia-smi-parse.js';
import { MonitorHistory } from '../../src/core/monitor/history.js';
import type { MonitorSample as CoreSample } from '../../src/core/monitor/types.js';
import type { MonitorSample } from '../src/system-monitor-types.js';
import { artifactDir, launchChromium } from './browser.js';
import { serveTestPage, type TestPage } from './fixtures/serve-page.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/core/test/fixtures/nvidia-smi');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const GiB = 2 ** 30;
const NOW = Date.UTC(2026, 0, 1, 12);

function gpusOf(set: '1gpu' | '8gpu') {
  return assembleGpus(
    parseGpuQueryCsv(fixture(`${set}-query-gpu.csv`)),
    parseComputeAppsCsv(fixture(`${set}-compute-apps.csv`)),
    parseGpuList(fixture(`${set}-list.txt`)),
  );
}

function sampleAt(timestampMs: number, gpus: CoreSample['gpus'], wave = 0): CoreSample {
  return {
    timestampMs,
    intervalMs: 1000,
    hostname: 'gpu-node-07',
    cpu: { corePercents: Array.from({ length: 32 }, (_, i) => (i * 7 + wave * 100) % 100), totalPercent: 40 + 30 * Math.sin(wave * 6), loadAverage1m: 12.5 },
    memory: { totalBytes: 512 * GiB, usedBytes: (180 + 40 * wave) * GiB, availableBytes: (332 - 40 * wave) * GiB, swapTotalBytes: 8 * GiB, swapUsedBytes: 0.5 * GiB },
    container: { memoryLimitBytes: 480 * GiB, memoryUsedBytes: (170 + 40 * wave) * GiB, cpuLimitCores: 24, cpuUsedCores: 9.5 },
    disks: [
      { mount: '/', fsType: 'overlay', sizeBytes: 1800 * GiB, usedBytes: 610 * GiB },
      { mount: '/data', fsType: 'xfs', sizeBytes: 14000 * GiB, usedBytes: 12900 * GiB },
    ],
    diskIo: { readBytesPerSecond: 850e6 * wave, writeBytesPerSecond: 12e6 },
    network: { rxBytesPerSecond: 1.2e9 * (1 - wave), txBytesPerSecond: 3e6 },
    ...(gpus ? { gpus: gpus.map((gpu) => ({ ...gpu, utilizationPercent: gpu.utilizationPercent === null ? null : Math.max(0, gpu.utilizationPercent - 40 * wave) })) } : {}),
  };
}

/** One hour at 1 s through core's history, as `GET /api/history?range=1h` would answer. */
function hourOfHistory(gpus: CoreSample['gpus']) {
  const history = new MonitorHistory(null, NOW - 3_600_000);
  for (let s = 3600; s >= 0; s--) history.add(sampleAt(NOW - s * 1000, gpus, (3600 - s) / 3600));
  return history.query('1h', 1000, NOW);
}

type TestWindow = Window & { actions: { action: string; payload: unknown }[] };

describe('<ms-system-monitor> in chromium', () => {
  let served: TestPage;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('system-monitor');

  beforeAll(async () => {
    served = await serveTestPage();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(served.url);
    await page.waitForFunction(() => !!customElements.get('ms-system-monitor') && !!customElements.get('ms-system-status'));
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  async function mount(widthPx: number, props: Record<string, unknown>): Promise<void> {
    await page.evaluate(
      ({ widthPx, props }) => {
        const root = document.getElementById('root')!;
        root.replaceChildren();
        root.style.width = `${widthPx}px`;
        (window as unknown as TestWindow).actions = [];
        const el = document.createElement('ms-system-monitor');
        el.addEventListener('ms-action', (e) => (window as unknown as TestWindow).actions.push((e as CustomEvent).detail));
        Object.assign(el, props);
        root.appendChild(el);
      },
      { widthPx, props },
    );
    await page.locator('ms-system-monitor').evaluate((el) => (el as unknown as { updateComplete: Promise<boolean> }).updateComplete);
  }

  const text = (selector: string) => page.locator(`ms-system-monitor ${selector}`).first().textContent();

  it('shows a loading skeleton before the first sample', async () => {
    await mount(300, { sample: null, status: 'loading' });
    expect(await page.locator('ms-system-monitor [data-state="loading"]').count()).toBe(1);
    await page.locator('ms-system-monitor').screenshot({ path: path.join(shots, 'component-loading.png') });
  });

  it('compares 8 GPUs, lists per-process memory and MIG slices, and charts every GPU', async () => {
    const gpus = gpusOf('8gpu');
    const sample: MonitorSample = sampleAt(NOW, gpus, 1);
    await mount(640, { sample, history: hourOfHistory(gpus), status: 'live', range: '1h' });
    expect(await page.locator('ms-system-monitor [data-compare] .row').count()).toBe(9); // header + 8 GPUs
    expect(await text('[data-metric="gpu3-memory"]')).toBe('69.6 / 79.6 GiB');
    expect(await text('[data-metric="gpu7-util"]')).toBe('MIG');
    expect(await text('[data-metric="gpu3-temperature"]')).toBe('79 °C');
    expect(await page.locator('ms-system-monitor [data-mig="7"] li').allTextContents()).toEqual([
      'dev 03g.40gb40 GiB',
      'dev 12g.20gb20 GiB',
      'dev 21g.10gb10 GiB',
      'dev 31g.10gb10 GiB',
    ]);
    expect(await page.locator('ms-system-monitor [data-processes="6"] li').first().textContent()).toContain('40.0 GiB') // 40934 MiB;
    expect(await text('[data-metric="container-memory"]')).toBe('210 / 480 GiB');
    expect(await text('[data-metric="network"]')).toBe('↓ 0 B/s · ↑ 2.86 MiB/s');
    // One line per GPU in the utilization chart, drawn over the whole hour.
    const utilPaths = page.locator('ms-system-monitor [data-chart="gpu-util"] path');
    expect(await utilPaths.count()).toBe(7); // GPU 7 reports no utilization under MIG: no line
    expect(await page.locator('ms-system-monitor [data-chart="gpu-memory"] path').count()).toBe(8);
    const firstX = await utilPaths.first().evaluate((p) => Number(/^M([\d.]+)/.exec(p.getAttribute('d')!)![1]));
    expect(firstX).toBeLessThan(46); // starts at the left edge (-1 h), not only recent points
    await page.locator('ms-system-monitor details[data-gpu="7"] summary').click();
    await page.locator('ms-system-monitor').screenshot({ path: path.join(shots, 'component-8gpu-wide.png') });
    await mount(300, { sample, history: hourOfHistory(gpus), status: 'live', range: '1h' });
    await page.locator('ms-system-monitor').screenshot({ path: path.join(shots, 'component-8gpu-sidebar.png') });
  });

  it('shows one laptop GPU with unavailable readings and switches units', async () => {
    const gpus = gpusOf('1gpu');
    await mount(300, { sample: sampleAt(NOW, gpus), history: hourOfHistory(gpus), status: 'live' });
    expect(await text('[data-metric="gpu0-power"]')).toBe('– W');
    expect(await text('[data-metric="gpu0-memory"]')).toBe('1.83 / 6 GiB');
    expect(await page.locator('ms-system-monitor [data-processes="0"] li').allTextContents()).toEqual(['48211python1.60 GiB', '3307[Not Found]–']);
    await page.locator('ms-system-monitor button[aria-label="Monitor settings"]').click();
    await page.locator('ms-system-monitor select[aria-label="Byte units"]').selectOption('decimal');
    expect(await text('[data-metric="gpu0-memory"]')).toBe('1.96 / 6.44 GB');
    await page.locator('ms-system-monitor select[aria-label="Sampling interval"]').selectOption('5');
    expect(await page.evaluate(() => (window as unknown as TestWindow).actions.at(-1))).toEqual({
      action: 'set-settings',
      payload: { intervalSeconds: 5, units: 'decimal' },
    });
    await page.locator('ms-system-monitor button', { hasText: '24h' }).click();
    expect(await page.evaluate(() => (window as unknown as TestWindow).actions.at(-1))).toEqual({ action: 'set-range', payload: { range: '24h' } });
    await page.locator('ms-system-monitor').screenshot({ path: path.join(shots, 'component-1gpu-settings.png') });
  });

  it('shows the error state with a retry button, and the status item goes offline', async () => {
    await mount(300, { sample: sampleAt(NOW, undefined), history: hourOfHistory(undefined), status: 'error', failures: 5, message: 'HTTP 502 from the monitor service; retrying every 2 s.' });
    const alert = page.locator('ms-system-monitor [data-state="error"]');
    expect(await alert.textContent()).toMatch(/5 samples in a row failed/);
    expect(await text('[data-metric="no-gpu"]')).toMatch(/No NVIDIA GPU/);
    await alert.locator('button').click();
    expect(await page.evaluate(() => (window as unknown as TestWindow).actions.at(-1))).toEqual({ action: 'retry', payload: {} });
    await page.locator('ms-system-monitor').screenshot({ path: path.join(shots, 'component-error.png') });

    const statusText = await page.evaluate(
      async ([live, units]) => {
        const root = document.getElementById('root')!;
        const el = document.createElement('ms-system-status') as HTMLElement & { sample: unknown; status: string; units: string; updateComplete: Promise<boolean> };
        Object.assign(el, { sample: live, status: 'live', units });
        root.replaceChildren(el);
        await el.updateComplete;
        const liveText = el.shadowRoot!.querySelector('[data-status-text]')!.textContent;
        el.status = 'error';
        await el.updateComplete;
        return [liveText, el.shadowRoot!.querySelector('[data-status-text]')!.textContent];
      },
      [sampleAt(NOW, gpusOf('8gpu'), 0), 'binary'] as const,
    );
    expect(statusText).toEqual(['8 GPUs 76% · 425 / 637 GiB', 'monitor offline']) // 435241 MiB of 652472 MiB; mean of the 7 reported utilizations;
  });
});
