/**
 * `<ms-job-progress>`: a long job's progress bar with counts, rate and ETA, and Pause/Resume/Stop
 * buttons that dispatch `ms-action` ('pause' | 'resume' | 'stop') when the job is cooperative.
 */
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import { formatNumber } from './static/format.js';
import { JOB_STATUS_COLORS, fractionDone, progressLine } from './static/job-progress-snapshot.js';
import type { JobProgressProps, JobProgressStatus } from './types.js';

export const JOB_PROGRESS_TAG = 'ms-job-progress';

export class JobProgressElement extends LitElement implements JobProgressProps {
  static override properties: PropertyDeclarations = {
    title: { type: String },
    status: { type: String },
    done: { type: Number },
    total: { type: Number },
    unit: { type: String },
    rate: { type: Number },
    etaSeconds: { type: Number },
    message: { type: String },
    controls: { type: Boolean },
    details: { attribute: false },
  };

  static override styles = css`
    :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: var(--jp-ui-font-color1, #1a1a1a); max-width: 640px; }
    .head { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
    .title { font-weight: 600; }
    .status { font-weight: 600; }
    .track { height: 10px; background: var(--jp-layout-color3, #eee); border-radius: 5px; margin: 6px 0; overflow: hidden; }
    .fill { height: 100%; transition: width 0.2s; }
    .line, .details { font-size: 12px; color: var(--jp-ui-font-color2, #444); }
    .message { font-size: 12px; margin-top: 4px; }
    button { font: inherit; font-size: 12px; padding: 2px 10px; margin-left: 4px; cursor: pointer; }
  `;

  override title = '';
  status: JobProgressStatus = 'pending';
  done = 0;
  total?: number;
  unit = '';
  rate?: number;
  etaSeconds?: number | null;
  message?: string;
  controls = false;
  details?: Record<string, string | number>;

  private button(action: 'pause' | 'resume' | 'stop', label: string, enabled: boolean) {
    return html`<button ?disabled=${!enabled} @click=${() => emitAction(this, action, {})}>${label}</button>`;
  }

  override render() {
    const color = JOB_STATUS_COLORS[this.status] ?? '#888';
    const live = this.status === 'running' || this.status === 'paused';
    return html`
      <div class="head">
        <span class="title">${this.title}</span>
        <span>
          <span class="status" style="color:${color}">${this.status}</span>
          ${this.controls
            ? html`${this.status === 'paused' ? this.button('resume', 'Resume', true) : this.button('pause', 'Pause', this.status === 'running')}${this.button('stop', 'Stop', live)}`
            : nothing}
        </span>
      </div>
      <div class="track"><div class="fill" style="width:${(fractionDone(this) * 100).toFixed(1)}%;background:${color}"></div></div>
      <div class="line">${progressLine(this)}${this.total ? ` · ${(fractionDone(this) * 100).toFixed(1)}%` : ''}</div>
      ${this.details
        ? html`<div class="details">${Object.entries(this.details).map(([k, v], i) => html`${i ? ' · ' : ''}<b>${k}</b> ${typeof v === 'number' ? formatNumber(v) : v}`)}</div>`
        : nothing}
      ${this.message ? html`<div class="message" style="color:${this.status === 'failed' ? '#d62728' : 'inherit'}">${this.message}</div>` : nothing}
    `;
  }
}

defineElement(JOB_PROGRESS_TAG, JobProgressElement);
