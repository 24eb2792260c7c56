// Issue 8, acceptance 3, in a real browser (Debian chromium) against a real JupyterLab started by
// scripts/start.sh, with no kernel running: the sidebar panel shows live CPU/RAM values from the
// metrics service that jupyter-server-proxy starts (jupyter_config.json), the status bar shows the
// compact item; killing the service shows the error state within 5 failed samples, and the panel
// recovers once the service is back.
//
// The only change to the production proxy entry is a gate in front of its command: while a flag
// file exists the restarted process waits instead of serving, so the outage lasts as long as the
// test wants (simpervisor restarts a killed service at once). The wrapper also records its pid, so
// the test kills exactly the process it caused to start.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artifactDir, launchChromium } from '../../widgets/test/browser.js';
import { repoRoot, startLab, type LabServer } from './lab-server.js';

const PROXY_NAME = 'mistudio-monitor';
const PANEL_ID = 'mistudio-system-monitor';
const serveJs = path.join(repoRoot, 'src', 'core', 'dist', 'monitor', 'serve.js');
const labextension = path.join(repoRoot, '.venv', 'share', 'jupyter', 'labextensions', '@mistudio', 'jupyterlab-extension', 'package.json');

interface ProxyEntry {
  command: string[];
  [key: string]: unknown;
}

/** The production entry of jupyter_config.json with its command behind the outage gate. */
function gatedEntry(flagFile: string, pidFile: string): ProxyEntry {
  const config = JSON.parse(readFileSync(path.join(repoRoot, 'jupyter_config.json'), 'utf8'));
  const entry = config.ServerProxy.servers[PROXY_NAME] as ProxyEntry;
  // jupyter-server-proxy formats every argument with str.format: the script must hold no braces.
  const script = `echo $$ > '${pidFile}'; while [ -e '${flagFile}' ]; do sleep 0.2; done; exec "$@"`;
  return { ...entry, command: ['bash', '-c', script, 'gate', ...entry.command] };
}

/** Values the panel shows, read through its shadow root. */
async function panelValues(page: Page): Promise<{ timestampMs: number; cpu: string; ram: string; status: string }> {
  return page.evaluate(() => {
    const el = document.querySelector('ms-system-monitor') as (HTMLElement & { sample: { timestampMs: number } | null }) | null;
    const root = el?.shadowRoot;
    return {
      timestampMs: el?.sample?.timestampMs ?? 0,
      cpu: root?.querySelector('[data-metric="cpu"]')?.textContent ?? '',
      ram: root?.querySelector('[data-metric="ram"]')?.textContent ?? '',
      status: root?.querySelector('[data-status]')?.getAttribute('data-status') ?? '',
    };
  });
}

