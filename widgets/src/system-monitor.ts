/**
 * `<ms-system-monitor>`: the sidebar panel of machine resources. Plain data in (`sample`, the
 * `history` of the chosen range, the connection `status`), `ms-action` events out ('set-range',
 * 'set-settings', 'retry'). System resources sit in one column and GPUs in the other, every metric
 * row laid out on the same label | bar | value grid so the columns line up; the column pair wraps
 * to one column when the sidebar is narrow. The connection itself lives in
 * system-monitor-client.ts; the labextension wires the two together.
 */
import { LitElement, css, html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import { SERIES_COLORS, timeChart, type ChartSeries } from './system-monitor-chart.js';
import { formatBytes, formatBytesOf, formatPercent, formatRate, fraction } from './system-monitor-format.js';
import { historyPointOf } from './system-monitor-types.js';
import type {
  ByteUnits,
  GpuSample,
  HistoryPoint,
  HistoryRange,
  HistoryResponse,
  MonitorConnectionStatus,
  MonitorSample,
} from './system-monitor-types.js';

// The monitor's companions, so the package index needs one line for all of them.
export { SystemStatusElement, SYSTEM_STATUS_TAG } from './system-status.js';
export { MonitorClient, type MonitorClientOptions, type MonitorClientState } from './system-monitor-client.js';
export type * from './system-monitor-types.js';

export const SYSTEM_MONITOR_TAG = 'ms-system-monitor';

export const INTERVAL_CHOICES_SECONDS = [0.5, 1, 2, 5, 10];
const RANGE_SPAN_MS: Record<HistoryRange, number> = { '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000 };
/** Processes listed per GPU; the rest are summed into one line. */
const MAX_PROCESSES = 5;

export class SystemMonitorElement extends LitElement {
  static override properties: PropertyDeclarations = {
    sample: { attribute: false },
    history: { attribute: false },
    status: { type: String },
    failures: { type: Number },
    message: { type: String },
    intervalSeconds: { type: Number, attribute: 'interval-seconds' },
    units: { type: String },
    range: { type: String },
    showSettings: { state: true },
  };

  /** The latest sample; null until the first one arrives (the skeleton shows meanwhile). */
  sample: MonitorSample | null = null;
  /** History of `range`; live samples are appended to the 1 h view between fetches. */
  history: HistoryResponse | null = null;
  status: MonitorConnectionStatus = 'loading';
  /** Consecutive failed samples (shown in the error state). */
  failures = 0;
  /** What went wrong, or how the client is retrying. */
  message = '';
  intervalSeconds = 1;
  units: ByteUnits = 'binary';
  range: HistoryRange = '1h';
  private showSettings = false;
  /** `history.points` plus the live samples received since it was fetched (1 h range only). */
  private points: HistoryPoint[] = [];

  static override styles = css`
    :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 12px; color: var(--jp-ui-font-color1, #1a1a1a); padding: 8px; box-sizing: border-box; }
    .head { display: flex; align-items: center; gap: 6px; margin-bottom: 6px; }
    .head .title { font-weight: 600; font-size: 13px; }
    .head .host { color: var(--jp-ui-font-color2, #555); flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .dot { width: 8px; height: 8px; border-radius: 50%; background: #9e9e9e; flex: none; }
    .dot.live { background: #2e7d32; } .dot.error { background: #c62828; }
    button, select { font: inherit; font-size: 11px; }
    button { border: 1px solid var(--jp-border-color1, #bbb); border-radius: 3px; background: var(--jp-layout-color2, #f3f3f3); color: inherit; cursor: pointer; padding: 1px 7px; }
    button[aria-pressed='true'] { background: var(--jp-brand-color1, #1976d2); color: #fff; border-color: transparent; }
    .alert { border: 1px solid #e57373; background: #fdecea; color: #8e1c1c; border-radius: 4px; padding: 6px 8px; margin-bottom: 8px; }
    .alert strong { display: block; margin-bottom: 2px; }
    .settings { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; padding: 6px 8px; margin-bottom: 8px; border: 1px solid var(--jp-border-color2, #ddd); border-radius: 4px; }
    .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 10px; }
    .stale { opacity: 0.55; }
    section h3 { margin: 0 0 4px; font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--jp-ui-font-color2, #555); }
    .row { display: grid; grid-template-columns: 4.2em 1fr 8.6em; align-items: center; gap: 6px; min-height: 18px; }
    .row .label { color: var(--jp-ui-font-color2, #555); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .row .value { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .row .value.wide { grid-column: 2 / 4; }
    .bar { height: 7px; background: var(--jp-layout-color3, #e4e4e4); border-radius: 4px; overflow: hidden; }
    .bar > div { height: 100%; background: #1f77b4; border-radius: 4px; }
    .bar.warn > div { background: #ef6c00; } .bar.hot > div { background: #c62828; }
    .cores { display: flex; gap: 1px; height: 14px; align-items: flex-end; margin: 2px 0 4px 4.6em; }
    .cores > div { flex: 1; background: #1f77b4; min-height: 1px; opacity: 0.8; }
    .gpu { border-top: 1px solid var(--jp-border-color2, #e0e0e0); padding-top: 4px; margin-top: 4px; }
    .gpu-name { font-weight: 600; margin-bottom: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .sub { color: var(--jp-ui-font-color2, #555); font-size: 11px; }
    .list { margin: 2px 0 0; padding: 0; list-style: none; font-size: 11px; }
    .list li { display: grid; grid-template-columns: 4.2em 1fr 6.5em; gap: 6px; }
    .list li span:nth-child(2) { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .list li span:last-child { text-align: right; font-variant-numeric: tabular-nums; }
    .muted { color: var(--jp-ui-font-color3, #888); }
    .compare .row { grid-template-columns: 1.6em 1fr 1fr 3.2em; }
    .swatch { display: inline-block; width: 8px; height: 8px; border-radius: 2px; margin-right: 3px; }
    .charts-head { display: flex; align-items: center; gap: 4px; margin: 10px 0 4px; }
    .charts-head .grow { flex: 1; font-weight: 600; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 6px; }
    figure.chart { margin: 0; }
    figcaption { display: flex; flex-wrap: wrap; gap: 2px 8px; font-size: 11px; }
    .chart-title { font-weight: 600; margin-right: 2px; }
    .legend { color: var(--jp-ui-font-color2, #555); font-variant-numeric: tabular-nums; }
    .legend i { display: inline-block; width: 8px; height: 3px; background: var(--c); margin-right: 3px; vertical-align: middle; }
    svg { width: 100%; height: auto; display: block; }
    svg .plot { fill: var(--jp-layout-color0, #fff); stroke: var(--jp-border-color2, #ddd); }
    svg .grid { stroke: var(--jp-border-color3, #eee); stroke-dasharray: 2 3; }
    svg .tick { font-size: 8px; fill: var(--jp-ui-font-color2, #666); }
    .skeleton { display: grid; gap: 6px; }
    .skeleton div { height: 14px; border-radius: 4px; background: linear-gradient(90deg, #e8e8e8 25%, #f5f5f5 50%, #e8e8e8 75%); background-size: 200% 100%; animation: shimmer 1.2s infinite linear; }
    @keyframes shimmer { from { background-position: 200% 0; } to { background-position: -200% 0; } }
  `;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('history') || changed.has('range')) {
      this.points = this.history && this.history.range === this.range ? [...this.history.points] : [];
    }
    // The 1 h view is at full rate, so each live sample is one more point; the downsampled
    // ranges are refetched by the controller as their buckets close.
    if (changed.has('sample') && this.sample && this.range === '1h' && this.history?.range === '1h') {
      const last = this.points[this.points.length - 1];
      if (!last || this.sample.timestampMs > last.timestampMs) {
        this.points.push(historyPointOf(this.sample));
        const oldest = this.sample.timestampMs - RANGE_SPAN_MS['1h'];
        while (this.points.length && this.points[0].timestampMs < oldest) this.points.shift();
      }
    }
  }

  protected override render(): TemplateResult {
    const sample = this.sample;
    return html`
      <div class="head">
        <span class="dot ${this.status}" data-status=${this.status} title=${this.status}></span>
        <span class="title">System</span>
        <span class="host">${sample?.hostname ?? ''}</span>
        <button
          aria-label="Monitor settings"
          aria-pressed=${this.showSettings ? 'true' : 'false'}
          @click=${() => (this.showSettings = !this.showSettings)}
        >⚙</button>
      </div>
      ${this.status === 'error' ? this.renderError() : nothing}
      ${this.showSettings ? this.renderSettings() : nothing}
      ${sample ? this.renderColumns(sample) : this.renderSkeleton()}
      ${sample ? this.renderCharts(sample) : nothing}
    `;
  }

  private renderError(): TemplateResult {
    return html`<div class="alert" role="alert" data-state="error">
      <strong>Monitor service unreachable</strong>
      ${this.failures} samples in a row failed. ${this.message || 'Retrying automatically.'}
      <div style="margin-top:4px"><button @click=${() => emitAction(this, 'retry', {})}>Retry now</button></div>
    </div>`;
  }

  private renderSettings(): TemplateResult {
    const emit = (intervalSeconds: number, units: ByteUnits) => {
      this.intervalSeconds = intervalSeconds;
      this.units = units;
      emitAction(this, 'set-settings', { intervalSeconds, units });
    };
    return html`<div class="settings">
      <label>Interval
        <select
          aria-label="Sampling interval"
          @change=${(e: Event) => emit(Number((e.target as HTMLSelectElement).value), this.units)}
        >
          ${INTERVAL_CHOICES_SECONDS.map((s) => html`<option value=${s} ?selected=${s === this.intervalSeconds}>${s} s</option>`)}
        </select>
      </label>
      <label>Units
        <select aria-label="Byte units" @change=${(e: Event) => emit(this.intervalSeconds, (e.target as HTMLSelectElement).value as ByteUnits)}>
          <option value="binary" ?selected=${this.units === 'binary'}>GiB (1024³)</option>
          <option value="decimal" ?selected=${this.units === 'decimal'}>GB (1000³)</option>
        </select>
      </label>
    </div>`;
  }

  private renderSkeleton(): TemplateResult {
    return html`<div class="skeleton" aria-busy="true" data-state="loading">
      ${[70, 90, 55, 80, 65, 85].map((w) => html`<div style="width:${w}%"></div>`)}
    </div>`;
  }

  private bar(value: number, id: string, label: string, text: string, title = ''): TemplateResult {
    const level = value >= 0.95 ? 'hot' : value >= 0.8 ? 'warn' : '';
    return html`<div class="row" title=${title}>
      <span class="label">${label}</span>
      <div class="bar ${level}"><div style="width:${(value * 100).toFixed(1)}%"></div></div>
      <span class="value" data-metric=${id}>${text}</span>
    </div>`;
  }

  private renderColumns(sample: MonitorSample): TemplateResult {
    const u = this.units;
    const { cpu, memory, container } = sample;
    return html`<div class="columns ${this.status === 'error' ? 'stale' : ''}">
      <section class="system" aria-label="System resources">
        <h3>System · ${cpu.corePercents.length} cores</h3>
        ${this.bar(cpu.totalPercent / 100, 'cpu', 'CPU', formatPercent(cpu.totalPercent), `load average ${cpu.loadAverage1m.toFixed(2)}`)}
        <div class="cores" title="per-core load">
          ${cpu.corePercents.map((p) => html`<div style="height:${Math.max(1, p).toFixed(0)}%"></div>`)}
        </div>
        ${this.bar(fraction(memory.usedBytes, memory.totalBytes), 'ram', 'RAM', formatBytesOf(memory.usedBytes, memory.totalBytes, u))}
        ${memory.swapTotalBytes > 0
          ? this.bar(fraction(memory.swapUsedBytes, memory.swapTotalBytes), 'swap', 'Swap', formatBytesOf(memory.swapUsedBytes, memory.swapTotalBytes, u))
          : nothing}
        ${container?.memoryLimitBytes
          ? this.bar(
              fraction(container.memoryUsedBytes, container.memoryLimitBytes),
              'container-memory',
              'Limit',
              formatBytesOf(container.memoryUsedBytes, container.memoryLimitBytes, u),
              'container memory (cgroup memory.current / memory.max)',
            )
          : nothing}
        ${container?.cpuLimitCores
          ? this.bar(
              fraction(container.cpuUsedCores, container.cpuLimitCores),
              'container-cpu',
              'CPU lim',
              `${(container.cpuUsedCores ?? 0).toFixed(1)} / ${container.cpuLimitCores} cores`,
              'container CPU (cgroup cpu.stat / cpu.max)',
            )
          : nothing}
        ${sample.disks.map((disk) =>
          this.bar(fraction(disk.usedBytes, disk.sizeBytes), `disk:${disk.mount}`, disk.mount, formatBytesOf(disk.usedBytes, disk.sizeBytes, u), `${disk.fsType} at ${disk.mount}`),
        )}
        <div class="row" title="disk bytes read (R) and written (W) per second, all physical disks">
          <span class="label">Disk I/O</span>
          <span class="value wide" data-metric="disk-io">R ${formatRate(sample.diskIo?.readBytesPerSecond, u)} · W ${formatRate(sample.diskIo?.writeBytesPerSecond, u)}</span>
        </div>
        <div class="row" title="network bytes received (↓) and sent (↑) per second, all interfaces but loopback">
          <span class="label">Network</span>
          <span class="value wide" data-metric="network">↓ ${formatRate(sample.network?.rxBytesPerSecond, u)} · ↑ ${formatRate(sample.network?.txBytesPerSecond, u)}</span>
        </div>
      </section>
      <section class="gpus" aria-label="GPUs">
        ${sample.gpus && sample.gpus.length
          ? html`<h3>GPUs · ${sample.gpus.length}</h3>
              ${sample.gpus.length > 1 ? this.renderComparison(sample.gpus) : nothing}
              ${sample.gpus.map((gpu) => this.renderGpu(gpu, sample.gpus!.length > 1))}`
          : html`<h3>GPUs</h3><div class="muted" data-metric="no-gpu">No NVIDIA GPU found (nvidia-smi missing or not working).</div>`}
      </section>
    </div>`;
  }

  /** One row per GPU, utilization and memory side by side: imbalance across GPUs shows at once. */
  private renderComparison(gpus: GpuSample[]): TemplateResult {
    return html`<div class="compare" data-compare>
      <div class="row sub"><span>#</span><span>utilization</span><span>memory</span><span></span></div>
      ${gpus.map(
        (gpu, i) => html`<div class="row" title=${gpu.name}>
          <span><span class="swatch" style="background:${SERIES_COLORS[i % SERIES_COLORS.length]}"></span>${gpu.index}</span>
          <div class="bar"><div style="width:${((gpu.utilizationPercent ?? 0)).toFixed(0)}%"></div></div>
          <div class="bar"><div style="width:${(fraction(gpu.memoryUsedBytes, gpu.memoryTotalBytes) * 100).toFixed(1)}%"></div></div>
          <span class="value">${formatPercent(gpu.utilizationPercent)}</span>
        </div>`,
      )}
    </div>`;
  }

  private renderGpu(gpu: GpuSample, compact: boolean): TemplateResult {
    const u = this.units;
    const body = html`
      ${this.bar((gpu.utilizationPercent ?? 0) / 100, `gpu${gpu.index}-util`, 'Util', gpu.migMode === 'enabled' && gpu.utilizationPercent === null ? 'MIG' : formatPercent(gpu.utilizationPercent))}
      ${this.bar(fraction(gpu.memoryUsedBytes, gpu.memoryTotalBytes), `gpu${gpu.index}-memory`, 'Memory', formatBytesOf(gpu.memoryUsedBytes, gpu.memoryTotalBytes, u))}
      ${this.bar(
        fraction(gpu.powerDrawWatts, gpu.powerLimitWatts),
        `gpu${gpu.index}-power`,
        'Power',
        `${gpu.powerDrawWatts === null ? '–' : gpu.powerDrawWatts.toFixed(0)}${gpu.powerLimitWatts === null ? '' : ` / ${gpu.powerLimitWatts.toFixed(0)}`} W`,
      )}
      <div class="row" title="GPU temperature; SM and memory clocks">
        <span class="label">Temp</span>
        <span class="value wide"
          ><span data-metric=${`gpu${gpu.index}-temperature`}>${gpu.temperatureC === null ? '–' : `${gpu.temperatureC} °C`}</span>
          <span class="sub">· SM ${gpu.smClockMhz ?? '–'} / mem ${gpu.memoryClockMhz ?? '–'} MHz</span></span
        >
      </div>
      ${gpu.migDevices.length
        ? html`<div class="sub" style="margin-top:3px">MIG slices</div>
            <ul class="list" data-mig=${gpu.index}>
              ${gpu.migDevices.map((d) => html`<li><span>dev ${d.deviceIndex}</span><span title=${d.uuid}>${d.profile}</span><span>${formatBytes(d.nominalMemoryBytes, u)}</span></li>`)}
            </ul>`
        : nothing}
      ${this.renderProcesses(gpu)}
    `;
    const name = html`GPU ${gpu.index} · ${gpu.name}${gpu.migMode === 'enabled' ? ' · MIG' : ''}`;
    // With several GPUs the details fold away behind the comparison rows.
    return compact
      ? html`<details class="gpu" data-gpu=${gpu.index}><summary class="gpu-name" title=${gpu.uuid}>${name}</summary>${body}</details>`
      : html`<div class="gpu" data-gpu=${gpu.index}><div class="gpu-name" title=${gpu.uuid}>${name}</div>${body}</div>`;
  }

  private renderProcesses(gpu: GpuSample): TemplateResult {
    if (!gpu.processes.length) return html`<div class="sub muted" style="margin-top:3px">no compute processes</div>`;
    const sorted = [...gpu.processes].sort((a, b) => (b.usedMemoryBytes ?? -1) - (a.usedMemoryBytes ?? -1));
    const shown = sorted.slice(0, MAX_PROCESSES);
    const rest = sorted.slice(MAX_PROCESSES);
    return html`<div class="sub" style="margin-top:3px">Processes</div>
      <ul class="list" data-processes=${gpu.index}>
        ${shown.map(
          (p) => html`<li><span>${p.pid}</span><span title=${p.name}>${p.name.split('/').pop()}</span><span>${formatBytes(p.usedMemoryBytes, this.units)}</span></li>`,
        )}
        ${rest.length
          ? html`<li><span></span><span>${rest.length} more</span><span>${formatBytes(rest.reduce((s, p) => s + (p.usedMemoryBytes ?? 0), 0), this.units)}</span></li>`
          : nothing}
      </ul>`;
  }

  private renderCharts(sample: MonitorSample): TemplateResult {
    const u = this.units;
    const spanMs = RANGE_SPAN_MS[this.range];
    const bucketMs = this.history?.bucketMs ?? sample.intervalMs;
    const common = { spanMs, nowMs: sample.timestampMs, gapMs: Math.max(3 * bucketMs, 5000) };
    const pts = this.points;
    const series = (label: string, color: string, value: (p: HistoryPoint) => number | null): ChartSeries => ({
      label,
      color,
      points: pts.map((p) => [p.timestampMs, value(p)] as const),
    });
    const gpuIndices = [...new Set([...(sample.gpus ?? []).map((g) => g.index), ...pts.flatMap((p) => p.gpus.map((g) => g.index))])].sort((a, b) => a - b);
    const gpuSeries = (value: (g: HistoryPoint['gpus'][number]) => number | null) =>
      gpuIndices.map((index, i) =>
        series(`${index}`, SERIES_COLORS[i % SERIES_COLORS.length], (p) => {
          const gpu = p.gpus.find((g) => g.index === index);
          return gpu ? value(gpu) : null;
        }),
      );
    const gpuMemoryTotal = Math.max(0, ...(sample.gpus ?? []).map((g) => g.memoryTotalBytes ?? 0));
    return html`
      <div class="charts-head">
        <span class="grow">History</span>
        ${(['1h', '6h', '24h'] as const).map(
          (range) =>
            html`<button aria-pressed=${this.range === range ? 'true' : 'false'} @click=${() => this.selectRange(range)}>${range}</button>`,
        )}
      </div>
      <div class="charts">
        ${timeChart({ ...common, id: 'cpu', title: 'CPU', yMax: 100, format: formatPercent, series: [series('total', '#1f77b4', (p) => p.cpuPercent)] })}
        ${timeChart({
          ...common,
          id: 'memory',
          title: 'RAM',
          yMax: sample.memory.totalBytes,
          format: (v) => formatBytes(v, u),
          series: [series('used', '#9467bd', (p) => p.memoryUsedBytes)],
        })}
        ${gpuIndices.length
          ? html`${timeChart({ ...common, id: 'gpu-util', title: 'GPU util', yMax: 100, format: formatPercent, series: gpuSeries((g) => g.utilizationPercent) })}
            ${timeChart({
              ...common,
              id: 'gpu-memory',
              title: 'GPU memory',
              yMax: gpuMemoryTotal || undefined,
              format: (v) => formatBytes(v, u),
              series: gpuSeries((g) => g.memoryUsedBytes),
            })}`
          : nothing}
        ${timeChart({
          ...common,
          id: 'network',
          title: 'Network',
          format: (v) => formatRate(v, u),
          series: [series('in', '#2ca02c', (p) => p.networkRxBytesPerSecond), series('out', '#ff7f0e', (p) => p.networkTxBytesPerSecond)],
        })}
        ${timeChart({
          ...common,
          id: 'disk-io',
          title: 'Disk I/O',
          format: (v) => formatRate(v, u),
          series: [series('read', '#17becf', (p) => p.diskReadBytesPerSecond), series('write', '#d62728', (p) => p.diskWriteBytesPerSecond)],
        })}
      </div>`;
  }

  private selectRange(range: HistoryRange): void {
    if (range === this.range) return;
    this.range = range;
    emitAction(this, 'set-range', { range });
  }
}

defineElement(SYSTEM_MONITOR_TAG, SystemMonitorElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-system-monitor': SystemMonitorElement;
  }
}
