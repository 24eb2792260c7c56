/** Static HTML of `<ms-runs>`: the page of training runs with inline SVG loss sparklines, and the templates. */
import type { RunListRowProps, RunsViewProps } from '../workspace-types.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';
import { listSnapshot, templatesSnapshot, type SnapshotColumn } from './list-snapshot.js';
import { formatCount, formatDate, formatMetric, RUN_STATUS_ORDER, sparklineSvg, STATUS_COLORS } from './workspace-format.js';

/** "k 32 · lr 0.0003 · batch 4.1k · tokens 2.0M" */
export function hyperLine(hyper: Record<string, number | string>): string {
  return Object.entries(hyper)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (k === 'tokens' || k === 'batch' ? formatCount(v) : formatNumber(v)) : v}`)
    .join(' · ');
}

const COLUMNS: SnapshotColumn<RunListRowProps>[] = [
  { label: 'run', cell: (r) => `<b>${escapeHtml(r.name)}</b><div style="color:#777">${formatDate(r.createdAt)}</div>` },
  { label: 'status', cell: (r) => `<span style="color:${STATUS_COLORS[r.status] ?? '#888'}">${escapeHtml(r.status)}</span><div style="color:#777">${formatCount(r.step)} / ${formatCount(r.totalSteps)} steps</div>` },
  {
    label: 'architecture · hyperparameters',
    cell: (r) => `<b>${escapeHtml(r.architecture)}</b> ${formatCount(r.dIn)}→${formatCount(r.dSae)}<div style="color:#777;font-family:ui-monospace,monospace;font-size:11px">${escapeHtml(r.hook ?? '')}</div><div style="color:#777">${escapeHtml(hyperLine(r.hyper))}</div>`,
  },
  { label: 'L0 / target', cell: (r) => `${formatMetric(r.l0)} <span style="color:#777">/ ${r.targetL0 === null ? '—' : formatNumber(r.targetL0)}</span>`, align: 'right' },
  { label: 'MSE', cell: (r) => formatMetric(r.mse), align: 'right' },
  { label: 'EV', cell: (r) => formatMetric(r.explainedVariance), align: 'right' },
  { label: 'CE rec.', cell: (r) => formatMetric(r.ceLossRecovered), align: 'right' },
  { label: 'loss', cell: (r) => sparklineSvg(r.loss) },
];

export function runsSnapshot(props: Partial<RunsViewProps>): string {
  return listSnapshot({
    tag: 'ms-runs', title: 'Training runs', noun: 'runs', statuses: RUN_STATUS_ORDER, columns: COLUMNS, props, extra: templatesSnapshot(props.templates ?? []),
  });
}
