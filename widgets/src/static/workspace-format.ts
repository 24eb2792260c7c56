/**
 * Formatting shared by the workspace views (`<ms-model-card>`, `<ms-models>`, `<ms-extractions>`,
 * `<ms-runs>`) and their static snapshots: sizes, counts, shapes, dates, metrics and sparklines.
 */
import { formatNumber } from './format.js';

/** 1.2 GB · 340.5 MB · 12 kB · 512 B (decimal units, as the CLI prints). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** 134.5M · 1.24B · 35.2k · 812 — parameter and token counts. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** A metric, or an em dash when the run has none yet. */
export function formatMetric(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : formatNumber(v);
}

/** "[batch, pos, 4, 16]" */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/** "2025-03-01 14:05" in UTC (the same text in every viewer and snapshot). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.slice(0, 16).replace('T', ' ');
}

/** Status filter order of each list view (origins for models). */
export const RUN_STATUS_ORDER = ['running', 'paused', 'pending', 'stopping', 'stopped', 'completed', 'failed'] as const;
export const EXTRACTION_STATUS_ORDER = ['running', 'stopped', 'completed', 'failed'] as const;
export const MODEL_ORIGIN_ORDER = ['local', 'cache'] as const;

/** Colours of statuses in all views (jobs, runs, extractions, models). */
export const STATUS_COLORS: Record<string, string> = {
  pending: '#888', running: '#1f77b4', paused: '#b8860b', stopping: '#b8860b', stopped: '#8a6d3b', completed: '#2ca02c', failed: '#d62728',
  ready: '#2ca02c', incomplete: '#b8860b', missing: '#d62728', local: '#555', cache: '#1f77b4',
};

/** SVG polyline points of a sparkline filling width × height (y up; a flat series sits in the middle). */
export function sparklinePoints(values: readonly number[], widthPx: number, heightPx: number): string {
  const ys = values.filter((v) => Number.isFinite(v));
  if (ys.length === 0) return '';
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  const span = max - min;
  const dx = ys.length > 1 ? (widthPx - 2) / (ys.length - 1) : 0;
  return ys.map((v, i) => `${(1 + i * dx).toFixed(1)},${(span > 0 ? 1 + (heightPx - 2) * (1 - (v - min) / span) : heightPx / 2).toFixed(1)}`).join(' ');
}

/** A sparkline as an inline SVG string (static snapshots). */
export function sparklineSvg(values: readonly number[], widthPx = 80, heightPx = 20, color = '#1f77b4'): string {
  const points = sparklinePoints(values, widthPx, heightPx);
  if (!points) return '<span style="color:#999">—</span>';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${widthPx} ${heightPx}" style="vertical-align:middle"><polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.3"/></svg>`;
}

/** "All 120 · running 3 · completed 100": counts per status for the filter bar. */
export function countsEntries(counts: Record<string, number>, order: readonly string[]): { key: string; label: string; count: number }[] {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return [{ key: '', label: 'all', count: total }, ...order.map((k) => ({ key: k, label: k, count: counts[k] ?? 0 }))];
}
