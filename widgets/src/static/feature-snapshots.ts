/**
 * Static HTML of the feature widgets: self-contained HTML with inline CSS and inline SVG, readable
 * with no script (nbconvert exports, GitHub). The live elements reuse the pieces that do not
 * depend on interaction (histogram SVG, example colouring) so both look the same.
 */
import type { AblationProps, CorrelationsProps, FeatureBrowserProps, FeatureCardProps, FeatureExample, HistogramData, LogitLensProps, RelatedFeature, TokenLogit } from '../feature-types.js';
import { activationColor } from './color-scale.js';
import { escapeHtml } from './escape.js';
import { formatNumber, visibleToken } from './format.js';

const FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a";
const MONO = 'font-family:ui-monospace,SFMono-Regular,Menlo,monospace';

export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '–';
  if (fraction === 0) return '0%';
  const p = fraction * 100;
  return `${p >= 0.01 ? Number(p.toPrecision(3)) : p.toExponential(1)}%`;
}

/** Colours of one example's tokens on a shared scale (the feature's max), as used by both renderers. */
export function exampleColors(e: FeatureExample, scaleMax: number): { background: string; foreground: string }[] {
  return e.tokens.map((_, i) => activationColor(Number(e.values[i] ?? 0), scaleMax));
}

/** One example as coloured spans; the activating token is outlined; tooltips give id and value. */
export function exampleHtml(e: FeatureExample, scaleMax: number): string {
  const colors = exampleColors(e, scaleMax);
  return e.tokens
    .map((tok, i) => {
      const v = Number(e.values[i] ?? 0);
      const tip = `${e.tokenIds?.[i] !== undefined ? `id ${e.tokenIds[i]} · ` : ''}activation ${formatNumber(v)}`;
      const outline = i === e.peakIndex ? 'outline:1.5px solid #333;' : '';
      return `<span title="${escapeHtml(tip)}" style="background:${colors[i].background};color:${colors[i].foreground};${outline}border-radius:2px;padding:0 1px">${escapeHtml(visibleToken(tok))}</span>`;
    })
    .join('');
}

export interface HistogramSvgOptions {
  title: string;
  color?: string;
  widthPx?: number;
  heightPx?: number;
  /** Mark x = 0 (logit histograms span negative and positive values). */
  markZero?: boolean;
}

/** Bars of a histogram as an inline SVG string (heights on a log scale when counts span decades). */
export function histogramSvg(h: HistogramData, o: HistogramSvgOptions): string {
  const width = o.widthPx ?? 280;
  const height = o.heightPx ?? 110;
  const pad = { left: 8, right: 8, top: 20, bottom: 18 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const counts = h.counts;
  // Trailing empty bins of the activation histogram carry no information.
  let n = counts.length;
  while (n > 1 && counts[n - 1] === 0) n--;
  const max = Math.max(1, ...counts.slice(0, n));
  const logScale = max / Math.max(1, Math.min(...counts.slice(0, n).filter((c) => c > 0))) > 100;
  const scale = (c: number) => (c <= 0 ? 0 : logScale ? Math.log10(1 + c) / Math.log10(1 + max) : c / max);
  const bw = plotW / Math.max(1, n);
  const color = o.color ?? '#d7301f';
  const bars = counts
    .slice(0, n)
    .map((c, i) => {
      const bh = Math.max(c > 0 ? 1 : 0, scale(c) * plotH);
      const lo = h.lower + i * h.binWidth;
      return `<rect x="${(pad.left + i * bw).toFixed(1)}" y="${(pad.top + plotH - bh).toFixed(1)}" width="${Math.max(0.5, bw - 0.6).toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"><title>${escapeHtml(`[${formatNumber(lo)}, ${formatNumber(lo + h.binWidth)}): ${c}`)}</title></rect>`;
    })
    .join('');
  const hi = h.lower + n * h.binWidth;
  const zero = o.markZero && h.lower < 0 && hi > 0 ? `<line x1="${(pad.left + ((0 - h.lower) / (hi - h.lower)) * plotW).toFixed(1)}" x2="${(pad.left + ((0 - h.lower) / (hi - h.lower)) * plotW).toFixed(1)}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="#555" stroke-dasharray="2,2"/>` : '';
  const total = counts.reduce((a, b) => a + b, 0);
  const heading = `${o.title} · ${total.toLocaleString('en-US')}${logScale ? ' · log scale' : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(heading)}" style="background:#fff;border:1px solid #e0e0e0;border-radius:4px;font-family:system-ui,sans-serif">`,
    `<text x="${pad.left}" y="14" font-size="11" font-weight="600" fill="#333">${escapeHtml(heading)}</text>`,
    bars,
    zero,
    `<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${pad.top + plotH}" y2="${pad.top + plotH}" stroke="#999"/>`,
    `<text x="${pad.left}" y="${height - 4}" font-size="10" fill="#555">${escapeHtml(formatNumber(h.lower))}</text>`,
    `<text x="${pad.left + plotW}" y="${height - 4}" font-size="10" fill="#555" text-anchor="end">${escapeHtml(formatNumber(hi))}</text>`,
    '</svg>',
  ].join('');
}

