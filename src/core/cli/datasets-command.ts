/**
 * `mistudio datasets add|tokenize|list|show|stats|rename|rm|page|preview` over the same API the
 * notebooks use (`@mistudio/core` datasets + catalog). Ctrl-C cancels cleanly: the partial dataset
 * is removed and the exit code is 130.
 */
import { parseArgs } from 'node:util';
import type { Catalog, DatasetRecord } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';
import type { DatasetProgress } from '../datasets/progress.js';
import { ProgressBar } from './progress-bar.js';

export const summary = 'datasets: add a source, tokenize, list, show, stats, rename, rm, page, preview';

const HELP = `usage: mistudio datasets <command> [options]      (all commands take --workspace DIR, --json)

  add <source> [--name N] [--split S] [--column C] [--limit N] [--sample-by line|paragraph|document]
               [--revision R] [--subset S]
      import a hub dataset id (owner/name[@revision]; HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE apply),
      a parquet/jsonl/csv/tsv/txt file (.gz too) or a folder of them; --column takes dotted paths (meta.text)
  tokenize <name> --tokenizer <model dir|tokenizer dir|tokenizer.json|file.gguf|hub model id>
               [--context 128] [--as NAME] [--packing concat|document] [--no-bos|--bos] [--eos]
               [--separator bos|eos|none|ID] [--begin-sequence bos|eos|none|ID]
               [--special-tokens|--no-special-tokens] [--padding none|max_length]
               [--truncation none|longest|max_length] [--attention-mask] [--split S ...]
      write tokens.bin (uint32) + index.json + stats.json as a new dataset
  list                         datasets of the workspace
  show <name>                  one dataset's record and index
  stats <name>                 documents, tokens, length histogram, unique/top tokens, split sizes, bytes
  rename <name> <new-name>
  rm <name>                    delete the dataset and its files
  page <name> [--page N] [--page-size 20] [--query TEXT] [--tokens]   one page of samples
  preview --tokenizer T <text> the tokens of a text, with ids`;

const OPTIONS = {
  workspace: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  split: { type: 'string', multiple: true },
  column: { type: 'string' },
  limit: { type: 'string' },
  'sample-by': { type: 'string' },
  revision: { type: 'string' },
  subset: { type: 'string' },
  tokenizer: { type: 'string' },
  context: { type: 'string' },
  as: { type: 'string' },
  packing: { type: 'string' },
  bos: { type: 'boolean' },
  'no-bos': { type: 'boolean' },
  eos: { type: 'boolean' },
  separator: { type: 'string' },
  'begin-sequence': { type: 'string' },
  'special-tokens': { type: 'boolean' },
  'no-special-tokens': { type: 'boolean' },
  padding: { type: 'string' },
  truncation: { type: 'string' },
  'attention-mask': { type: 'boolean' },
  page: { type: 'string' },
  'page-size': { type: 'string' },
  query: { type: 'string' },
  tokens: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function intOption(values: Values, key: 'limit' | 'context' | 'page' | 'page-size'): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new MiStudioError('INVALID_ARGUMENT', `--${key} must be an integer, got '${raw}'`, { field: `--${key}` });
  return n;
}

function tokenChoice(raw: string | undefined, key: string): 'bos' | 'eos' | 'none' | number | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'bos' || raw === 'eos' || raw === 'none') return raw;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new MiStudioError('INVALID_ARGUMENT', `--${key} must be bos, eos, none or a token id, got '${raw}'`, { field: `--${key}` });
  return n;
}

function flag(values: Values, on: 'bos' | 'special-tokens', off: 'no-bos' | 'no-special-tokens'): boolean | undefined {
  if (values[on] && values[off]) throw new MiStudioError('INVALID_ARGUMENT', `--${on} and --${off} contradict each other`, { field: `--${on}` });
  return values[on] ? true : values[off] ? false : undefined;
}

function need(positionals: string[], count: number, usage: string): string[] {
  if (positionals.length !== count) throw new MiStudioError('INVALID_ARGUMENT', `usage: mistudio datasets ${usage}`, { hint: 'run mistudio datasets --help' });
  return positionals;
}

function describe(d: DatasetRecord): string {
  const tokens = d.tokens === null ? '' : `  ${d.tokens.toLocaleString('en-US')} tokens`;
  return `${d.name.padEnd(32)} ${d.kind.padEnd(9)} ${String(d.rows).padStart(9)} rows${tokens}  ${(d.bytes / 1e6).toFixed(1)} MB`;
}

function progressPrinter(bar: ProgressBar): (p: DatasetProgress) => void {
  return (p) => bar.update({ label: p.stage === 'download' ? `download ${p.file ?? ''}` : p.stage, done: p.done, total: p.total, unit: p.unit });
}

