/** Static HTML of `<ms-extractions>`: the page of the extraction history and the templates. */
import type { ExtractionListRowProps, ExtractionsViewProps } from '../workspace-types.js';
import { escapeHtml } from './escape.js';
import { formatDuration } from './job-progress-snapshot.js';
import { listSnapshot, templatesSnapshot, type SnapshotColumn } from './list-snapshot.js';
import { EXTRACTION_STATUS_ORDER, formatBytes, formatCount, formatDate, STATUS_COLORS } from './workspace-format.js';

const COLUMNS: SnapshotColumn<ExtractionListRowProps>[] = [
  { label: 'extraction', cell: (r) => `<b>${escapeHtml(r.name)}</b><div style="color:#777">${formatDate(r.createdAt)}</div>` },
  { label: 'model', cell: (r) => escapeHtml(r.model) },
  { label: 'dataset', cell: (r) => escapeHtml(r.dataset ?? '(deleted)') },
  { label: 'hooks', cell: (r) => r.hooks.map((h) => `<div style="font-family:ui-monospace,monospace;font-size:11px">${escapeHtml(h)}</div>`).join('') },
  { label: 'tokens', cell: (r) => formatCount(r.tokens), align: 'right' },
  { label: 'size', cell: (r) => formatBytes(r.bytes), align: 'right' },
  { label: 'duration', cell: (r) => formatDuration(r.durationSeconds), align: 'right' },
  { label: 'status', cell: (r) => `<span style="color:${STATUS_COLORS[r.status] ?? '#888'}">${escapeHtml(r.status)}</span>` },
];

export function extractionsSnapshot(props: Partial<ExtractionsViewProps>): string {
  return listSnapshot({ tag: 'ms-extractions', title: 'Activation extractions', noun: 'extractions', statuses: EXTRACTION_STATUS_ORDER, columns: COLUMNS, props, extra: templatesSnapshot(props.templates ?? []) });
}
