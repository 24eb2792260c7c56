/**
 * Versioned schema migrations. Each migration is one file in `./migrations/`, named
 * `NNNN-what-it-adds.ts`, whose default export is a {@link Migration} with `version: NNNN`. Adding a
 * table for a new feature is therefore a one-file change: drop the file in, the next open applies it.
 *
 * The schema version lives in SQLite's `PRAGMA user_version`; pending migrations run in one
 * `BEGIN IMMEDIATE` transaction that re-reads the version after taking the write lock, so two
 * processes opening a fresh workspace at once apply each migration exactly once.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Database } from 'better-sqlite3';
import { MiStudioError } from '../errors.js';

export interface Migration {
  /** Strictly increasing, equal to the number the file name starts with. */
  version: number;
  /** Short description, recorded in `schema_migrations`. */
  name: string;
  /** Runs inside the migration transaction; throw to roll everything back. */
  up(db: Database): void;
}

const MIGRATION_FILE = /^(\d{4})-[a-z0-9-]+\.(ts|js)$/;

/** Folder of this module's migrations; the extension of this file tells source (.ts) from build (.js). */
function migrationsDir(): { dir: string; ext: string } {
  const self = fileURLToPath(import.meta.url);
  return { dir: path.join(path.dirname(self), 'migrations'), ext: path.extname(self) };
}

/** Loads every migration file, sorted by version; rejects gaps in numbering and duplicates. */
export async function loadMigrations(dir = migrationsDir().dir, ext = migrationsDir().ext): Promise<Migration[]> {
  const files = readdirSync(dir).filter((f) => MIGRATION_FILE.test(f) && path.extname(f) === ext).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default?: Migration };
    const m = mod.default;
    const expected = Number(MIGRATION_FILE.exec(file)![1]);
    if (!m || typeof m.up !== 'function' || m.version !== expected) {
      throw new MiStudioError('INVALID_CONFIG', `migration must default-export { version: ${expected}, name, up }`, { file: path.join(dir, file) });
    }
    if (migrations.length > 0 && m.version !== migrations[migrations.length - 1].version + 1) {
      throw new MiStudioError('INVALID_CONFIG', `migration versions must be consecutive; ${m.version} follows ${migrations[migrations.length - 1].version}`, { file: path.join(dir, file) });
    }
    migrations.push(m);
  }
  return migrations;
}

/** Applies pending migrations; returns the schema version afterwards. */
export function applyMigrations(db: Database, migrations: readonly Migration[], file: string): number {
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
  const run = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > latest) {
      throw new MiStudioError('UNSUPPORTED', `catalog schema version ${current} is newer than this miStudio knows (${latest})`, {
        file,
        hint: 'upgrade miStudio, or point MISTUDIO_WORKSPACE at another workspace',
      });
    }
    if (current === latest) return current;
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations) {
      if (m.version <= current) continue;
      m.up(db);
      record.run(m.version, m.name, new Date().toISOString());
      db.pragma(`user_version = ${m.version}`);
    }
    return latest;
  });
  return run.immediate();
}
