import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActivationStore, ActivationStoreWriter, MiStudioError, ShuffledReader, floatToHalf, halfToFloat } from '../index.js';

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'mistudio-acts-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** Deterministic row r of width d: distinct per row so shuffles are checkable. */
function rowValues(r: number, d: number): Float32Array {
  return Float32Array.from({ length: d }, (_, j) => Math.sin(r * 0.37 + j * 1.3) * (1 + (r % 7)));
}

function writeStore(dir: string, n: number, d: number, dtype: 'float32' | 'float16', rowsPerShard: number): void {
  const w = ActivationStoreWriter.create(dir, { hook: 'blocks.0.hook_resid_post', d, dtype, rowsPerShard, positions: true, source: { test: true } });
  for (let r = 0; r < n; r += 5) {
    const k = Math.min(5, n - r);
    const rows = new Float32Array(k * d);
    const pos = new Uint32Array(k * 2);
    for (let i = 0; i < k; i++) {
      rows.set(rowValues(r + i, d), i * d);
      pos[i * 2] = Math.floor((r + i) / 10);
      pos[i * 2 + 1] = (r + i) % 10;
    }
    w.append(rows, pos);
  }
  w.finish();
}

function dirDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

describe('activation store', () => {
  it('reads back float32 rows bit-for-bit and float16 rows at f16 rounding, with positions', () => {
    const d = 6, n = 103;
    for (const dtype of ['float32', 'float16'] as const) {
      const dir = path.join(tmpRoot, `rt-${dtype}`);
      writeStore(dir, n, d, dtype, 16);
      const store = ActivationStore.open(dir, { verify: 'checksum' });
      expect(store.count).toBe(n);
      expect(store.manifest.shards.length).toBe(7);
      const all = store.readRows(0, n);
      for (let r = 0; r < n; r++) {
        const want = rowValues(r, d);
        for (let j = 0; j < d; j++) {
          const expected = dtype === 'float32' ? want[j] : halfToFloat(floatToHalf(want[j]));
          expect(all[r * d + j]).toBe(expected);
        }
      }
      const pos = store.readPositions(40, 3);
      expect(Array.from(pos)).toEqual([4, 0, 4, 1, 4, 2]);
      // Normalization constant √d / mean‖x‖ computed independently here.
      let normSum = 0;
      for (let r = 0; r < n; r++) normSum += Math.hypot(...rowValues(r, d));
      expect(store.manifest.normalizationScale).toBeCloseTo(Math.sqrt(d) / (normSum / n), 4);
      store.close();
    }
  });

  it('rejects a truncated shard and a manifest that disagrees with the shards, naming the file', () => {
    const dir = path.join(tmpRoot, 'bad');
    writeStore(dir, 40, 4, 'float32', 16);
    truncateSync(path.join(dir, 'shard-00001.bin'), 100);
    expect(() => ActivationStore.open(dir)).toThrow(/shard-00001\.bin/);
    const dir2 = path.join(tmpRoot, 'bad2');
    writeStore(dir2, 40, 4, 'float32', 16);
    const m = JSON.parse(readFileSync(path.join(dir2, 'manifest.json'), 'utf8'));
    m.count = 41;
    writeFileSync(path.join(dir2, 'manifest.json'), JSON.stringify(m));
    let err: unknown;
    try { ActivationStore.open(dir2); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MiStudioError);
    expect((err as MiStudioError).code).toBe('CORRUPT_FILE');
    expect((err as Error).message).toMatch(/manifest\.json.*field count/);
    const dir3 = path.join(tmpRoot, 'bad3');
    writeStore(dir3, 40, 4, 'float32', 16);
    const shard = path.join(dir3, 'shard-00000.bin');
    const bytes = readFileSync(shard);
    bytes[3] ^= 0xff;
    writeFileSync(shard, bytes);
    expect(() => ActivationStore.open(dir3)).not.toThrow();
    expect(() => ActivationStore.open(dir3, { verify: 'checksum' })).toThrow(/checksum/);
  });

  it('a writer killed with SIGKILL resumes to a store identical to an uninterrupted one', async () => {
    const d = 64, n = 3000, rowsPerShard = 128;
    const ref = path.join(tmpRoot, 'ref');
    writeStore(ref, n, d, 'float16', rowsPerShard);
    const dir = path.join(tmpRoot, 'killed');
    const script = path.join(tmpRoot, 'writer.mts');
    // The child writes the same rows slowly; it is killed mid-way, then the test resumes it in-process.
    writeFileSync(script, `
      import { ActivationStoreWriter } from ${JSON.stringify(path.resolve('src/core/index.ts'))};
      const [dir, n, d, rps] = process.argv.slice(2).map((v, i) => i === 0 ? v : Number(v));
      const w = ActivationStoreWriter.create(dir, { hook: 'blocks.0.hook_resid_post', d, dtype: 'float16', rowsPerShard: rps, positions: true, source: { test: true } });
      for (let r = 0; r < n; r += 5) {
        const rows = new Float32Array(5 * d); const pos = new Uint32Array(10);
        for (let i = 0; i < 5; i++) { for (let j = 0; j < d; j++) rows[i * d + j] = Math.sin((r + i) * 0.37 + j * 1.3) * (1 + ((r + i) % 7)); pos[i * 2] = Math.floor((r + i) / 10); pos[i * 2 + 1] = (r + i) % 10; }
        w.append(rows, pos);
        if (r === 700) process.stdout.write('ready\\n');
        await new Promise((res) => setTimeout(res, 2));
      }
      w.finish();
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(n), String(d), String(rowsPerShard)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => { if (b.toString().includes('ready')) resolve(); });
      child.on('exit', (code) => reject(new Error(`writer exited early with code ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    const w = ActivationStoreWriter.resume(dir);
    const stored = w.storedRows;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(n);
    expect(stored % rowsPerShard).toBe(0);
    // The reader never sees a partial shard: the killed store opens and holds exactly the listed rows.
    expect(ActivationStore.open(dir, { verify: 'checksum' }).count).toBe(stored);
    for (let r = stored; r < n; r++) {
      w.append(rowValues(r, d), Uint32Array.from([Math.floor(r / 10), r % 10]));
    }
    w.finish();
    expect(dirDigest(dir)).toBe(dirDigest(ref));
  });

  it('shuffled reading serves every row exactly once per epoch, reproducibly, and resumes exactly', () => {
    const d = 3, n = 1000;
    const dir = path.join(tmpRoot, 'shuf');
    writeStore(dir, n, d, 'float32', 64);
    const store = ActivationStore.open(dir);
    const opts = { bufferRows: 200, batchRows: 64, seed: 7 };
    const order = (reader: ShuffledReader): number[] => {
      const out: number[] = [];
      for (let b = reader.nextBatch(); b; b = reader.nextBatch()) {
        out.push(...b.rows);
        // Batch data is the stored row data.
        for (let i = 0; i < b.rows.length; i++) expect(b.data[i * d]).toBe(rowValues(b.rows[i], d)[0]);
      }
      return out;
    };
    const a = order(new ShuffledReader(store, opts));
    expect(a.length).toBe(n);
    expect(new Set(a).size).toBe(n);
    // Mixed: far from the sequential order.
    expect(a.filter((r, i) => r === i).length).toBeLessThan(50);
    expect(order(new ShuffledReader(store, opts))).toEqual(a);
    expect(order(new ShuffledReader(store, { ...opts, seed: 8 }))).not.toEqual(a);

    // Resume from a mid-epoch state (JSON round trip, as a checkpoint would) continues identically.
    const r1 = new ShuffledReader(store, opts);
    const head: number[] = [];
    for (let i = 0; i < 7; i++) head.push(...(r1.nextBatch()?.rows ?? []));
    const saved = JSON.parse(JSON.stringify(r1.state()));
    const tail = order(new ShuffledReader(store, opts, saved));
    expect([...head, ...tail]).toEqual(a);

    // Looping readers always give full batches and start a differently-ordered second epoch.
    const looping = new ShuffledReader(store, { ...opts, loop: true });
    const rows: number[] = [];
    for (let i = 0; i < 32; i++) {
      const b = looping.nextBatch();
      expect(b?.rows.length).toBe(64);
      rows.push(...(b?.rows ?? []));
    }
    expect(new Set(rows.slice(0, n)).size).toBe(n);
    expect(rows.slice(n, n + 24)).not.toEqual(a.slice(0, 24));
  });
});
