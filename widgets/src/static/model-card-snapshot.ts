/**
 * Static HTML of `<ms-model-card>` and the facts shared with the live element: the architecture's
 * sizes, parameters, precision, the memory estimate per precision and every hook point with its
 * shape (the hooks of block 0 as a table, every hook in a <details> list).
 */
import type { ModelCardProps } from '../workspace-types.js';
import { escapeHtml } from './escape.js';
import { formatBytes, formatCount, formatShape } from './workspace-format.js';

/** [label, value] pairs of the architecture facts, in display order. */
export function modelFacts(p: Partial<ModelCardProps>): [string, string][] {
  const heads = p.nKvHeads !== undefined && p.nKvHeads !== p.nHeads ? `${p.nHeads} (${p.nKvHeads} key/value)` : String(p.nHeads ?? '—');
  return [
    ['architecture', p.architecture ?? '—'],
    ['layers', String(p.nLayers ?? '—')],
    ['heads', heads],
    ['d_model', String(p.dModel ?? '—')],
    ['d_head', String(p.dHead ?? '—')],
    ['d_mlp', String(p.dMlp ?? '—')],
    ['vocabulary', formatCount(p.vocabSize)],
    ['context', formatCount(p.maxPositions)],
    ['activation', p.activation ?? '—'],
    ['positions', p.positions ?? '—'],
    ['tied embeddings', p.tiedEmbeddings ? 'yes' : 'no'],
    ['parameters', formatCount(p.parameters)],
    ['stored precision', `${p.storedPrecision ?? '—'} (${p.format ?? '—'})`],
    ['files', formatBytes(p.fileBytes)],
    ['tokenizer', p.tokenizer ? 'yes' : 'no'],
  ];
}

const CELL = 'padding:2px 8px;border-bottom:1px solid #eee';

export function modelCardSnapshot(p: Partial<ModelCardProps>): string {
  const hooks = p.hooks ?? [];
  const facts = modelFacts(p)
    .map(([k, v]) => `<tr><td style="${CELL};color:#555">${escapeHtml(k)}</td><td style="${CELL};font-weight:600">${escapeHtml(v)}</td></tr>`)
    .join('');
  const memory = (p.memory ?? [])
    .map((m) => `<tr><td style="${CELL}">${escapeHtml(m.precision)}</td><td style="${CELL};text-align:right">${formatBytes(m.weightBytes)}</td><td style="${CELL};text-align:right">${formatBytes(m.estimatedBytes)}</td></tr>`)
    .join('');
  const perBlock = hooks.filter((h) => h.layer === 0 || h.layer === null);
  const hookRow = (h: { name: string; shape: (number | string)[] }) => `<tr><td style="${CELL};font-family:ui-monospace,monospace;font-size:11px">${escapeHtml(h.name)}</td><td style="${CELL};font-family:ui-monospace,monospace;font-size:11px">${escapeHtml(formatShape(h.shape))}</td></tr>`;
  return [
    `<div data-ms-snapshot="ms-model-card" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a">`,
    `<div style="font-weight:600;margin-bottom:2px">${escapeHtml(p.title || `Model ${p.source ?? ''}`)}</div>`,
    '<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">',
    `<table style="border-collapse:collapse;font-size:12px">${facts}</table>`,
    `<table style="border-collapse:collapse;font-size:12px"><tr><th style="${CELL};text-align:left">precision</th><th style="${CELL}">weights</th><th style="${CELL}">resident estimate</th></tr>${memory}</table>`,
    '</div>',
    `<div style="font-weight:600;margin:8px 0 2px">Hook points (${hooks.length}; block 0 and outside the blocks shown, every block has the same)</div>`,
    `<table style="border-collapse:collapse">${perBlock.map(hookRow).join('')}</table>`,
    `<details><summary>all ${hooks.length} hook points</summary><table style="border-collapse:collapse">${hooks.map(hookRow).join('')}</table></details>`,
    '</div>',
  ].join('');
}
