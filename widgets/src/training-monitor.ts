/**
 * `<ms-training-monitor>`: live loss / L0 / dead-latent charts (plotly.js, loaded on first use),
 * a status line and Pause / Resume / Stop buttons that dispatch `ms-action` ('pause' | 'resume' |
 * 'stop', payload `{}`). `append('metrics', rows)` streams new rows without resending the history.
 *
 * Renders into light DOM: plotly positions its layered SVGs with a stylesheet it adds to
 * document.head, which would not reach into a shadow root. Styles are scoped by the tag name.
 */
import { LitElement, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import { loadPlotly, type PlotlyApi, type PlotlyTrace } from './plotly-loader.js';
import { formatNumber } from './static/format.js';
import { metricSeries, summarizeTraining, TRAINING_CHARTS, type TrainingSummary } from './static/training-summary.js';
import type { TrainingAction, TrainingMetricsRow, TrainingMonitorProps, TrainingStatus } from './types.js';

export const TRAINING_MONITOR_TAG = 'ms-training-monitor';

/** Three charts side by side fit a notebook output at common window sizes. */
export const CHART_WIDTH_PX = 270;
export const CHART_HEIGHT_PX = 190;

const STYLE_ID = 'ms-training-monitor-style';
const STYLES = `
ms-training-monitor { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: var(--jp-ui-font-color1, #1a1a1a); }
ms-training-monitor .msm-title { font-weight: 600; margin-bottom: 4px; }
ms-training-monitor .msm-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 6px; }
ms-training-monitor .msm-dot { font-size: 14px; }
ms-training-monitor .msm-dot.running { color: #2e7d32; } ms-training-monitor .msm-dot.paused { color: #ef6c00; }
ms-training-monitor .msm-dot.stopped { color: #616161; } ms-training-monitor .msm-dot.finished { color: #1565c0; }
ms-training-monitor .msm-dot.error { color: #c62828; }
ms-training-monitor .msm-progress { width: 320px; height: 6px; background: #e0e0e0; border-radius: 3px; margin-bottom: 8px; }
ms-training-monitor .msm-progress > div { height: 6px; background: #1f77b4; border-radius: 3px; }
ms-training-monitor button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid #999; border-radius: 3px; background: #f5f5f5; color: #1a1a1a; cursor: pointer; }
ms-training-monitor button:disabled { opacity: 0.45; cursor: default; }
ms-training-monitor .msm-charts { display: flex; flex-wrap: wrap; gap: 8px; }
ms-training-monitor .msm-chart { width: ${CHART_WIDTH_PX}px; height: ${CHART_HEIGHT_PX}px; border: 1px solid #e0e0e0; border-radius: 4px; background: #fff; }
ms-training-monitor .msm-message { margin-top: 6px; font-size: 12px; color: var(--jp-ui-font-color2, #444); }
`;

export class TrainingMonitorElement extends LitElement implements TrainingMonitorProps {
  static override properties: PropertyDeclarations = {
    title: { type: String },
    status: { type: String },
    step: { type: Number },
    totalSteps: { type: Number, attribute: 'total-steps' },
    tokensPerSecond: { type: Number, attribute: false },
    dLatents: { type: Number, attribute: false },
    metrics: { attribute: false },
    message: { type: String },
    pending: { state: true },
  };

  override title = '';
  status: TrainingStatus = 'running';
  step = 0;
  totalSteps = 0;
  tokensPerSecond?: number;
  dLatents?: number;
  metrics: TrainingMetricsRow[] = [];
  message?: string;
  /** The action the user clicked, until the kernel reports a new status. */
  private pending?: TrainingAction;

  private plotly?: PlotlyApi;
  private drawnSource?: TrainingMetricsRow[];
  private drawnRows = 0;
  /** Result of the last `append`, and the rows appended since the charts were last drawn. */
  private appendedArray?: TrainingMetricsRow[];
  private appendedRows: TrainingMetricsRow[] = [];
  private drawing?: Promise<void>;
  private redrawRequested = false;
  private firstDraw?: Promise<void>;
  private resolveFirstDraw?: () => void;

  protected override createRenderRoot(): HTMLElement {
    const doc = this.ownerDocument;
    if (!doc.getElementById(STYLE_ID)) {
      const style = doc.createElement('style');
      style.id = STYLE_ID;
      style.textContent = STYLES;
      doc.head.appendChild(style);
    }
    return this;
  }

  /**
   * `append('metrics', rows)` streams rows (the widget protocol's append message); the charts are
   * extended, not redrawn. Every element already has DOM `append(...nodes)`, so any other call
   * shape still goes to it.
   */
  override append(...args: unknown[]): void {
    if (args.length === 2 && typeof args[0] === 'string' && Array.isArray(args[1])) this.appendRows(args[0], args[1]);
    else super.append(...(args as (string | Node)[]));
  }

  /** Streams rows into a list prop (only `metrics` here). */
  appendRows(key: string, rows: unknown[]): void {
    if (key !== 'metrics' || rows.length === 0) return;
    const next = this.metrics.concat(rows as TrainingMetricsRow[]);
    this.appendedRows.push(...(rows as TrainingMetricsRow[]));
    this.appendedArray = next;
    this.metrics = next;
  }

  /** Resolves once the charts have been drawn for the first time. */
  whenChartsDrawn(): Promise<void> {
    this.firstDraw ??= new Promise((resolve) => (this.resolveFirstDraw = resolve));
    if (this.drawnSource) this.resolveFirstDraw?.();
    return this.firstDraw;
  }

  /**
   * One PNG (base64, no data: prefix) of the status line and the three charts, for the MIME renderer
   * to store in the output as `image/png` so saved notebooks carry a picture.
   */
  async chartsPngBase64(): Promise<string | undefined> {
    await this.whenChartsDrawn();
    const plotly = this.plotly;
    if (!plotly) return undefined;
    const urls = await Promise.all(this.chartNodes().map((node) => plotly.toImage(node, { format: 'png', width: CHART_WIDTH_PX, height: CHART_HEIGHT_PX, scale: 1 })));
    const images = await Promise.all(urls.map(loadImage));
    const gap = 8;
    const header = 44;
    const canvas = this.ownerDocument.createElement('canvas');
    canvas.width = images.length * CHART_WIDTH_PX + (images.length - 1) * gap;
    canvas.height = header + CHART_HEIGHT_PX;
    const ctx = canvas.getContext('2d');
    if (!ctx) return undefined;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#1a1a1a';
    ctx.font = '600 14px sans-serif';
    ctx.fillText(this.title || 'SAE training', 4, 17);
    ctx.font = '13px sans-serif';
    ctx.fillText(summarizeTraining(this).line, 4, 36);
    images.forEach((img, i) => ctx.drawImage(img, i * (CHART_WIDTH_PX + gap), header));
    return canvas.toDataURL('image/png').split(',')[1];
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('status') && this.pending) this.pending = undefined;
  }

  private act(action: TrainingAction): void {
    this.pending = action;
    emitAction(this, action, {});
  }

  override render() {
    const s: TrainingSummary = summarizeTraining(this);
    const live = s.status === 'running' || s.status === 'paused';
    const last = this.metrics[this.metrics.length - 1];
    return html`
      <div class="msm-title">${this.title || 'SAE training'}</div>
      <div class="msm-head">
        <span class="msm-dot ${s.status}">●</span>
        <span class="msm-status" data-step=${s.step}>${s.line}</span>
        ${s.status === 'paused'
          ? html`<button class="msm-resume" ?disabled=${!!this.pending} @click=${() => this.act('resume')}>Resume</button>`
          : html`<button class="msm-pause" ?disabled=${!live || !!this.pending} @click=${() => this.act('pause')}>Pause</button>`}
        <button class="msm-stop" ?disabled=${!live || this.pending === 'stop'} @click=${() => this.act('stop')}>Stop</button>
      </div>
      <div class="msm-progress"><div style="width:${(s.fraction * 100).toFixed(1)}%"></div></div>
      <div class="msm-charts">${TRAINING_CHARTS.map((c) => html`<div class="msm-chart" data-chart=${c.key}></div>`)}</div>
      ${last
        ? html`<div class="msm-message">loss ${formatNumber(last.loss)} · L0 ${formatNumber(last.l0)} · dead latents ${formatNumber(last.deadLatents)}${
            this.dLatents ? ` of ${formatNumber(this.dLatents)}` : ''
          }</div>`
        : nothing}
      ${this.message ? html`<div class="msm-message">${this.message}</div>` : nothing}
    `;
  }

  protected override updated(): void {
    this.scheduleDraw();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.plotly) for (const node of this.chartNodes()) this.plotly.purge(node);
    this.drawnSource = undefined;
    this.drawnRows = 0;
  }

  private chartNodes(): HTMLElement[] {
    return Array.from(this.querySelectorAll<HTMLElement>('.msm-chart'));
  }

  /** Coalesces redraws: at most one plotly call in flight, then one more with the latest data. */
  private scheduleDraw(): void {
    if (this.drawing) {
      this.redrawRequested = true;
      return;
    }
    this.drawing = this.draw()
      .catch((err: unknown) => console.error('ms-training-monitor: chart drawing failed', err))
      .finally(() => {
        this.drawing = undefined;
        if (this.redrawRequested) {
          this.redrawRequested = false;
          this.scheduleDraw();
        }
      });
  }

  private async draw(): Promise<void> {
    const metrics = this.metrics;
    if (metrics === this.drawnSource || !this.isConnected) return;
    this.plotly ??= await loadPlotly();
    const plotly = this.plotly;
    const nodes = this.chartNodes();
    const appendedOnly =
      this.drawnSource !== undefined && metrics === this.appendedArray && this.drawnRows + this.appendedRows.length === metrics.length;
    if (appendedOnly) {
      const rows = this.appendedRows;
      await Promise.all(
        TRAINING_CHARTS.map((chart, i) => {
          const points = metricSeries(rows, chart.key);
          return points.length === 0 ? undefined : plotly.extendTraces(nodes[i], { x: [points.map((p) => p[0])], y: [points.map((p) => p[1])] }, [0]);
        }),
      );
    } else {
      await Promise.all(
        TRAINING_CHARTS.map((chart, i) => {
          const points = metricSeries(metrics, chart.key);
          const trace: PlotlyTrace = {
            x: points.map((p) => p[0]),
            y: points.map((p) => p[1]),
            type: 'scatter',
            mode: 'lines',
            name: chart.title,
            line: { color: chart.color, width: 1.8 },
            hovertemplate: `step %{x}<br>${chart.title} %{y:.4g}<extra></extra>`,
          };
          const layout = {
            title: { text: chart.title, font: { size: 12 }, x: 0.03 },
            width: CHART_WIDTH_PX,
            height: CHART_HEIGHT_PX,
            margin: { l: 48, r: 10, t: 30, b: 34 },
            xaxis: { title: { text: 'step', font: { size: 10 } }, tickfont: { size: 10 } },
            yaxis: { tickfont: { size: 10 } },
            paper_bgcolor: '#ffffff',
            plot_bgcolor: '#ffffff',
            showlegend: false,
          };
          const config = { displayModeBar: false, responsive: false };
          return this.drawnSource === undefined ? plotly.newPlot(nodes[i], [trace], layout, config) : plotly.react(nodes[i], [trace], layout, config);
        }),
      );
    }
    this.drawnSource = metrics;
    this.drawnRows = metrics.length;
    this.appendedRows = [];
    this.dataset.drawnRows = String(metrics.length);
    this.whenChartsDrawn();
    this.resolveFirstDraw?.();
    this.dispatchEvent(new CustomEvent('ms-charts-drawn', { detail: { rows: metrics.length } }));
  }
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('ms-training-monitor: could not decode the chart image'));
    img.src = url;
  });
}

defineElement(TRAINING_MONITOR_TAG, TrainingMonitorElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-training-monitor': TrainingMonitorElement;
  }
}
