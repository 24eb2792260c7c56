/**
 * The metrics service: `GET /api/sample`, `GET /api/history?range=1h|6h|24h` and a WebSocket at
 * `/ws` that pushes samples. Each WebSocket client sends `{interval, paused}` (interval in
 * seconds); the sampler runs at the fastest interval any unpaused client asks for, or the
 * service's own interval when none does, so the history keeps filling while nobody watches.
 *
 * Paths are matched by their ending, so the service answers the same whether jupyter-server-proxy
 * strips its `/<base_url>/mistudio-monitor` prefix (the default) or not. With a token (direct
 * loopback use), every request must carry `Authorization: token <t>` or `?token=<t>`; behind
 * Jupyter, Jupyter authenticates and the service listens on a private Unix socket instead.
 */
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { MiStudioError } from '../errors.js';
import { parseHistoryRange } from './history.js';
import { validateIntervalSeconds } from './interval.js';
import type { MonitorSampler } from './sampler.js';
import type { MonitorSample } from './types.js';

/** Loopback only: the service shows process names and must not be reachable from the network. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export interface MonitorServiceOptions {
  sampler: MonitorSampler;
  /** Required on every request when set. */
  token?: string | null;
  /** The interval used when no client asks for one. Default: the sampler's interval at start. */
  defaultIntervalMs?: number;
  log?: (message: string) => void;
}

export type ListenTarget = { port: number; host?: string } | { socketPath: string };

/** What a WebSocket client has asked for. */
interface ClientState {
  intervalMs: number;
  paused: boolean;
  lastPushMs: number;
  alive: boolean;
}

/** Messages the service sends over the WebSocket. */
export type MonitorServerMessage =
  | { type: 'sample'; sample: MonitorSample }
  | { type: 'error'; field: string | null; message: string };

function sameToken(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function requestToken(request: http.IncomingMessage, url: URL): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^(?:token|bearer)\s+(.+)$/i.exec(header.trim());
    if (match) return match[1];
  }
  return url.searchParams.get('token');
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function errorBody(error: unknown): { error: { code: string; field: string | null; message: string } } {
  if (error instanceof MiStudioError) return { error: { code: error.code, field: error.field ?? null, message: error.message } };
  return { error: { code: 'INTERNAL', field: null, message: error instanceof Error ? error.message : String(error) } };
}

export class MonitorService {
  private readonly sampler: MonitorSampler;
  private readonly token: string | null;
  private readonly defaultIntervalMs: number;
  private readonly log: (message: string) => void;
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<WebSocket, ClientState>();
  private readonly unsubscribe: () => void;
  private heartbeat: NodeJS.Timeout | null = null;
  private socketPath: string | null = null;

  constructor(options: MonitorServiceOptions) {
    this.sampler = options.sampler;
    this.token = options.token ?? null;
    this.defaultIntervalMs = options.defaultIntervalMs ?? this.sampler.intervalMs;
    this.log = options.log ?? ((message) => console.error(`[mistudio monitor] ${message}`));
    this.server = http.createServer((request, response) => void this.handle(request, response));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
    this.server.on('upgrade', (request, socket, head) => this.upgrade(request, socket as Socket, head));
    this.unsubscribe = this.sampler.onSample((sample) => this.push(sample));
  }

