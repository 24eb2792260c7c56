// Issue 3, acceptance 3 and 4, in a real browser (Debian chromium) against a real JupyterLab started
// by scripts/start.sh: a notebook on the mistudio kernel runs a 60-step fake training loop feeding
// <ms-training-monitor>; Pause / Resume / Stop are clicked in the page and must reach the loop. Then
// the saved notebook is reopened with a fresh kernel and with no kernel at all (the MIME renderer
// shows the data view), and `jupyter nbconvert --to html` must carry the static snapshot.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { artifactDir, launchChromium } from '../../widgets/test/browser.js';
import { repoRoot, startLab, type LabServer } from './lab-server.js';

const NOTEBOOK = 'train.ipynb';
const TOTAL_STEPS = 60;
/** One fake step; 60 steps leave the test ~30 s of running time for its clicks on a loaded machine. */
const STEP_MS = 500;

const TRAINING_CELL = `import { widget } from '@mistudio/kernel';
const totalSteps = ${TOTAL_STEPS};
const STEP_MS = ${STEP_MS};
const w = widget('ms-training-monitor', { title: 'Fake SAE training (browser test)', status: 'running', step: 0, totalSteps, dLatents: 4096, metrics: [] });
let paused = false;
let stopped = false;
w.on('pause', () => { paused = true; w.set({ status: 'paused' }); });
w.on('resume', () => { paused = false; w.set({ status: 'running' }); });
w.on('stop', () => { stopped = true; });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let step = 0;
while (step < totalSteps && !stopped) {
  if (paused) { await sleep(50); continue; }
  step += 1;
  w.append('metrics', [{ step, loss: 1 / Math.sqrt(step), l0: 60 - 0.4 * step, deadLatents: Math.max(0, 300 - 5 * step), tokensPerSecond: 4096 }]);
  await sleep(STEP_MS);
}
w.set({ step, status: stopped ? 'stopped' : 'finished' });
console.log(\`loop ended at step \${step} (\${stopped ? 'stopped' : 'finished'})\`);`;

