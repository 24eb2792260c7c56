import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MonitorClient, type MonitorClientState, type SocketLike } from '../src/system-monitor-client.js';
import { formatBytes, formatBytesOf, formatRate, statusText } from '../src/system-monitor-format.js';
import type { MonitorSample } from '../src/system-monitor-types.js';

function sample(timestampMs: number, gpus?: MonitorSample['gpus']): MonitorSample {
  return {
    timestampMs,
    intervalMs: 1000,
    hostname: 'box',
    cpu: { corePercents: [50], totalPercent: 50, loadAverage1m: 1 },
    memory: { totalBytes: 16 * 2 ** 30, usedBytes: 4 * 2 ** 30, availableBytes: 12 * 2 ** 30, swapTotalBytes: 0, swapUsedBytes: 0 },
    container: null,
    disks: [],
    diskIo: null,
    network: null,
    ...(gpus ? { gpus } : {}),
  };
}

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(s: MonitorSample) {
    this.onmessage?.({ data: JSON.stringify({ type: 'sample', sample: s }) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
}

/** A fake `document` whose visibility the test flips. */
function fakeDocument() {
  const listeners = new Set<() => void>();
  return {
    hidden: false,
    addEventListener: (_: string, fn: () => void) => listeners.add(fn),
    removeEventListener: (_: string, fn: () => void) => listeners.delete(fn),
    setHidden(hidden: boolean) {
      this.hidden = hidden;
      for (const fn of listeners) fn();
    },
  };
}

describe('MonitorClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(options: { up?: () => boolean; sockets?: boolean } = {}) {
    const sockets: FakeSocket[] = [];
    const states: MonitorClientState[] = [];
    const samples: MonitorSample[] = [];
    const requests: string[] = [];
    const doc = fakeDocument();
    const up = options.up ?? (() => true);
    const client = new MonitorClient({
      serviceUrl: 'http://jupyter.local/user/ana/mistudio-monitor/',
      webSocketQuery: 'token=abc',
      createSocket:
        options.sockets === false
          ? null
          : (url) => {
              const socket = new FakeSocket(url);
              sockets.push(socket);
              return socket;
            },
      request: async (url) => {
        requests.push(url);
        if (!up()) return new Response('proxy error', { status: 502 });
        return new Response(JSON.stringify(sample(Date.now())), { status: 200 });
      },
      onState: (state) => states.push(state),
      onSample: (s) => samples.push(s),
      document: doc as unknown as Document,
    });
    return { client, sockets, states, samples, requests, doc };
  }

  it('streams over the WebSocket, telling the service its interval', async () => {
    const { client, sockets, samples, states } = setup();
    client.start();
    expect(sockets[0].url).toBe('ws://jupyter.local/user/ana/mistudio-monitor/ws?token=abc');
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ interval: 1, paused: false }]);
    sockets[0].push(sample(1));
    expect(samples).toHaveLength(1);
    expect(states.at(-1)).toMatchObject({ status: 'live', transport: 'websocket' });
    client.setIntervalSeconds(2);
    expect(sockets[0].sent.at(-1)).toEqual({ interval: 2, paused: false });
    client.stop();
  });

  it('falls back to polling when there is no WebSocket', async () => {
    const { client, requests, samples, states } = setup({ sockets: false });
    client.start();
    await vi.advanceTimersByTimeAsync(3100);
    expect(requests[0]).toBe('http://jupyter.local/user/ana/mistudio-monitor/api/sample');
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(states.at(-1)).toMatchObject({ status: 'live', transport: 'polling' });
    client.stop();
  });

  it('shows the error state after 5 failed samples, keeps retrying, and recovers', async () => {
    let serviceUp = true;
    const { client, sockets, states, requests } = setup({ up: () => serviceUp });
    client.start();
    sockets[0].open();
    sockets[0].push(sample(1));
    // The service dies: the socket closes, polls get 502 from the proxy.
    serviceUp = false;
    sockets[0].drop();
    await vi.advanceTimersByTimeAsync(3500);
    expect(states.at(-1)!.status).toBe('live'); // 4 failures: not yet
    await vi.advanceTimersByTimeAsync(1000);
    const error = states.at(-1)!;
    expect(error).toMatchObject({ status: 'error', failures: 5 });
    expect(error.message).toMatch(/HTTP 502.*retrying every 2 s/);
    const before = requests.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(requests.length - before).toBeGreaterThanOrEqual(4); // automatic retries every 2 s
    // It comes back: the next poll succeeds and the socket is tried again at once.
    serviceUp = true;
    await vi.advanceTimersByTimeAsync(2100);
    expect(states.at(-1)).toMatchObject({ status: 'live', failures: 0 });
    const latest = sockets.at(-1)!;
    latest.open();
    latest.push(sample(2));
    expect(states.at(-1)).toMatchObject({ status: 'live', transport: 'websocket' });
    client.stop();
  });

  it('counts a silent open socket (frozen service) as failures', async () => {
    const { client, sockets, states } = setup({ up: () => false });
    client.start();
    sockets[0].open();
    await vi.advanceTimersByTimeAsync(8500);
    expect(states.at(-1)).toMatchObject({ status: 'error' });
    client.stop();
  });

  it('pauses while the page is hidden and resumes when shown', async () => {
    const { client, sockets, doc, requests } = setup({ sockets: false });
    client.start();
    await vi.advanceTimersByTimeAsync(10);
    doc.setHidden(true);
    const atHide = requests.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests.length).toBe(atHide); // no polling while hidden
    doc.setHidden(false);
    await vi.advanceTimersByTimeAsync(10);
    expect(requests.length).toBe(atHide + 1);
    client.stop();
    expect(sockets).toHaveLength(0);
  });

  it('sends {paused:true} over an open socket while hidden', async () => {
    const { client, sockets, doc } = setup();
    client.start();
    sockets[0].open();
    doc.setHidden(true);
    expect(sockets[0].sent.at(-1)).toEqual({ interval: 1, paused: true });
    doc.setHidden(false);
    expect(sockets[0].sent.at(-1)).toEqual({ interval: 1, paused: false });
    client.stop();
  });
});

