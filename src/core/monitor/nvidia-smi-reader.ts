/**
 * Reads GPUs by running nvidia-smi asynchronously (never `systeminformation.graphics()`, which
 * blocks the event loop on execSync and needs lspci). A missing or failing nvidia-smi yields
 * `undefined` — no GPU section — and is logged once per state change, not once per sample.
 */
import { execFile } from 'node:child_process';
import {
  assembleGpus,
  COMPUTE_APPS_FIELDS,
  GPU_QUERY_FIELDS,
  parseComputeAppsCsv,
  parseGpuList,
  parseGpuQueryCsv,
  type ComputeAppRow,
  type MigListing,
} from './nvidia-smi-parse.js';
import type { GpuSample } from './types.js';

export interface NvidiaSmiReaderOptions {
  /** The executable; tests point it at a fake. Default `nvidia-smi` on PATH. */
  command?: string;
  /** Where the one-line state changes go. Default stderr. */
  log?: (message: string) => void;
  /** A call slower than this counts as a failure (a hung driver must not stall the sampler). */
  timeoutMs?: number;
  /** Per-process memory changes slowly; refreshing it at most this often halves nvidia-smi runs. */
  computeAppsEveryMs?: number;
  /** MIG layouts change only when an administrator repartitions a GPU. */
  migListEveryMs?: number;
  /** After a failure (or when nvidia-smi is missing) wait this long before trying again. */
  retryAfterFailureMs?: number;
  now?: () => number;
}

type State = 'unknown' | 'ok' | 'missing' | 'failing';

interface RunError extends Error {
  code?: string | number;
  killed?: boolean;
  stderr?: string;
  stdout?: string;
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const runError = error as RunError;
        runError.stderr = String(stderr);
        runError.stdout = String(stdout);
        reject(runError);
      } else {
        resolve(String(stdout));
      }
    });
  });
}

/** The first line nvidia-smi printed (it reports driver failures on stdout), else the exit status. */
function describe(error: unknown): string {
  const runError = error as RunError;
  if (runError.killed) return 'timed out';
  const firstLine = (text: string | undefined) => text?.split('\n').find((line) => line.trim().length > 0)?.trim();
  if (!(runError instanceof Error) || runError.stderr === undefined) return runError instanceof Error ? runError.message : String(error);
  return firstLine(runError.stderr) ?? firstLine(runError.stdout) ?? `exit status ${runError.code}`;
}

export class NvidiaSmiReader {
  private readonly command: string;
  private readonly log: (message: string) => void;
  private readonly timeoutMs: number;
  private readonly computeAppsEveryMs: number;
  private readonly migListEveryMs: number;
  private readonly retryAfterFailureMs: number;
  private readonly now: () => number;

  private state: State = 'unknown';
  private nextAttemptMs = 0;
  private apps: ComputeAppRow[] = [];
  private appsReadMs = -Infinity;
  private appsFailing = false;
  private migs: MigListing = new Map();
  private migsReadMs = -Infinity;
  private migEnabledUuids = '';

  constructor(options: NvidiaSmiReaderOptions = {}) {
    this.command = options.command ?? 'nvidia-smi';
    this.log = options.log ?? ((message) => console.error(`[mistudio monitor] ${message}`));
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.computeAppsEveryMs = options.computeAppsEveryMs ?? 2000;
    this.migListEveryMs = options.migListEveryMs ?? 30_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** 'missing' and 'failing' mean the last read returned no GPU section. */
  get status(): State {
    return this.state;
  }

  /** GPUs now, or undefined when there is no working nvidia-smi. */
  async read(): Promise<GpuSample[] | undefined> {
    const now = this.now();
    if ((this.state === 'missing' || this.state === 'failing') && now < this.nextAttemptMs) return undefined;
    let rows;
    try {
      rows = parseGpuQueryCsv(
        await run(this.command, [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], this.timeoutMs),
      );
    } catch (error) {
      this.fail(error, now);
      return undefined;
    }
    if (this.state !== 'ok') {
      this.log(`${this.state === 'unknown' ? 'nvidia-smi found' : 'nvidia-smi works again'}: ${rows.length} GPU(s)`);
      this.state = 'ok';
    }

    const migEnabled = rows.filter((row) => row.migMode === 'enabled').map((row) => row.uuid).join(',');
    const [apps, migs] = await Promise.all([
      this.readComputeApps(now),
      this.readMigListing(now, migEnabled),
    ]);
    return assembleGpus(rows, apps, migs);
  }

  private fail(error: unknown, now: number): void {
    const missing = (error as RunError).code === 'ENOENT';
    const next: State = missing ? 'missing' : 'failing';
    if (this.state !== next) {
      this.log(
        missing
          ? `nvidia-smi not found (${this.command}): no GPU metrics; checking again every ${this.retryAfterFailureMs / 1000} s`
          : `nvidia-smi failed (${describe(error)}): no GPU metrics until it works again`,
      );
    }
    this.state = next;
    this.nextAttemptMs = now + this.retryAfterFailureMs;
  }

  private async readComputeApps(now: number): Promise<ComputeAppRow[]> {
    if (now - this.appsReadMs < this.computeAppsEveryMs) return this.apps;
    this.appsReadMs = now;
    try {
      this.apps = parseComputeAppsCsv(
        await run(
          this.command,
          [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
          this.timeoutMs,
        ),
      );
      this.appsFailing = false;
    } catch (error) {
      if (!this.appsFailing) this.log(`nvidia-smi --query-compute-apps failed (${describe(error)}): no per-process GPU memory`);
      this.appsFailing = true;
      this.apps = [];
    }
    return this.apps;
  }

  private async readMigListing(now: number, migEnabledUuids: string): Promise<MigListing> {
    if (migEnabledUuids === '') {
      this.migEnabledUuids = '';
      return new Map();
    }
    const layoutChanged = migEnabledUuids !== this.migEnabledUuids;
    if (!layoutChanged && now - this.migsReadMs < this.migListEveryMs) return this.migs;
    this.migEnabledUuids = migEnabledUuids;
    this.migsReadMs = now;
    try {
      this.migs = parseGpuList(await run(this.command, ['-L'], this.timeoutMs));
    } catch (error) {
      if (layoutChanged) this.log(`nvidia-smi -L failed (${describe(error)}): MIG slices not listed`);
      this.migs = new Map();
    }
    return this.migs;
  }
}
