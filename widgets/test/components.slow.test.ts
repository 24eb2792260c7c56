// The Lit components in a real browser (Debian chromium), on a plain page served on loopback:
// colours, tooltip and click of <ms-token-highlight>; charts, streaming, buttons and the PNG of
// <ms-training-monitor>; and the static snapshot rendered with JavaScript disabled.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { renderSnapshot } from '../src/static/index.js';
import type { MsActionDetail, TrainingMetricsRow } from '../src/types.js';
import { artifactDir, launchChromium } from './browser.js';
import { serveTestPage, type TestPage } from './fixtures/serve-page.js';

type TestWindow = Window & { events: MsActionDetail[] };

function rows(from: number, to: number): TrainingMetricsRow[] {
  const out: TrainingMetricsRow[] = [];
  for (let step = from; step <= to; step++) out.push({ step, loss: 1 / step, l0: 50 - step * 0.5, deadLatents: 200 - 3 * step, tokensPerSecond: 8192 });
  return out;
}

describe('miStudio widgets in chromium', () => {
  let served: TestPage;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('widgets');

  beforeAll(async () => {
    served = await serveTestPage();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(served.url);
    await page.waitForFunction(() => !!customElements.get('ms-training-monitor') && !!customElements.get('ms-token-highlight'));
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('<ms-token-highlight>: activation colours, tooltip with id and value, token-click', async () => {
    await page.evaluate(() => {
      const root = document.getElementById('root')!;
      root.replaceChildren();
      (window as unknown as TestWindow).events = [];
      const el = document.createElement('ms-token-highlight');
      Object.assign(el, {
        title: 'feature 42 · blocks.6.hook_resid_post',
        tokens: ['The', ' cat', ' sat', ' on', ' the', ' <mat>', '.', '\n', 'It', ' purred'],
        values: new Float32Array([0, 0.1, 0.4, 0, 0.05, 3.2, 0.8, 0, 1.6, 2.4]),
        tokenIds: [464, 3797, 3332, 319, 262, 2603, 13, 198, 1026, 38088],
      });
      el.addEventListener('ms-action', (e) => (window as unknown as TestWindow).events.push((e as CustomEvent<MsActionDetail>).detail));
      root.append(el);
    });
    const tokens = page.locator('ms-token-highlight .tok');
    await expect.poll(() => tokens.count()).toBe(10);
    const bg = (i: number) => tokens.nth(i).evaluate((n) => getComputedStyle(n).backgroundColor);
    expect(await bg(5)).toBe('rgb(215, 48, 31)'); // the maximum: darkest red of the scale
    expect(await bg(0)).toBe('rgb(255, 255, 255)'); // zero: white
    expect(await tokens.nth(5).textContent()).toBe(' <mat>'); // token text is text, not markup
    expect(await tokens.nth(7).textContent()).toBe('↵');

    await tokens.nth(8).hover();
    const tip = page.locator('ms-token-highlight .tip');
    await expect.poll(() => tip.textContent()).toContain('id 1026');
    expect(await tip.textContent()).toContain('activation 1.6');
    await page.screenshot({ path: path.join(shots, 'token-highlight.png'), clip: { x: 0, y: 0, width: 700, height: 160 } });

    await tokens.nth(5).click();
    const events = await page.evaluate(() => (window as unknown as TestWindow).events);
    expect(events).toEqual([{ action: 'token-click', payload: { index: 5, token: ' <mat>', tokenId: 2603, value: expect.closeTo(3.2, 5) } }]);
  });

  it('<ms-training-monitor>: charts follow props and streamed rows; buttons emit actions; PNG of the charts', async () => {
    await page.evaluate((initial) => {
      const root = document.getElementById('root')!;
      root.replaceChildren();
      (window as unknown as TestWindow).events = [];
      const el = document.createElement('ms-training-monitor');
      Object.assign(el, { title: 'SAE 16x on blocks.6.hook_resid_post', status: 'running', step: 0, totalSteps: 60, dLatents: 3072, metrics: initial });
      el.addEventListener('ms-action', (e) => (window as unknown as TestWindow).events.push((e as CustomEvent<MsActionDetail>).detail));
      root.append(el);
    }, rows(1, 10));
    const monitor = page.locator('ms-training-monitor');
    // plotly keeps the plotted data on the chart element: count the points of each trace
    const pointsPerChart = () =>
      page.evaluate(() => [...document.querySelectorAll('ms-training-monitor .msm-chart')].map((n) => (n as unknown as { data?: { x: number[] }[] }).data?.[0]?.x.length ?? -1));
    await expect.poll(pointsPerChart, { timeout: 20_000 }).toEqual([10, 10, 10]);
    expect(await page.locator('ms-training-monitor .msm-chart .main-svg').count()).toBeGreaterThanOrEqual(3);

    // streamed rows extend the traces; DOM append is untouched by the override
    await monitor.evaluate((el, more) => (el as unknown as { append(k: string, r: unknown[]): void }).append('metrics', more), rows(11, 25));
    await expect.poll(pointsPerChart).toEqual([25, 25, 25]);
    expect(await page.locator('ms-training-monitor .msm-status').textContent()).toContain('step 25 / 60 (42%)');
    expect(await page.locator('ms-training-monitor .msm-status').textContent()).toContain('8,192 tokens/s');
    expect(await monitor.evaluate((el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent === 'metrics'))).toBe(false);
    const lastY = await page.evaluate(() => (document.querySelector('ms-training-monitor .msm-chart') as unknown as { data: { y: number[] }[] }).data[0].y.at(-1));
    expect(lastY).toBeCloseTo(1 / 25, 6);
    await page.screenshot({ path: path.join(shots, 'training-monitor-running.png'), fullPage: true });

    await page.locator('ms-training-monitor .msm-pause').click();
    expect(await page.locator('ms-training-monitor .msm-pause').isDisabled()).toBe(true); // until the kernel answers
    await monitor.evaluate((el) => Object.assign(el, { status: 'paused' }));
    await page.locator('ms-training-monitor .msm-resume').click();
    await monitor.evaluate((el) => Object.assign(el, { status: 'running' }));
    await page.locator('ms-training-monitor .msm-stop').click();
    expect(await page.evaluate(() => (window as unknown as TestWindow).events)).toEqual([
      { action: 'pause', payload: {} },
      { action: 'resume', payload: {} },
      { action: 'stop', payload: {} },
    ]);
    await monitor.evaluate((el) => Object.assign(el, { status: 'stopped' }));
    expect(await page.locator('ms-training-monitor .msm-stop').isDisabled()).toBe(true);

    // a whole new metrics array (a props update) replaces the traces
    await monitor.evaluate((el, fresh) => Object.assign(el, { metrics: fresh }), rows(1, 5));
    await expect.poll(pointsPerChart).toEqual([5, 5, 5]);

    const chartWidth = await page.evaluate(() => document.querySelector('ms-training-monitor .msm-chart')!.clientWidth);
    const png = Buffer.from(await monitor.evaluate((el) => (el as unknown as { chartsPngBase64(): Promise<string> }).chartsPngBase64()), 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(3 * chartWidth + 2 * 8); // IHDR width: the three charts side by side
  });

  it('static snapshots read with JavaScript disabled', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 520 } });
    const staticPage = await context.newPage();
    const html =
      renderSnapshot('ms-training-monitor', { title: 'SAE 16x (snapshot)', status: 'paused', step: 40, totalSteps: 60, dLatents: 3072, metrics: rows(1, 40) }) +
      '<hr>' +
      renderSnapshot('ms-token-highlight', { tokens: ['The', ' cat', ' <script>alert(1)</script>', ' sat'], values: [0, 0.5, 2, 1], tokenIds: [1, 2, 3, 4] });
    await staticPage.setContent(`<!doctype html><html><body style="margin:12px">${html}</body></html>`);
    expect(await staticPage.locator('svg path').count()).toBe(3);
    const box = await staticPage.locator('svg').first().boundingBox();
    expect(box?.width).toBe(302); // 300 px chart + 1 px border each side: the SVG is laid out, not collapsed
    expect(await staticPage.locator('body').innerText()).toContain('Paused · step 40 / 60 (67%)');
    expect(await staticPage.locator('span[title="id 3 · activation 2"]').textContent()).toBe(' <script>alert(1)</script>');
    await staticPage.screenshot({ path: path.join(shots, 'static-snapshot.png'), fullPage: true });
    await context.close();
  });
});
