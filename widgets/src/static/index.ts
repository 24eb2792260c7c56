/**
 * `@mistudio/widgets/static`: Node-safe pure functions (no DOM, no Lit) that turn a widget's props
 * into a self-contained HTML snapshot with inline CSS and inline SVG. The kernel puts it in the
 * `text/html` entry of every widget display so nbconvert exports and script-stripping viewers
 * (GitHub) still show the widget.
 */
import type { JobProgressProps, TokenHighlightProps, TrainingMonitorProps } from '../types.js';
import { escapeHtml } from './escape.js';
import { featureWidgetSnapshot } from './feature-snapshots.js';
import { tokenHighlightSnapshot } from './token-highlight-snapshot.js';
import { trainingMonitorSnapshot } from './training-monitor-snapshot.js';
import { datasetBrowserSnapshot } from '../dataset-browser-snapshot.js';
import { jobProgressSnapshot } from './job-progress-snapshot.js';
import { workspaceSnapshot } from './workspace-snapshots.js';

export type * from '../types.js';
export { escapeHtml } from './escape.js';
export * from './feature-snapshots.js';
export * from './workspace-snapshots.js';
export type * from '../workspace-types.js';
export { formatNumber, visibleToken } from './format.js';
export { activationColor, maxAbs, positiveGradientCss, type TokenColors } from './color-scale.js';
export { lineChartSvg, downsample, type Point } from './svg-line-chart.js';
export { summarizeTraining, metricSeries, TRAINING_CHARTS, STATUS_LABELS, type TrainingSummary } from './training-summary.js';
export { tokenHighlightSnapshot } from './token-highlight-snapshot.js';
export { trainingMonitorSnapshot } from './training-monitor-snapshot.js';
export { jobProgressSnapshot, progressLine, fractionDone, formatDuration, JOB_STATUS_COLORS } from './job-progress-snapshot.js';

/** Longest props JSON shown by the generic snapshot of a tag without its own renderer. */
const GENERIC_JSON_CHARS = 4000;

/** Static HTML snapshot of any miStudio widget; unknown tags get a readable JSON summary. */
export function renderSnapshot(tag: string, props: Record<string, unknown> | object): string {
  switch (tag) {
    case 'ms-token-highlight':
      return tokenHighlightSnapshot(props as Partial<TokenHighlightProps>);
    case 'ms-training-monitor':
      return trainingMonitorSnapshot(props as Partial<TrainingMonitorProps>);
    case 'ms-dataset-browser': return datasetBrowserSnapshot(props);
    case 'ms-job-progress':
      return jobProgressSnapshot(props as Partial<JobProgressProps>);
    case 'ms-feature-card': case 'ms-logit-lens': case 'ms-correlations': case 'ms-ablation': case 'ms-feature-browser': return featureWidgetSnapshot(tag, props)!;
    case 'ms-model-card': case 'ms-models': case 'ms-extractions': case 'ms-runs': return workspaceSnapshot(tag, props);
    default:
      return genericSnapshot(tag, props);
  }
}

function genericSnapshot(tag: string, props: object): string {
  let json: string;
  try {
    json = JSON.stringify(props, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v), 2) ?? '';
  } catch {
    json = '(props are not JSON-serializable)';
  }
  const shown = json.length > GENERIC_JSON_CHARS ? `${json.slice(0, GENERIC_JSON_CHARS)}\n… (${json.length - GENERIC_JSON_CHARS} more characters)` : json;
  return [
    `<div data-ms-snapshot="${escapeHtml(tag)}" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px">`,
    `<div style="font-weight:600">miStudio &lt;${escapeHtml(tag)}&gt;</div>`,
    `<pre style="font-size:11px;max-height:300px;overflow:auto;background:#f7f7f7;padding:6px">${escapeHtml(shown)}</pre>`,
    '</div>',
  ].join('');
}