describe('system monitor formatting', () => {
  it('formats bytes in binary and decimal units', () => {
    expect(formatBytes(81559 * 2 ** 20, 'binary')).toBe('79.6 GiB');
    expect(formatBytes(81559 * 2 ** 20, 'decimal')).toBe('85.5 GB');
    expect(formatBytesOf(71234 * 2 ** 20, 81559 * 2 ** 20, 'binary')).toBe('69.6 / 79.6 GiB');
    expect(formatRate(1536, 'binary')).toBe('1.50 KiB/s');
    expect(formatBytes(null, 'binary')).toBe('–');
  });

  it('summarizes GPUs for the status bar', () => {
    const gpu = (index: number, util: number | null) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'H100',
      utilizationPercent: util,
      memoryUtilizationPercent: 0,
      memoryUsedBytes: 40 * 2 ** 30,
      memoryTotalBytes: 80 * 2 ** 30,
      temperatureC: 50,
      powerDrawWatts: 300,
      powerLimitWatts: 700,
      smClockMhz: 1980,
      memoryClockMhz: 2619,
      migMode: 'disabled' as const,
      processes: [],
      migDevices: [],
    });
    expect(statusText(sample(0), 'binary')).toBe('CPU 50% · RAM 4 / 16 GiB');
    expect(statusText(sample(0, [gpu(0, 97)]), 'binary')).toBe('GPU 97% · 40 / 80 GiB');
    expect(statusText(sample(0, [gpu(0, 90), gpu(1, 70), gpu(2, null)]), 'binary')).toBe('3 GPUs 80% · 120 / 240 GiB');
  });
});
