/**
 * Small time-series charts as inline SVG (Lit `svg` templates): a sidebar needs a few lines, not
 * plotly. Several series share one chart for the multi-GPU comparison; gaps in the data (the
 * service was down, the laptop slept) break the line instead of bridging it.
 */
import { html, svg, nothing, type TemplateResult } from 'lit';
import { downsample, type Point } from './static/svg-line-chart.js';

export interface ChartSeries {
  label: string;
  color: string;
  /** [timestampMs, value] in time order; null values are gaps. */
  points: readonly (readonly [number, number | null])[];
}

export interface TimeChartOptions {
  title: string;
  series: ChartSeries[];
  /** The time window shown, ending now. */
  spanMs: number;
  nowMs: number;
  /** Fixed top of the y axis (100 for percentages); otherwise the data's maximum. */
  yMax?: number;
  /** A gap longer than this between two points breaks the line. */
  gapMs: number;
  format: (value: number) => string;
  /** Test hook and accessible name. */
  id: string;
}

/** Ten distinguishable colours (matplotlib's tab10), one per GPU. */
export const SERIES_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const WIDTH = 300;
const HEIGHT = 92;
const PAD = { left: 44, right: 6, top: 6, bottom: 16 };
const MAX_POINTS_PER_SERIES = 300;

/** Splits a series at gaps and nulls into runs that are each drawn as one path. */
export function seriesRuns(points: readonly (readonly [number, number | null])[], gapMs: number): Point[][] {
  const runs: Point[][] = [];
  let run: Point[] = [];
  let lastX = -Infinity;
  for (const [x, y] of points) {
    if (y === null || !Number.isFinite(y) || x - lastX > gapMs) {
      if (run.length) runs.push(run);
      run = [];
    }
    if (y !== null && Number.isFinite(y)) run.push([x, y]);
    lastX = x;
  }
  if (run.length) runs.push(run);
  return runs;
}

function formatAge(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes >= 60 ? `-${Math.round(minutes / 60)} h` : `-${minutes} min`;
}

export function timeChart(options: TimeChartOptions): TemplateResult {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x0 = options.nowMs - options.spanMs;
  const runsBySeries = options.series.map((series) =>
    seriesRuns(
      series.points.filter(([x]) => x >= x0),
      options.gapMs,
    ).map((run) => downsample(run, MAX_POINTS_PER_SERIES)),
  );
  const values = runsBySeries.flat(2).map(([, y]) => y);
  const dataMax = values.length ? Math.max(...values) : 0;
  const yMax = options.yMax ?? (dataMax > 0 ? dataMax * 1.1 : 1);
  const sx = (x: number) => PAD.left + ((x - x0) / options.spanMs) * plotW;
  const sy = (y: number) => PAD.top + plotH - (Math.min(y, yMax) / yMax) * plotH;
  const last = options.series.map((series) => [...series.points].reverse().find(([, y]) => y !== null)?.[1] ?? null);

  return html`<figure class="chart" data-chart=${options.id}>
    <figcaption>
      <span class="chart-title">${options.title}</span>
      ${options.series.map(
        (series, i) =>
          html`<span class="legend" style="--c:${series.color}"><i></i>${series.label}${last[i] === null ? nothing : html` ${options.format(last[i]!)}`}</span>`,
      )}
    </figcaption>
    <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label=${options.title} preserveAspectRatio="xMidYMid meet">
      ${svg`
        <rect x=${PAD.left} y=${PAD.top} width=${plotW} height=${plotH} class="plot"></rect>
        <line x1=${PAD.left} x2=${PAD.left + plotW} y1=${PAD.top + plotH / 2} y2=${PAD.top + plotH / 2} class="grid"></line>
        <text x=${PAD.left - 3} y=${PAD.top + 8} class="tick" text-anchor="end">${options.format(yMax)}</text>
        <text x=${PAD.left - 3} y=${PAD.top + plotH} class="tick" text-anchor="end">0</text>
        <text x=${PAD.left} y=${HEIGHT - 4} class="tick">${formatAge(options.spanMs)}</text>
        <text x=${PAD.left + plotW} y=${HEIGHT - 4} class="tick" text-anchor="end">now</text>
        ${runsBySeries.map((runs, i) =>
          runs.map((run) => {
            const d = run.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
            return run.length === 1
              ? svg`<circle cx=${sx(run[0][0])} cy=${sy(run[0][1])} r="1.5" fill=${options.series[i].color}></circle>`
              : svg`<path d=${d} fill="none" stroke=${options.series[i].color} stroke-width="1.4" stroke-linejoin="round"></path>`;
          }),
        )}
      `}
    </svg>
  </figure>`;
}
