/**
 * `<ms-system-status>`: the compact status-bar item — GPU utilization and memory (all GPUs summed
 * when there are several), or CPU and RAM on a machine without GPUs; red when the service is down.
 * Plain data in; the labextension puts it in JupyterLab's status bar.
 */
import { LitElement, css, html, type PropertyDeclarations, type TemplateResult } from 'lit';
import { defineElement } from './define-element.js';
import { formatBytesOf, formatPercent, statusText } from './system-monitor-format.js';
import type { ByteUnits, MonitorConnectionStatus, MonitorSample } from './system-monitor-types.js';

export const SYSTEM_STATUS_TAG = 'ms-system-status';

export class SystemStatusElement extends LitElement {
  static override properties: PropertyDeclarations = {
    sample: { attribute: false },
    status: { type: String },
    units: { type: String },
  };

  sample: MonitorSample | null = null;
  status: MonitorConnectionStatus = 'loading';
  units: ByteUnits = 'binary';

  static override styles = css`
    :host { display: inline-flex; align-items: center; gap: 4px; font-size: var(--jp-ui-font-size0, 11px); font-variant-numeric: tabular-nums; padding: 0 4px; cursor: pointer; }
    .dot { width: 7px; height: 7px; border-radius: 50%; background: #9e9e9e; }
    .dot.live { background: #2e7d32; } .dot.error { background: #c62828; }
  `;

  protected override render(): TemplateResult {
    const text = this.status === 'error' ? 'monitor offline' : statusText(this.sample, this.units);
    const detail = (this.sample?.gpus ?? [])
      .map((gpu) => `GPU ${gpu.index} ${gpu.name}: ${formatPercent(gpu.utilizationPercent)}, ${formatBytesOf(gpu.memoryUsedBytes, gpu.memoryTotalBytes, this.units)}`)
      .join('\n');
    return html`<span class="dot ${this.status}"></span><span data-status-text title=${detail || 'system monitor'}>${text}</span>`;
  }
}

defineElement(SYSTEM_STATUS_TAG, SystemStatusElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-system-status': SystemStatusElement;
  }
}
