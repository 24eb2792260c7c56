/**
 * A live `<ms-job-progress>` for any cooperative core Job (extraction, feature analysis,
 * tokenization): progress and status events update the widget, and its Pause/Resume/Stop buttons
 * drive the job. Notebook cells:
 *
 *   const job = new Job('extract', { kind: 'extraction' });
 *   showJob(job, 'Extracting blocks.6.hook_resid_post');
 *   await job.run(() => extractToCatalog(catalog, model, 'gutenberg-smollm2', { hooks }, { job }));
 */
import type { Job, JobEvent } from '@mistudio/core/jobs/index';
import { widget } from './index.js';
import type { WidgetHandle } from './types.js';

/** Progress updates sent to the front end at most this often (status changes go at once). */
const PROGRESS_INTERVAL_MS = 200;

export interface ShowJobOptions {
  /** Extra facts under the bar, e.g. the output folder. */
  details?: Record<string, string | number>;
}

export function showJob<R, M>(job: Job<R, M>, title: string, options: ShowJobOptions = {}): WidgetHandle {
  const w = widget('ms-job-progress', {
    title,
    status: job.status,
    done: job.progressValue?.done ?? 0,
    total: job.progressValue?.total ?? 0,
    unit: job.progressValue?.unit ?? '',
    controls: true,
    ...(options.details ? { details: options.details } : {}),
  });
  w.on('pause', () => job.pause('paused from the notebook'));
  w.on('resume', () => job.resume());
  w.on('stop', () => job.stop());

  let lastSentMs = 0;
  let rateWindow: { atMs: number; done: number } | undefined;
  let pending: Record<string, unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (!pending || w.closed) return;
    w.set(pending);
    pending = undefined;
    lastSentMs = Date.now();
  };
  const unsubscribe = job.on((event: JobEvent<M>) => {
    if (w.closed) return;
    if (event.type === 'progress') {
      const now = Date.now();
      const { done, total, unit } = event.progress;
      rateWindow ??= { atMs: now, done };
      const seconds = (now - rateWindow.atMs) / 1000;
      const rate = seconds > 0.5 ? (done - rateWindow.done) / seconds : undefined;
      pending = { ...pending, done, total, unit, ...(rate !== undefined ? { rate, etaSeconds: rate > 0 ? (total - done) / rate : null } : {}) };
      if (now - lastSentMs >= PROGRESS_INTERVAL_MS) flush();
      else timer ??= setTimeout(flush, PROGRESS_INTERVAL_MS);
    } else if (event.type === 'status') {
      pending = { ...pending, status: event.status, ...(event.reason ? { message: event.reason } : {}) };
      if (event.status === 'paused') rateWindow = undefined;
      flush();
      if (event.status === 'completed' || event.status === 'stopped' || event.status === 'failed') {
        if (timer) clearTimeout(timer);
        unsubscribe();
      }
    } else if (event.type === 'log') {
      pending = { ...pending, message: event.message };
    }
  });
  return w;
}
