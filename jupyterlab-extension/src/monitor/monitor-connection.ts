/**
 * One connection to the monitor service per JupyterLab page, shared by the sidebar panel and the
 * status-bar item: it owns the MonitorClient, the history of the chosen range and the user's
 * settings (kept in localStorage: they are per browser, like the sidebar's width), and pushes
 * every change to the elements that show them.
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { MonitorClient, type MonitorClientState } from '@mistudio/widgets/system-monitor-client';
import type { ByteUnits, HistoryRange, HistoryResponse, MonitorSample } from '@mistudio/widgets/system-monitor-types';

/** The jupyter-server-proxy entry name in jupyter_config.json. */
export const MONITOR_PROXY_NAME = 'mistudio-monitor';
const SETTINGS_KEY = 'mistudio:system-monitor';
/** The downsampled ranges gain a point per bucket; refetching each minute keeps them current. */
const HISTORY_REFRESH_MS = 60_000;

export interface MonitorSettings {
  intervalSeconds: number;
  units: ByteUnits;
  range: HistoryRange;
}

export interface MonitorView {
  sample: MonitorSample | null;
  history: HistoryResponse | null;
  state: MonitorClientState;
  settings: MonitorSettings;
}

function loadSettings(): MonitorSettings {
  const defaults: MonitorSettings = { intervalSeconds: 1, units: 'binary', range: '1h' };
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as Partial<MonitorSettings>;
    return {
      intervalSeconds: [0.5, 1, 2, 5, 10].includes(saved.intervalSeconds ?? -1) ? saved.intervalSeconds! : defaults.intervalSeconds,
      units: saved.units === 'decimal' ? 'decimal' : 'binary',
      range: saved.range === '6h' || saved.range === '24h' ? saved.range : '1h',
    };
  } catch {
    return defaults;
  }
}

export class MonitorConnection {
  readonly serviceUrl: string;
  private readonly client: MonitorClient;
  private readonly listeners = new Set<(view: MonitorView) => void>();
  private view: MonitorView;
  private historyTimer: ReturnType<typeof setInterval> | null = null;
  private historyRequest = 0;

  constructor() {
    const settings = ServerConnection.makeSettings();
    this.serviceUrl = URLExt.join(PageConfig.getBaseUrl(), MONITOR_PROXY_NAME, '/');
    this.view = { sample: null, history: null, state: { status: 'loading', failures: 0, message: '', transport: 'none' }, settings: loadSettings() };
    this.client = new MonitorClient({
      serviceUrl: this.serviceUrl,
      // Jupyter authenticates the proxied socket like its own: by cookie, or by token in the query.
      webSocketQuery: settings.token ? `token=${encodeURIComponent(settings.token)}` : '',
      request: (url, init) => ServerConnection.makeRequest(url, { signal: init.signal, cache: 'no-store' }, settings),
      intervalSeconds: this.view.settings.intervalSeconds,
      onSample: (sample) => {
        const first = this.view.sample === null;
        this.update({ sample });
        if (first) void this.loadHistory();
      },
      onState: (state) => {
        const recovered = state.status === 'live' && this.view.state.status === 'error';
        this.update({ state });
        // History has a hole where the service was down; fetch what it recorded since.
        if (recovered) void this.loadHistory();
      },
    });
  }

  start(): void {
    this.client.start();
    this.historyTimer = setInterval(() => {
      if (this.view.settings.range !== '1h' && !document.hidden) void this.loadHistory();
    }, HISTORY_REFRESH_MS);
  }

  dispose(): void {
    this.client.stop();
    if (this.historyTimer) clearInterval(this.historyTimer);
    this.listeners.clear();
  }

  subscribe(listener: (view: MonitorView) => void): () => void {
    this.listeners.add(listener);
    listener(this.view);
    return () => this.listeners.delete(listener);
  }

  setRange(range: HistoryRange): void {
    this.saveSettings({ ...this.view.settings, range });
    void this.loadHistory();
  }

  setSettings(intervalSeconds: number, units: ByteUnits): void {
    this.saveSettings({ ...this.view.settings, intervalSeconds, units });
    this.client.setIntervalSeconds(intervalSeconds);
  }

  retry(): void {
    this.client.retryNow();
  }

  private saveSettings(settings: MonitorSettings): void {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    } catch {
      // Private windows may refuse storage; the settings then last for this page only.
    }
    this.update({ settings });
  }

  private async loadHistory(): Promise<void> {
    const range = this.view.settings.range;
    const request = ++this.historyRequest;
    try {
      const history = await this.client.fetchHistory(range);
      // A slower answer for a range the user has since left must not overwrite the newer one.
      if (request === this.historyRequest) this.update({ history });
    } catch {
      // The sample stream reports the service's health; a missed history fetch retries on recovery.
    }
  }

  private update(change: Partial<MonitorView>): void {
    this.view = { ...this.view, ...change };
    for (const listener of this.listeners) listener(this.view);
  }
}
