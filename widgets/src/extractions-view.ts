/**
 * `<ms-extractions>`: the activation extraction history, one page at a time — model, dataset,
 * hooks, tokens, size, duration, status — with status filters and counts, sortable columns,
 * delete, "save as template" from an extraction's configuration, and the template list
 * (apply, edit, delete). Actions: see ExtractionsViewProps.
 */
import { html, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { ListViewElement } from './list-view.js';
import { formatDuration } from './static/job-progress-snapshot.js';
import { EXTRACTION_STATUS_ORDER, formatBytes, formatCount, formatDate } from './static/workspace-format.js';
import type { ExtractionListRowProps, ExtractionsViewProps, TemplateRow } from './workspace-types.js';

export const EXTRACTIONS_TAG = 'ms-extractions';

export class ExtractionsViewElement extends ListViewElement<ExtractionListRowProps> implements ExtractionsViewProps {
  static override properties: PropertyDeclarations = {
    ...ListViewElement.properties,
    templates: { attribute: false },
    applied: { attribute: false },
  };

  templates: TemplateRow[] = [];
  applied: ExtractionsViewProps['applied'] = null;
  protected readonly statuses = EXTRACTION_STATUS_ORDER;
  protected readonly noun = 'extractions';

  private renderRow(r: ExtractionListRowProps) {
    return html`<tr data-name=${r.name}>
      <td><b class="name">${r.name}</b><div class="muted">${formatDate(r.createdAt)}</div></td>
      <td class="mono" title=${r.model}>${r.model.split('/').pop()}</td>
      <td>${r.dataset ?? html`<span class="muted">(deleted)</span>`}</td>
      <td class="mono hooks">${r.hooks.map((h) => html`<div>${h}</div>`)}</td>
      <td class="num tokens">${formatCount(r.tokens)}</td>
      <td class="num bytes">${formatBytes(r.bytes)}</td>
      <td class="num">${formatDuration(r.durationSeconds)}</td>
      <td>${this.statusCell(r.status)}</td>
      <td style="white-space:nowrap">
        <button class="template-from" title="save this extraction's configuration as a template"
          @click=${() => this.act('template-from', { extraction: r.name })}>Save as template</button>
        <button class="delete" @click=${() => this.act('delete', { names: [r.name] })}>Delete</button></td>
    </tr>`;
  }

  override render() {
    return html`
      <div class="title">${this.title || 'Activation extractions'}</div>
      ${this.renderFilters()}
      ${this.renderNotices()}
      ${this.rows.length
        ? html`<table class="rows"><tr>${this.th('extraction', 'name')}${this.th('model', 'model')}${this.th('dataset', 'dataset')}${this.th('hooks')}
            ${this.th('tokens', 'tokens', true)}${this.th('size', 'bytes', true)}${this.th('duration', 'duration', true)}${this.th('status', 'status')}${this.th('')}</tr>
            ${this.rows.map((r) => this.renderRow(r))}</table>`
        : html`<div class="empty">no extractions${this.status ? ` with status ${this.status}` : ''}</div>`}
      ${this.renderPager()}
      ${this.renderTemplates(this.templates, this.applied)}
    `;
  }
}

defineElement(EXTRACTIONS_TAG, ExtractionsViewElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-extractions': ExtractionsViewElement;
  }
}