function notebookJson(): string {
  return JSON.stringify({
    cells: [{ cell_type: 'code', execution_count: null, id: 'train', metadata: {}, outputs: [], source: TRAINING_CELL }],
    metadata: { kernelspec: { name: 'mistudio', display_name: 'TypeScript (miStudio)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** The JupyterLab application object (exposed with --LabApp.expose_app_in_browser). */
type LabWindow = Window & {
  jupyterapp: {
    commands: { execute(id: string, args?: object): Promise<unknown> };
    shell: { currentWidget: LabDocument | null };
  };
};
interface LabDocument {
  context?: { path: string; model: { dirty: boolean } };
  sessionContext?: { session?: { kernel?: { status: string } | null } | null; hasNoKernel: boolean };
  content?: { model: { cells: { get(i: number): { outputs: { toJSON(): { data?: Record<string, unknown>; text?: string }[] } } } } };
}

interface SavedOutput {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
}


describe('JupyterLab + miStudio kernel + labextension in chromium', () => {
  let rootDir: string;
  let lab: LabServer;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('jupyterlab');
  let finalStep = 0;

  const kernelStatus = () => page.evaluate(() => (window as unknown as LabWindow).jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status ?? 'none');

  async function openNotebook(p: Page, server: LabServer): Promise<void> {
    await p.goto(`${server.baseUrl}lab/tree/${NOTEBOOK}?token=${server.token}`);
    await p.waitForFunction((name) => (window as unknown as LabWindow).jupyterapp?.shell.currentWidget?.context?.path === name, NOTEBOOK, { timeout: 90_000 });
  }

  beforeAll(async () => {
    rootDir = mkdtempSync(path.join(os.tmpdir(), 'ms-lab-root-'));
    writeFileSync(path.join(rootDir, NOTEBOOK), notebookJson());
    lab = await startLab({ rootDir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
    if (rootDir) rmSync(rootDir, { recursive: true, force: true });
  });

  it('live <ms-training-monitor>: the chart updates; Pause stops the steps, Resume continues, Stop ends the loop', async () => {
    await openNotebook(page, lab);
    await expect.poll(kernelStatus, { timeout: 90_000, interval: 500 }).toBe('idle');
    await page.locator('.jp-Notebook .jp-Cell .jp-InputArea-editor').first().click();
    await page.keyboard.press('Shift+Enter');

    const monitor: Locator = page.locator('.jp-OutputArea-output ms-training-monitor');
    await monitor.waitFor({ timeout: 90_000 });
    // the live view: built by the widget manager from the kernel's comm, not the saved-data view
    expect(await page.locator('.jp-MiStudio-view ms-training-monitor').count()).toBe(1);
    const step = async () => Number(await monitor.locator('.msm-status').getAttribute('data-step'));
    const chartPoints = () => monitor.evaluate((el) => (el.querySelector('.msm-chart') as unknown as { data?: { x: number[] }[] }).data?.[0]?.x.length ?? 0);

    await expect.poll(chartPoints, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    const pointsBefore = await chartPoints();
    await expect.poll(chartPoints, { timeout: 20 * STEP_MS }).toBeGreaterThan(pointsBefore); // the chart follows the loop
    await page.screenshot({ path: path.join(shots, '1-running.png') });

    await monitor.locator('.msm-pause').click();
    await expect.poll(() => monitor.locator('.msm-status').textContent(), { timeout: 10_000 }).toContain('Paused');
    const pausedAt = await step();
    await page.waitForTimeout(6 * STEP_MS); // six loop periods
    expect(await step()).toBe(pausedAt);
    expect(await chartPoints()).toBe(pausedAt);
    await page.screenshot({ path: path.join(shots, '2-paused.png') });

    await monitor.locator('.msm-resume').click();
    await expect.poll(step, { timeout: 20 * STEP_MS }).toBeGreaterThan(pausedAt + 2);
    expect(await monitor.locator('.msm-status').textContent()).toContain('Running');
    await page.screenshot({ path: path.join(shots, '3-resumed.png') });

    await monitor.locator('.msm-stop').click();
    await expect.poll(() => monitor.locator('.msm-status').textContent(), { timeout: 10_000 }).toContain('Stopped');
    finalStep = await step();
    expect(finalStep).toBeGreaterThan(pausedAt + 2);
    expect(finalStep).toBeLessThan(TOTAL_STEPS);
    const streamText = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]');
    await expect.poll(() => streamText.textContent(), { timeout: 20_000 }).toContain(`loop ended at step ${finalStep} (stopped)`);
    await expect.poll(kernelStatus, { timeout: 20_000 }).toBe('idle');
    expect(await chartPoints()).toBe(finalStep);
    await page.screenshot({ path: path.join(shots, '4-stopped.png') });

    // the renderer stores a picture of the finished run in the output (as plotly's renderer does)
    await expect
      .poll(
        () =>
          page.evaluate(() =>
            (window as unknown as LabWindow).jupyterapp.shell.currentWidget!.content!.model.cells.get(0).outputs.toJSON().some((o) => typeof o.data?.['image/png'] === 'string'),
          ),
        { timeout: 15_000 },
      )
      .toBe(true);
  });

  it('saved and reopened: the data view without the live widget, with a fresh kernel and with no kernel', async () => {
    expect(finalStep).toBeGreaterThan(0);
    await page.evaluate(() => (window as unknown as LabWindow).jupyterapp.commands.execute('docmanager:save'));
    await page.waitForFunction(() => (window as unknown as LabWindow).jupyterapp.shell.currentWidget?.context?.model.dirty === false);

    const saved = JSON.parse(readFileSync(path.join(rootDir, NOTEBOOK), 'utf8')) as { cells: { outputs: SavedOutput[] }[] };
    const display = saved.cells[0].outputs.find((o) => o.output_type === 'display_data')!;
    const data = display.data!['application/vnd.mistudio.v1+json'] as { tag: string; props: { status: string; metrics: unknown[] } };
    expect(data.tag).toBe('ms-training-monitor');
    expect(data.props.status).toBe('stopped');
    expect(data.props.metrics).toHaveLength(finalStep);
    expect(String(display.data!['text/html'])).toContain('data-ms-snapshot="ms-training-monitor"');
    const png = Buffer.from(String(display.data!['image/png']), 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    writeFileSync(path.join(shots, '4b-saved-output-image.png'), png);

    await page.evaluate(() => (window as unknown as LabWindow).jupyterapp.commands.execute('application:close-all'));
    for (const session of (await (await lab.api('api/sessions')).json()) as { id: string }[]) {
      await lab.api(`api/sessions/${session.id}`, { method: 'DELETE' });
    }

    // (a) reopened here: JupyterLab starts a new mistudio kernel, which has no widget model
    await openNotebook(page, lab);
    const dataView = page.locator('.jp-OutputArea-output ms-training-monitor.jp-MiStudio-data-view');
    await dataView.waitFor({ timeout: 60_000 });
    await expect.poll(kernelStatus, { timeout: 90_000, interval: 500 }).toBe('idle');
    expect(await dataView.locator('.msm-status').textContent()).toContain(`Stopped · step ${finalStep} / ${TOTAL_STEPS}`);
    await expect
      .poll(() => dataView.evaluate((el) => (el.querySelector('.msm-chart') as unknown as { data?: { x: number[] }[] }).data?.[0]?.x.length ?? 0), { timeout: 20_000 })
      .toBe(finalStep);
    expect(await page.locator('.jp-OutputArea').first().textContent()).not.toMatch(/Error displaying widget|Loading widget/);
    expect(await dataView.locator('.msm-stop').isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(shots, '5-reopened-fresh-kernel.png') });
    await page.evaluate(() => (window as unknown as LabWindow).jupyterapp.commands.execute('application:close-all'));

    // (b) reopened where no kernel can be started (a JupyterLab offering no kernel spec): "No Kernel"
    const bare = await startLab({ rootDir, args: ["--KernelSpecManager.allowed_kernelspecs=none-installed"] });
    const page2 = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await openNotebook(page2, bare);
      const dialog = page2.locator('.jp-Dialog');
      await dialog.waitFor({ timeout: 30_000 });
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click(); // "No Kernel"
      await page2.waitForFunction(() => (window as unknown as LabWindow).jupyterapp.shell.currentWidget?.sessionContext?.hasNoKernel === true);
      const bareView = page2.locator('.jp-OutputArea-output ms-training-monitor.jp-MiStudio-data-view');
      await bareView.waitFor({ timeout: 30_000 });
      expect(await bareView.locator('.msm-status').textContent()).toContain(`Stopped · step ${finalStep} / ${TOTAL_STEPS}`);
      await expect
        .poll(() => bareView.evaluate((el) => (el.querySelector('.msm-chart') as unknown as { data?: { x: number[] }[] }).data?.[0]?.x.length ?? 0), { timeout: 20_000 })
        .toBe(finalStep);
      expect(await page2.locator('.jp-OutputArea').first().textContent()).not.toMatch(/Error displaying widget|Loading widget/);
      await page2.screenshot({ path: path.join(shots, '6-reopened-no-kernel.png') });
    } finally {
      await page2.close();
      await bare.stop();
    }
  });

  it('jupyter nbconvert --to html carries the static snapshot, readable with JavaScript off', async () => {
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'ms-nbconvert-'));
    try {
      const run = spawnSync(path.join(repoRoot, '.venv', 'bin', 'jupyter'), ['nbconvert', '--to', 'html', '--output-dir', outDir, path.join(rootDir, NOTEBOOK)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const htmlFile = path.join(outDir, NOTEBOOK.replace('.ipynb', '.html'));
      const html = readFileSync(htmlFile, 'utf8');
      expect(html).toContain('data-ms-snapshot="ms-training-monitor"');

      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
      const view = await context.newPage();
      await view.goto(`file://${htmlFile}`);
      const snapshot = view.locator('[data-ms-snapshot="ms-training-monitor"]');
      await snapshot.scrollIntoViewIfNeeded();
      expect(await snapshot.innerText()).toContain(`Stopped · step ${finalStep} / ${TOTAL_STEPS}`);
      const charts = snapshot.locator('svg');
      expect(await charts.count()).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(await charts.nth(i).isVisible()).toBe(true);
        expect((await charts.nth(i).locator('path').getAttribute('d'))?.match(/[ML]/g)).toHaveLength(finalStep);
      }
      await snapshot.screenshot({ path: path.join(shots, '7-nbconvert-html.png') });
      await context.close();
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
