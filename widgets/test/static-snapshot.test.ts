// renderSnapshot is what nbconvert exports and GitHub show: it must be well-formed, script-free,
// escape untrusted token text and carry the numbers a reader needs. Parsed with htmlparser2 so the
// checks are about the document structure, not about substrings that could appear by accident.
import { describe, expect, it } from 'vitest';
import { parseDocument, DomUtils } from 'htmlparser2';
import type { Element } from 'domhandler';
import { activationColor, downsample, renderSnapshot, type TrainingMetricsRow } from '../src/static/index.js';

const byAttr = (root: ReturnType<typeof parseDocument>, name: string) => DomUtils.findAll((e: Element) => e.attribs[name] !== undefined, root.children);
const byTag = (root: ReturnType<typeof parseDocument>, tag: string) => DomUtils.getElementsByTagName(tag, root.children);

function rows(n: number): TrainingMetricsRow[] {
  return Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: 2 / (i + 1), l0: 40 - i * 0.25, deadLatents: 100 - i, tokensPerSecond: 4096 }));
}

describe('renderSnapshot(ms-training-monitor)', () => {
  const props = { title: 'SAE on blocks.6.hook_resid_post', status: 'paused' as const, step: 40, totalSteps: 60, dLatents: 2048, metrics: rows(40) };
  const htmlText = renderSnapshot('ms-training-monitor', props);
  const doc = parseDocument(htmlText);

  it('is one root element with three inline SVG charts and no script', () => {
    const roots = doc.children.filter((n) => n.type === 'tag') as Element[];
    expect(roots).toHaveLength(1);
    expect(roots[0].attribs['data-ms-snapshot']).toBe('ms-training-monitor');
    expect(byTag(doc, 'svg')).toHaveLength(3);
    expect(byTag(doc, 'script')).toHaveLength(0);
    expect(byTag(doc, 'style')).toHaveLength(0);
    // every chart has a drawn path with one vertex per logged step
    for (const path of byTag(doc, 'path')) expect(path.attribs.d.match(/[ML]/g)).toHaveLength(40);
  });

  it('states status, step, total, throughput and the last metric values as text', () => {
    const text = DomUtils.textContent(doc);
    expect(text).toContain('Paused');
    expect(text).toContain('step 40 / 60 (67%)');
    expect(text).toContain('4,096 tokens/s');
    expect(text).toContain(`loss ${(2 / 40).toPrecision(4).replace(/0+$/, '')}`);
    expect(text).toContain('L0 30.25');
    expect(text).toContain('dead latents 61');
    expect(text).toContain('2,048');
    expect(text).toContain('SAE on blocks.6.hook_resid_post');
  });

  it('y-axis labels span the data range', () => {
    const svgTexts = byTag(doc, 'svg').map((svg) => DomUtils.textContent(svg));
    expect(svgTexts[0]).toContain('2'); // loss max at step 1
    expect(svgTexts[2]).toContain('100'); // dead latents max
    expect(svgTexts[2]).toContain('61'); // dead latents min
  });

  it('shows a placeholder before any metrics arrive', () => {
    const empty = parseDocument(renderSnapshot('ms-training-monitor', { status: 'running', step: 0, totalSteps: 10, metrics: [] }));
    expect(DomUtils.textContent(empty)).toContain('no data yet');
    expect(DomUtils.textContent(empty)).toContain('Running · step 0 / 10 (0%)');
  });
});

describe('renderSnapshot(ms-token-highlight)', () => {
  const tokens = ['The', ' cat', '<script>alert("x")</script>', ' sat', '\n'];
  const values = [0, 0.5, 2, -1, 1];
  const htmlText = renderSnapshot('ms-token-highlight', { tokens, values, tokenIds: [464, 3797, 99, 3332, 198], title: 'feature <b>7</b>' });
  const doc = parseDocument(htmlText);

  it('escapes token text and the title: no element comes from the data', () => {
    expect(byTag(doc, 'script')).toHaveLength(0);
    expect(byTag(doc, 'b')).toHaveLength(0);
    expect(htmlText).not.toContain('<script>');
    expect(DomUtils.textContent(doc)).toContain('<script>alert("x")</script>');
    expect(DomUtils.textContent(doc)).toContain('feature <b>7</b>');
  });

  it('one coloured span per token, tooltip with id and value, strongest token darkest', () => {
    const spans = byAttr(doc, 'title') as Element[];
    expect(spans).toHaveLength(tokens.length);
    expect(spans[2].attribs.title).toBe('id 99 · activation 2');
    expect(spans[3].attribs.title).toBe('id 3332 · activation -1');
    expect(spans[2].attribs.style).toContain(`background:${activationColor(2, 2).background}`);
    expect(activationColor(2, 2).background).toBe('rgb(215, 48, 31)');
    expect(spans[0].attribs.style).toContain('background:rgb(255, 255, 255)');
    expect(DomUtils.textContent(spans[4])).toBe('↵');
    expect(DomUtils.textContent(doc)).toContain('peak 2 at token 2');
  });

  it('colour scale is monotonic in |value| and blue for negative values', () => {
    const lum = (v: number) => activationColor(v, 1).background.match(/\d+/g)!.map(Number).reduce((a, b) => a + b, 0);
    for (let k = 0; k < 10; k++) expect(lum((k + 1) / 10)).toBeLessThan(lum(k / 10));
    const [r, , b] = activationColor(-0.8, 1).background.match(/\d+/g)!.map(Number);
    expect(b).toBeGreaterThan(r);
  });
});

describe('renderSnapshot(other tags) and downsample', () => {
  it('unknown tags get an escaped JSON summary', () => {
    const doc = parseDocument(renderSnapshot('ms-not-yet-a-widget', { label: '</pre><script>x</script>', n: 12345 }));
    expect(byTag(doc, 'script')).toHaveLength(0);
    expect(DomUtils.textContent(doc)).toContain('"n": 12345');
    expect(DomUtils.textContent(doc)).toContain('miStudio <ms-not-yet-a-widget>');
  });

  it('long series are reduced but keep spikes and the last point', () => {
    const points = Array.from({ length: 100_000 }, (_, i) => [i, i === 54_321 ? 50 : 1] as const);
    const reduced = downsample(points, 600);
    expect(reduced.length).toBeLessThanOrEqual(601);
    expect(reduced.some(([x, y]) => x === 54_321 && y === 50)).toBe(true);
    expect(reduced[reduced.length - 1]).toEqual([99_999, 1]);
    const doc = parseDocument(renderSnapshot('ms-training-monitor', { status: 'finished', step: 100_000, totalSteps: 100_000, metrics: rows(100_000) }));
    for (const path of byTag(doc, 'path')) expect(path.attribs.d.match(/[ML]/g)!.length).toBeLessThanOrEqual(601);
  });
});
