/**
 * The browser side of the monitor connection: a WebSocket that receives pushed samples (the client
 * tells the service `{interval, paused}`), with HTTP polling of `api/sample` whenever the socket is
 * not open — proxies without WebSocket support, or the service restarting. While the page is
 * hidden it pauses (the service stops pushing, polling stops). After `failureThreshold`
 * consecutive failed samples the state turns to 'error'; it keeps retrying and turns back to
 * 'live' with the first good sample. No Jupyter imports: the labextension passes the URL and an
 * authenticated request function.
 */
import type { HistoryRange, HistoryResponse, MonitorConnectionStatus, MonitorSample } from './system-monitor-types.js';

export interface MonitorClientState {
  status: MonitorConnectionStatus;
  /** Consecutive failed samples. */
  failures: number;
  /** What failed last, and how the client retries. */
  message: string;
  transport: 'websocket' | 'polling' | 'none';
}

type Request = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

/** The parts of a WebSocket the client uses, so tests can pass a fake. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface MonitorClientOptions {
  /** The service root, ending in '/': `<jupyter base url>mistudio-monitor/` behind Jupyter. */
  serviceUrl: string;
  /** Extra query for the WebSocket URL (Jupyter's `token=…` when the page uses token auth). */
  webSocketQuery?: string;
  /** Performs GET requests; the labextension passes one that adds Jupyter's credentials. */
  request?: Request;
  /** null: never try a WebSocket (polling only). */
  createSocket?: ((url: string) => SocketLike) | null;
  intervalSeconds?: number;
  /** Consecutive failures before the error state. */
  failureThreshold?: number;
  /** Seconds between retries in the error state. */
  retrySeconds?: number;
  onSample?: (sample: MonitorSample) => void;
  onState?: (state: MonitorClientState) => void;
  /** For visibility; null in tests and workers. */
  document?: Document | null;
}

const OPEN = 1;
const MAX_RECONNECT_DELAY_MS = 30_000;

export class MonitorClient {
  private readonly serviceUrl: string;
  private readonly webSocketQuery: string;
  private readonly request: Request;
  private readonly createSocket: ((url: string) => SocketLike) | null;
  private readonly failureThreshold: number;
  private readonly retryMs: number;
  private readonly onSample: (sample: MonitorSample) => void;
  private readonly onState: (state: MonitorClientState) => void;
  private readonly doc: Document | null;

  private intervalMs: number;
  private running = false;
  private active = false;
  private socket: SocketLike | null = null;
  private socketOpen = false;
  private reconnectDelayMs = 1000;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastSampleAtMs = 0;
  private state: MonitorClientState = { status: 'loading', failures: 0, message: '', transport: 'none' };
  private readonly onVisibility = () => this.syncVisibility();

  constructor(options: MonitorClientOptions) {
    this.serviceUrl = options.serviceUrl.endsWith('/') ? options.serviceUrl : `${options.serviceUrl}/`;
    this.webSocketQuery = options.webSocketQuery ?? '';
    this.request = options.request ?? ((url, init) => fetch(url, { ...init, credentials: 'same-origin', cache: 'no-store' }));
    this.createSocket =
      options.createSocket === undefined
        ? typeof WebSocket === 'undefined'
          ? null
          : (url) => new WebSocket(url) as unknown as SocketLike
        : options.createSocket;
    this.intervalMs = (options.intervalSeconds ?? 1) * 1000;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.retryMs = (options.retrySeconds ?? 2) * 1000;
    this.onSample = options.onSample ?? (() => undefined);
    this.onState = options.onState ?? (() => undefined);
    this.doc = options.document === undefined ? (typeof document === 'undefined' ? null : document) : options.document;
  }

  get current(): MonitorClientState {
    return this.state;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.doc?.addEventListener('visibilitychange', this.onVisibility);
    this.syncVisibility();
  }

  stop(): void {
    this.running = false;
    this.doc?.removeEventListener('visibilitychange', this.onVisibility);
    this.pause();
    this.closeSocket();
  }

  setIntervalSeconds(seconds: number): void {
    this.intervalMs = seconds * 1000;
    this.sendConfig();
    if (this.active) this.restartWatchdog();
  }

  /** Tries again at once (the error state's "Retry now"). */
  retryNow(): void {
    if (!this.active) return;
    this.reconnectDelayMs = 1000;
    if (!this.socketOpen) {
      this.connect();
      this.schedulePoll(0);
    }
  }

  async fetchHistory(range: HistoryRange): Promise<HistoryResponse> {
    const response = await this.get(`api/history?range=${range}`);
    return (await response.json()) as HistoryResponse;
  }

  // --- visibility -------------------------------------------------------------------------------

