#!/usr/bin/env node
/**
 * Runs the monitor service alone: `node dist/monitor/serve.js --port N` or `--socket PATH`
 * (what jupyter-server-proxy starts, see jupyter_config.json), and `mistudio monitor --serve`.
 * jupyter_config.json names this file relative to the repository root, the working directory
 * scripts/start.sh gives Jupyter (and so the processes jupyter-server-proxy starts).
 *
 *   --port N        loopback TCP port (0: a free one); requests need the token
 *   --socket PATH   Unix socket instead of a port (behind Jupyter; no token: the socket's folder
 *                   is private to the user and Jupyter authenticates the browser)
 *   --token T       the token for TCP use (default: $MISTUDIO_MONITOR_TOKEN, else a random one)
 *   --interval S    seconds between samples when no client asks for another rate (0.5–10)
 *   --db FILE       keep the history in SQLite so it survives restarts
 *   --no-gpu        skip nvidia-smi
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MiStudioError } from '../errors.js';
import { MonitorHistory } from './history.js';
import { SqliteHistoryStore } from './history-db.js';
import { DEFAULT_INTERVAL_SECONDS, validateIntervalSeconds } from './interval.js';
import { MonitorSampler } from './sampler.js';
import { MonitorService, type ListenTarget } from './service.js';

export const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  socket: { type: 'string' },
  token: { type: 'string' },
  interval: { type: 'string' },
  db: { type: 'string' },
  'no-gpu': { type: 'boolean' },
} as const;

export interface ServeConfig {
  target: ListenTarget;
  token: string | null;
  intervalMs: number;
  dbFile: string | null;
  gpu: boolean;
}

export function serveConfigFromArgs(values: {
  port?: string;
  host?: string;
  socket?: string;
  token?: string;
  interval?: string;
  db?: string;
  'no-gpu'?: boolean;
}): ServeConfig {
  const intervalMs = validateIntervalSeconds(values.interval ?? DEFAULT_INTERVAL_SECONDS, '--interval');
  const common = { intervalMs, dbFile: values.db ?? null, gpu: !values['no-gpu'] };
  if (values.socket !== undefined) {
    if (values.port !== undefined) {
      throw new MiStudioError('INVALID_ARGUMENT', 'give either --port or --socket, not both', { field: '--socket' });
    }
    return { ...common, target: { socketPath: values.socket }, token: values.token ?? null };
  }
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MiStudioError('INVALID_ARGUMENT', `port '${values.port}' is not a TCP port`, { field: '--port', hint: 'give 0–65535 (0 picks a free port)' });
  }
  const token = values.token ?? process.env.MISTUDIO_MONITOR_TOKEN ?? randomBytes(24).toString('hex');
  return { ...common, target: { port, host: values.host ?? '127.0.0.1' }, token };
}

/** Starts the service and resolves once it has been stopped by SIGINT or SIGTERM. */
export async function serve(config: ServeConfig): Promise<number> {
  const store = config.dbFile ? new SqliteHistoryStore(config.dbFile) : null;
  const sampler = new MonitorSampler({
    intervalMs: config.intervalMs,
    history: new MonitorHistory(store),
    ...(config.gpu ? {} : { gpu: null }),
  });
  const service = new MonitorService({ sampler, token: config.token });
  const { port, socketPath } = await service.listen(config.target);
  const url = socketPath ? `unix:${socketPath}` : `http://127.0.0.1:${port}/`;
  // One machine-readable line, so scripts and tests can find the port and token.
  console.log(JSON.stringify({ service: 'mistudio-monitor', url, port, socketPath, token: config.token }));
  if (port !== null) console.error(`[mistudio monitor] open http://127.0.0.1:${port}/api/sample?token=${config.token}`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await service.close();
  store?.close();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true });
  return serve(serveConfigFromArgs(values));
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`mistudio monitor: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = error instanceof MiStudioError ? 2 : 1;
    },
  );
}