function tokenLogitsHtml(items: readonly TokenLogit[], color: string): string {
  if (items.length === 0) return '<div style="color:#777">–</div>';
  return items
    .map((t) => `<div style="display:flex;justify-content:space-between;gap:8px"><span style="${MONO};background:${color};border-radius:2px;padding:0 3px;white-space:pre">${escapeHtml(visibleToken(t.token))}</span><span style="color:#555">${formatNumber(t.value)}</span></div>`)
    .join('');
}

const SOURCE_NAMES = { default: 'default label', auto: 'auto label', manual: 'label' } as const;

export function featureHeading(p: Pick<FeatureCardProps, 'feature' | 'analysis' | 'hook'>): string {
  return `Feature ${p.feature}${p.analysis ? ` · ${p.analysis}` : ''}${p.hook ? ` · ${p.hook}` : ''}`;
}

export function labelLine(p: Pick<FeatureCardProps, 'label' | 'labelSource' | 'score'>): string {
  if (!p.label) return 'no label';
  const source = p.labelSource ? SOURCE_NAMES[p.labelSource] : 'label';
  const score = p.score !== undefined && p.score !== null ? ` · detection score ${formatNumber(p.score)}` : '';
  return `${source}: ${p.label}${score}`;
}

export function statsLine(p: Pick<FeatureCardProps, 'density' | 'fired' | 'tokens' | 'meanActive' | 'max'>): string {
  const parts = [`density ${formatPercent(p.density)}`];
  if (p.fired !== undefined && p.tokens !== undefined) parts.push(`${p.fired.toLocaleString('en-US')} of ${p.tokens.toLocaleString('en-US')} tokens`);
  if (p.meanActive !== undefined) parts.push(`mean when active ${formatNumber(p.meanActive)}`);
  parts.push(`max ${formatNumber(p.max)}`);
  return parts.join(' · ');
}

function examplesHtml(examples: readonly FeatureExample[], scaleMax: number): string {
  return examples
    .map((e) => `<div style="display:flex;gap:8px;padding:2px 0;border-bottom:1px solid #f0f0f0"><span style="flex:0 0 4em;text-align:right;color:#555;font-size:11px">${escapeHtml(formatNumber(e.value))}</span><span style="${MONO};white-space:pre-wrap;word-break:break-word;line-height:1.7">${exampleHtml(e, scaleMax)}</span></div>`)
    .join('');
}

export function featureCardSnapshot(p: Partial<FeatureCardProps>): string {
  const card = { feature: 0, density: 0, max: 0, topExamples: [], ...p } as FeatureCardProps;
  const scaleMax = card.max > 0 ? card.max : 1;
  const intervals = (card.intervals ?? [])
    .filter((g) => g.examples.length > 0)
    .reverse()
    .map((g) => `<div style="font-size:11px;color:#555;margin-top:6px">Interval ${escapeHtml(formatNumber(g.lower))} – ${escapeHtml(formatNumber(g.upper))} · ${g.fired.toLocaleString('en-US')} firings</div>${examplesHtml(g.examples, scaleMax)}`)
    .join('');
  const lens = card.logitLens
    ? `<div style="display:flex;gap:16px;margin-top:8px"><div style="min-width:150px"><div style="font-weight:600;font-size:12px">Promotes</div>${tokenLogitsHtml(card.logitLens.positive, '#fdd49e')}</div><div style="min-width:150px"><div style="font-weight:600;font-size:12px">Suppresses</div>${tokenLogitsHtml(card.logitLens.negative, '#d1e5f0')}</div></div>`
    : '';
  return [
    `<div data-ms-snapshot="ms-feature-card" style="${FONT};max-width:100%;border:1px solid #ddd;border-radius:6px;padding:8px 10px">`,
    `<div style="font-weight:600">${card.favorite ? '★ ' : ''}${escapeHtml(featureHeading(card))}</div>`,
    `<div style="margin:2px 0 4px 0">${escapeHtml(labelLine(card))}</div>`,
    `<div style="font-size:12px;color:#444;margin-bottom:6px">${escapeHtml(statsLine(card))}</div>`,
    `<div style="display:flex;gap:12px;flex-wrap:wrap;align-items:flex-start">`,
    card.histogram && card.histogram.counts.length ? histogramSvg(card.histogram, { title: 'Activations when active' }) : '',
    lens,
    '</div>',
    `<div style="font-weight:600;margin-top:8px">Top activations</div>`,
    card.topExamples.length ? examplesHtml(card.topExamples, scaleMax) : '<div style="color:#777">the feature never fired</div>',
    intervals,
    '</div>',
  ].join('');
}

