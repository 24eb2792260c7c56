// <ms-feature-browser> in Debian's chromium, driven by FeatureBrowserController over a real analysis
// (tiny Llama + SAE fixture, tokenized Gutenberg text): every ms-action goes to the controller the
// way the comm would carry it, and its answer is set as the element's new props. Searches by label,
// token and prompt, sorts, pages, opens a feature card, stars it; token colours equal
// activationColor(value, feature max); the static snapshot reads with JavaScript off. Screenshots go
// to test-artifacts/feature-browser/.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FeatureAnalysis, analyzeFeatures } from '../../src/core/analysis/index.js';
import { addDataset, tokenizeDataset } from '../../src/core/datasets/index.js';
import { loadModel, type Model } from '../../src/core/models/index.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from '../../src/core/test/helpers/dataset-workspace.js';
import { activationColor, renderSnapshot } from '../../widgets/src/static/index.js';
import type { FeatureBrowserProps } from '../../widgets/src/feature-types.js';
import { artifactDir, launchChromium } from '../../widgets/test/browser.js';
import { serveTestPage, type TestPage } from '../../widgets/test/fixtures/serve-page.js';
import { FeatureBrowserController, ablationProps, correlationsProps, logitLensProps } from '../src/feature-widgets.js';

type TestWindow = Window & { kernel(action: string, payload: unknown): Promise<FeatureBrowserProps>; actions: string[] };

let ws: TempWorkspace;
let model: Model;
let analysis: FeatureAnalysis;
let controller: FeatureBrowserController;
let served: TestPage;
let browser: Browser;
let page: Page;
const shots = artifactDir('feature-browser');