  /** Listens on a loopback TCP port (0 picks a free one) or a Unix socket; starts sampling. */
  async listen(target: ListenTarget): Promise<{ port: number | null; socketPath: string | null }> {
    if ('socketPath' in target) {
      // A socket file left by a killed predecessor would make listen fail with EADDRINUSE.
      if (existsSync(target.socketPath)) unlinkSync(target.socketPath);
      this.socketPath = target.socketPath;
    } else if (!LOOPBACK_HOSTS.has(target.host ?? '127.0.0.1')) {
      throw new MiStudioError('INVALID_ARGUMENT', `refusing to listen on ${target.host}`, {
        field: 'host',
        hint: 'the monitor binds to 127.0.0.1 only; reach it from elsewhere through Jupyter (jupyter-server-proxy)',
      });
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('socketPath' in target) this.server.listen(target.socketPath, done);
      else this.server.listen(target.port, target.host ?? '127.0.0.1', done);
    });
    this.sampler.start();
    this.heartbeat = setInterval(() => this.ping(), 30_000);
    const address = this.server.address();
    return {
      port: address && typeof address === 'object' ? (address as AddressInfo).port : null,
      socketPath: this.socketPath,
    };
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.sampler.stop();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(request: http.IncomingMessage, url: URL): boolean {
    return this.token === null || sameToken(requestToken(request, url), this.token);
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      if (!this.authorized(request, url)) {
        sendJson(response, 401, { error: { code: 'UNAUTHORIZED', field: 'token', message: 'missing or wrong monitor token' } });
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        sendJson(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', field: null, message: `${request.method} is not supported` } });
        return;
      }
      const path = url.pathname.replace(/\/+$/, '');
      if (path.endsWith('/api/sample')) {
        sendJson(response, 200, this.sampler.latest ?? (await this.sampler.sampleOnce()));
      } else if (path.endsWith('/api/history')) {
        const range = parseHistoryRange(url.searchParams.get('range') ?? '1h');
        sendJson(response, 200, this.sampler.history.query(range, this.sampler.intervalMs));
      } else if (path === '' || path.endsWith('/api')) {
        // jupyter-server-proxy's readiness probe asks for `/`: any answer will do.
        sendJson(response, 200, { service: 'mistudio-monitor', intervalMs: this.sampler.intervalMs });
      } else {
        sendJson(response, 404, { error: { code: 'NOT_FOUND', field: null, message: `no route ${url.pathname}` } });
      }
    } catch (error) {
      const badRequest = error instanceof MiStudioError && error.code === 'INVALID_ARGUMENT';
      if (!badRequest) this.log(`${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
      sendJson(response, badRequest ? 400 : 500, errorBody(error));
    }
  }

  private upgrade(request: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.replace(/\/+$/, '').endsWith('/ws')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!this.authorized(request, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.connect(ws));
  }

  private connect(ws: WebSocket): void {
    const state: ClientState = { intervalMs: this.defaultIntervalMs, paused: false, lastPushMs: 0, alive: true };
    this.clients.set(ws, state);
    ws.on('pong', () => {
      state.alive = true;
    });
    ws.on('message', (data) => this.configure(ws, state, data.toString()));
    ws.on('close', () => {
      this.clients.delete(ws);
      this.retune();
    });
    ws.on('error', () => ws.terminate());
    const latest = this.sampler.latest;
    if (latest) this.send(ws, state, { type: 'sample', sample: latest });
  }

  /** Applies a client's `{interval, paused}`; a bad field is answered, and the rest still applies. */
  private configure(ws: WebSocket, state: ClientState, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.sendError(ws, null, 'messages must be JSON like {"interval": 1, "paused": false}');
      return;
    }
    if (typeof message !== 'object' || message === null) {
      this.sendError(ws, null, 'messages must be JSON objects like {"interval": 1, "paused": false}');
      return;
    }
    const { interval, paused } = message as { interval?: unknown; paused?: unknown };
    if (interval !== undefined) {
      try {
        state.intervalMs = validateIntervalSeconds(interval, 'interval');
      } catch (error) {
        this.sendError(ws, 'interval', (error as Error).message);
      }
    }
    if (paused !== undefined) {
      if (typeof paused === 'boolean') {
        const resumed = state.paused && !paused;
        state.paused = paused;
        const latest = this.sampler.latest;
        // A page coming back into view gets the current state at once, not an interval later.
        if (resumed && latest) this.send(ws, state, { type: 'sample', sample: latest });
      } else {
        this.sendError(ws, 'paused', 'paused must be true or false');
      }
    }
    this.retune();
  }

  /** Samples at the fastest rate an active client wants, else at the service's own. */
  private retune(): void {
    const wanted = [...this.clients.values()].filter((client) => !client.paused).map((client) => client.intervalMs);
    this.sampler.setIntervalMs(wanted.length ? Math.min(...wanted) : this.defaultIntervalMs);
  }

  private push(sample: MonitorSample): void {
    const now = Date.now();
    // Half a sampler interval of slack, so a client at 2 s on a 1 s sampler gets every second sample.
    const slackMs = this.sampler.intervalMs / 2;
    for (const [ws, state] of this.clients) {
      if (state.paused || now - state.lastPushMs < state.intervalMs - slackMs) continue;
      // A client that cannot keep up (a stalled tab, a slow proxy) skips samples instead of queueing them.
      if (ws.bufferedAmount > 1 << 20) continue;
      this.send(ws, state, { type: 'sample', sample });
    }
  }

  private send(ws: WebSocket, state: ClientState, message: MonitorServerMessage): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    state.lastPushMs = Date.now();
    ws.send(JSON.stringify(message));
  }

  private sendError(ws: WebSocket, field: string | null, message: string): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'error', field, message } satisfies MonitorServerMessage));
  }

  /** Drops clients whose connection died without a close (a laptop lid shut, a proxy restart). */
  private ping(): void {
    for (const [ws, state] of this.clients) {
      if (!state.alive) {
        ws.terminate();
        continue;
      }
      state.alive = false;
      ws.ping();
    }
  }
}
