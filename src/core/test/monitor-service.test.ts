import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MonitorSampler } from '../monitor/sampler.js';
import { MonitorService } from '../monitor/service.js';
import type { SystemSample } from '../monitor/system-reader.js';
import type { HistoryResponse, MonitorSample } from '../monitor/types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TOKEN = 'test-token-0123456789';

function fakeSystem(): { read(): Promise<SystemSample>; reads: number } {
  const source = {
    reads: 0,
    async read(): Promise<SystemSample> {
      source.reads++;
      return {
        hostname: 'box',
        cpu: { corePercents: [10, 30], totalPercent: 20, loadAverage1m: 0.5 },
        memory: { totalBytes: 1000, usedBytes: 400, availableBytes: 600, swapTotalBytes: 0, swapUsedBytes: 0 },
        container: null,
        disks: [],
        diskIo: null,
        network: null,
      };
    },
  };
  return source;
}

interface Running {
  service: MonitorService;
  sampler: MonitorSampler;
  port: number;
}
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.service.close();
});

async function start(options: { token?: string | null; intervalMs?: number } = {}): Promise<Running> {
  const sampler = new MonitorSampler({ intervalMs: options.intervalMs ?? 1000, gpu: null, system: fakeSystem() });
  const service = new MonitorService({ sampler, token: options.token === undefined ? TOKEN : options.token });
  const { port } = await service.listen({ port: 0 });
  const r = { service, sampler, port: port! };
  running.push(r);
  return r;
}

function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

/** Collects the samples a WebSocket client receives. */
function connect(port: number, query = `?token=${TOKEN}`): Promise<{ ws: WebSocket; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`);
    const messages: any[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('monitor service on loopback', () => {
  it('serves a sample only with the token', async () => {
    const { port } = await start();
    expect((await get(port, '/api/sample')).status).toBe(401);
    expect((await get(port, '/api/sample?token=wrong')).status).toBe(401);
    const ok = await get(port, '/api/sample', { authorization: `token ${TOKEN}` });
    expect(ok.status).toBe(200);
    const sample = ok.body as MonitorSample;
    expect(sample.cpu.corePercents).toEqual([10, 30]);
    expect(sample.memory.usedBytes).toBe(400);
    expect(sample.gpus).toBeUndefined(); // no nvidia-smi → no GPU section
    expect(Math.abs(sample.timestampMs - Date.now())).toBeLessThan(5000);
  });

  it('answers history for each range and rejects an unknown one with the field named', async () => {
    const { port } = await start();
    await sleep(1200);
    for (const range of ['1h', '6h', '24h']) {
      const { status, body } = await get(port, `/api/history?range=${range}&token=${TOKEN}`);
      expect(status).toBe(200);
      expect((body as HistoryResponse).range).toBe(range);
      expect((body as HistoryResponse).points.length).toBeGreaterThan(0);
    }
    const bad = await get(port, `/api/history?range=2h&token=${TOKEN}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('range');
  });

  it('answers under a proxy prefix too (jupyter-server-proxy with absolute_url)', async () => {
    const { port } = await start({ token: null });
    expect((await get(port, '/user/ana/mistudio-monitor/api/sample')).status).toBe(200);
    expect((await get(port, '/')).body.service).toBe('mistudio-monitor');
  });

  it('refuses to bind beyond loopback', async () => {
    const sampler = new MonitorSampler({ gpu: null, system: fakeSystem() });
    await expect(new MonitorService({ sampler }).listen({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/field host/);
  });

  it('listens on a Unix socket', async () => {
    const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'mistudio-sock-')), 'monitor.sock');
    const sampler = new MonitorSampler({ gpu: null, system: fakeSystem() });
    const service = new MonitorService({ sampler });
    await service.listen({ socketPath });
    try {
      const status = await new Promise<number>((resolve, reject) =>
        http.get({ socketPath, path: '/api/sample' }, (res) => resolve(res.statusCode!)).on('error', reject),
      );
      expect(status).toBe(200);
    } finally {
      await service.close();
    }
  });
});

