// The static snapshot of <ms-dataset-browser> (what nbconvert exports and GitHub show), parsed with
// htmlparser2: one root, one table row per sample, search matches marked, token chunks with ids,
// untrusted sample text escaped, and the status line a reader needs.
import { DomUtils, parseDocument } from 'htmlparser2';
import type { Element } from 'domhandler';
import { describe, expect, it } from 'vitest';
import { browserStatus, matchRanges, sampleSegments, SAMPLE_CHARS } from '../src/dataset-browser-view.js';
import { renderSnapshot, type DatasetBrowserProps } from '../src/static/index.js';

const base: DatasetBrowserProps = {
  name: 'gutenberg',
  kind: 'text',
  page: 2,
  pageSize: 3,
  totalRows: 9000,
  query: 'whale',
  matchingRows: 40,
  matchCountExact: false,
  scannedRows: 1080,
  pages: 14,
  samples: [
    { index: 7, split: 'train', text: 'The Whale and the whale.' },
    { index: 9, split: 'train', text: '<script>alert(1)</script> no whale here? yes: WHALE' },
    { index: 12, split: 'test', text: 'x'.repeat(SAMPLE_CHARS + 10) },
  ],
  tokenView: false,
  hasTokens: true,
};

describe('renderSnapshot(ms-dataset-browser)', () => {
  it('is one root with a row per sample, marks matches and escapes text', () => {
    const doc = parseDocument(renderSnapshot('ms-dataset-browser', base));
    const roots = doc.children.filter((n) => n.type === 'tag') as Element[];
    expect(roots).toHaveLength(1);
    expect(roots[0].attribs['data-ms-snapshot']).toBe('ms-dataset-browser');
    expect(DomUtils.getElementsByTagName('tr', doc.children)).toHaveLength(3);
    expect(DomUtils.getElementsByTagName('script', doc.children)).toHaveLength(0);
    const marks = DomUtils.getElementsByTagName('mark', doc.children).map((m) => DomUtils.textContent(m));
    expect(marks).toEqual(['Whale', 'whale', 'whale', 'WHALE']);
    const text = DomUtils.textContent(doc.children);
    expect(text).toContain('<script>alert(1)</script>');
    expect(text).toContain('… 10 more characters');
    expect(text).toContain('≥ 40 rows match “whale” (searched 12% of 9,000) · page 3 of 14+');
  });

  it('shows token chunks with their ids in token view', () => {
    const props = { ...base, query: '', tokenView: true, samples: [{ index: 0, split: 'train', text: 'Hi there', tokens: ['Hi', ' there'], tokenIds: [40, 612] }] };
    const doc = parseDocument(renderSnapshot('ms-dataset-browser', props));
    const spans = DomUtils.findAll((e: Element) => e.name === 'span' && (e.attribs.title ?? '').startsWith('id '), doc.children);
    expect(spans.map((s) => [DomUtils.textContent(s), s.attribs.title])).toEqual([['Hi', 'id 40'], [' there', 'id 612']]);
    expect(spans[0].attribs.style).not.toBe(spans[1].attribs.style);
  });

  it('says how much the kernel cut from long samples', () => {
    const props = { ...base, query: '', samples: [{ index: 0, split: 'train', text: 'abc', fullChars: 5003 }] };
    expect(DomUtils.textContent(parseDocument(renderSnapshot('ms-dataset-browser', props)).children)).toContain('… 5000 more characters');
    const tokens = { ...props, tokenView: true, samples: [{ index: 0, split: 'train', text: 'ab', tokens: ['a', 'b'], tokenIds: [1, 2], fullTokens: 9 }] };
    expect(DomUtils.textContent(parseDocument(renderSnapshot('ms-dataset-browser', tokens)).children)).toContain('… 7 more tokens');
  });
});

describe('dataset browser view helpers', () => {
  it('status without a query counts rows and pages', () => {
    expect(browserStatus({ ...base, query: '', page: 0, pages: 450, matchCountExact: true })).toBe('9,000 rows · text · page 1 of 450');
  });
  it('finds every case-insensitive match and splits text around them', () => {
    expect(matchRanges('aXa xa', 'xa')).toEqual([[1, 3], [4, 6]]);
    expect(sampleSegments('ab AB', 'b').segments).toEqual([
      { text: 'a', match: false },
      { text: 'b', match: true },
      { text: ' A', match: false },
      { text: 'B', match: true },
    ]);
  });
});