beforeAll(async () => {
  ws = await tempWorkspace();
  const modelDir = path.join(FIXTURES, 'models', 'tiny-llama');
  await addDataset(ws.catalog, path.join(GUTENBERG, 'carroll-alice.txt'), { name: 'alice', limit: 60 });
  await tokenizeDataset(ws.catalog, 'alice', { tokenizer: modelDir, contextSize: 32, name: 'alice-32' });
  model = await loadModel(modelDir, { device: 'cpu', threads: 1 });
  const out = await analyzeFeatures({ catalog: ws.catalog, name: 'alice-l0', dataset: 'alice-32', model, sae: path.join(FIXTURES, 'analysis', 'llama', 'sae'), topK: 6, windowBefore: 8, windowAfter: 3, batchTokens: 512 });
  expect(out.status).toBe('completed');
  analysis = FeatureAnalysis.open(ws.catalog, 'alice-l0');
  controller = new FeatureBrowserController(analysis, { model, limit: 10 });

  served = await serveTestPage();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The comm: an ms-action reaches the controller, its answer becomes the element's props.
  await page.exposeFunction('kernel', (action: string, payload: unknown) => controller.handle(action, payload));
  await page.goto(served.url);
  await page.waitForFunction(() => !!customElements.get('ms-feature-browser') && !!customElements.get('ms-feature-card'));
  const initial = await controller.props();
  await page.evaluate((props) => {
    const w = window as unknown as TestWindow;
    w.actions = [];
    const el = document.createElement('ms-feature-browser');
    Object.assign(el, props);
    el.addEventListener('ms-action', async (e) => {
      const { action, payload } = (e as CustomEvent<{ action: string; payload: unknown }>).detail;
      w.actions.push(action);
      Object.assign(el, await w.kernel(action, payload));
    });
    document.getElementById('root')!.append(el);
  }, initial);
  expect(errors).toEqual([]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  analysis?.close();
  await model?.release();
  ws?.dispose();
});

const rows = () => page.locator('ms-feature-browser tbody tr');
const features = async () => (await rows().evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-feature')))));
const status = () => page.locator('ms-feature-browser .status').textContent();

describe('<ms-feature-browser> with the feature analysis behind it', () => {
  it('pages and sorts', async () => {
    await expect.poll(features).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await status()).toContain('1–10 of 96 features');
    await page.locator('ms-feature-browser button.next').click();
    await expect.poll(features).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await status()).toContain('11–20 of 96 features');
    await page.locator('ms-feature-browser select.sort').selectOption('density');
    await page.locator('ms-feature-browser button.dir').click();
    const byDensity = analysis.page({ sort: 'density', descending: true, limit: 10 }).rows.map((r) => r.feature);
    await expect.poll(features).toEqual(byDensity);
    expect(await status()).toContain('sorted by density ↓');
    await page.screenshot({ path: path.join(shots, 'browser-sorted.png'), fullPage: true });
  });

  it('searches by label text, by token, by prompt', async () => {
    const f = analysis.page({ sort: 'density', descending: true, limit: 3 }).rows[2].feature;
    analysis.setLabel(f, 'Dialogue openings in Wonderland');
    const search = async (query: string, by: string) => {
      await page.locator('ms-feature-browser select.by').selectOption(by);
      await page.locator('ms-feature-browser input[type=search]').fill(query);
      await page.locator('ms-feature-browser button.go').click();
    };
    await search('wonderl', 'label');
    await expect.poll(features).toEqual([f]);
    expect(await status()).toContain('matching label “wonderl”');

    const top = analysis.feature(f).topExamples[0];
    const tokenText = top.tokens[top.peakIndex].trim();
    await search(tokenText, 'token');
    const want = analysis.searchByToken(tokenText, { sort: 'density', descending: true, limit: 10 }).rows.map((r) => r.feature);
    await expect.poll(features).toEqual(want);
    expect(want).toContain(f);

    await search('Alice was beginning to get very tired', 'prompt');
    const onPrompt = await analysis.featuresOnPrompt(model, 'Alice was beginning to get very tired', { top: 10 });
    await expect.poll(features).toEqual(onPrompt.features.map((x) => x.feature));
    await expect.poll(() => page.locator('ms-feature-browser .prompt').textContent()).toContain('Alice was beginning');
    await page.screenshot({ path: path.join(shots, 'browser-prompt-search.png'), fullPage: true });
    await search('', 'label');
    await expect.poll(async () => (await features()).length).toBe(10);
  });

  it('opens a feature card whose token colours match the activations; stars it', async () => {
    const f = analysis.page({ sort: 'density', descending: true, limit: 1 }).rows[0].feature;
    await page.locator(`ms-feature-browser tbody tr[data-feature="${f}"]`).click();
    const card = page.locator('ms-feature-browser ms-feature-card');
    await expect.poll(() => card.locator('.title').textContent()).toContain(`Feature ${f}`);
    const report = analysis.feature(f);
    const max = report.statistics.max;
    const examples = card.locator('.top .ex');
    await expect.poll(() => examples.count()).toBe(report.topExamples.length);
    for (let i = 0; i < report.topExamples.length; i++) {
      const e = report.topExamples[i];
      const spans = examples.nth(i).locator('.tok');
      const got = await spans.evaluateAll((els) => els.map((el) => [getComputedStyle(el).backgroundColor, el.textContent, el.classList.contains('peak')]));
      expect(got.map((g) => g[0])).toEqual(e.values.map((v) => activationColor(v, max).background));
      expect(got.map((g) => g[2])).toEqual(e.values.map((_, j) => j === e.peakIndex));
    }
    // The strongest example's peak is the darkest colour of the scale.
    expect(await examples.nth(0).locator('.tok.peak').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(215, 48, 31)');
    expect(await card.locator('.stats').textContent()).toContain(`max`);
    await page.screenshot({ path: path.join(shots, 'browser-card.png'), fullPage: true });

    await card.locator('button.star').click();
    await expect.poll(() => card.locator('button.star').textContent()).toBe('★');
    expect(analysis.tables.featureRow(analysis.record.id, f)?.favorite).toBe(true);
    await card.locator('button.edit').click();
    await card.locator('.label input').fill('Word endings in Alice');
    await card.locator('.label input').press('Enter');
    await expect.poll(() => card.locator('.lbl').textContent()).toBe('label: Word endings in Alice');
    expect(analysis.feature(f).labels.map((l) => [l.source, l.label])[0]).toEqual(['manual', 'Word endings in Alice']);
    await page.locator('ms-feature-browser input.fav').check();
    await expect.poll(features).toEqual([f]);
    expect(await page.evaluate(() => (window as unknown as TestWindow).actions)).toEqual(expect.arrayContaining(['page', 'search', 'open', 'favorite', 'label']));
  });

  it('the static snapshot reads with JavaScript off', async () => {
    const props = await controller.handle('open', { feature: analysis.page({ sort: 'density', descending: true, limit: 1 }).rows[0].feature });
    const html = renderSnapshot('ms-feature-browser', props);
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 800 } });
    const staticPage = await context.newPage();
    await staticPage.setContent(`<!doctype html><html><body style="margin:12px">${html}</body></html>`);
    expect(await staticPage.locator('[data-ms-snapshot="ms-feature-browser"] tbody tr').count()).toBe(props.rows.length);
    expect(await staticPage.locator('[data-ms-snapshot="ms-feature-card"]').textContent()).toContain('Top activations');
    await staticPage.screenshot({ path: path.join(shots, 'browser-static.png'), fullPage: true });
    await context.close();
  });

  it('<ms-logit-lens>, <ms-correlations>, <ms-ablation> with real results; a related feature opens', async () => {
    const f = analysis.page({ sort: 'density', descending: true, limit: 1 }).rows[0].feature;
    const lens = logitLensProps(await analysis.logitLens(model, f, { top: 8 }));
    const corr = correlationsProps(analysis, f, 6);
    const abl = ablationProps(await analysis.ablate(model, f, { maxSequences: 2 }));
    await page.evaluate(({ lens, corr, abl }) => {
      const root = document.getElementById('root')!;
      root.replaceChildren();
      const w = window as unknown as TestWindow;
      w.actions = [];
      for (const [tag, props] of [['ms-logit-lens', lens], ['ms-correlations', corr], ['ms-ablation', abl]] as const) {
        const el = document.createElement(tag);
        Object.assign(el, props);
        el.addEventListener('ms-action', (e) => w.actions.push(JSON.stringify((e as CustomEvent).detail)));
        root.append(el);
      }
    }, { lens, corr, abl });
    await expect.poll(() => page.locator('ms-logit-lens .tl').count()).toBe(16);
    expect(await page.locator('ms-logit-lens svg rect').count()).toBeGreaterThan(5);
    const firstRelated = corr.positive[0].feature;
    await page.locator(`ms-correlations tbody tr[data-feature="${firstRelated}"]`).first().click();
    expect(await page.evaluate(() => (window as unknown as TestWindow).actions)).toEqual([JSON.stringify({ action: 'open', payload: { feature: firstRelated } })]);
    expect(await page.locator('ms-ablation .seq').count()).toBe(abl.sequences.length);
    expect(await page.locator('ms-ablation .summary').textContent()).toContain('positions ablated');
    expect(abl.promoted.every((t) => !t.token.startsWith('#'))).toBe(true);
    await page.screenshot({ path: path.join(shots, 'lens-correlations-ablation.png'), fullPage: true });
  });
});