describe('monitor WebSocket', () => {
  it('rejects a client without the token', async () => {
    const { port } = await start();
    await expect(connect(port, '')).rejects.toThrow(/401/);
  });

  it('pushes samples, follows {interval}, stops on {paused:true} and resumes at once', async () => {
    const { port, sampler } = await start({ intervalMs: 1000 });
    const { ws, messages } = await connect(port);
    ws.send(JSON.stringify({ interval: 0.5 }));
    await sleep(100);
    expect(sampler.intervalMs).toBe(500); // the sampler follows the fastest active client
    await sleep(1600);
    const pushed = messages.filter((m) => m.type === 'sample').length;
    expect(pushed).toBeGreaterThanOrEqual(3);

    ws.send(JSON.stringify({ paused: true }));
    await sleep(100);
    const atPause = messages.length;
    expect(sampler.intervalMs).toBe(1000); // no active client: back to the service's own rate
    await sleep(2200);
    expect(messages.length).toBe(atPause); // nothing pushed while paused

    ws.send(JSON.stringify({ paused: false }));
    await sleep(150);
    expect(messages.length).toBe(atPause + 1); // the current sample, without waiting an interval
    ws.close();
  });

  it('answers a bad interval with an error naming the field and keeps the old one', async () => {
    const { port, sampler } = await start();
    const { ws, messages } = await connect(port);
    ws.send(JSON.stringify({ interval: 20, paused: 'yes' }));
    await sleep(200);
    const errors = messages.filter((m) => m.type === 'error');
    expect(errors.map((m) => m.field).sort()).toEqual(['interval', 'paused']);
    expect(sampler.intervalMs).toBe(1000);
    ws.send('not json');
    await sleep(100);
    expect(messages.filter((m) => m.type === 'error')).toHaveLength(3);
    ws.close();
  });

  it('gives each client its own rate', async () => {
    const { port } = await start({ intervalMs: 1000 });
    const fast = await connect(port);
    const slow = await connect(port);
    fast.ws.send(JSON.stringify({ interval: 0.5 }));
    slow.ws.send(JSON.stringify({ interval: 2 }));
    await sleep(100);
    const [f0, s0] = [fast.messages.length, slow.messages.length];
    await sleep(4100);
    const fastCount = fast.messages.length - f0;
    const slowCount = slow.messages.length - s0;
    expect(fastCount).toBeGreaterThanOrEqual(6);
    expect(slowCount).toBeGreaterThanOrEqual(1);
    expect(slowCount).toBeLessThanOrEqual(3);
    fast.ws.close();
    slow.ws.close();
  });
});

describe('monitor command line', () => {
  function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/core/cli/main.ts'), ...args], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('mistudio monitor --json prints one sample of this machine', async () => {
    const { code, stdout } = await runCli(['monitor', '--json', '--no-gpu']);
    expect(code).toBe(0);
    const sample = JSON.parse(stdout) as MonitorSample;
    expect(sample.cpu.corePercents.length).toBeGreaterThan(0);
    expect(sample.memory.totalBytes).toBeGreaterThan(0);
  });

  it('rejects a bad interval with the flag named', async () => {
    const { code, stderr } = await runCli(['monitor', '--serve', '--interval', '0.1']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/field --interval/);
  });

  it('mistudio monitor --serve runs until SIGTERM and prints its port and token', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/core/cli/main.ts'), 'monitor', '--serve', '--port', '0', '--no-gpu'], { cwd: ROOT });
    const line = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
    });
    const info = JSON.parse(line) as { port: number; token: string };
    expect(info.token).toMatch(/^[0-9a-f]{48}$/);
    const { status, body } = await get(info.port, `/api/sample?token=${info.token}`);
    expect(status).toBe(200);
    expect(body.memory.totalBytes).toBeGreaterThan(0);
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
