/**
 * Hub downloads against a loopback server speaking the hub's resolve API
 * (`/<org>/<name>/resolve/<rev>/<file>`, with Range requests): progress, caching, resume of a
 * dropped connection, cancellation, offline mode and unreachable hubs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { downloadModel, loadModel, snapshotDir, type DownloadProgress } from '../models/index.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');
const REPOS: Record<string, string> = { 'test-org/tiny-llama': 'tiny-llama', 'test-org/tiny-gpt2': 'tiny-gpt2' };
const SHARD = 'model-00001-of-00002.safetensors';

interface Behaviour {
  /** Drop the connection after this many body bytes of `file` (once). */
  cut?: { file: string; afterBytes: number };
  /** Send `file` in small chunks with pauses, so a download can be cancelled midway. */
  slow?: string;
}

/** A minimal hub: serves fixture directories, honours Range, records requests. */
class FakeHub {
  readonly requests: { url: string; range?: string }[] = [];
  behaviour: Behaviour = {};
  private server = http.createServer((req, res) => this.handle(req, res));
  endpoint = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ url: req.url!, range: req.headers.range });
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
    const dir = m && REPOS[m[1]];
    const file = dir && path.join(FIXTURES, dir, decodeURIComponent(m[3]));
    if (!m || m[2] !== 'main' || !file || !existsSync(file) || /reference/.test(file)) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const data = readFileSync(file);
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': data.length - start, 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': data.length });
    }
    const body = data.subarray(start);
    const name = path.basename(file);
    if (this.behaviour.cut?.file === name) {
      const { afterBytes } = this.behaviour.cut;
      this.behaviour.cut = undefined;
      res.write(body.subarray(0, afterBytes), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if (this.behaviour.slow === name) {
      let off = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (off >= body.length) return void res.end();
        res.write(body.subarray(off, off + 4096));
        off += 4096;
        setTimeout(tick, 15);
      };
      tick();
      return;
    }
    res.end(body);
  }
}

