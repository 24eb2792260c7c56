/** Static HTML of `<ms-token-highlight>`: coloured spans with native `title` tooltips, a legend, the peak. */
import type { TokenHighlightProps } from '../types.js';
import { activationColor, maxAbs, positiveGradientCss } from './color-scale.js';
import { escapeHtml } from './escape.js';
import { formatNumber, visibleToken } from './format.js';

export function tokenHighlightSnapshot(props: Partial<TokenHighlightProps>): string {
  const tokens = props.tokens ?? [];
  const values = props.values ?? [];
  const ids = props.tokenIds;
  const scaleMax = props.maxValue ?? maxAbs(values);
  let peak = -1;
  const spans = tokens.map((token, i) => {
    const value = Number(values[i] ?? 0);
    if (peak < 0 || value > Number(values[peak] ?? 0)) peak = i;
    const { background, foreground } = activationColor(value, scaleMax);
    const tip = `${ids?.[i] !== undefined ? `id ${ids[i]} · ` : ''}activation ${formatNumber(value)}`;
    const outline = props.selected === i ? 'outline:2px solid #333;' : '';
    return `<span title="${escapeHtml(tip)}" style="background:${background};color:${foreground};${outline}border-radius:3px;padding:1px 1px;margin:0 0.5px">${escapeHtml(visibleToken(token))}</span>`;
  });
  const peakText =
    peak >= 0
      ? `peak ${formatNumber(Number(values[peak] ?? 0))} at token ${peak} “${escapeHtml(visibleToken(tokens[peak]))}”`
      : 'no tokens';
  return [
    `<div data-ms-snapshot="ms-token-highlight" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a;max-width:100%">`,
    props.title ? `<div style="font-weight:600;margin-bottom:4px">${escapeHtml(props.title)}</div>` : '',
    `<div style="font-family:ui-monospace,SFMono-Regular,Menlo,monospace;line-height:1.9;white-space:pre-wrap;word-break:break-word">${spans.join('')}</div>`,
    `<div style="display:flex;align-items:center;gap:6px;margin-top:6px;font-size:11px;color:#555">`,
    `<span>0</span><span style="display:inline-block;width:120px;height:10px;border:1px solid #ccc;background:${positiveGradientCss()}"></span>`,
    `<span>${formatNumber(scaleMax)}</span><span>· ${tokens.length} tokens · ${peakText}</span></div>`,
    '</div>',
  ].join('');
}
