import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addDataset,
  datasetStats,
  openDataset,
  pageSamples,
  previewTokenization,
  readDatasetIndex,
  resolveTokenizer,
  tokenizeDataset,
  TokenStrings,
  type TextDatasetStats,
  type TokenIndex,
  type TokenizedDatasetStats,
} from '../datasets/index.js';
import { loadModelFiles } from '../models/load.js';
import { FIXTURES, GPT2_TINY, GUTENBERG, LLAMA_TINY, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

interface PackedExpectation {
  addSpecialTokens: boolean;
  contextSize: number;
  beginBatch: number;
  separator: number;
  beginSequence: number | null;
  rows: number;
  sha256: string;
  firstRows: number[][];
}
interface TokenizerExpectation {
  vocab_size: number;
  with_special: number[][];
  without_special: number[][];
  books: Record<string, { count: number; sha256: string; head: number[] }>;
  packed: PackedExpectation[];
}
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'tokenizers', 'expected.json'), 'utf8')) as {
  samples: string[];
  books: string[];
  tokenizers: Record<'gpt2-tiny' | 'llama-tiny', TokenizerExpectation>;
};
const TOKENIZERS = { 'gpt2-tiny': GPT2_TINY, 'llama-tiny': LLAMA_TINY } as const;

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await tempWorkspace();
});
afterEach(() => ws.dispose());

function sha256Uint32(ids: ArrayLike<number>): string {
  const a = Uint32Array.from(ids);
  return createHash('sha256').update(new Uint8Array(a.buffer)).digest('hex');
}

