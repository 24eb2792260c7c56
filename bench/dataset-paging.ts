/**
 * `<ms-dataset-browser>` paging latency on a generated 1M-row dataset (target: every page < 200 ms):
 * the kernel-side `pageSamples` over a 1M-document text dataset and over its 1M-row tokenization
 * (token view), at random pages across the whole range, plus a search. Also the memory the open
 * datasets hold (they are not loaded: only index.json is read).
 *
 *   npm run bench -- dataset-paging --json [--rows 1000000]
 *   node --import tsx bench/dataset-paging.ts --json            (standalone)
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openCatalog } from '../src/core/catalog/index.js';
import { addDataset, openDataset, pageSamples, tokenizeDataset, type DatasetReader, type PageRequest } from '../src/core/datasets/index.js';
import { option } from './lib/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORDS = 'the whale sea ship captain harpoon ocean deck sail wind storm crew island compass anchor rope tide harbor lantern map'.split(' ');

/** Deterministic pseudo-random generator (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

async function writeRows(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  const r = rng(7);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const n = 4 + Math.floor(r() * 10);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]);
    // One row in 20,000 mentions the rare word, so a search has to scan far.
    if (i % 20_000 === 19_999) words.push('narwhal');
    chunk += `${JSON.stringify({ text: `Row ${i}: ${words.join(' ')}.` })}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise((resolve) => out.on('finish', resolve));
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function time(reader: DatasetReader, requests: PageRequest[]): { p50: number; p95: number; max: number; count: number } {
  const ms = requests.map((req) => {
    const t0 = performance.now();
    const page = pageSamples(reader, req);
    const dt = performance.now() - t0;
    if (page.samples.length === 0) throw new Error(`empty page ${JSON.stringify(req)}`);
    return dt;
  });
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), max: ms[ms.length - 1], count: ms.length };
}

export async function run(args: string[], json: boolean): Promise<void> {
  const rows = Number(option(args, 'rows', '1000000'));
  const emit = (line: Record<string, unknown>) => console.log(json ? JSON.stringify(line) : Object.entries(line).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`).join(' '));
  const work = mkdtempSync(path.join(os.tmpdir(), 'mistudio-bench-paging-'));
  try {
    const catalog = await openCatalog({ root: path.join(work, 'ws') });
    const file = path.join(work, 'rows.jsonl');
    let t0 = performance.now();
    await writeRows(file, rows);
    const generateSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const text = await addDataset(catalog, file, { name: 'rows' });
    const importSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const tokens = await tokenizeDataset(catalog, 'rows', { tokenizer: path.join(root, 'src/core/test/fixtures/tokenizers/gpt2-tiny'), name: 'rows-tok', packing: 'document', contextSize: 32, padding: 'max_length' });
    const tokenizeSeconds = (performance.now() - t0) / 1000;
    emit({ bench: 'dataset-paging', phase: 'build', rows: text.documents, tokenizedRows: tokens.rows, textBytes: text.bytes, generateSeconds, importSeconds, tokenizeSeconds });

    const r = rng(11);
    const pages = Math.ceil(rows / 20);
    const randomPages = (n: number, extra: Partial<PageRequest> = {}): PageRequest[] => [0, pages - 1, ...Array.from({ length: n }, () => Math.floor(r() * pages))].map((page) => ({ page, ...extra }));
    const rssBefore = process.memoryUsage().rss;
    for (const [name, reader, requests] of [
      ['text', await openDataset(catalog, 'rows'), randomPages(200)],
      ['text-token-view', await openDataset(catalog, 'rows', { tokenizer: path.join(root, 'src/core/test/fixtures/tokenizers/gpt2-tiny') }), randomPages(100, { tokens: true })],
      ['tokenized', await openDataset(catalog, 'rows-tok'), randomPages(200)],
      ['tokenized-token-view', await openDataset(catalog, 'rows-tok'), randomPages(100, { tokens: true })],
    ] as const) {
      const t = time(reader, requests as PageRequest[]);
      emit({ bench: 'dataset-paging', dataset: name, rows: reader.rows, pages: t.count, p50Ms: t.p50, p95Ms: t.p95, maxMs: t.max, targetMs: 200, heldRssMB: (process.memoryUsage().rss - rssBefore) / 2 ** 20 });
      reader.close();
    }
    // Search: a common word (first page found at once) and a rare one (one row in 20,000), pages 0..2.
    const reader = await openDataset(catalog, 'rows');
    for (const query of ['harpoon', 'narwhal']) {
      const ms: number[] = [];
      let last;
      for (let page = 0; page < 3; page++) {
        const t = performance.now();
        last = pageSamples(reader, { page, query });
        ms.push(performance.now() - t);
      }
      emit({ bench: 'dataset-paging', dataset: 'text-search', query, pageMs: ms, matchingRows: last!.matchingRows, exact: last!.matchCountExact, scannedRows: last!.scannedRows });
    }
    reader.close();
    catalog.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  await run(args.filter((a) => a !== '--json'), args.includes('--json'));
}
