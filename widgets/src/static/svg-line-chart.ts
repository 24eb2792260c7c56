/** A small line chart as an inline SVG string: readable with no script, in any HTML viewer. */
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';

export type Point = readonly [x: number, y: number];

export interface LineChartOptions {
  title: string;
  points: readonly Point[];
  color: string;
  widthPx?: number;
  heightPx?: number;
}

/** At most this many points are drawn; longer series are reduced by `downsample`. */
export const MAX_DRAWN_POINTS = 600;

export function lineChartSvg(options: LineChartOptions): string {
  const width = options.widthPx ?? 300;
  const height = options.heightPx ?? 170;
  const pad = { left: 52, right: 10, top: 26, bottom: 24 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const points = downsample(options.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)), MAX_DRAWN_POINTS);
  const last = points.length > 0 ? points[points.length - 1][1] : undefined;
  const heading = `${options.title}${last === undefined ? '' : ` · ${formatNumber(last)}`}`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(heading)}" style="background:#ffffff;border:1px solid #e0e0e0;border-radius:4px;font-family:system-ui,-apple-system,'Segoe UI',sans-serif">`,
    `<text x="${pad.left}" y="16" font-size="12" font-weight="600" fill="#333">${escapeHtml(heading)}</text>`,
    `<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#d0d0d0"/>`,
  ];
  if (points.length === 0) {
    parts.push(`<text x="${pad.left + plotW / 2}" y="${pad.top + plotH / 2}" font-size="11" fill="#888" text-anchor="middle">no data yet</text>`);
  } else {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
    let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
    if (xMax === xMin) [xMin, xMax] = [xMin - 1, xMax + 1];
    if (yMax === yMin) [yMin, yMax] = [yMin - Math.abs(yMin || 1) * 0.1, yMax + Math.abs(yMax || 1) * 0.1];
    const sx = (x: number) => pad.left + ((x - xMin) / (xMax - xMin)) * plotW;
    const sy = (y: number) => pad.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
    const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(
      `<text x="${pad.left - 4}" y="${pad.top + 9}" font-size="10" fill="#666" text-anchor="end">${formatNumber(yMax)}</text>`,
      `<text x="${pad.left - 4}" y="${pad.top + plotH}" font-size="10" fill="#666" text-anchor="end">${formatNumber(yMin)}</text>`,
      `<text x="${pad.left}" y="${height - 8}" font-size="10" fill="#666">step ${formatNumber(xMin)}</text>`,
      `<text x="${pad.left + plotW}" y="${height - 8}" font-size="10" fill="#666" text-anchor="end">${formatNumber(xMax)}</text>`,
      `<path d="${d}" fill="none" stroke="${escapeHtml(options.color)}" stroke-width="1.8" stroke-linejoin="round"/>`,
    );
    const [lx, ly] = points[points.length - 1];
    parts.push(`<circle cx="${sx(lx).toFixed(1)}" cy="${sy(ly).toFixed(1)}" r="2.5" fill="${escapeHtml(options.color)}"/>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Reduces a long series to about `maxPoints` points for drawing, keeping the minimum and maximum of
 * each bucket so loss spikes stay visible (plain striding would drop them), and always the last point.
 */
export function downsample(points: readonly Point[], maxPoints: number): Point[] {
  if (points.length <= maxPoints) return points.slice();
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const size = points.length / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(points.length, Math.floor((b + 1) * size));
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (points[i][1] < points[lo][1]) lo = i;
      if (points[i][1] > points[hi][1]) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) if (out[out.length - 1] !== points[i]) out.push(points[i]);
  }
  const lastPoint = points[points.length - 1];
  if (out[out.length - 1] !== lastPoint) out.push(lastPoint);
  return out;
}
