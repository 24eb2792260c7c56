/** What the training monitor shows, derived from its props; shared by the live element and the snapshot. */
import type { TrainingMetricsRow, TrainingMonitorProps, TrainingStatus } from '../types.js';
import { formatNumber } from './format.js';
import type { Point } from './svg-line-chart.js';

export interface TrainingChartSpec {
  key: 'loss' | 'l0' | 'deadLatents';
  title: string;
  color: string;
}

/** The three charts, in display order. */
export const TRAINING_CHARTS: readonly TrainingChartSpec[] = [
  { key: 'loss', title: 'Loss', color: '#1f77b4' },
  { key: 'l0', title: 'L0 (active latents / token)', color: '#ff7f0e' },
  { key: 'deadLatents', title: 'Dead latents', color: '#d62728' },
];

export const STATUS_LABELS: Record<TrainingStatus, string> = {
  running: 'Running',
  paused: 'Paused',
  stopped: 'Stopped',
  finished: 'Finished',
  error: 'Error',
};

export interface TrainingSummary {
  status: TrainingStatus;
  step: number;
  totalSteps: number;
  /** Completed fraction in [0, 1]. */
  fraction: number;
  tokensPerSecond?: number;
  /** "Running · step 12 / 60 (20%) · 3,412 tokens/s" */
  line: string;
}

export function summarizeTraining(props: Partial<TrainingMonitorProps>): TrainingSummary {
  const metrics = props.metrics ?? [];
  const lastRow: TrainingMetricsRow | undefined = metrics[metrics.length - 1];
  const status: TrainingStatus = props.status && props.status in STATUS_LABELS ? props.status : 'running';
  const step = Math.max(props.step ?? 0, lastRow?.step ?? 0);
  const totalSteps = props.totalSteps ?? 0;
  const fraction = totalSteps > 0 ? Math.min(1, step / totalSteps) : 0;
  const tokensPerSecond = props.tokensPerSecond ?? lastRow?.tokensPerSecond;
  const parts = [
    STATUS_LABELS[status],
    totalSteps > 0 ? `step ${formatNumber(step)} / ${formatNumber(totalSteps)} (${Math.round(fraction * 100)}%)` : `step ${formatNumber(step)}`,
  ];
  if (tokensPerSecond !== undefined) parts.push(`${formatNumber(tokensPerSecond)} tokens/s`);
  return { status, step, totalSteps, fraction, tokensPerSecond, line: parts.join(' · ') };
}

/** [step, value] points of one metric, skipping rows where it is missing. */
export function metricSeries(metrics: readonly TrainingMetricsRow[], key: TrainingChartSpec['key']): Point[] {
  const points: Point[] = [];
  for (const row of metrics) {
    const y = row[key];
    if (typeof y === 'number' && typeof row.step === 'number') points.push([row.step, y]);
  }
  return points;
}
