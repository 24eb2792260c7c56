/**
 * Takes a sample every interval (system counters and GPUs in parallel), records it in the history
 * and hands it to listeners. Ticks never overlap: the next one is scheduled when the current one
 * finishes, aimed at the interval grid so the rate does not drift by the sampling time.
 */
import { NvidiaSmiReader } from './nvidia-smi-reader.js';
import { SystemReader } from './system-reader.js';
import { MonitorHistory } from './history.js';
import { DEFAULT_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS } from './interval.js';
import { MiStudioError } from '../errors.js';
import type { GpuSample, MonitorSample } from './types.js';

export interface GpuSource {
  read(): Promise<GpuSample[] | undefined>;
}

export interface SystemSource {
  read(): ReturnType<SystemReader['read']>;
}

export interface MonitorSamplerOptions {
  intervalMs?: number;
  /** null: no GPU section at all (tests, or `--no-gpu`). Default: nvidia-smi. */
  gpu?: GpuSource | null;
  system?: SystemSource;
  history?: MonitorHistory;
  log?: (message: string) => void;
}

export type SampleListener = (sample: MonitorSample) => void;

export class MonitorSampler {
  readonly history: MonitorHistory;
  private readonly gpu: GpuSource | null;
  private readonly system: SystemSource;
  private readonly log: (message: string) => void;
  private readonly listeners = new Set<SampleListener>();
  private currentIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<MonitorSample> | null = null;
  private lastTickMs = 0;
  private lastError = '';
  private latestSample: MonitorSample | null = null;

  constructor(options: MonitorSamplerOptions = {}) {
    this.currentIntervalMs = checkIntervalMs(options.intervalMs ?? DEFAULT_INTERVAL_SECONDS * 1000);
    this.gpu = options.gpu === undefined ? new NvidiaSmiReader({ log: options.log }) : options.gpu;
    this.system = options.system ?? new SystemReader();
    this.history = options.history ?? new MonitorHistory();
    this.log = options.log ?? ((message) => console.error(`[mistudio monitor] ${message}`));
  }

  get intervalMs(): number {
    return this.currentIntervalMs;
  }

  get latest(): MonitorSample | null {
    return this.latestSample;
  }

  onSample(listener: SampleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One sample now (shared with a tick already in flight, so readers never run twice at once). */
  sampleOnce(): Promise<MonitorSample> {
    this.inFlight ??= this.takeSample().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Changes the interval; a running sampler reschedules its next tick from the last one. */
  setIntervalMs(intervalMs: number): void {
    const next = checkIntervalMs(intervalMs);
    if (next === this.currentIntervalMs) return;
    this.currentIntervalMs = next;
    if (this.running && this.timer) {
      clearTimeout(this.timer);
      this.schedule();
    }
  }

  private async takeSample(): Promise<MonitorSample> {
    const timestampMs = Date.now();
    const [system, gpus] = await Promise.all([this.system.read(), this.gpu ? this.gpu.read() : Promise.resolve(undefined)]);
    const sample: MonitorSample = { timestampMs, intervalMs: this.currentIntervalMs, ...system };
    if (gpus) sample.gpus = gpus;
    this.latestSample = sample;
    return sample;
  }

  private async tick(): Promise<void> {
    this.timer = null;
    this.lastTickMs = performance.now();
    try {
      const sample = await this.sampleOnce();
      this.lastError = '';
      this.history.add(sample);
      for (const listener of this.listeners) listener(sample);
    } catch (error) {
      // Log each distinct failure once; a persistent fault must not fill the log every second.
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastError) this.log(`sampling failed: ${message}`);
      this.lastError = message;
    }
    if (this.running) this.schedule();
  }

  private schedule(): void {
    const delayMs = Math.max(0, this.lastTickMs + this.currentIntervalMs - performance.now());
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }
}

function checkIntervalMs(intervalMs: number): number {
  if (!Number.isFinite(intervalMs) || intervalMs < MIN_INTERVAL_SECONDS * 1000 || intervalMs > MAX_INTERVAL_SECONDS * 1000) {
    throw new MiStudioError('INVALID_ARGUMENT', `monitor interval ${intervalMs} ms is out of range`, {
      field: 'intervalMs',
      hint: `give ${MIN_INTERVAL_SECONDS * 1000} to ${MAX_INTERVAL_SECONDS * 1000} ms`,
    });
  }
  return intervalMs;
}