export function logitLensSnapshot(p: Partial<LogitLensProps>): string {
  const positive = p.positive ?? [];
  const negative = p.negative ?? [];
  return [
    `<div data-ms-snapshot="ms-logit-lens" style="${FONT}">`,
    `<div style="font-weight:600;margin-bottom:4px">${escapeHtml(p.title ?? `Logit lens · feature ${p.feature ?? ''}`)}</div>`,
    `<div style="display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start">`,
    `<div style="min-width:160px"><div style="font-weight:600;font-size:12px">Positive logits</div>${tokenLogitsHtml(positive, '#fdd49e')}</div>`,
    `<div style="min-width:160px"><div style="font-weight:600;font-size:12px">Negative logits</div>${tokenLogitsHtml(negative, '#d1e5f0')}</div>`,
    p.histogram ? histogramSvg(p.histogram, { title: 'Logits over the vocabulary', color: '#4a7fb5', markZero: true }) : '',
    '</div>',
    p.convention ? `<div style="font-size:11px;color:#666;margin-top:4px">${escapeHtml(p.convention)}</div>` : '',
    '</div>',
  ].join('');
}

function relatedHtml(title: string, items: readonly RelatedFeature[] | undefined, valueName: string): string {
  if (!items) return '';
  const rows = items
    .map((r) => `<tr><td style="padding:1px 6px;text-align:right">${r.feature}</td><td style="padding:1px 6px;text-align:right">${escapeHtml(formatNumber(r.value))}</td><td style="padding:1px 6px;color:#444">${escapeHtml(r.label ?? '')}</td></tr>`)
    .join('');
  return `<div style="min-width:220px"><div style="font-weight:600;font-size:12px">${escapeHtml(title)}</div><table style="border-collapse:collapse;font-size:12px"><thead><tr><th style="text-align:right;padding:1px 6px">feature</th><th style="text-align:right;padding:1px 6px">${escapeHtml(valueName)}</th><th style="text-align:left;padding:1px 6px">label</th></tr></thead><tbody>${rows || '<tr><td colspan="3" style="color:#777">none</td></tr>'}</tbody></table></div>`;
}

export function correlationsSnapshot(p: Partial<CorrelationsProps>): string {
  return [
    `<div data-ms-snapshot="ms-correlations" style="${FONT}">`,
    `<div style="font-weight:600;margin-bottom:4px">${escapeHtml(p.title ?? `Related features · feature ${p.feature ?? ''}`)}</div>`,
    p.sampleTokens !== undefined ? `<div style="font-size:11px;color:#666;margin-bottom:4px">Pearson correlation over ${p.sampleTokens.toLocaleString('en-US')} sampled tokens</div>` : '',
    `<div style="display:flex;gap:16px;flex-wrap:wrap">`,
    relatedHtml('Correlated', p.positive ?? [], 'r'),
    relatedHtml('Anti-correlated', p.negative, 'r'),
    relatedHtml('Decoder neighbours', p.neighbours, 'cosine'),
    '</div></div>',
  ].join('');
}

/** Loss change colouring: red where ablating raised the loss (the feature helped), blue where it lowered it. */
export function lossDeltaColor(delta: number, scale: number): { background: string; foreground: string } {
  return activationColor(delta, scale);
}