describe('system monitor sidebar in JupyterLab (chromium)', () => {
  let work: string;
  let lab: LabServer;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('system-monitor');
  const sockets: string[] = [];

  beforeAll(async () => {
    for (const [file, fix] of [
      [serveJs, 'the built monitor service (npx tsc -b src/core)'],
      [labextension, 'the labextension in .venv (scripts/setup.sh builds and installs it)'],
    ]) {
      if (!existsSync(file)) throw new Error(`missing ${file}: ${fix}`);
    }
    work = mkdtempSync(path.join(os.tmpdir(), 'ms-monitor-test-'));
    const rootDir = path.join(work, 'root');
    writeFileSync(path.join(work, 'placeholder'), '');
    const configFile = path.join(work, 'jupyter_server_config.py');
    // --config replaces the user config files, so allow_root (CI containers run as root) goes here too.
    writeFileSync(
      configFile,
      [
        'c.ServerApp.allow_root = True',
        `c.ServerProxy.servers = ${JSON.stringify({ [PROXY_NAME]: gatedEntry(path.join(work, 'down'), path.join(work, 'pid')) }).replace(/\btrue\b/g, 'True').replace(/\bfalse\b/g, 'False')}`,
        '',
      ].join('\n'),
    );
    (await import('node:fs')).mkdirSync(rootDir);
    lab = await startLab({ rootDir, args: [`--config=${configFile}`] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(`${lab.baseUrl}lab?token=${lab.token}`);
    await page.waitForSelector(`li.lm-TabBar-tab[data-id="${PANEL_ID}"]`, { timeout: 90_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows live CPU and RAM values in the right sidebar and the status-bar item, with no kernel', async () => {
    await page.click(`li.lm-TabBar-tab[data-id="${PANEL_ID}"]`);
    await expect.poll(async () => (await panelValues(page)).status, { timeout: 60_000 }).toBe('live');
    const first = await panelValues(page);
    expect(first.cpu).toMatch(/^\d+%$/);
    expect(first.ram).toMatch(/^[\d.]+ \/ [\d.]+ (GiB|MiB)$/);
    // Live: new samples keep arriving (1 s interval).
    await expect.poll(async () => (await panelValues(page)).timestampMs, { timeout: 10_000 }).toBeGreaterThan(first.timestampMs + 2000);
    // The samples come over the proxied WebSocket, not by polling.
    expect(sockets.some((url) => url.includes(`/${PROXY_NAME}/ws`))).toBe(true);

    const status = page.locator('ms-system-status [data-status-text]');
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toMatch(/^(CPU \d+% · RAM|GPU|\d+ GPUs)/);
    // The test server started no kernel: the panel depends on none.
    expect(await (await lab.api('api/kernels')).json()).toEqual([]);

    await page.waitForTimeout(3000); // let the 1 h chart gather a few points for the picture
    await page.screenshot({ path: path.join(shots, '1-sidebar-live.png') });
    await page.locator('#jp-right-stack').screenshot({ path: path.join(shots, '2-panel.png') });
  });

  it('shows the error state within 5 failed samples when the service is killed, and recovers', async () => {
    const pid = Number(readFileSync(path.join(work, 'pid'), 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('serve.js');
    writeFileSync(path.join(work, 'down'), '');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');

    const error = page.locator('ms-system-monitor [data-state="error"]');
    await error.waitFor({ timeout: 30_000 });
    const secondsToError = (Date.now() - killedAt) / 1000;
    expect(await error.textContent()).toMatch(/Monitor service unreachable\s+5 samples in a row failed/);
    expect(secondsToError).toBeLessThan(15); // 5 samples at 1 s, plus the proxy's answers
    await expect.poll(() => page.locator('ms-system-status [data-status-text]').textContent()).toBe('monitor offline');
    await page.locator('#jp-right-stack').screenshot({ path: path.join(shots, '3-panel-error.png') });
    await page.screenshot({ path: path.join(shots, '4-error-full.png') });

    // The service comes back (the gate opens; simpervisor already restarted the command).
    const before = (await panelValues(page)).timestampMs;
    rmSync(path.join(work, 'down'));
    await expect.poll(async () => (await panelValues(page)).status, { timeout: 30_000 }).toBe('live');
    await expect.poll(async () => (await panelValues(page)).timestampMs, { timeout: 15_000 }).toBeGreaterThan(before);
    expect(await error.count()).toBe(0);
    const restarted = Number(readFileSync(path.join(work, 'pid'), 'utf8'));
    expect(restarted).not.toBe(pid);
    await page.waitForTimeout(2000);
    await page.locator('#jp-right-stack').screenshot({ path: path.join(shots, '5-panel-recovered.png') });
  });

  it('switches the chart range and changes the interval through the settings', async () => {
    const panel = page.locator('ms-system-monitor');
    await panel.locator('button', { hasText: '6h' }).click();
    await expect.poll(() => panel.evaluate((el) => (el as unknown as { history?: { range: string } }).history?.range)).toBe('6h');
    await panel.locator('button[aria-label="Monitor settings"]').click();
    await panel.locator('select[aria-label="Sampling interval"]').selectOption('2');
    const a = (await panelValues(page)).timestampMs;
    await page.waitForTimeout(4500);
    const b = (await panelValues(page)).timestampMs;
    // At 2 s the service pushes about every other second: 2 or 3 samples in 4.5 s, never 4+.
    expect(b - a).toBeGreaterThanOrEqual(2000);
    await page.locator('#jp-right-stack').screenshot({ path: path.join(shots, '6-panel-6h-settings.png') });
  });
});
