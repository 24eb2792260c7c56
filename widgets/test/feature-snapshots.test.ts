// The static snapshots of the feature widgets: one script-free root, untrusted token text escaped,
// token colours on the feature's scale (activationColor(value, max)), the numbers a reader needs.
import { describe, expect, it } from 'vitest';
import { parseDocument, DomUtils } from 'htmlparser2';
import type { Element } from 'domhandler';
import { activationColor, renderSnapshot } from '../src/static/index.js';
import type { AblationProps, CorrelationsProps, FeatureBrowserProps, FeatureCardProps, LogitLensProps } from '../src/feature-types.js';

const byTag = (root: ReturnType<typeof parseDocument>, tag: string) => DomUtils.getElementsByTagName(tag, root.children);

const card: FeatureCardProps = {
  feature: 42, analysis: 'alice', hook: 'blocks.0.hook_resid_post', label: 'closing <b>tags</b>', labelSource: 'auto', score: 0.75, favorite: true,
  density: 0.0123, fired: 123, tokens: 10000, meanActive: 1.5, max: 4,
  histogram: { lower: 0, binWidth: 0.125, counts: [5, 9, 3, 0, 1, 0, 0, 0] },
  topExamples: [
    { tokens: ['The', ' <script>', 'x', '\n'], values: [0, 4, 2, 0], peakIndex: 1, value: 4, tokenIds: [1, 2, 3, 4] },
    { tokens: ['a', ' b'], values: [1, 0], peakIndex: 0, value: 1 },
  ],
  intervals: [{ lower: 0, upper: 2, fired: 100, examples: [{ tokens: ['q'], values: [0.5], peakIndex: 0, value: 0.5 }] }],
  logitLens: { positive: [{ token: ' cat', tokenId: 7, value: 2.5 }], negative: [{ token: ' dog', tokenId: 8, value: -1.25 }] },
};

function root(html: string, tag: string) {
  const doc = parseDocument(html);
  const roots = doc.children.filter((n) => n.type === 'tag') as Element[];
  expect(roots).toHaveLength(1);
  expect(roots[0].attribs['data-ms-snapshot']).toBe(tag);
  expect(byTag(doc, 'script')).toHaveLength(0);
  return doc;
}

describe('feature widget snapshots', () => {
  it('<ms-feature-card>: label, stats, histogram, logit lens, escaped coloured examples', () => {
    const doc = root(renderSnapshot('ms-feature-card', card), 'ms-feature-card');
    const text = DomUtils.textContent(doc);
    expect(text).toContain('★ Feature 42 · alice · blocks.0.hook_resid_post');
    expect(text).toContain('auto label: closing <b>tags</b> · detection score 0.75');
    expect(text).toContain('density 1.23% · 123 of 10,000 tokens · mean when active 1.5 · max 4');
    expect(text).toContain(' <script>');
    expect(text).toContain('↵');
    expect(text).toContain('Promotes');
    expect(text).toContain(' cat');
    expect(byTag(doc, 'svg')).toHaveLength(1);
    expect(byTag(doc, 'rect').length).toBe(5); // trailing empty bins are not drawn
    const spans = DomUtils.findAll((e: Element) => (e.attribs.title ?? '').startsWith('id ') || (e.attribs.title ?? '').startsWith('activation'), doc.children);
    const first = spans.slice(0, 4);
    first.forEach((s, i) => expect(s.attribs.style).toContain(`background:${activationColor(card.topExamples[0].values[i], 4).background}`));
    expect(first[1].attribs.style).toContain('outline');
  });

  it('<ms-logit-lens>, <ms-correlations>, <ms-ablation>, <ms-feature-browser>', () => {
    const lens: LogitLensProps = { feature: 3, positive: [{ token: ' up', tokenId: 1, value: 3 }], negative: [{ token: ' down', tokenId: 2, value: -3 }], histogram: { lower: -3, binWidth: 1, counts: [1, 4, 4, 1, 2, 1] }, convention: 'W_dec[f] · W_U' };
    const t1 = DomUtils.textContent(root(renderSnapshot('ms-logit-lens', lens), 'ms-logit-lens'));
    expect(t1).toContain('Positive logits');
    expect(t1).toContain(' down');
    expect(t1).toContain('W_dec[f] · W_U');
    const corr: CorrelationsProps = { feature: 3, sampleTokens: 16384, positive: [{ feature: 9, value: 0.5, label: 'nine' }], negative: [], neighbours: [{ feature: 11, value: 0.25 }] };
    const t2 = DomUtils.textContent(root(renderSnapshot('ms-correlations', corr), 'ms-correlations'));
    expect(t2).toContain('16,384 sampled tokens');
    expect(t2).toContain('nine');
    expect(t2).toContain('Decoder neighbours');
    const abl: AblationProps = {
      feature: 3, hook: 'h', meanCeClean: 2, meanCeAblated: 2.5, deltaCe: 0.5, perplexityClean: 7.389, perplexityAblated: 12.18, positionsAblated: 2,
      sequences: [{ tokens: ['a', 'b', 'c'], activations: [0, 1, 0], lossDelta: [0.1, -0.2, 0] }], promoted: [{ token: 'x', tokenId: 1, value: 0.3 }], suppressed: [],
    };
    const t3 = DomUtils.textContent(root(renderSnapshot('ms-ablation', abl), 'ms-ablation'));
    expect(t3).toContain('cross-entropy 2 → 2.5 (+0.5)');
    expect(t3).toContain('2 positions ablated');
    const browser: FeatureBrowserProps = {
      analysis: 'alice', total: 96, offset: 20, limit: 10, sort: 'density', descending: true, query: 'quote', searchBy: 'label', selected: 42,
      rows: [{ feature: 42, label: 'quotes', density: 0.5, max: 2, favorite: true }, { feature: 7, label: null, density: 0, max: null, favorite: false }], card,
    };
    const doc = root(renderSnapshot('ms-feature-browser', browser), 'ms-feature-browser');
    const t4 = DomUtils.textContent(doc);
    expect(t4).toContain('21–22 of 96 features matching label “quote” · sorted by density ↓');
    expect(t4).toContain('★ 42');
    expect(t4).toContain('Feature 42 · alice');
    expect(byTag(doc, 'tr').length).toBe(3);
  });
});
