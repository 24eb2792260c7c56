/** Static HTML of `<ms-training-monitor>`: status line, progress bar and three inline SVG charts. */
import type { TrainingMonitorProps } from '../types.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';
import { lineChartSvg } from './svg-line-chart.js';
import { metricSeries, summarizeTraining, TRAINING_CHARTS } from './training-summary.js';

const STATUS_COLORS: Record<string, string> = {
  running: '#2e7d32',
  paused: '#ef6c00',
  stopped: '#616161',
  finished: '#1565c0',
  error: '#c62828',
};

export function trainingMonitorSnapshot(props: Partial<TrainingMonitorProps>): string {
  const metrics = props.metrics ?? [];
  const summary = summarizeTraining(props);
  const charts = TRAINING_CHARTS.map((chart) => lineChartSvg({ title: chart.title, points: metricSeries(metrics, chart.key), color: chart.color }));
  const last = metrics[metrics.length - 1];
  const deadFraction =
    last && props.dLatents ? ` (${formatNumber((100 * last.deadLatents) / props.dLatents)}% of ${formatNumber(props.dLatents)})` : '';
  const lastValues = last
    ? `last logged step ${formatNumber(last.step)}: loss ${formatNumber(last.loss)} · L0 ${formatNumber(last.l0)} · dead latents ${formatNumber(last.deadLatents)}${deadFraction}`
    : 'no metrics logged yet';
  return [
    `<div data-ms-snapshot="ms-training-monitor" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a">`,
    `<div style="font-weight:600;margin-bottom:4px">${escapeHtml(props.title ?? 'SAE training')}</div>`,
    `<div style="margin-bottom:4px"><span style="color:${STATUS_COLORS[summary.status]};font-weight:600">●</span> ${escapeHtml(summary.line)}</div>`,
    `<div style="width:320px;height:6px;background:#e0e0e0;border-radius:3px;margin-bottom:8px"><div style="width:${(summary.fraction * 100).toFixed(1)}%;height:6px;background:#1f77b4;border-radius:3px"></div></div>`,
    `<div style="display:flex;flex-wrap:wrap;gap:8px">${charts.join('')}</div>`,
    `<div style="margin-top:6px;font-size:12px;color:#444">${lastValues}</div>`,
    props.message ? `<div style="margin-top:4px;font-size:12px;color:#444">${escapeHtml(props.message)}</div>` : '',
    '</div>',
  ].join('');
}