describe('hub downloads', () => {
  const hub = new FakeHub();
  const roots: string[] = [];
  const cacheDir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'mistudio-hub-'));
    roots.push(d);
    return d;
  };
  beforeAll(() => hub.start());
  afterAll(async () => {
    await hub.stop();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  afterEach(() => {
    hub.behaviour = {};
    hub.requests.length = 0;
  });

  it('downloads a sharded model with progress, then serves it from the cache', async () => {
    const cache = cacheDir();
    const events: DownloadProgress[] = [];
    const model = await loadModel('test-org/tiny-llama', { cacheDir: cache, endpoint: hub.endpoint, onProgress: (p) => events.push(p) });
    const dir = snapshotDir('test-org/tiny-llama', { cacheDir: cache });
    expect(dir).toBe(path.join(cache, 'models--test-org--tiny-llama', 'snapshots', 'main'));
    for (const f of ['config.json', 'model.safetensors.index.json', SHARD, 'model-00002-of-00002.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
      expect(readFileSync(path.join(dir, f)).equals(readFileSync(path.join(FIXTURES, 'tiny-llama', f))), f).toBe(true);
      const done = events.find((e) => e.file === f && e.phase === 'done');
      expect(done?.bytesDownloaded, f).toBe(statSync(path.join(dir, f)).size);
      expect(done?.bytesTotal, f).toBe(done?.bytesDownloaded);
    }
    expect(events.some((e) => e.file === SHARD && e.phase === 'progress')).toBe(true);
    expect(existsSync(path.join(dir, 'special_tokens_map.json'))).toBe(false); // 404: optional
    expect(model.tokenizer.encode('Hello, world!')).toEqual([1, 374, 531, 499, 292, 284, 259]);

    hub.requests.length = 0;
    const again: DownloadProgress[] = [];
    await loadModel('test-org/tiny-llama', { cacheDir: cache, endpoint: hub.endpoint, onProgress: (p) => again.push(p) });
    expect(hub.requests.filter((r) => !r.url.endsWith('special_tokens_map.json'))).toEqual([]);
    expect(again.every((e) => e.phase === 'cached')).toBe(true);
  });

  it('resumes a dropped download from its .part file with a Range request', async () => {
    const cache = cacheDir();
    hub.behaviour.cut = { file: SHARD, afterBytes: 50_000 };
    const opts = { cacheDir: cache, endpoint: hub.endpoint };
    const err = await downloadModel('test-org/tiny-llama', opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MiStudioError);
    expect((err as MiStudioError).code).toBe('NETWORK');
    expect((err as MiStudioError).message).toMatch(/run again to resume/);
    const dir = snapshotDir('test-org/tiny-llama', opts);
    expect(statSync(path.join(dir, `${SHARD}.part`)).size).toBe(50_000);
    expect(existsSync(path.join(dir, SHARD))).toBe(false);

    hub.requests.length = 0;
    await downloadModel('test-org/tiny-llama', opts);
    expect(hub.requests.find((r) => r.url.endsWith(SHARD))?.range).toBe('bytes=50000-');
    expect(readFileSync(path.join(dir, SHARD)).equals(readFileSync(path.join(FIXTURES, 'tiny-llama', SHARD)))).toBe(true);
    expect(existsSync(path.join(dir, `${SHARD}.part`))).toBe(false);
  });

  it('cancels with an AbortSignal and resumes later', async () => {
    const cache = cacheDir();
    hub.behaviour.slow = SHARD;
    const controller = new AbortController();
    const opts = { cacheDir: cache, endpoint: hub.endpoint };
    const err = await downloadModel('test-org/tiny-llama', {
      ...opts,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === SHARD && p.bytesDownloaded > 20_000) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as MiStudioError).code).toBe('CANCELLED');
    const part = path.join(snapshotDir('test-org/tiny-llama', opts), `${SHARD}.part`);
    const partial = statSync(part).size;
    expect(partial).toBeGreaterThan(20_000);
    hub.behaviour = {};
    hub.requests.length = 0;
    await downloadModel('test-org/tiny-llama', opts);
    expect(hub.requests.find((r) => r.url.endsWith(SHARD))?.range).toBe(`bytes=${partial}-`);
  });

  it('offline: names the missing files, and uses a complete cache', async () => {
    const cache = cacheDir();
    let e = (await loadModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, offline: true }).catch((x: unknown) => x)) as MiStudioError;
    expect(e.code).toBe('OFFLINE');
    expect(e.message).toMatch(/HF_HUB_OFFLINE/);
    expect(e.message).toMatch(/config\.json, model\.safetensors/);

    // A partial sharded download: the error names exactly the missing shard.
    hub.behaviour.cut = { file: 'model-00002-of-00002.safetensors', afterBytes: 10 };
    await downloadModel('test-org/tiny-llama', { cacheDir: cache, endpoint: hub.endpoint }).catch(() => undefined);
    const saved = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      e = (await loadModel('test-org/tiny-llama', { cacheDir: cache, endpoint: hub.endpoint }).catch((x: unknown) => x)) as MiStudioError;
      expect(e.code).toBe('OFFLINE');
      expect(e.message).toMatch(/lacks model-00002-of-00002\.safetensors for test-org\/tiny-llama/);
      await downloadModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, offline: false });
      const before = hub.requests.length;
      const model = await loadModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint });
      expect(model.config.architecture).toBe('gpt2');
      expect(hub.requests.length).toBe(before); // offline: the cache only
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = saved;
    }
  });

  it('without network: uses the cache when complete, else names what is missing', async () => {
    const cache = cacheDir();
    const closed = 'http://127.0.0.1:9'; // discard port: connection refused
    const e = (await loadModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: closed }).catch((x: unknown) => x)) as MiStudioError;
    expect(e.code).toBe('OFFLINE');
    expect(e.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(e.message).toMatch(/config\.json/);
    await downloadModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint });
    const model = await loadModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: closed });
    expect(model.config.nLayers).toBe(2);
  });

  it('reads HF_ENDPOINT and MISTUDIO_CACHE, and reports unknown repositories', async () => {
    const cache = cacheDir();
    const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.MISTUDIO_CACHE };
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.MISTUDIO_CACHE = cache;
    try {
      const dir = await downloadModel('test-org/tiny-gpt2');
      expect(dir.startsWith(cache)).toBe(true);
      const e = (await downloadModel('test-org/nope').catch((x: unknown) => x)) as MiStudioError;
      expect(e.code).toBe('NOT_FOUND');
      expect(e.message).toMatch(/config\.json not found in test-org\/nope@main/);
    } finally {
      for (const [k, v] of [['HF_ENDPOINT', saved.endpoint], ['MISTUDIO_CACHE', saved.cache]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
