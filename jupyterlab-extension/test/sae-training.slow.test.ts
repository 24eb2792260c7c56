// Issue 6, acceptance 4, in a real browser (Debian chromium) against a real JupyterLab started by
// scripts/start.sh: a notebook cell on the mistudio kernel trains a real (small, synthetic-data) topk
// SAE with `trainWithMonitor`, whose live <ms-training-monitor> drives the core training Job:
// Pause holds the step counter (and the catalog says 'paused'), Resume continues, Stop ends the run
// with a checkpoint; a new cell then resumes it with `resumeWithMonitor` and completes the run.
// Screenshots go to test-artifacts/sae-training/.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { readCheckpoint } from '../../src/core/sae/checkpoint.js';
import { artifactDir, launchChromium } from '../../widgets/test/browser.js';
import { repoRoot, startLab, type LabServer } from './lab-server.js';

const NOTEBOOK = 'sae-training.ipynb';
const TOTAL_STEPS = 2000;
/**
 * In the first cell each batch of the synthetic source waits this long, so the run lasts long
 * enough (up to 2 minutes) to click through on a loaded machine; the resuming cell reads unpaced.
 */
const BATCH_MS = 60;

function cells(workspace: string, runDir: string): string[] {
  return [
    `import { trainWithMonitor } from '@mistudio/kernel';
import { SyntheticDictionarySource } from '@mistudio/core/sae/activation-source';
import { openCatalog } from '@mistudio/core/catalog/catalog';
// Synthetic sparse activations, paced like a store read from disk (the pace does not change the data).
class PacedSource extends SyntheticDictionarySource {
  batchMs = 0;
  async nextBatch(rows: number): Promise<Float32Array> {
    if (this.batchMs > 0) await new Promise((resolve) => setTimeout(resolve, this.batchMs));
    return super.nextBatch(rows);
  }
}
const makeSource = (batchMs: number) => Object.assign(new PacedSource({ d: 32, features: 64, activePerRow: 3, seed: 1, noise: 0.01 }), { batchMs });
const catalog = await openCatalog({ root: ${JSON.stringify(workspace)} });
const first = await trainWithMonitor(
  { architecture: 'topk', dIn: 32, dSae: 128, k: 4, batchSizeTokens: 128, trainingTokens: 128 * ${TOTAL_STEPS}, lr: 3e-3, metricsInterval: 2 },
  { runDir: ${JSON.stringify(runDir)}, source: makeSource(${BATCH_MS}), title: 'Synthetic topk SAE (browser test)', history: { catalog, name: 'browser-run' } },
);
console.log(\`first cell ended: \${first.status} at step \${first.result?.steps}\`);`,
    `import { resumeWithMonitor } from '@mistudio/kernel';
import { openCatalog } from '@mistudio/core/catalog/catalog';
// (tslab keeps a cell's declarations after its first top-level await local to that cell: reopen the catalog.)
const history = { catalog: await openCatalog({ root: ${JSON.stringify(workspace)} }) };
const second = await resumeWithMonitor({ runDir: ${JSON.stringify(runDir)}, source: makeSource(0), history });
console.log(\`second cell ended: \${second.status} at step \${second.result?.steps}\`);`,
  ];
}

