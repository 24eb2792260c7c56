/**
 * `mistudio activations extract|resume|list|inspect|rm|templates` over the same API the notebooks
 * use. Ctrl-C stops an extraction at the next batch: complete shards are kept and `resume` goes on.
 */
import { parseArgs } from 'node:util';
import type { CatalogExtractionResult } from '../activations/index.js';
import type { Catalog } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';
import { ProgressBar } from './progress-bar.js';

export const summary = 'activations: extract hooks from a tokenized dataset, resume, list, inspect, rm, templates';

const HELP = `usage: mistudio activations <command> [options]     (all commands take --workspace DIR, --json)

  extract --model <dir|file.gguf|hub-id> --dataset <tokenized dataset> --hooks h1,h2 [--tokens N]
          [--batch-size 8] [--dtype float32|float16] [--split S] [--include-special-tokens]
          [--rows-per-shard N] [--name NAME] [--template T] [--allow-vocab-mismatch] [--device cpu|webgpu|cuda|auto]
      run the model over the dataset and store each hook's activations (sharded, resumable)
  resume <name> --model <m>      finish a stopped or crashed extraction
  list                           extractions with model, dataset, hooks, tokens, size, duration, status
  inspect <name> [--verify]      one extraction: configuration and each hook's store (--verify: checksums)
  rm <name>                      delete the extraction and its files
  templates list | save <name> [extract options] | show <name> | rm <name>`;

const OPTIONS = {
  workspace: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  model: { type: 'string' },
  dataset: { type: 'string' },
  hooks: { type: 'string' },
  tokens: { type: 'string' },
  'batch-size': { type: 'string' },
  dtype: { type: 'string' },
  split: { type: 'string' },
  'include-special-tokens': { type: 'boolean' },
  'rows-per-shard': { type: 'string' },
  name: { type: 'string' },
  template: { type: 'string' },
  'allow-vocab-mismatch': { type: 'boolean' },
  device: { type: 'string' },
  verify: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function int(values: Values, key: 'tokens' | 'batch-size' | 'rows-per-shard'): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new MiStudioError('INVALID_ARGUMENT', `--${key} must be a positive integer, got '${raw}'`, { field: `--${key}` });
  return n;
}

/** The extraction settings given on the command line (undefined where not given). */
function extractionOptions(values: Values) {
  const dtype = values.dtype;
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float16') throw new MiStudioError('INVALID_ARGUMENT', `--dtype must be float32 or float16, got '${dtype}'`, { field: '--dtype' });
  return {
    hooks: values.hooks?.split(',').map((h) => h.trim()).filter(Boolean),
    tokens: int(values, 'tokens'),
    batchSize: int(values, 'batch-size'),
    dtype: dtype as 'float32' | 'float16' | undefined,
    split: values.split,
    includeSpecialTokens: values['include-special-tokens'],
    rowsPerShard: int(values, 'rows-per-shard'),
    allowVocabMismatch: values['allow-vocab-mismatch'],
  };
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new MiStudioError('INVALID_ARGUMENT', `${flag} is required`, { field: flag, hint: "see 'mistudio activations --help'" });
  return value;
}

function humanBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 2;
  }
  const { openCatalog } = await import('../catalog/index.js');
  const catalog: Catalog = await openCatalog({ root: values.workspace });
  const out = (value: unknown, text: () => string) => console.log(values.json ? JSON.stringify(value, null, 2) : text());
  try {
    switch (command) {
      case 'extract':
      case 'resume': {
        const { loadModel } = await import('../models/index.js');
        const { extractToCatalog, resumeCatalogExtraction } = await import('../activations/index.js');
        const { Job } = await import('../jobs/index.js');
        const model = await loadModel(required(values.model, '--model'), values.device ? { device: values.device as 'cpu' } : {});
        const job = new Job<CatalogExtractionResult>('extraction', { kind: 'extraction' });
        const onSigint = () => {
          console.error('\nstopping after the current batch (complete shards are kept; resume with mistudio activations resume)');
          job.stop();
        };
        process.once('SIGINT', onSigint);
        const bar = new ProgressBar();
        try {
          const runOptions = { job, onProgress: (p: { tokens: number; totalTokens: number }) => bar.update({ label: 'extracting', done: p.tokens, total: p.totalTokens, unit: 'tokens' }) };
          const outcome = await job.run(() =>
            command === 'extract'
              ? extractToCatalog(catalog, model, required(values.dataset, '--dataset'), { ...extractionOptions(values), name: values.name, template: values.template }, runOptions)
              : resumeCatalogExtraction(catalog, required(rest[0], 'name'), model, runOptions),
          );
          bar.done();
          if (outcome.status === 'failed') throw outcome.error;
          const { record, summary: s } = outcome.result!;
          out({ ...record, summary: s }, () => `${record.name}: ${s.status}, ${s.tokens} tokens × ${record.hooks.length} hook(s), ${humanBytes(s.bytes)} in ${s.durationSeconds.toFixed(1)} s (${(s.tokens / Math.max(s.durationSeconds, 1e-9)).toFixed(0)} tokens/s)`);
          return s.status === 'completed' ? 0 : 130;
        } finally {
          process.off('SIGINT', onSigint);
          await model.release();
        }
      }
      case 'list': {
        const list = catalog.extractions.list();
        out(list, () =>
          list.length === 0
            ? 'no extractions'
            : list.map((e) => `${e.name}\t${e.status}\t${e.hooks.join(',')}\t${e.tokens} tokens\t${humanBytes(e.bytes)}\t${e.durationSeconds.toFixed(1)} s\t${e.model}`).join('\n'),
        );
        return 0;
      }
      case 'inspect': {
        const { ActivationStore, readManifest } = await import('../activations/index.js');
        const path = await import('node:path');
        const rec = catalog.extractions.get(required(rest[0], 'name'));
        const stores = rec.hooks.map((hook) => {
          const dir = path.join(rec.dir, hook);
          if (values.verify) ActivationStore.open(dir, { verify: 'checksum' }).close();
          const m = readManifest(dir);
          return { hook, d: m.d, dtype: m.dtype, rows: m.count, shards: m.shards.length, bytes: m.shards.reduce((a, s) => a + s.bytes, 0), complete: m.complete, normalizationScale: m.normalizationScale, verified: !!values.verify };
        });
        out({ ...rec, stores }, () => [`${rec.name} (${rec.status}) model ${rec.model}`, ...stores.map((s) => `  ${s.hook}: ${s.rows} × ${s.d} ${s.dtype}, ${s.shards} shards, ${humanBytes(s.bytes)}${s.verified ? ', checksums ok' : ''}`)].join('\n'));
        return 0;
      }
      case 'rm': {
        const rec = catalog.extractions.delete(required(rest[0], 'name'));
        out({ removed: rec.name }, () => `removed ${rec.name}`);
        return 0;
      }
      case 'templates': {
        const [sub, name] = rest;
        if (sub === 'list') {
          const list = catalog.extractions.listTemplates();
          out(list, () => list.map((t) => `${t.name}\t${JSON.stringify(t.config)}`).join('\n') || 'no templates');
        } else if (sub === 'save') {
          const config = Object.fromEntries(Object.entries(extractionOptions(values)).filter(([, v]) => v !== undefined));
          const t = catalog.extractions.saveTemplate(required(name, 'name'), config);
          out(t, () => `saved template ${t.name}`);
        } else if (sub === 'show') {
          const t = catalog.extractions.getTemplate(required(name, 'name'));
          out(t, () => JSON.stringify(t.config, null, 2));
        } else if (sub === 'rm') {
          catalog.extractions.deleteTemplate(required(name, 'name'));
          out({ removed: name }, () => `removed template ${name}`);
        } else {
          throw new MiStudioError('INVALID_ARGUMENT', `unknown templates command '${sub ?? ''}'`, { hint: 'use list, save, show or rm' });
        }
        return 0;
      }
      default:
        console.error(`mistudio activations: unknown command '${command}'\n${HELP}`);
        return 2;
    }
  } finally {
    catalog.close();
  }
}
