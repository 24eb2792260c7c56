/** Lit pieces shared by the feature widgets: coloured examples, token/logit lists, histograms. */
import { html, nothing, type TemplateResult } from 'lit';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import type { FeatureExample, HistogramData, TokenLogit } from './feature-types.js';
import { exampleColors, histogramSvg, type HistogramSvgOptions } from './static/feature-snapshots.js';
import { formatNumber, visibleToken } from './static/format.js';

export const featureStyles = `
  :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: var(--jp-ui-font-color1, #1a1a1a); }
  .title { font-weight: 600; }
  .muted { color: var(--jp-ui-font-color2, #555); font-size: 12px; }
  .ex { display: flex; gap: 8px; padding: 2px 0; border-bottom: 1px solid #f0f0f0; }
  .ex .v { flex: 0 0 4em; text-align: right; color: #555; font-size: 11px; }
  .ex .toks { font-family: var(--jp-code-font-family, ui-monospace, monospace); white-space: pre-wrap; word-break: break-word; line-height: 1.7; }
  .tok { border-radius: 2px; padding: 0 1px; }
  .tok.peak { outline: 1.5px solid #333; }
  .lists { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
  .list { min-width: 150px; }
  .list .h { font-weight: 600; font-size: 12px; }
  .tl { display: flex; justify-content: space-between; gap: 8px; }
  .tl .t { font-family: var(--jp-code-font-family, ui-monospace, monospace); border-radius: 2px; padding: 0 3px; white-space: pre; }
  .tl .n { color: #555; }
  button { font: inherit; font-size: 12px; padding: 1px 8px; cursor: pointer; }
  table { border-collapse: collapse; font-size: 12px; }
  th, td { padding: 2px 6px; }
  th { text-align: left; border-bottom: 1px solid #ccc; }
  td.num, th.num { text-align: right; }
`;

export function exampleTemplate(e: FeatureExample, scaleMax: number): TemplateResult {
  const colors = exampleColors(e, scaleMax);
  return html`<div class="ex"><span class="v">${formatNumber(e.value)}</span><span class="toks">${e.tokens.map(
    (t, i) => html`<span class="tok ${i === e.peakIndex ? 'peak' : ''}" data-value=${String(e.values[i] ?? 0)}
      title=${`${e.tokenIds?.[i] !== undefined ? `id ${e.tokenIds[i]} · ` : ''}activation ${formatNumber(Number(e.values[i] ?? 0))}`}
      style="background:${colors[i].background};color:${colors[i].foreground}">${visibleToken(t)}</span>`,
  )}</span></div>`;
}

export function tokenLogitsTemplate(title: string, items: readonly TokenLogit[], color: string): TemplateResult {
  return html`<div class="list"><div class="h">${title}</div>${items.length === 0
    ? html`<div class="muted">–</div>`
    : items.map((t) => html`<div class="tl"><span class="t" style="background:${color}">${visibleToken(t.token)}</span><span class="n">${formatNumber(t.value)}</span></div>`)}</div>`;
}

export function histogramTemplate(h: HistogramData | undefined, options: HistogramSvgOptions): TemplateResult | typeof nothing {
  if (!h || h.counts.length === 0) return nothing;
  // The SVG string is built from numbers and escaped text only.
  return html`<div class="hist">${unsafeSVG(histogramSvg(h, options))}</div>`;
}