/** Aborts on the first Ctrl-C (the work cleans up and rethrows CancelledError). */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ctrl = new AbortController();
  const onSig = () => ctrl.abort();
  process.once('SIGINT', onSig);
  return { signal: ctrl.signal, dispose: () => process.off('SIGINT', onSig) };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 2;
  }
  const { openCatalog } = await import('../catalog/index.js');
  const catalog: Catalog = await openCatalog({ root: values.workspace });
  const out = (json: unknown, text: string) => console.log(values.json ? JSON.stringify(json, null, 2) : text);
  const bar = new ProgressBar();
  const interrupt = interruptSignal();
  try {
    switch (command) {
      case 'add': {
        const [source] = need(args, 1, 'add <source> [options]');
        const { addDataset } = await import('../datasets/add-dataset.js');
        if ((values.split?.length ?? 0) > 1) throw new MiStudioError('INVALID_ARGUMENT', 'add takes one --split', { field: '--split' });
        const rec = await addDataset(catalog, source, {
          name: values.name,
          split: values.split?.[0],
          column: values.column,
          limit: intOption(values, 'limit'),
          sampleBy: values['sample-by'] as 'line' | 'paragraph' | 'document' | undefined,
          revision: values.revision,
          subset: values.subset,
          signal: interrupt.signal,
          onProgress: progressPrinter(bar),
        });
        bar.done();
        out(rec, `added ${describe(rec)}`);
        return 0;
      }
      case 'tokenize': {
        const [name] = need(args, 1, 'tokenize <name> --tokenizer <model|dir|gguf> [options]');
        if (!values.tokenizer) throw new MiStudioError('INVALID_ARGUMENT', 'tokenize needs --tokenizer', { field: '--tokenizer', hint: 'a model or tokenizer folder, a tokenizer.json, a .gguf file or a hub model id' });
        const { tokenizeDataset } = await import('../datasets/tokenize-dataset.js');
        const rec = await tokenizeDataset(catalog, name, {
          tokenizer: values.tokenizer,
          name: values.as,
          contextSize: intOption(values, 'context'),
          packing: values.packing as 'concat' | 'document' | undefined,
          bos: flag(values, 'bos', 'no-bos'),
          eos: values.eos,
          separator: tokenChoice(values.separator, 'separator'),
          beginSequence: tokenChoice(values['begin-sequence'], 'begin-sequence'),
          addSpecialTokens: flag(values, 'special-tokens', 'no-special-tokens'),
          padding: values.padding as 'none' | 'max_length' | undefined,
          truncation: values.truncation as 'none' | 'longest' | 'max_length' | undefined,
          attentionMask: values['attention-mask'],
          splits: values.split,
          signal: interrupt.signal,
          onProgress: progressPrinter(bar),
        });
        bar.done();
        out(rec, `tokenized ${describe(rec)}`);
        return 0;
      }
      case 'list': {
        need(args, 0, 'list');
        const all = catalog.datasets.list();
        out(all, all.length ? all.map(describe).join('\n') : '(no datasets)');
        return 0;
      }
      case 'show': {
        const [name] = need(args, 1, 'show <name>');
        const { readDatasetIndex } = await import('../datasets/dataset-files.js');
        const rec = catalog.datasets.get(name);
        const index = readDatasetIndex(rec.dir);
        const { stats: _stats, ...rest } = rec;
        out({ ...rest, index }, `${describe(rec)}\n${rec.dir}\n${JSON.stringify(index, null, 2)}`);
        return 0;
      }
      case 'stats': {
        const [name] = need(args, 1, 'stats <name>');
        const { datasetStats } = await import('../datasets/dataset-stats.js');
        const stats = datasetStats(catalog, name);
        out(stats, JSON.stringify(stats, null, 2));
        return 0;
      }
      case 'rename': {
        const [name, next] = need(args, 2, 'rename <name> <new-name>');
        const rec = catalog.datasets.rename(name, next);
        out(rec, `renamed ${name} → ${rec.name}`);
        return 0;
      }
      case 'rm': {
        const [name] = need(args, 1, 'rm <name>');
        const rec = catalog.datasets.delete(name);
        out({ removed: rec.name, dir: rec.dir }, `removed ${rec.name}`);
        return 0;
      }
      case 'page': {
        const [name] = need(args, 1, 'page <name> [--page N] [--query TEXT] [--tokens]');
        const { openDataset } = await import('../datasets/dataset-reader.js');
        const { pageSamples } = await import('../datasets/paging.js');
        const reader = await openDataset(catalog, name);
        try {
          const page = pageSamples(reader, { page: intOption(values, 'page'), pageSize: intOption(values, 'page-size'), query: values.query, tokens: values.tokens });
          const text = [`page ${page.page + 1}/${page.pages} · ${page.matchingRows}${page.matchCountExact ? '' : '+'} rows · ${page.elapsedMs} ms`, ...page.samples.map((s) => `#${s.index} [${s.split}] ${JSON.stringify(s.text.slice(0, 200))}`)].join('\n');
          out(page, text);
        } finally {
          reader.close();
        }
        return 0;
      }
      case 'preview': {
        if (!values.tokenizer) throw new MiStudioError('INVALID_ARGUMENT', 'preview needs --tokenizer', { field: '--tokenizer' });
        const text = args.join(' ');
        const { previewTokenization } = await import('../datasets/preview.js');
        const p = await previewTokenization(values.tokenizer, text);
        out(p, `${p.title}\n${p.tokens.map((t, i) => `${JSON.stringify(t)}:${p.tokenIds[i]}`).join(' ')}`);
        return 0;
      }
      default:
        throw new MiStudioError('INVALID_ARGUMENT', `unknown command 'datasets ${command}'`, { hint: 'run mistudio datasets --help' });
    }
  } catch (err) {
    bar.done();
    if (err instanceof MiStudioError && err.code === 'CANCELLED') {
      console.error(`mistudio: ${err.message}; nothing was kept`);
      return 130;
    }
    throw err;
  } finally {
    interrupt.dispose();
    catalog.close();
  }
}
