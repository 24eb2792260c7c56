/**
 * Static HTML of a workspace list view (`<ms-models>`, `<ms-extractions>`, `<ms-runs>`): title,
 * counts per status with the active filter in bold, the page shown as a table, and paging facts.
 * No script, inline styles only.
 */
import type { ListPageProps } from '../workspace-types.js';
import { escapeHtml } from './escape.js';
import { countsEntries } from './workspace-format.js';

export interface SnapshotColumn<Row> {
  label: string;
  /** Cell HTML (already escaped). */
  cell(row: Row): string;
  align?: 'left' | 'right';
}

export interface ListSnapshotOptions<Row> {
  tag: string;
  title: string;
  noun: string;
  statuses: readonly string[];
  columns: readonly SnapshotColumn<Row>[];
  props: Partial<ListPageProps<Row>>;
  /** Extra HTML after the table (templates, downloads). */
  extra?: string;
}

const CELL = 'padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top';

export function listSnapshot<Row>(o: ListSnapshotOptions<Row>): string {
  const p = o.props;
  const rows = p.rows ?? [];
  const counts = countsEntries(p.counts ?? {}, o.statuses)
    .map((c) => {
      const text = `${escapeHtml(c.label)} ${c.count}`;
      return (p.status ?? '') === c.key ? `<b>${text}</b>` : text;
    })
    .join(' · ');
  const head = o.columns.map((c) => `<th style="${CELL};text-align:${c.align ?? 'left'};border-bottom:1px solid #ccc">${escapeHtml(c.label)}</th>`).join('');
  const body = rows.map((r) => `<tr>${o.columns.map((c) => `<td style="${CELL};text-align:${c.align ?? 'left'}">${c.cell(r)}</td>`).join('')}</tr>`).join('');
  const sorted = p.sort ? ` · sorted by ${escapeHtml(p.sort)} ${p.order === 'asc' ? '↑' : '↓'}` : '';
  const query = p.query ? ` · matching “${escapeHtml(p.query)}”` : '';
  return [
    `<div data-ms-snapshot="${escapeHtml(o.tag)}" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a;max-width:100%">`,
    `<div style="font-weight:600;margin-bottom:2px">${escapeHtml(p.title || o.title)}</div>`,
    `<div style="color:#555;font-size:12px;margin-bottom:4px">${counts}</div>`,
    `<div style="color:#555;font-size:12px;margin-bottom:6px">${p.total ?? rows.length} ${escapeHtml(o.noun)}${query} · page ${(p.page ?? 0) + 1} of ${p.pages ?? 1}${sorted}</div>`,
    p.error ? `<div style="color:#b00020">${escapeHtml(p.error)}</div>` : '',
    p.message ? `<div style="color:#2e7d32">${escapeHtml(p.message)}</div>` : '',
    rows.length ? `<table style="border-collapse:collapse;font-size:12px">${`<tr>${head}</tr>`}${body}</table>` : `<div style="color:#777">no ${escapeHtml(o.noun)}</div>`,
    o.extra ?? '',
    '</div>',
  ].join('');
}

/** Templates as a static table: name, description, configuration JSON. */
export function templatesSnapshot(templates: readonly { name: string; description?: string | null; config: Record<string, unknown> }[]): string {
  if (!templates.length) return '';
  const rows = templates
    .map((t) => `<tr><td style="${CELL};font-weight:600">${escapeHtml(t.name)}</td><td style="${CELL};color:#555">${escapeHtml(t.description ?? '')}</td><td style="${CELL};font-family:ui-monospace,monospace;font-size:11px">${escapeHtml(JSON.stringify(t.config))}</td></tr>`)
    .join('');
  return `<div style="font-weight:600;margin:10px 0 2px">Templates (${templates.length})</div><table style="border-collapse:collapse;font-size:12px">${rows}</table>`;
}
