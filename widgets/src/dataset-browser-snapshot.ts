/**
 * Static HTML of `<ms-dataset-browser>`: the current page of samples as a table (text with search
 * matches marked, or token chunks with ids in tooltips) and the status line; no script, inline styles.
 */
import { escapeHtml } from './static/escape.js';
import { browserStatus, sampleSegments, tokenLabel, tokenShade } from './dataset-browser-view.js';
import type { DatasetBrowserProps, DatasetBrowserSample } from './types.js';

function sampleHtml(s: DatasetBrowserSample, query: string, tokenView: boolean): string {
  if (tokenView && s.tokens) {
    const hidden = (s.fullTokens ?? s.tokens.length) - s.tokens.length;
    const more = hidden > 0 ? `<span style="color:#777"> … ${hidden} more tokens</span>` : '';
    return s.tokens
      .map((t, i) => `<span title="id ${escapeHtml(String(s.tokenIds?.[i] ?? ''))}" style="background:${tokenShade(i)};border-radius:2px;padding:0 1px">${escapeHtml(tokenLabel(t))}</span>`)
      .join('') + more;
  }
  const { segments, hiddenChars } = sampleSegments(s.text, query, s.fullChars);
  const body = segments.map((g) => (g.match ? `<mark>${escapeHtml(g.text)}</mark>` : escapeHtml(g.text))).join('');
  return hiddenChars > 0 ? `${body}<span style="color:#777"> … ${hiddenChars} more characters</span>` : body;
}

export function datasetBrowserSnapshot(props: Partial<DatasetBrowserProps>): string {
  const samples = props.samples ?? [];
  const tokenView = Boolean(props.tokenView);
  const rows = samples
    .map(
      (s) =>
        `<tr><td style="vertical-align:top;color:#555;padding:3px 8px 3px 0;white-space:nowrap">#${s.index}<br><span style="font-size:10px">${escapeHtml(s.split)}</span></td>` +
        `<td style="font-family:ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;word-break:break-word;padding:3px 0;border-bottom:1px solid #eee">${sampleHtml(s, props.query ?? '', tokenView)}</td></tr>`,
    )
    .join('');
  return [
    `<div data-ms-snapshot="ms-dataset-browser" style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:#1a1a1a;max-width:100%">`,
    `<div style="font-weight:600;margin-bottom:2px">${escapeHtml(props.title ?? `Dataset ${props.name ?? ''}`)}</div>`,
    `<div style="color:#555;font-size:12px;margin-bottom:6px">${escapeHtml(browserStatus(props))}${tokenView ? ' · token view' : ''}</div>`,
    props.error ? `<div style="color:#b00020">${escapeHtml(props.error)}</div>` : '',
    samples.length ? `<table style="border-collapse:collapse;width:100%">${rows}</table>` : '<div style="color:#777">no samples on this page</div>',
    '</div>',
  ].join('');
}