export function ablationSnapshot(p: Partial<AblationProps>): string {
  const seqs = p.sequences ?? [];
  const scale = Math.max(1e-6, ...seqs.flatMap((s) => s.lossDelta.map(Math.abs)));
  const seqHtml = seqs
    .map((s) => {
      const spans = s.tokens
        .map((t, i) => {
          const c = lossDeltaColor(s.lossDelta[i] ?? 0, scale);
          const fired = (s.activations[i] ?? 0) > 0 ? 'text-decoration:underline;' : '';
          return `<span title="${escapeHtml(`activation ${formatNumber(s.activations[i] ?? 0)} · Δloss of the next token ${formatNumber(s.lossDelta[i] ?? 0)}`)}" style="background:${c.background};color:${c.foreground};${fired}border-radius:2px;padding:0 1px">${escapeHtml(visibleToken(t))}</span>`;
        })
        .join('');
      return `<div style="${MONO};white-space:pre-wrap;word-break:break-word;line-height:1.7;padding:2px 0;border-bottom:1px solid #f0f0f0">${spans}</div>`;
    })
    .join('');
  const sign = (x: number) => (x > 0 ? `+${formatNumber(x)}` : formatNumber(x));
  return [
    `<div data-ms-snapshot="ms-ablation" style="${FONT}">`,
    `<div style="font-weight:600;margin-bottom:4px">${escapeHtml(p.title ?? `Ablation · feature ${p.feature ?? ''}${p.hook ? ` at ${p.hook}` : ''}`)}</div>`,
    `<div style="margin-bottom:4px">cross-entropy ${escapeHtml(formatNumber(p.meanCeClean ?? 0))} → ${escapeHtml(formatNumber(p.meanCeAblated ?? 0))} (<b>${escapeHtml(sign(p.deltaCe ?? 0))}</b>) · perplexity ${escapeHtml(formatNumber(p.perplexityClean ?? 0))} → ${escapeHtml(formatNumber(p.perplexityAblated ?? 0))} · ${p.positionsAblated ?? 0} positions ablated</div>`,
    `<div style="font-size:11px;color:#666;margin-bottom:4px">Tokens coloured by the loss change predicting the next token (red: higher without the feature); underlined where the feature fired.</div>`,
    seqHtml,
    `<div style="display:flex;gap:16px;margin-top:6px"><div style="min-width:160px"><div style="font-weight:600;font-size:12px">Logits raised by ablation</div>${tokenLogitsHtml(p.promoted ?? [], '#fdd49e')}</div><div style="min-width:160px"><div style="font-weight:600;font-size:12px">Logits lowered by ablation</div>${tokenLogitsHtml(p.suppressed ?? [], '#d1e5f0')}</div></div>`,
    '</div>',
  ].join('');
}

export function browserStatusLine(p: Partial<FeatureBrowserProps>): string {
  const total = p.total ?? 0;
  const offset = p.offset ?? 0;
  const shown = p.rows?.length ?? 0;
  const range = shown ? `${offset + 1}–${offset + shown} of ${total.toLocaleString('en-US')} features` : `0 of ${total.toLocaleString('en-US')} features`;
  const query = p.query ? ` matching ${p.searchBy ?? 'label'} “${p.query}”` : '';
  const sort = p.sort ? ` · sorted by ${p.sort}${p.descending ? ' ↓' : ' ↑'}` : '';
  return `${range}${query}${p.favoritesOnly ? ' · favorites' : ''}${sort}`;
}

export function featureBrowserSnapshot(p: Partial<FeatureBrowserProps>): string {
  const rows = (p.rows ?? [])
    .map((r) => `<tr${r.feature === p.selected ? ' style="background:#fff3cd"' : ''}><td style="padding:2px 6px;text-align:right">${r.favorite ? '★ ' : ''}${r.feature}</td><td style="padding:2px 6px">${escapeHtml(r.label ?? '')}</td><td style="padding:2px 6px;text-align:right">${escapeHtml(formatPercent(r.density))}</td><td style="padding:2px 6px;text-align:right">${r.max === null ? '–' : escapeHtml(formatNumber(r.max))}</td>${p.searchBy === 'prompt' ? `<td style="padding:2px 6px;text-align:right">${escapeHtml(formatNumber(r.promptMax ?? 0))}</td>` : ''}</tr>`)
    .join('');
  return [
    `<div data-ms-snapshot="ms-feature-browser" style="${FONT}">`,
    `<div style="font-weight:600;margin-bottom:4px">${escapeHtml(p.title ?? `Features${p.analysis ? ` · ${p.analysis}` : ''}`)}</div>`,
    `<div style="font-size:12px;color:#444;margin-bottom:4px">${escapeHtml(browserStatusLine(p))}</div>`,
    p.message ? `<div style="font-size:12px;color:#b00020">${escapeHtml(p.message)}</div>` : '',
    `<table style="border-collapse:collapse;font-size:12px;margin-bottom:8px"><thead><tr style="border-bottom:1px solid #ccc"><th style="padding:2px 6px;text-align:right">feature</th><th style="padding:2px 6px;text-align:left">label</th><th style="padding:2px 6px;text-align:right">density</th><th style="padding:2px 6px;text-align:right">max</th>${p.searchBy === 'prompt' ? '<th style="padding:2px 6px;text-align:right">on prompt</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>`,
    p.card ? featureCardSnapshot(p.card) : '',
    '</div>',
  ].join('');
}

/** Snapshot of any of the feature widgets, by tag. */
export function featureWidgetSnapshot(tag: string, props: object): string | undefined {
  switch (tag) {
    case 'ms-feature-card':
      return featureCardSnapshot(props as Partial<FeatureCardProps>);
    case 'ms-logit-lens':
      return logitLensSnapshot(props as Partial<LogitLensProps>);
    case 'ms-correlations':
      return correlationsSnapshot(props as Partial<CorrelationsProps>);
    case 'ms-ablation':
      return ablationSnapshot(props as Partial<AblationProps>);
    case 'ms-feature-browser':
      return featureBrowserSnapshot(props as Partial<FeatureBrowserProps>);
    default:
      return undefined;
  }
}
