/**
 * A cooperative job: the work loop calls `await job.checkpoint()` between units of work. That
 * yields to the event loop (so notebook comm messages — pause, resume, stop — are handled while a
 * cell runs), blocks while the job is paused, and tells the loop to wind down once stop is asked.
 * Status changes, progress and metrics go out as typed events; with a record file the job's status
 * is also kept on disk, so after a restart the caller can see what was interrupted and resume it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';

export type JobStatus = 'pending' | 'running' | 'paused' | 'stopping' | 'stopped' | 'completed' | 'failed';

export interface JobProgress {
  done: number;
  total: number;
  /** What done/total count ('tokens', 'steps', 'rows'). */
  unit: string;
}

export type JobEvent<M> =
  | { type: 'status'; status: JobStatus; reason?: string }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'metrics'; metrics: M }
  | { type: 'log'; message: string }
  /** Something the user should know that changed how the work runs (e.g. the batch was halved). */
  | { type: 'notice'; code: string; message: string; detail?: Record<string, unknown> };

/** What the record file holds. */
export interface JobRecord {
  name: string;
  kind: string;
  status: JobStatus;
  reason?: string;
  progress?: JobProgress;
  error?: string;
  updatedAt: string;
}

export interface JobOutcome<R> {
  status: 'completed' | 'stopped' | 'failed';
  result?: R;
  error?: unknown;
}

export interface JobOptions {
  /** A label for the kind of work ('sae-training', 'extraction', ...), kept in the record. */
  kind: string;
  /** JSON file (written atomically) that mirrors the job's status across restarts. */
  recordFile?: string;
}

type Listener<M> = (event: JobEvent<M>) => void;

export class Job<R = unknown, M = unknown> {
  private currentStatus: JobStatus = 'pending';
  private reason: string | undefined;
  private lastProgress: JobProgress | undefined;
  private readonly listeners = new Set<Listener<M>>();
  private pauseRequested = false;
  private stopRequested = false;
  private wake: (() => void) | undefined;

  constructor(readonly name: string, private readonly options: JobOptions) {}

  /** Mirrors the status into `file` from now on (the runner of the work knows where it lives). */
  persistTo(file: string): void {
    this.options.recordFile = file;
  }

  get status(): JobStatus {
    return this.currentStatus;
  }
  get progressValue(): JobProgress | undefined {
    return this.lastProgress;
  }
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: Listener<M>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Asks the loop to pause at its next checkpoint. A job still pending (its work is being prepared)
   * pauses at its first checkpoint; a finished job ignores it.
   */
  pause(reason?: string): void {
    if (this.currentStatus !== 'running' && this.currentStatus !== 'pending') return;
    this.pauseRequested = true;
    this.reason = reason;
  }

  resume(): void {
    if (this.currentStatus !== 'paused' && !this.pauseRequested) return;
    this.pauseRequested = false;
    this.wake?.();
  }

  /** Asks the loop to stop at its next checkpoint (a paused job stops at once). */
  stop(): void {
    if (this.currentStatus === 'completed' || this.currentStatus === 'failed' || this.currentStatus === 'stopped') return;
    this.stopRequested = true;
    if (this.currentStatus === 'running' || this.currentStatus === 'paused') this.setStatus('stopping');
    this.wake?.();
  }

  progress(progress: JobProgress): void {
    this.lastProgress = progress;
    this.emit({ type: 'progress', progress });
  }

  metrics(metrics: M): void {
    this.emit({ type: 'metrics', metrics });
  }

  log(message: string): void {
    this.emit({ type: 'log', message });
  }

  /** A notice event, and the same message as a log line (for listeners that only print logs). */
  notice(code: string, message: string, detail?: Record<string, unknown>): void {
    this.emit({ type: 'notice', code, message, ...(detail ? { detail } : {}) });
    this.log(message);
  }

  /**
   * Between units of work: yields to the event loop; if a pause was asked, runs `onPause` (e.g.
   * write a checkpoint) and waits for resume or stop. Resolves 'stop' when the loop should end.
   */
  async checkpoint(onPause?: () => Promise<void>): Promise<'continue' | 'stop'> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.pauseRequested && !this.stopRequested) {
      this.setStatus('paused', this.reason);
      await onPause?.();
      while (this.pauseRequested && !this.stopRequested) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
      if (!this.stopRequested) this.setStatus('running');
    }
    return this.stopRequested ? 'stop' : 'continue';
  }

  /** Runs the work once; events report the outcome, and so does the resolved value. */
  async run(work: (job: Job<R, M>) => Promise<R>): Promise<JobOutcome<R>> {
    if (this.currentStatus !== 'pending') throw new MiStudioError('INVALID_ARGUMENT', `job '${this.name}' has already run (status ${this.currentStatus})`);
    this.setStatus('running');
    try {
      const result = await work(this);
      this.setStatus(this.stopRequested ? 'stopped' : 'completed');
      return { status: this.stopRequested ? 'stopped' : 'completed', result };
    } catch (error) {
      this.setStatus('failed', error instanceof Error ? error.message : String(error));
      return { status: 'failed', error };
    }
  }

  private setStatus(status: JobStatus, reason?: string): void {
    this.currentStatus = status;
    this.reason = reason;
    if (this.options.recordFile) {
      const record: JobRecord = { name: this.name, kind: this.options.kind, status, reason, progress: this.lastProgress, updatedAt: new Date().toISOString() };
      if (status === 'failed') record.error = reason;
      writeJsonAtomic(this.options.recordFile, record);
    }
    this.emit({ type: 'status', status, reason });
  }

  private emit(event: JobEvent<M>): void {
    for (const l of this.listeners) l(event);
  }
}

/** The record a job left, or undefined. A record still saying 'running' means the process died. */
export function readJobRecord(file: string): JobRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JobRecord;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', 'job record is not valid JSON', { file, cause });
  }
}

/** Whether a job with this record should be resumed (it did not finish and was not stopped for good). */
export function isResumable(record: JobRecord | undefined): boolean {
  return !!record && (record.status === 'running' || record.status === 'paused' || record.status === 'stopping' || record.status === 'stopped' || record.status === 'pending');
}
