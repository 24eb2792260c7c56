/**
 * `mistudio models list|add|rm` — the workspace's models (catalog/models-table.ts), the same rows
 * `<ms-models>` shows:
 *   list [--origin local|cache] [--query TEXT] [--sort KEY] [--order asc|desc] [--page N] [--page-size N] [--json]
 *   add <dir|file.gguf> [--name NAME]     register a local model
 *   rm <name>...                          delete cached models' files / forget local models
 * Common options: --workspace DIR, --cache DIR (hub cache scanned; default MISTUDIO_CACHE or ~/.cache/mistudio/hub).
 */
import { parseArgs } from 'node:util';
import { MiStudioError } from '../errors.js';

export const CATALOG_COMMANDS = ['list', 'add', 'rm'] as const;

export const CATALOG_USAGE = `  list [--origin local|cache] [--query TEXT] [--sort KEY] [--order asc|desc] [--page N] [--page-size N] [--json]
                                                      registered local models and hub models in the cache
  add <dir|file.gguf> [--name NAME]                   register a local model in the workspace
  rm <name>...                                        delete cached models' files; forget local models
  (list/add/rm take --workspace DIR and --cache DIR)`;

const OPTIONS = {
  workspace: { type: 'string' },
  cache: { type: 'string' },
  json: { type: 'boolean' },
  origin: { type: 'string' },
  query: { type: 'string' },
  sort: { type: 'string' },
  order: { type: 'string' },
  page: { type: 'string' },
  'page-size': { type: 'string' },
  name: { type: 'string' },
} as const;

function nonNegativeInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new MiStudioError('INVALID_ARGUMENT', `${flag} must be a non-negative integer, got '${value}'`, { field: flag });
  return n;
}

function humanBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}

export async function runCatalogCommand(command: (typeof CATALOG_COMMANDS)[number], argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const { openCatalog } = await import('../catalog/index.js');
  const { defaultCacheDir } = await import('../models/hub.js');
  const catalog = await openCatalog({ root: values.workspace });
  const out = (value: unknown, text: () => string) => console.log(values.json ? JSON.stringify(value, null, 2) : text());
  try {
    if (command === 'list') {
      catalog.models.refresh(values.cache ?? defaultCacheDir());
      const order = values.order;
      if (order !== undefined && order !== 'asc' && order !== 'desc') throw new MiStudioError('INVALID_ARGUMENT', `--order must be asc or desc, got '${order}'`, { field: '--order' });
      const page = catalog.models.page({
        status: values.origin,
        query: values.query,
        sort: values.sort,
        order,
        page: nonNegativeInt(values.page, '--page'),
        pageSize: nonNegativeInt(values['page-size'], '--page-size'),
      });
      out(page, () =>
        page.rows.length === 0
          ? 'no models (register one with mistudio models add <dir>, or download a hub model)'
          : [
              ...page.rows.map((m) => `${m.name}\t${m.origin}\t${m.architecture ?? '?'}\t${m.parameters ?? '?'} params\t${m.precision ?? '?'}\t${humanBytes(m.bytes)}\t${m.status}\t${m.path}`),
              `(${page.total} models, page ${page.page + 1} of ${page.pages})`,
            ].join('\n'),
      );
    } else if (command === 'add') {
      if (positionals.length !== 1) throw new MiStudioError('INVALID_ARGUMENT', 'expected one model directory or .gguf file', { hint: 'mistudio models add <dir|file.gguf> [--name NAME]' });
      const rec = catalog.models.register(positionals[0], { name: values.name });
      out(rec, () => `registered ${rec.name} (${rec.architecture}, ${rec.parameters} parameters, ${rec.precision})`);
    } else {
      if (positionals.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'expected the names of the models to remove', { hint: 'see mistudio models list' });
      const removed = catalog.models.delete(positionals);
      out({ removed: removed.map((m) => m.name) }, () => removed.map((m) => `${m.origin === 'cache' ? 'deleted' : 'forgot'} ${m.name}`).join('\n'));
    }
    return 0;
  } finally {
    catalog.close();
  }
}