function tokensBin(dir: string): Uint32Array {
  const b = readFileSync(path.join(dir, 'tokens.bin'));
  return new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The fixture's books as one document each, in the fixture's order. */
async function booksDataset(name = 'books'): Promise<void> {
  const dir = path.join(ws.scratch, name);
  mkdirSync(dir);
  expected.books.forEach((b, i) => copyFileSync(path.join(GUTENBERG, `${b}.txt`), path.join(dir, `${i}-${b}.txt`)));
  await addDataset(ws.catalog, dir, { name });
}

describe('token ids equal Python tokenizers/transformers (fixtures from tests/python/make_tokenizer_fixtures.py)', () => {
  for (const [name, dir] of Object.entries(TOKENIZERS)) {
    const exp = expected.tokenizers[name as keyof typeof TOKENIZERS];

    it(`${name}: every sample text, with and without special tokens`, async () => {
      const { tokenizer } = await resolveTokenizer(dir);
      expected.samples.forEach((text, i) => {
        expect(tokenizer.encode(text, { addSpecialTokens: true }), JSON.stringify(text)).toEqual(exp.with_special[i]);
        expect(tokenizer.encode(text, { addSpecialTokens: false }), JSON.stringify(text)).toEqual(exp.without_special[i]);
      });
      expect(tokenizer.vocabSize).toBe(exp.vocab_size);
    });

    it(`${name}: whole books through add + tokenize (one row per document) give Python's ids and counts`, async () => {
      await booksDataset();
      const rec = await tokenizeDataset(ws.catalog, 'books', { tokenizer: dir, name: 'rows', packing: 'document', truncation: 'none', addSpecialTokens: false });
      const index = readDatasetIndex(rec.dir) as TokenIndex;
      expect(index.rowLength).toBeNull();
      const reader = await openDataset(ws.catalog, 'rows');
      const rows = reader.read(0, reader.rows, true);
      reader.close();
      expect(rows).toHaveLength(expected.books.length);
      expected.books.forEach((book, i) => {
        const e = exp.books[book];
        expect(rows[i].tokenIds!.length, book).toBe(e.count);
        expect(rows[i].tokenIds!.slice(0, 64)).toEqual(e.head);
        expect(sha256Uint32(rows[i].tokenIds!), book).toBe(e.sha256);
      });
      const stats = rec.stats as TokenizedDatasetStats;
      const counts = expected.books.map((b) => exp.books[b].count);
      expect(stats.tokens).toBe(counts.reduce((a, b) => a + b, 0));
      expect(stats.tokensPerDocument).toMatchObject({ count: counts.length, min: Math.min(...counts), max: Math.max(...counts) });
    });

    for (const cfg of exp.packed) {
      it(`${name}: SAELens packing, context ${cfg.contextSize}, separator ${cfg.separator}, begin-sequence ${cfg.beginSequence}, special tokens ${cfg.addSpecialTokens}`, async () => {
        await booksDataset();
        const rec = await tokenizeDataset(ws.catalog, 'books', {
          tokenizer: dir,
          name: 'packed',
          contextSize: cfg.contextSize,
          packing: 'concat',
          bos: true,
          separator: cfg.separator,
          beginSequence: cfg.beginSequence ?? 'none',
          addSpecialTokens: cfg.addSpecialTokens,
        });
        const tokens = tokensBin(rec.dir);
        expect(rec.rows).toBe(cfg.rows);
        expect(tokens.length).toBe(cfg.rows * cfg.contextSize);
        expect(Array.from(tokens.subarray(0, cfg.contextSize))).toEqual(cfg.firstRows[0]);
        expect(sha256Uint32(tokens)).toBe(cfg.sha256);
      });
    }
  }
});

describe('GGUF tokenizers (fixtures of tests/python/make_gguf_fixtures.py)', () => {
  for (const [name, special] of [['tiny-gpt2', false], ['tiny-llama', true]] as const) {
    it(`${name}.gguf: the embedded tokenizer gives transformers' ids through add + tokenize (${special ? 'file path' : "the model's loaded files"})`, async () => {
      const exp = JSON.parse(readFileSync(path.join(FIXTURES, 'gguf', `${name}.expected.json`), 'utf8')) as { tokenizer: { cases: Array<{ text: string; ids: number[] }> } };
      const cases = exp.tokenizer.cases.filter((c) => c.text.trim());
      const file = path.join(ws.scratch, 'cases.jsonl');
      writeFileSync(file, cases.map((c) => JSON.stringify({ text: c.text })).join('\n'));
      await addDataset(ws.catalog, file, { name: 'cases' });
      const gguf = path.join(FIXTURES, 'gguf', `${name}.gguf`);
      const tokenizer = special ? gguf : await loadModelFiles(gguf);
      const rec = await tokenizeDataset(ws.catalog, 'cases', { tokenizer, name: 'cases-tok', packing: 'document', truncation: 'none', addSpecialTokens: special });
      const reader = await openDataset(ws.catalog, rec.name);
      expect(reader.read(0, reader.rows, true).map((s) => s.tokenIds)).toEqual(cases.map((c) => c.ids));
      reader.close();
    });
  }
});

describe('document rows: BOS/EOS, truncation, padding, attention mask (llama-tiny)', () => {
  const texts = expected.samples.filter((s) => s.trim());
  const idsOf = (i: number) => expected.tokenizers['llama-tiny'].without_special[expected.samples.indexOf(texts[i])];

  beforeEach(async () => {
    const file = path.join(ws.scratch, 'samples.jsonl');
    writeFileSync(file, texts.map((text) => JSON.stringify({ text })).join('\n'));
    await addDataset(ws.catalog, file, { name: 'samples' });
  });

  async function rowsOf(name: string): Promise<Array<{ ids: number[]; real: number }>> {
    const rec = ws.catalog.datasets.get(name);
    const index = readDatasetIndex(rec.dir) as TokenIndex;
    const tokens = tokensBin(rec.dir);
    const out: Array<{ ids: number[]; real: number }> = [];
    const mask = index.files.attentionMask ? readFileSync(path.join(rec.dir, index.files.attentionMask)) : undefined;
    let offsets: number[];
    if (index.rowLength !== null) offsets = Array.from({ length: index.rows + 1 }, (_, i) => i * index.rowLength!);
    else {
      const b = readFileSync(path.join(rec.dir, index.files.rowOffsets!));
      offsets = Array.from({ length: index.rows + 1 }, (_, i) => Number(b.readBigUInt64LE(i * 8)));
    }
    for (let r = 0; r < index.rows; r++) {
      const ids = Array.from(tokens.subarray(offsets[r], offsets[r + 1]));
      const real = mask ? Array.from(mask.subarray(offsets[r], offsets[r + 1])).filter((m) => m === 1).length : ids.length;
      out.push({ ids, real });
    }
    return out;
  }

  it('adds BOS and EOS, truncates at the context (keeping EOS), pads with a mask', async () => {
    const ctx = 12;
    await tokenizeDataset(ws.catalog, 'samples', { tokenizer: LLAMA_TINY, name: 'd', packing: 'document', contextSize: ctx, bos: true, eos: true, addSpecialTokens: false, padding: 'max_length', truncation: 'max_length', attentionMask: true });
    const rows = await rowsOf('d');
    expect(rows).toHaveLength(texts.length);
    rows.forEach((row, i) => {
      let want = [1, ...idsOf(i), 2];
      if (want.length > ctx) want = [...want.slice(0, ctx - 1), 2];
      expect(row.ids.slice(0, row.real)).toEqual(want);
      expect(row.ids).toHaveLength(ctx);
      expect(row.ids.slice(row.real)).toEqual(Array(ctx - want.length).fill(2)); // pad = eos (no pad token configured)
    });
  });

  it("'longest' truncation is Hugging Face's longest_first: the same cut for one sequence per row", async () => {
    await tokenizeDataset(ws.catalog, 'samples', { tokenizer: LLAMA_TINY, name: 'a', packing: 'document', contextSize: 8, truncation: 'max_length' });
    await tokenizeDataset(ws.catalog, 'samples', { tokenizer: LLAMA_TINY, name: 'b', packing: 'document', contextSize: 8, truncation: 'longest' });
    expect(await rowsOf('b')).toEqual(await rowsOf('a'));
  });

  it('the post-processor BOS (special tokens on) and no truncation give Python with_special ids and variable rows', async () => {
    await tokenizeDataset(ws.catalog, 'samples', { tokenizer: LLAMA_TINY, name: 'p', packing: 'document', contextSize: 4, truncation: 'none', padding: 'max_length' });
    const rows = await rowsOf('p');
    const withSpecial = expected.tokenizers['llama-tiny'].with_special;
    rows.forEach((row, i) => {
      const want = withSpecial[expected.samples.indexOf(texts[i])];
      expect(row.ids.slice(0, want.length)).toEqual(want);
      expect(row.ids.length).toBe(Math.max(4, want.length));
    });
  });

  it('concat packing pads the last window when padding is on, and drops it when off', async () => {
    const a = await tokenizeDataset(ws.catalog, 'samples', { tokenizer: LLAMA_TINY, name: 'drop', contextSize: 16 });
    const b = await tokenizeDataset(ws.catalog, 'samples', { tokenizer: LLAMA_TINY, name: 'pad', contextSize: 16, padding: 'max_length', attentionMask: true });
    const total = texts.reduce((n, _t, i) => n + idsOf(i).length, 0);
    const sa = a.stats as TokenizedDatasetStats;
    const sb = b.stats as TokenizedDatasetStats;
    expect(b.rows).toBe(a.rows + 1);
    expect(sa.droppedTokens).toBeGreaterThan(0);
    expect(sb.droppedTokens).toBe(0);
    expect(sb.paddingTokens).toBe(16 - sa.droppedTokens);
    // Every document token is stored exactly once; the rest are BOS/separators and padding.
    const rows = await rowsOf('pad');
    const stored = rows.reduce((n, r) => n + r.real, 0);
    expect(stored - rows.length - (texts.length - 1)).toBeLessThanOrEqual(total);
    expect(rows.at(-1)!.real).toBe(16 - sb.paddingTokens);
  });
});

describe('statistics, paging, preview', () => {
  it('stats agree with a direct count of tokens.bin and the files on disk; cached in the catalog', async () => {
    await addDataset(ws.catalog, path.join(GUTENBERG, 'carroll-alice.txt'), { name: 'alice' });
    const rec = await tokenizeDataset(ws.catalog, 'alice', { tokenizer: GPT2_TINY, contextSize: 64 });
    const stats = datasetStats(ws.catalog, rec.name) as TokenizedDatasetStats;
    const tokens = tokensBin(rec.dir);
    const counts = new Map<number, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    expect(stats.uniqueTokens).toBe(counts.size);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 20);
    expect(stats.topTokens.map((t) => [t.id, t.count])).toEqual(top);
    expect(stats.tokens).toBe(tokens.length);
    expect(stats.bytes).toBe(statSync(path.join(rec.dir, 'tokens.bin')).size);
    expect(stats.tokensPerDocument.histogram.counts.reduce((a, b) => a + b, 0)).toBe(stats.documents);
    expect(stats.splits[0]).toMatchObject({ name: 'train', rows: rec.rows, tokens: tokens.length });

    // Text stats are re-derived when both caches are gone, and equal the originals.
    const text = ws.catalog.datasets.get('alice');
    const original = text.stats as TextDatasetStats;
    ws.catalog.db.prepare('UPDATE datasets SET stats = NULL WHERE id = ?').run(text.id);
    rmSync(path.join(text.dir, 'stats.json'));
    expect(datasetStats(ws.catalog, 'alice')).toEqual({ ...original, bytes: text.bytes, skippedRows: 0 });
    expect(ws.catalog.datasets.get('alice').stats).not.toBeNull();
  });

  it('pages read exactly the requested rows; search counts every match and continues across pages', async () => {
    await addDataset(ws.catalog, path.join(GUTENBERG, 'melville-moby_dick.txt'), { name: 'moby' });
    const reader = await openDataset(ws.catalog, 'moby', { tokenizer: GPT2_TINY });
    const all = reader.read(0, reader.rows).map((s) => s.text);
    const p3 = pageSamples(reader, { page: 3 });
    expect(p3.samples.map((s) => s.text)).toEqual(all.slice(60, 80));
    expect(p3).toMatchObject({ page: 3, pageSize: 20, totalRows: all.length, pages: Math.ceil(all.length / 20), tokenView: false });
    const tokenPage = pageSamples(reader, { page: 0, pageSize: 5, tokens: true });
    for (const s of tokenPage.samples) expect(s.tokens!.join('')).toBe(s.text);
    const last = pageSamples(reader, { page: 10_000 });
    expect(last.page).toBe(last.pages - 1);

    const matches = all.map((t, i) => [t, i] as const).filter(([t]) => t.toLowerCase().includes('whale')).map(([, i]) => i);
    const s0 = pageSamples(reader, { query: 'WHALE', pageSize: 7 });
    expect(s0.matchCountExact).toBe(true);
    expect(s0.matchingRows).toBe(matches.length);
    expect(s0.samples.map((s) => s.index)).toEqual(matches.slice(0, 7));
    const s2 = pageSamples(reader, { query: 'WHALE', pageSize: 7, page: 2 });
    expect(s2.samples.map((s) => s.index)).toEqual(matches.slice(14, 21));
    // A tiny budget answers with what it found so far, as a lower bound.
    const partial = pageSamples(reader, { query: 'ahab', pageSize: 2, searchBudgetMs: 0 });
    expect(partial.matchCountExact).toBe(false);
    expect(partial.scannedRows).toBeLessThan(all.length);
    reader.close();
  });

  it('cuts whole-book samples for display and says by how much', async () => {
    await addDataset(ws.catalog, GUTENBERG, { name: 'books', limit: 2 });
    const reader = await openDataset(ws.catalog, 'books', { tokenizer: GPT2_TINY });
    const full = reader.read(0, 2).map((s) => s.text);
    const page = pageSamples(reader, { tokens: true, maxChars: 300, maxTokens: 50 });
    page.samples.forEach((s, i) => {
      expect(s.text).toBe(full[i].slice(0, 300));
      expect(s.fullChars).toBe(full[i].length);
      expect(s.tokens).toHaveLength(50);
      expect(s.fullTokens).toBeGreaterThan(50);
    });
    reader.close();
  });

  it('pages of a tokenized dataset decode with the tokenizer stored in the dataset', async () => {
    await addDataset(ws.catalog, path.join(GUTENBERG, 'blake-poems.txt'), { name: 'blake' });
    const rec = await tokenizeDataset(ws.catalog, 'blake', { tokenizer: GPT2_TINY, contextSize: 32 });
    expect(existsSync(path.join(rec.dir, 'tokenizer', 'tokenizer.json'))).toBe(true);
    const reader = await openDataset(ws.catalog, rec.name);
    const tokens = tokensBin(rec.dir);
    const page = pageSamples(reader, { page: 2, pageSize: 3, tokens: true });
    page.samples.forEach((s, k) => {
      expect(s.index).toBe(6 + k);
      expect(s.tokenIds).toEqual(Array.from(tokens.subarray(s.index * 32, s.index * 32 + 32)));
      expect(s.tokens!.join('')).toBe(s.text);
    });
    expect(page.hasTokens).toBe(true);
    reader.close();
  });

  it('tokenization preview is <ms-token-highlight> props with Python ids', async () => {
    const p = await previewTokenization(GPT2_TINY, expected.samples[1]);
    expect(p.tokenIds).toEqual(expected.tokenizers['gpt2-tiny'].without_special[1]);
    expect(p.tokens.join('')).toBe(expected.samples[1]);
    expect(p.values).toHaveLength(p.tokens.length);
    expect(new Set(p.values.slice(0, 2)).size).toBe(2);
    expect(p.maxValue).toBe(1);
  });
});

describe('token display strings', () => {
  it.each([
    ['SentencePiece (llama-tiny)', LLAMA_TINY],
    ['byte-level BPE (gpt2-tiny)', GPT2_TINY],
  ])('%s: joined, the strings of each token spell the decoded text with its word-start spaces', async (_name, dir) => {
    const { tokenizer } = await resolveTokenizer(dir);
    const text = ' the cat sat on the mat';
    const ids = tokenizer.encode(text).filter((id) => tokenizer.idToToken(id) !== '<s>');
    const joined = new TokenStrings(tokenizer).all(ids).join('');
    // The tokenizer's own decode of the sequence, which may drop the first token's word-start space.
    const decoded = tokenizer.decode(ids);
    expect(joined).toBe(decoded.startsWith(' ') ? decoded : ` ${decoded}`);
    expect(joined).toBe(text);
  });
});
