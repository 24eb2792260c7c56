/** Static HTML of `<ms-job-progress>`: a CSS progress bar, the counts and rate, the final status. */
import type { JobProgressProps } from '../types.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';

export const JOB_STATUS_COLORS: Record<string, string> = {
  pending: '#888', running: '#1f77b4', paused: '#b8860b', stopping: '#b8860b', stopped: '#8a6d3b', completed: '#2ca02c', failed: '#d62728',
};

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "1,234 / 10,000 tokens · 512 tokens/s · ETA 18 s" */
export function progressLine(p: Partial<JobProgressProps>): string {
  const unit = p.unit ?? '';
  const parts = [`${formatNumber(p.done ?? 0)}${p.total ? ` / ${formatNumber(p.total)}` : ''} ${unit}`.trim()];
  if (p.rate !== undefined && p.rate > 0) parts.push(`${formatNumber(p.rate)} ${unit}/s`);
  if (p.status === 'running' && p.etaSeconds !== undefined && p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join(' · ');
}

export function fractionDone(p: Partial<JobProgressProps>): number {
  return p.total ? Math.max(0, Math.min(1, (p.done ?? 0) / p.total)) : 0;
}

export function jobProgressSnapshot(p: Partial<JobProgressProps>): string {
  const status = p.status ?? 'pending';
  const color = JOB_STATUS_COLORS[status] ?? '#888';
  const pct = (fractionDone(p) * 100).toFixed(1);
  const details = Object.entries(p.details ?? {})
    .map(([k, v]) => `<span><b>${escapeHtml(k)}</b> ${escapeHtml(typeof v === 'number' ? formatNumber(v) : v)}</span>`)
    .join(' · ');
  return [
    `<div data-ms-snapshot="ms-job-progress" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a;max-width:640px">`,
    `<div style="display:flex;justify-content:space-between;gap:8px"><span style="font-weight:600">${escapeHtml(p.title ?? 'job')}</span>`,
    `<span style="color:${color};font-weight:600">${escapeHtml(status)}</span></div>`,
    `<div style="height:10px;background:#eee;border-radius:5px;margin:6px 0;overflow:hidden"><div style="width:${pct}%;height:100%;background:${color}"></div></div>`,
    `<div style="font-size:12px;color:#444">${escapeHtml(progressLine(p))}${p.total ? ` · ${pct}%` : ''}</div>`,
    details ? `<div style="font-size:12px;color:#555;margin-top:2px">${details}</div>` : '',
    p.message ? `<div style="font-size:12px;color:${status === 'failed' ? '#d62728' : '#555'};margin-top:4px">${escapeHtml(p.message)}</div>` : '',
    '</div>',
  ].join('');
}
