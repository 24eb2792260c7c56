/**
 * `<ms-models>`: the workspace's models, one page at a time — registered local models and hub
 * models in the download cache — with architecture, parameters, precision, size and status; a hub
 * download with live progress and Cancel; delete (cached files are removed, local models are only
 * forgotten); "Card" opens a model's architecture viewer. Actions: see ModelsViewProps.
 */
import { html, nothing, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import { ListViewElement } from './list-view.js';
import { downloadLine, downloadFraction } from './static/models-snapshot.js';
import { formatBytes, formatCount, MODEL_ORIGIN_ORDER, STATUS_COLORS } from './static/workspace-format.js';
import type { ModelDownloadState, ModelListRow, ModelsViewProps } from './workspace-types.js';

export const MODELS_TAG = 'ms-models';

export class ModelsViewElement extends ListViewElement<ModelListRow> implements ModelsViewProps {
  static override properties: PropertyDeclarations = {
    ...ListViewElement.properties,
    download: { attribute: false },
    hubId: { state: true },
  };

  download: ModelDownloadState | null = null;
  private hubId = '';
  protected readonly statuses = MODEL_ORIGIN_ORDER;
  protected readonly noun = 'models';

  private renderDownload() {
    const d = this.download;
    const busy = d?.status === 'downloading';
    return html`<div class="bar download-bar">
        <input class="hub-id" placeholder="org/name[@revision]" aria-label="hub model id" .value=${this.hubId}
          @input=${(e: Event) => (this.hubId = (e.target as HTMLInputElement).value)} />
        <button class="download" ?disabled=${busy || !this.hubId.trim()} @click=${() => this.act('download', { id: this.hubId.trim() })}>Download</button>
        <button class="refresh" @click=${() => this.act('refresh', {})}>Rescan</button>
      </div>
      ${d
        ? html`<div class="download-state" data-status=${d.status}>
            <div class="bar"><b>${d.id}</b> <span style="color:${STATUS_COLORS[d.status === 'downloading' ? 'running' : d.status] ?? '#888'}">${d.status}</span>
              ${busy ? html`<button class="cancel-download" @click=${() => emitAction(this, 'cancel-download', {})}>Cancel</button>` : nothing}</div>
            ${busy ? html`<div style="height:8px;background:#eee;border-radius:4px;overflow:hidden;max-width:480px"><div class="fill" style="height:100%;background:#1f77b4;width:${(downloadFraction(d) * 100).toFixed(1)}%"></div></div>` : nothing}
            <div class="muted line" style="margin-bottom:6px">${downloadLine(d)}</div>
          </div>`
        : nothing}`;
  }

  private renderRow(r: ModelListRow) {
    return html`<tr data-name=${r.name} data-origin=${r.origin}>
      <td><b class="name">${r.name}</b><div class="muted mono">${r.path}</div></td>
      <td>${this.statusCell(r.origin)}</td>
      <td>${r.architecture ?? '—'}</td>
      <td class="num params">${formatCount(r.parameters)}</td>
      <td class="precision">${r.precision ?? '—'}<div class="muted">${r.format}</div></td>
      <td class="num bytes">${formatBytes(r.bytes)}</td>
      <td>${this.statusCell(r.status)}${r.error ? html`<div class="muted">${r.error}</div>` : nothing}</td>
      <td style="white-space:nowrap"><button class="card" ?disabled=${r.status !== 'ready'} @click=${() => this.act('card', { name: r.name })}>Card</button>
        <button class="delete" title=${r.origin === 'cache' ? 'delete the cached files' : 'forget this model (its files stay)'}
          @click=${() => this.act('delete', { names: [r.name] })}>${r.origin === 'cache' ? 'Delete' : 'Forget'}</button></td>
    </tr>`;
  }

  override render() {
    return html`
      <div class="title">${this.title || 'Models'}</div>
      ${this.renderDownload()}
      ${this.renderFilters()}
      ${this.renderNotices()}
      ${this.rows.length
        ? html`<table class="rows"><tr>${this.th('model', 'name')}${this.th('origin', 'origin')}${this.th('architecture', 'architecture')}${this.th('parameters', 'parameters', true)}
            ${this.th('precision', 'precision')}${this.th('size', 'bytes', true)}${this.th('status')}${this.th('')}</tr>${this.rows.map((r) => this.renderRow(r))}</table>`
        : html`<div class="empty">no models${this.status ? ` (${this.status})` : ''}</div>`}
      ${this.renderPager()}
    `;
  }
}

defineElement(MODELS_TAG, ModelsViewElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-models': ModelsViewElement;
  }
}
