/**
 * The shared part of the workspace list views (`<ms-models>`, `<ms-extractions>`, `<ms-runs>`):
 * props of one page, the status filter bar with counts, the search box, sortable column headers
 * and the pager. Every change asks the kernel for a page with the `page` action (payload
 * ListPageRequest); the kernel answers with new props. Subclasses render the rows.
 */
import { LitElement, css, html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { emitAction } from './emit-action.js';
import { countsEntries, STATUS_COLORS } from './static/workspace-format.js';
import type { ListPageProps, ListPageRequest, TemplateRow } from './workspace-types.js';

export abstract class ListViewElement<Row> extends LitElement implements ListPageProps<Row> {
  static override properties: PropertyDeclarations = {
    rows: { attribute: false },
    total: { type: Number },
    page: { type: Number },
    pageSize: { type: Number, attribute: 'page-size' },
    pages: { type: Number },
    sort: { type: String },
    order: { type: String },
    status: { type: String },
    query: { type: String },
    counts: { attribute: false },
    title: { type: String },
    error: { type: String },
    message: { type: String },
    elapsedMs: { type: Number, attribute: false },
    draft: { state: true },
    pending: { state: true },
    editing: { state: true },
    templateDraft: { attribute: false },
  };

  static override styles = css`
    :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: var(--jp-ui-font-color1, #1a1a1a); }
    .title { font-weight: 600; margin-bottom: 4px; }
    .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-bottom: 6px; }
    .chip { font: inherit; font-size: 12px; padding: 1px 8px; border: 1px solid #ccc; border-radius: 10px; background: #fff; cursor: pointer; }
    .chip.active { background: #1f77b4; color: #fff; border-color: #1f77b4; }
    .chip .n { font-weight: 600; margin-left: 3px; }
    input[type='search'] { flex: 1 1 200px; min-width: 120px; padding: 3px 6px; font: inherit; }
    input.goto { width: 4.5em; padding: 2px 4px; font: inherit; }
    button { font: inherit; padding: 2px 8px; cursor: pointer; }
    button:disabled { cursor: default; opacity: 0.5; }
    .status-line { color: var(--jp-ui-font-color2, #555); font-size: 12px; margin-bottom: 6px; }
    .pending { opacity: 0.6; }
    .error { color: #b00020; margin-bottom: 6px; }
    .message { color: #2e7d32; margin-bottom: 6px; }
    table { border-collapse: collapse; width: 100%; font-size: 12px; }
    th { text-align: left; border-bottom: 1px solid #ccc; padding: 3px 6px; white-space: nowrap; user-select: none; }
    th.sortable { cursor: pointer; }
    th.sorted { color: #1f77b4; }
    td { border-bottom: 1px solid #eee; padding: 3px 6px; vertical-align: top; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .dot { display: inline-block; width: 8px; height: 8px; border-radius: 4px; margin-right: 4px; }
    .muted { color: #777; }
    .mono { font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; }
    .empty { color: #777; padding: 8px 0; }
    .templates { margin-top: 10px; border-top: 1px solid #ddd; padding-top: 6px; }
    textarea { width: 100%; min-height: 6em; font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; box-sizing: border-box; }
    .confirm { background: #fff4e5; border: 1px solid #f0c36d; padding: 4px 8px; border-radius: 4px; }
  `;

  rows: Row[] = [];
  total = 0;
  page = 0;
  pageSize = 25;
  pages = 1;
  sort = '';
  order: 'asc' | 'desc' = 'desc';
  status = '';
  query = '';
  counts: Record<string, number> = {};
  override title = '';
  error?: string;
  message?: string;
  elapsedMs?: number;
  /** The search box's text before it is submitted. */
  protected draft = '';
  /** A page was requested and its props have not arrived yet. */
  protected pending = false;
  /** The template being written or edited in the template form (null: form closed). */
  protected editing: { name: string; description: string; config: string; existing: boolean } | null = null;
  /** A template prefilled by the kernel (answer to `template-from`): opens the template form with it. */
  templateDraft: ListPageProps<Row>['templateDraft'] = null;

  /** Status keys of the filter bar, in order. */
  protected abstract readonly statuses: readonly string[];
  /** "runs", "models", ... */
  protected abstract readonly noun: string;
  /** Whether templates of this view carry a description (training templates do, extraction templates do not). */
  protected readonly templateDescriptions: boolean = false;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('query')) this.draft = this.query;
    if (changed.has('rows') || changed.has('error') || changed.has('message')) this.pending = false;
    const d = this.templateDraft;
    if (changed.has('templateDraft') && d) this.editing = { name: d.name, description: d.description ?? '', config: JSON.stringify(d.config, null, 2), existing: false };
  }

  /** Asks the kernel for a page; props arrive with the answer. */
  request(change: Partial<ListPageRequest>): void {
    const payload: ListPageRequest = { page: this.page, pageSize: this.pageSize, sort: this.sort, order: this.order, status: this.status, query: this.query, ...change };
    payload.page = Math.max(0, Math.floor(payload.page));
    this.pending = true;
    emitAction(this, 'page', payload);
  }

  /** Sends an action other than paging (delete, templates, ...). */
  protected act(action: string, payload: unknown): void {
    this.pending = true;
    emitAction(this, action, payload);
  }

  protected renderFilters(): TemplateResult {
    return html`<div class="bar filters">
      ${countsEntries(this.counts, this.statuses).map(
        (c) => html`<button class="chip ${this.status === c.key ? 'active' : ''}" data-status=${c.key} @click=${() => this.request({ status: c.key, page: 0 })}>
          ${c.key ? html`<span class="dot" style="background:${STATUS_COLORS[c.key] ?? '#888'}"></span>` : nothing}${c.label}<span class="n">${c.count}</span></button>`,
      )}
      <input type="search" placeholder="Filter…" aria-label="filter" .value=${this.draft}
        @input=${(e: Event) => (this.draft = (e.target as HTMLInputElement).value)}
        @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.request({ page: 0, query: this.draft.trim() })} />
      <button class="search" @click=${() => this.request({ page: 0, query: this.draft.trim() })}>Filter</button>
    </div>`;
  }

  /** A header cell that sorts by `key` (click again to reverse). */
  protected th(label: string, key?: string, numeric = false): TemplateResult {
    if (!key) return html`<th class=${numeric ? 'num' : ''}>${label}</th>`;
    const active = this.sort === key;
    const next: 'asc' | 'desc' = active ? (this.order === 'asc' ? 'desc' : 'asc') : numeric ? 'desc' : 'asc';
    return html`<th class="sortable ${active ? 'sorted' : ''} ${numeric ? 'num' : ''}" data-sort=${key} title="sort by ${label}"
      @click=${() => this.request({ sort: key, order: next, page: 0 })}>${label}${active ? (this.order === 'asc' ? ' ▲' : ' ▼') : ''}</th>`;
  }

  protected renderPager(): TemplateResult {
    const last = Math.max(0, this.pages - 1);
    return html`<div class="bar pager">
      <button class="first" ?disabled=${this.page <= 0} @click=${() => this.request({ page: 0 })}>«</button>
      <button class="prev" ?disabled=${this.page <= 0} @click=${() => this.request({ page: this.page - 1 })}>‹</button>
      <span>page <input class="goto" type="number" min="1" max=${last + 1} .value=${String(this.page + 1)}
        @change=${(e: Event) => this.request({ page: Number((e.target as HTMLInputElement).value) - 1 })} /> of ${this.pages}</span>
      <button class="next" ?disabled=${this.page >= last} @click=${() => this.request({ page: this.page + 1 })}>›</button>
      <button class="last" ?disabled=${this.page >= last} @click=${() => this.request({ page: last })}>»</button>
      <span class="status-line ${this.pending ? 'pending' : ''}">${this.total} ${this.noun}${this.query ? ` matching “${this.query}”` : ''}${
        this.elapsedMs !== undefined ? ` · ${this.elapsedMs} ms` : ''}${this.pending ? ' · loading…' : ''}</span>
    </div>`;
  }

  protected renderNotices(): TemplateResult {
    return html`${this.error ? html`<div class="error">${this.error}</div>` : nothing}${this.message ? html`<div class="message">${this.message}</div>` : nothing}`;
  }

  protected statusCell(status: string): TemplateResult {
    return html`<span class="status" data-status=${status}><span class="dot" style="background:${STATUS_COLORS[status] ?? '#888'}"></span>${status}</span>`;
  }

  /**
   * Templates (extraction or training configs): apply, edit, delete, and a form to save a new one
   * or the edited one. Actions: apply-template {name}, delete-template {name},
   * save-template {name, description, config, overwrite}.
   */
  protected renderTemplates(templates: readonly TemplateRow[], applied: { template: string; config: Record<string, unknown>; code: string } | null | undefined): TemplateResult {
    const e = this.editing;
    let parseError = '';
    if (e) {
      try {
        const v = JSON.parse(e.config) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) parseError = 'the configuration must be a JSON object';
      } catch (err) {
        parseError = (err as Error).message;
      }
    }
    return html`<div class="templates">
      <div class="bar"><span class="title">Templates (${templates.length})</span>
        <button class="new-template" @click=${() => (this.editing = { name: '', description: '', config: '{\n}', existing: false })}>New template</button></div>
      ${templates.length
        ? html`<table class="template-list"><tr><th>name</th>${this.templateDescriptions ? html`<th>description</th>` : nothing}<th>configuration</th><th></th></tr>
          ${templates.map((t) => html`<tr data-template=${t.name}><td><b>${t.name}</b></td>${this.templateDescriptions ? html`<td class="muted">${t.description ?? ''}</td>` : nothing}<td class="mono">${JSON.stringify(t.config)}</td>
            <td style="white-space:nowrap"><button class="apply" @click=${() => this.act('apply-template', { name: t.name })}>Apply</button>
              <button class="edit" @click=${() => (this.editing = { name: t.name, description: t.description ?? '', config: JSON.stringify(t.config, null, 2), existing: true })}>Edit</button>
              <button class="delete-template" @click=${() => this.act('delete-template', { name: t.name })}>Delete</button></td></tr>`)}
          </table>`
        : html`<div class="empty">no templates</div>`}
      ${e
        ? html`<div class="template-form">
            <div class="bar"><label>name <input class="template-name" .value=${e.name} ?disabled=${e.existing}
              @input=${(ev: Event) => (this.editing = { ...e, name: (ev.target as HTMLInputElement).value })} /></label>
              ${this.templateDescriptions
                ? html`<label>description <input class="template-description" .value=${e.description}
                    @input=${(ev: Event) => (this.editing = { ...e, description: (ev.target as HTMLInputElement).value })} /></label>`
                : nothing}</div>
            <textarea class="template-config" .value=${e.config} @input=${(ev: Event) => (this.editing = { ...e, config: (ev.target as HTMLTextAreaElement).value })}></textarea>
            ${parseError ? html`<div class="error">${parseError}</div>` : nothing}
            <div class="bar"><button class="save-template" ?disabled=${!!parseError || !e.name.trim()} @click=${() => {
              this.act('save-template', { name: e.name.trim(), description: e.description, config: JSON.parse(e.config), overwrite: e.existing });
              this.editing = null;
            }}>Save</button><button class="cancel-template" @click=${() => (this.editing = null)}>Cancel</button></div>
          </div>`
        : nothing}
      ${applied
        ? html`<div class="applied"><div>Template <b>${applied.template}</b> gives:</div><pre class="mono">${JSON.stringify(applied.config, null, 2)}</pre>
            <div class="muted">run it with:</div><pre class="mono code">${applied.code}</pre></div>`
        : nothing}
    </div>`;
  }
}
