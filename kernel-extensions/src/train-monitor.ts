/**
 * SAE training with a live `<ms-training-monitor>` in the cell's output: metrics stream in with
 * `append` (the history is never resent), status changes and notices (a halved batch, the memory
 * estimate, the final CE loss recovered) update the status line, and the widget's Pause / Resume /
 * Stop buttons drive the training Job. Stop ends with a checkpoint; `resumeWithMonitor` continues
 * it in a later cell (or after a kernel restart).
 *
 *   import { trainWithMonitor, resumeWithMonitor } from '@mistudio/kernel';
 *   const out = await trainWithMonitor({ architecture: 'topk', dIn: 576, expansionFactor: 8, k: 32 },
 *                                      { runDir: 'runs/l12', source, evaluate, history: { catalog } });
 *   // ... after Stop:
 *   await resumeWithMonitor({ runDir: 'runs/l12', source });
 */
import path from 'node:path';
import { Job, type JobEvent, type JobOutcome } from '@mistudio/core/jobs/job';
import { CHECKPOINT_FILE, readCheckpoint } from '@mistudio/core/sae/checkpoint';
import { resolveTrainingConfig, totalSteps, type TrainingConfig, type TrainingConfigInput } from '@mistudio/core/sae/config';
import { readRunConfig, resumeTraining, trainSae, type TrainerOptions, type TrainingJob, type TrainingMetrics, type TrainingResult } from '@mistudio/core/sae/trainer';
import { widget } from './index.js';
import type { WidgetHandle } from './types.js';

/**
 * Metrics rows are sent at most this often (batched): each message also refreshes the saved output,
 * which makes the front end re-render the output, so fast steps must not turn into a message each.
 */
const APPEND_INTERVAL_MS = 1000;

export interface TrainWithMonitorOptions extends Omit<TrainerOptions, 'job'> {
  /** Heading of the monitor (default "<architecture> SAE · d_in→d_sae"). */
  title?: string;
  /** Called with the job before training starts (e.g. to listen to its events). */
  onJob?: (job: TrainingJob) => void;
}

export interface MonitoredOutcome extends JobOutcome<TrainingResult> {
  widget: WidgetHandle;
}

/** One streamed row: what the monitor charts, plus the numbers worth keeping in the saved output. */
function metricsRow(m: TrainingMetrics): Record<string, number> {
  const row: Record<string, number> = {
    step: m.step, loss: m.loss, l0: m.l0, deadLatents: m.deadLatents, tokensPerSecond: Math.round(m.tokensPerSecond),
    mse: m.mseLoss, explainedVariance: m.explainedVariance, lr: m.lr,
  };
  if (m.eval?.ceLossRecovered !== undefined) row.ceLossRecovered = m.eval.ceLossRecovered;
  if (m.eval?.klDivWithSae !== undefined) row.klDiv = m.eval.klDivWithSae;
  return row;
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

function finalMessage(result: TrainingResult | undefined): string {
  const m = result?.lastMetrics;
  const e = result?.lastEval;
  const parts = [result?.saeDir ? `SAE saved to ${result.saeDir}` : ''];
  if (m) parts.push(`EV ${fixed(m.explainedVariance, 3)}, L0 ${fixed(m.l0, 1)}`);
  if (e?.ceLossRecovered !== undefined) parts.push(`CE loss recovered ${fixed(e.ceLossRecovered, 3)}`);
  return parts.filter(Boolean).join(' · ');
}

async function monitor(cfg: TrainingConfig, title: string | undefined, start: (job: TrainingJob) => Promise<JobOutcome<TrainingResult>>, options: TrainWithMonitorOptions, initialStep: number): Promise<MonitoredOutcome> {
  const total = totalSteps(cfg);
  const w = widget('ms-training-monitor', {
    title: title ?? `${cfg.architecture} SAE · ${cfg.dIn}→${cfg.dSae}`,
    status: 'running',
    step: initialStep,
    totalSteps: total,
    dLatents: cfg.dSae,
    metrics: [],
    message: 'starting…',
  });
  const job: TrainingJob = new Job(`train ${cfg.architecture} ${cfg.dIn}×${cfg.dSae}`, { kind: 'sae-training' });
  w.on('pause', () => job.pause('paused from the notebook'));
  w.on('resume', () => job.resume());
  w.on('stop', () => job.stop());
  let step = initialStep;
  let steps = total;
  let message = '';
  let rows: Record<string, number>[] = [];
  let lastAppendMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (rows.length === 0) return;
    w.append('metrics', rows);
    rows = [];
    lastAppendMs = Date.now();
  };
  job.on((e: JobEvent<TrainingMetrics>) => {
    if (e.type === 'status') flush(); // the history is complete before the status line changes
    switch (e.type) {
      case 'metrics':
        step = e.metrics.step;
        if (e.metrics.totalSteps !== steps) {
          // The batch was halved: more, smaller steps.
          flush();
          steps = e.metrics.totalSteps;
          w.set({ totalSteps: steps });
        }
        rows.push(metricsRow(e.metrics));
        if (Date.now() - lastAppendMs >= APPEND_INTERVAL_MS) flush();
        else if (!timer) {
          timer = setTimeout(flush, APPEND_INTERVAL_MS - (Date.now() - lastAppendMs));
          timer.unref();
        }
        break;
      case 'status':
        if (e.status === 'paused') w.set({ status: 'paused', step, message: e.reason ? `paused: ${e.reason} · checkpoint saved` : 'paused · checkpoint saved' });
        else if (e.status === 'running') w.set({ status: 'running', step, message });
        else if (e.status === 'stopping') w.set({ message: 'stopping after this step…' });
        break;
      case 'notice':
        message = e.message;
        w.set({ message });
        break;
      case 'log':
        if (e.message.startsWith('memory estimate')) {
          message = e.message;
          w.set({ message });
        }
        break;
    }
  });
  options.onJob?.(job);
  const outcome = await start(job);
  flush();
  const result = outcome.result;
  if (outcome.status === 'completed') {
    w.set({ status: 'finished', step: result?.steps ?? step, message: finalMessage(result) });
  } else if (outcome.status === 'stopped') {
    w.set({ status: 'stopped', step: result?.steps ?? step, message: `stopped at step ${result?.steps ?? step} · checkpoint saved in ${options.runDir}; continue with resumeWithMonitor` });
  } else {
    w.set({ status: 'error', step, message: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) });
  }
  return { ...outcome, widget: w };
}

/** Trains an SAE in `options.runDir` with a live monitor; resolves when it completes, stops or fails. */
export async function trainWithMonitor(config: TrainingConfigInput, options: TrainWithMonitorOptions): Promise<MonitoredOutcome> {
  const cfg = resolveTrainingConfig(config);
  return monitor(cfg, options.title, (job) => trainSae(cfg, { ...options, job }), options, 0);
}

/** Continues the run saved in `options.runDir` from its checkpoint, with a live monitor. */
export async function resumeWithMonitor(options: TrainWithMonitorOptions): Promise<MonitoredOutcome> {
  const cfg = readRunConfig(options.runDir);
  const step = readCheckpoint(path.join(options.runDir, CHECKPOINT_FILE)).state.step;
  return monitor(cfg, options.title ?? `${cfg.architecture} SAE · ${cfg.dIn}→${cfg.dSae} (resumed at step ${step})`, (job) => resumeTraining({ ...options, job }), options, step);
}