  private syncVisibility(): void {
    if (!this.running) return;
    if (this.doc?.hidden) this.pause();
    else this.resume();
  }

  private resume(): void {
    if (this.active) return;
    this.active = true;
    this.lastSampleAtMs = Date.now();
    this.restartWatchdog();
    if (this.socketOpen) this.sendConfig();
    else {
      this.connect();
      this.schedulePoll(0);
    }
  }

  private pause(): void {
    this.active = false;
    this.sendConfig();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.pollTimer = this.watchdog = this.reconnectTimer = null;
  }

  // --- WebSocket ---------------------------------------------------------------------------------

  private socketUrl(): string {
    const base = typeof location === 'undefined' ? undefined : location.href;
    const url = new URL('ws', new URL(this.serviceUrl, base));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.webSocketQuery) url.search = this.webSocketQuery;
    return url.toString();
  }

  private connect(): void {
    if (!this.createSocket || this.socket || !this.active) return;
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.socketUrl());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.socketOpen = true;
      this.reconnectDelayMs = 1000;
      if (this.pollTimer) clearTimeout(this.pollTimer);
      this.pollTimer = null;
      this.sendConfig();
    };
    socket.onmessage = (event) => {
      let message: { type?: string; sample?: MonitorSample };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === 'sample' && message.sample) this.succeed(message.sample, 'websocket');
    };
    socket.onerror = () => undefined; // onclose follows and does the work
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.socketOpen = false;
      if (!this.active) return;
      // Until the socket is back, samples come by polling; those polls count the failures.
      this.schedulePoll(0);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || !this.active || !this.createSocket) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, this.reconnectDelayMs);
    this.reconnectDelayMs = Math.min(MAX_RECONNECT_DELAY_MS, this.reconnectDelayMs * 2);
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.socketOpen = false;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  private sendConfig(): void {
    if (this.socket && this.socketOpen && this.socket.readyState === OPEN) {
      this.socket.send(JSON.stringify({ interval: this.intervalMs / 1000, paused: !this.active }));
    }
  }

  // --- polling -----------------------------------------------------------------------------------

  private schedulePoll(delayMs: number): void {
    if (!this.active || this.socketOpen) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    this.pollTimer = null;
    if (!this.active || this.socketOpen) return;
    try {
      const response = await this.get('api/sample');
      this.succeed((await response.json()) as MonitorSample, 'polling');
      // The service answers again: try the socket now rather than after the backed-off delay.
      if (!this.socket && this.reconnectTimer) {
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = null;
        this.reconnectDelayMs = 1000;
        this.connect();
      }
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
    }
    this.schedulePoll(this.state.status === 'error' ? this.retryMs : this.intervalMs);
  }

  private async get(path: string): Promise<Response> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), Math.max(3000, 2 * this.intervalMs));
    try {
      const response = await this.request(new URL(path, new URL(this.serviceUrl, typeof location === 'undefined' ? undefined : location.href)).toString(), {
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status} from the monitor service`);
      return response;
    } catch (error) {
      if (controller.signal.aborted) throw new Error('the monitor service did not answer in time');
      throw error;
    } finally {
      clearTimeout(timeout);
    }
  }

  // --- state -------------------------------------------------------------------------------------

  /** A socket that is open but silent (a frozen service) counts one failure per interval. */
  private restartWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (!this.active || !this.socketOpen) return;
      const silentMs = Date.now() - this.lastSampleAtMs;
      if (silentMs > Math.max(3 * this.intervalMs, 3000)) {
        this.fail('no sample received');
        if (this.state.failures >= this.failureThreshold) {
          // Drop the silent socket: polling and reconnects take over.
          this.closeSocket();
          this.schedulePoll(0);
          this.scheduleReconnect();
        }
      }
    }, this.intervalMs);
  }

  private succeed(sample: MonitorSample, transport: 'websocket' | 'polling'): void {
    this.lastSampleAtMs = Date.now();
    this.setState({ status: 'live', failures: 0, message: '', transport });
    this.onSample(sample);
  }

  private fail(reason: string): void {
    const failures = this.state.failures + 1;
    const status = failures >= this.failureThreshold ? 'error' : this.state.status;
    const message = status === 'error' ? `${reason}; retrying every ${this.retryMs / 1000} s.` : reason;
    this.setState({ status, failures, message, transport: this.socketOpen ? 'websocket' : 'polling' });
  }

  private setState(next: MonitorClientState): void {
    const changed =
      next.status !== this.state.status || next.failures !== this.state.failures || next.message !== this.state.message || next.transport !== this.state.transport;
    this.state = next;
    if (changed) this.onState(next);
  }
}