function notebookJson(sources: string[]): string {
  return JSON.stringify({
    cells: sources.map((source, i) => ({ cell_type: 'code', execution_count: null, id: `cell${i}`, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { name: 'mistudio', display_name: 'TypeScript (miStudio)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

type LabWindow = Window & {
  jupyterapp: {
    commands: { execute(id: string, args?: object): Promise<unknown> };
    shell: { currentWidget: { context?: { path: string }; sessionContext?: { session?: { kernel?: { status: string } | null } | null }; content?: { activeCellIndex: number } } | null };
  };
};


describe('SAE training from a notebook with the live monitor (chromium + JupyterLab)', () => {
  let rootDir: string;
  let lab: LabServer;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('sae-training');
  let workspace: string;
  let runDir: string;

  const kernelStatus = () => page.evaluate(() => (window as unknown as LabWindow).jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status ?? 'none');
  const runStatus = () => {
    const db = new BetterSqlite3(path.join(workspace, 'catalog.sqlite'), { readonly: true, timeout: 5000 });
    try {
      return (db.prepare("SELECT status FROM training_runs WHERE name = 'browser-run'").get() as { status: string } | undefined)?.status;
    } finally {
      db.close();
    }
  };
  /** Starts running cell `index` (the command's promise resolves only when the cell finishes: not awaited). */
  const runCell = async (index: number) => {
    await page.evaluate((i) => {
      const app = (window as unknown as LabWindow).jupyterapp;
      app.shell.currentWidget!.content!.activeCellIndex = i;
      void app.commands.execute('notebook:run-cell');
    }, index);
  };

  beforeAll(async () => {
    rootDir = mkdtempSync(path.join(os.tmpdir(), 'ms-lab-sae-'));
    workspace = path.join(rootDir, 'workspace');
    runDir = path.join(rootDir, 'run');
    writeFileSync(path.join(rootDir, NOTEBOOK), notebookJson(cells(workspace, runDir)));
    lab = await startLab({ rootDir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
    if (rootDir) rmSync(rootDir, { recursive: true, force: true });
  });

  it('Pause holds the step counter, Resume continues, Stop checkpoints; a new cell resumes and completes the run', async () => {
    await page.goto(`${lab.baseUrl}lab/tree/${NOTEBOOK}?token=${lab.token}`);
    await page.waitForFunction((name) => (window as unknown as LabWindow).jupyterapp?.shell.currentWidget?.context?.path === name, NOTEBOOK, { timeout: 90_000 });
    await expect.poll(kernelStatus, { timeout: 90_000, interval: 500 }).toBe('idle');
    await runCell(0);
    const t0 = Date.now();

    const monitor: Locator = page.locator('.jp-Cell').nth(0).locator('.jp-OutputArea-output ms-training-monitor');
    await monitor.waitFor({ timeout: 120_000 });
    console.log(`monitor shown ${((Date.now() - t0) / 1000).toFixed(1)} s after the cell started, at step ${await monitor.locator('.msm-status').getAttribute('data-step')}`);
    expect(await page.locator('.jp-MiStudio-view ms-training-monitor').count()).toBe(1); // the live widget view
    const step = async () => Number(await monitor.locator('.msm-status').getAttribute('data-step'));
    await expect.poll(step, { timeout: 60_000 }).toBeGreaterThanOrEqual(10);
    await expect.poll(() => monitor.evaluate((el) => (el.querySelector('.msm-chart') as unknown as { data?: { x: number[] }[] }).data?.[0]?.x.length ?? 0), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: path.join(shots, '1-running.png') });

    await monitor.locator('.msm-pause').click();
    await expect.poll(() => monitor.locator('.msm-status').textContent(), { timeout: 15_000 }).toContain('Paused');
    const pausedAt = await step();
    expect(pausedAt).toBeLessThan(TOTAL_STEPS - 200);
    expect(runStatus()).toBe('paused');
    await page.waitForTimeout(3000); // ~50 batch periods
    expect(await step()).toBe(pausedAt);
    expect(await monitor.locator('.msm-message').last().textContent()).toContain('checkpoint saved');
    await page.screenshot({ path: path.join(shots, '2-paused.png') });

    await monitor.locator('.msm-resume').click();
    await expect.poll(step, { timeout: 20_000 }).toBeGreaterThan(pausedAt + 10);
    expect(await monitor.locator('.msm-status').textContent()).toContain('Running');
    expect(runStatus()).toBe('running');
    await page.screenshot({ path: path.join(shots, '3-resumed.png') });

    await monitor.locator('.msm-stop').click();
    await expect.poll(() => monitor.locator('.msm-status').textContent(), { timeout: 20_000 }).toContain('Stopped');
    const stream = page.locator('.jp-Cell').nth(0).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]');
    await expect.poll(() => stream.textContent(), { timeout: 20_000 }).toMatch(/first cell ended: stopped at step \d+/);
    const stoppedAt = Number(/at step (\d+)/.exec((await stream.textContent()) ?? '')![1]);
    expect(stoppedAt).toBeGreaterThan(pausedAt + 10);
    expect(stoppedAt).toBeLessThan(TOTAL_STEPS);
    expect(await step()).toBe(stoppedAt);
    expect(readCheckpoint(path.join(runDir, 'checkpoint.safetensors')).state.step).toBe(stoppedAt);
    expect(existsSync(path.join(runDir, 'sae'))).toBe(false);
    expect(runStatus()).toBe('stopped');
    await expect.poll(kernelStatus, { timeout: 20_000 }).toBe('idle');
    await page.screenshot({ path: path.join(shots, '4-stopped.png') });

    await runCell(1);
    const resumed = page.locator('.jp-Cell').nth(1).locator('.jp-OutputArea-output ms-training-monitor');
    await resumed.waitFor({ timeout: 60_000 }).catch(async (err: unknown) => {
      await page.screenshot({ path: path.join(shots, 'failed-resume-cell.png') });
      throw err;
    });
    expect(await resumed.locator('.msm-title').textContent()).toContain(`resumed at step ${stoppedAt}`);
    await expect.poll(() => resumed.locator('.msm-status').textContent(), { timeout: 120_000 }).toContain(`Finished · step ${TOTAL_STEPS.toLocaleString("en-US")} / ${TOTAL_STEPS.toLocaleString("en-US")}`);
    const stream2 = page.locator('.jp-Cell').nth(1).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]');
    await expect.poll(() => stream2.textContent(), { timeout: 20_000 }).toContain(`second cell ended: completed at step ${TOTAL_STEPS}`);
    expect(await resumed.locator('.msm-message').last().textContent()).toMatch(/SAE saved to .*run\/sae · EV/);
    expect(existsSync(path.join(runDir, 'sae', 'sae_weights.safetensors'))).toBe(true);
    expect(runStatus()).toBe('completed');
    await resumed.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, '5-resumed-and-finished.png') });
  }, 420_000);
});
