/**
 * The workspace catalog: one SQLite database (better-sqlite3) in WAL mode, shared by every process
 * that works in the workspace (two notebook kernels, a CLI job). WAL lets readers run beside the one
 * writer; a busy timeout makes a second writer wait for the lock instead of failing; every
 * read-then-write runs in `BEGIN IMMEDIATE` so decisions (is this name free?) are made under the lock.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { MiStudioError } from '../errors.js';
import { DatasetsTable } from './datasets-table.js';
import { ExtractionsTable } from './extractions-table.js';
import { applyMigrations, loadMigrations } from './migrations.js';
import { ModelsTable } from './models-table.js';
import { createStagingDir, sweepStaging } from './staging.js';
import { ensureWorkspace, workspaceLayout, type WorkspaceLayout } from './workspace.js';

export interface OpenCatalogOptions {
  /** Workspace root; default $MISTUDIO_WORKSPACE or ./.mistudio. */
  root?: string;
  /** How long a writer waits for another process's write lock (default 15 s). */
  busyTimeoutMs?: number;
}

export class Catalog {
  readonly datasets: DatasetsTable;
  readonly extractions: ExtractionsTable;
  readonly models: ModelsTable;

  constructor(
    readonly db: Database,
    readonly layout: WorkspaceLayout,
    readonly schemaVersion: number,
  ) {
    this.datasets = new DatasetsTable(db, layout);
    this.extractions = new ExtractionsTable(db, layout);
    this.models = new ModelsTable(db);
  }

  get root(): string {
    return this.layout.root;
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before anything is read. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** A fresh staging folder in this workspace for an artifact being built. */
  createStagingDir(label?: string): string {
    return createStagingDir(this.layout.stagingDir, label);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function openDatabase(file: string, busyTimeoutMs: number): Database {
  try {
    const db = new BetterSqlite3(file, { timeout: busyTimeoutMs });
    // Switching to WAL needs a moment of exclusive access; the busy timeout covers a concurrent opener.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', `cannot open the workspace catalog (${(cause as Error).message})`, {
      file,
      cause,
      hint: 'check that the file is a SQLite database and the folder is writable',
    });
  }
}

/** Opens (creating if needed) the catalog of a workspace and brings its schema up to date. */
export async function openCatalog(options: OpenCatalogOptions = {}): Promise<Catalog> {
  const layout = workspaceLayout(options.root);
  ensureWorkspace(layout);
  const migrations = await loadMigrations();
  const db = openDatabase(layout.catalogFile, options.busyTimeoutMs ?? 15_000);
  try {
    const version = applyMigrations(db, migrations, layout.catalogFile);
    const catalog = new Catalog(db, layout, version);
    sweepStaging(layout.stagingDir);
    catalog.write(() => catalog.datasets.sweepOrphanDirs());
    return catalog;
  } catch (err) {
    db.close();
    throw err;
  }
}
