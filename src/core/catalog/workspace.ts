/**
 * The workspace is one directory holding the catalog database and every artifact the catalog
 * records (datasets now; models, extractions, runs later). Its layout is fixed here so that every
 * module and every process (two kernels, a CLI) agrees on where things live.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** Environment variable that moves the workspace (default `./.mistudio` under the current directory). */
export const WORKSPACE_ENV = 'MISTUDIO_WORKSPACE';
export const DEFAULT_WORKSPACE_DIR = '.mistudio';

export interface WorkspaceLayout {
  /** Absolute workspace root. */
  root: string;
  /** The SQLite catalog. */
  catalogFile: string;
  /** Finished datasets, one folder each (named by the dataset's id, never by its mutable name). */
  datasetsDir: string;
  /** Staging folders of work in progress, named `<pid>-<random>`; renamed into place when complete. */
  stagingDir: string;
  /** Downloads (hub files), reusable across datasets; partial files end in `.incomplete`. */
  cacheDir: string;
}

/** Absolute workspace root: the explicit argument, else $MISTUDIO_WORKSPACE, else ./.mistudio. */
export function resolveWorkspaceRoot(root?: string): string {
  const chosen = root ?? process.env[WORKSPACE_ENV] ?? DEFAULT_WORKSPACE_DIR;
  return path.resolve(chosen);
}

export function workspaceLayout(root?: string): WorkspaceLayout {
  const abs = resolveWorkspaceRoot(root);
  return {
    root: abs,
    catalogFile: path.join(abs, 'catalog.sqlite'),
    datasetsDir: path.join(abs, 'datasets'),
    stagingDir: path.join(abs, 'staging'),
    cacheDir: path.join(abs, 'cache'),
  };
}

/** Creates the workspace folders (idempotent, safe when several processes do it at once). */
export function ensureWorkspace(layout: WorkspaceLayout): void {
  for (const dir of [layout.root, layout.datasetsDir, layout.stagingDir, layout.cacheDir]) mkdirSync(dir, { recursive: true });
}
