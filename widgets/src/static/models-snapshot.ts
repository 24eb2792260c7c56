/** Static HTML of `<ms-models>` and the download line shared with the live element. */
import type { ModelDownloadState, ModelListRow, ModelsViewProps } from '../workspace-types.js';
import { escapeHtml } from './escape.js';
import { listSnapshot, type SnapshotColumn } from './list-snapshot.js';
import { formatBytes, formatCount, MODEL_ORIGIN_ORDER, STATUS_COLORS } from './workspace-format.js';

/** Fraction of the current file done (0 when its size is unknown). */
export function downloadFraction(d: ModelDownloadState): number {
  return d.fileTotal ? Math.max(0, Math.min(1, (d.fileBytes ?? 0) / d.fileTotal)) : 0;
}

/** "model.safetensors 12.3 MB / 40.0 MB · 2 files done · 14.1 MB in all" (or the final message). */
export function downloadLine(d: ModelDownloadState): string {
  const parts: string[] = [];
  if (d.status === 'downloading' && d.file) parts.push(`${d.file} ${formatBytes(d.fileBytes ?? 0)}${d.fileTotal ? ` / ${formatBytes(d.fileTotal)}` : ''}`);
  parts.push(`${d.filesDone} file${d.filesDone === 1 ? '' : 's'} done`, `${formatBytes(d.bytesDone)} downloaded`);
  if (d.message) parts.push(d.message);
  return parts.join(' · ');
}

const dot = (key: string) => `<span style="display:inline-block;width:8px;height:8px;border-radius:4px;margin-right:4px;background:${STATUS_COLORS[key] ?? '#888'}"></span>${escapeHtml(key)}`;

const COLUMNS: SnapshotColumn<ModelListRow>[] = [
  { label: 'model', cell: (r) => `<b>${escapeHtml(r.name)}</b><div style="color:#777;font-size:11px">${escapeHtml(r.path)}</div>` },
  { label: 'origin', cell: (r) => dot(r.origin) },
  { label: 'architecture', cell: (r) => escapeHtml(r.architecture ?? '—') },
  { label: 'parameters', cell: (r) => formatCount(r.parameters), align: 'right' },
  { label: 'precision', cell: (r) => `${escapeHtml(r.precision ?? '—')} <span style="color:#777">${escapeHtml(r.format)}</span>` },
  { label: 'size', cell: (r) => formatBytes(r.bytes), align: 'right' },
  { label: 'status', cell: (r) => dot(r.status) + (r.error ? `<div style="color:#777">${escapeHtml(r.error)}</div>` : '') },
];

export function modelsSnapshot(props: Partial<ModelsViewProps>): string {
  const d = props.download;
  const download = d ? `<div style="margin:6px 0"><b>${escapeHtml(d.id)}</b> ${escapeHtml(d.status)} · ${escapeHtml(downloadLine(d))}</div>` : '';
  return listSnapshot({ tag: 'ms-models', title: 'Models', noun: 'models', statuses: MODEL_ORIGIN_ORDER, columns: COLUMNS, props, extra: download });
}
