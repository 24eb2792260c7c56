import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, loadMigrations, openCatalog, resolveWorkspaceRoot, type Migration } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const roots: string[] = [];
function tempRoot(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-catalog-'));
  roots.push(dir);
  return dir;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function runWriter(root: string, prefix: string, count: number): Promise<{ won: string[]; lost: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers/catalog-writer.ts'), root, prefix, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`writer ${prefix} exited ${code}: ${err}`))));
  });
}

describe('workspace catalog', () => {
  it('resolves the workspace root from the argument, then MISTUDIO_WORKSPACE, then ./.mistudio', () => {
    const saved = process.env.MISTUDIO_WORKSPACE;
    try {
      delete process.env.MISTUDIO_WORKSPACE;
      expect(resolveWorkspaceRoot()).toBe(path.resolve('.mistudio'));
      process.env.MISTUDIO_WORKSPACE = '/tmp/ws-env';
      expect(resolveWorkspaceRoot()).toBe('/tmp/ws-env');
      expect(resolveWorkspaceRoot('/tmp/explicit')).toBe('/tmp/explicit');
    } finally {
      if (saved === undefined) delete process.env.MISTUDIO_WORKSPACE;
      else process.env.MISTUDIO_WORKSPACE = saved;
    }
  });

  it('opens in WAL mode with a busy timeout and the datasets table at the latest schema version', async () => {
    const root = tempRoot();
    const catalog = await openCatalog({ root, busyTimeoutMs: 1234 });
    expect(catalog.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(catalog.db.pragma('busy_timeout', { simple: true })).toBe(1234);
    const migrations = await loadMigrations();
    expect(catalog.schemaVersion).toBe(migrations[migrations.length - 1].version);
    expect(catalog.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'datasets'").get()).toBeTruthy();
    catalog.close();
    // Re-opening applies nothing twice.
    const again = await openCatalog({ root });
    expect((again.db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(migrations.length);
    again.close();
  });

  it('applies a new migration file once, in a transaction that rolls back on failure', () => {
    const db = new BetterSqlite3(':memory:');
    const ok: Migration = { version: 1, name: 'a', up: (d) => d.exec('CREATE TABLE a (x)') };
    const bad: Migration = { version: 2, name: 'b', up: (d) => { d.exec('CREATE TABLE b (x)'); throw new Error('boom'); } };
    expect(applyMigrations(db, [ok], 'mem')).toBe(1);
    expect(() => applyMigrations(db, [ok, bad], 'mem')).toThrow('boom');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    // A catalog from a newer miStudio is refused, not silently used.
    db.pragma('user_version = 9');
    expect(() => applyMigrations(db, [ok], 'mem')).toThrowError(MiStudioError);
    db.close();
  });

  it('creates, lists, renames and deletes datasets with their folders; names are unique', async () => {
    const root = tempRoot();
    const catalog = await openCatalog({ root });
    const staging = catalog.createStagingDir('x');
    writeFileSync(path.join(staging, 'f.txt'), 'hi');
    const rec = catalog.datasets.create({ name: 'one', kind: 'text', source: { a: 1 }, documents: 2, rows: 2, bytes: 2 }, staging);
    expect(existsSync(staging)).toBe(false);
    expect(readFileSync(path.join(rec.dir, 'f.txt'), 'utf8')).toBe('hi');
    expect(catalog.datasets.list().map((d) => d.name)).toEqual(['one']);

    const dup = catalog.createStagingDir('y');
    expect(() => catalog.datasets.create({ name: 'one', kind: 'text', source: {}, documents: 0, rows: 0, bytes: 0 }, dup)).toThrowError(
      expect.objectContaining({ code: 'ALREADY_EXISTS' }),
    );
    expect(existsSync(dup)).toBe(true); // left for the caller to remove; nothing moved into datasets/
    expect(readdirSync(catalog.layout.datasetsDir)).toEqual([rec.id]);

    catalog.datasets.rename('one', 'two');
    expect(catalog.datasets.find('one')).toBeUndefined();
    expect(catalog.datasets.get('two').dir).toBe(rec.dir);
    expect(() => catalog.datasets.rename('two', 'bad name!')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    catalog.datasets.delete('two');
    expect(existsSync(rec.dir)).toBe(false);
    expect(() => catalog.datasets.get('two')).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    catalog.close();
  });

  it('refuses a tokenization whose text dataset was deleted meanwhile, keeping its staging folder for the caller', async () => {
    const root = tempRoot();
    const catalog = await openCatalog({ root });
    const parent = catalog.datasets.create({ name: 'text', kind: 'text', source: {}, documents: 1, rows: 1, bytes: 1 }, catalog.createStagingDir());
    catalog.datasets.delete('text');
    const staging = catalog.createStagingDir();
    expect(() => catalog.datasets.create({ name: 'tok', kind: 'tokenized', parentId: parent.id, source: {}, documents: 1, rows: 1, bytes: 1 }, staging)).toThrowError(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(existsSync(staging)).toBe(true);
    expect(readdirSync(catalog.layout.datasetsDir)).toEqual([]);
    catalog.close();
  });

  it('sweeps folders left by a crash: staging of dead processes and dataset folders without a row', async () => {
    const root = tempRoot();
    (await openCatalog({ root })).close();
    const deadStaging = path.join(root, 'staging', '999999999-work-abc');
    const orphan = path.join(root, 'datasets', 'ds-orphan');
    mkdirSync(deadStaging, { recursive: true });
    mkdirSync(orphan, { recursive: true });
    const catalog = await openCatalog({ root });
    expect(existsSync(deadStaging)).toBe(false);
    expect(existsSync(orphan)).toBe(false);
    catalog.close();
  });

  it('stays consistent with two processes writing at once (two kernels)', async () => {
    const root = tempRoot();
    const count = 40;
    const writers = Promise.all([runWriter(root, 'alpha', count), runWriter(root, 'beta', count)]);
    while (!existsSync(path.join(root, 'ready-alpha')) || !existsSync(path.join(root, 'ready-beta'))) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(path.join(root, 'go'), '');
    const [a, b] = await writers;
    // Every contested name was won by exactly one writer.
    const winners = [...a.won, ...b.won].sort();
    expect(winners).toEqual(Array.from({ length: count }, (_, i) => `contested-${i}`).sort());
    expect(a.lost + b.lost).toBe(count);

    const catalog = await openCatalog({ root });
    expect(catalog.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const names = catalog.datasets.list().map((d) => d.name);
    for (const prefix of ['alpha', 'beta']) {
      for (let i = 0; i < count; i++) {
        const deleted = (i + 2) % 7 === 0 && i + 1 < count; // writer deletes `${prefix}-${j-1}` when j % 7 == 6
        const renamed = i % 5 === 4;
        const expectedName = renamed ? `${prefix}-${i}-renamed` : `${prefix}-${i}`;
        if (deleted) expect(names).not.toContain(expectedName);
        else expect(names).toContain(expectedName);
      }
    }
    // One folder per row, no leftovers in staging.
    const ids = catalog.datasets.list().map((d) => d.id).sort();
    expect(readdirSync(catalog.layout.datasetsDir).sort()).toEqual(ids);
    expect(readdirSync(catalog.layout.stagingDir)).toEqual([]);
    catalog.close();
  });
});

describe('catalog errors', () => {
  it('names the file when the catalog is not a database', async () => {
    const root = tempRoot();
    writeFileSync(path.join(root, 'catalog.sqlite'), 'this is not sqlite'.repeat(100));
    await expect(openCatalog({ root })).rejects.toThrowError(expect.objectContaining({ code: 'CORRUPT_FILE', file: path.join(root, 'catalog.sqlite') }));
  });
});
