/**
 * `<ms-dataset-browser>`: pages through a dataset's samples (20 per page) with a search box and a
 * token-view toggle. The element never holds more than the page it shows: every change asks the
 * kernel for a page with `ms-action` `page` (payload DatasetPageRequest), and the kernel answers with
 * new props made by `pageSamples(reader, request)` (`@mistudio/core`), e.g. in a notebook:
 *
 *   const reader = await openDataset(catalog, 'gutenberg');
 *   const w = widget('ms-dataset-browser', pageSamples(reader));
 *   w.on('page', (request) => w.set(pageSamples(reader, request)));
 */
import { LitElement, css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { browserStatus, sampleSegments, tokenLabel, tokenShade } from './dataset-browser-view.js';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import type { DatasetBrowserProps, DatasetBrowserSample, DatasetPageRequest } from './types.js';

export const DATASET_BROWSER_TAG = 'ms-dataset-browser';

export class DatasetBrowserElement extends LitElement implements DatasetBrowserProps {
  static override properties: PropertyDeclarations = {
    name: { type: String },
    kind: { type: String },
    page: { type: Number },
    pageSize: { type: Number, attribute: 'page-size' },
    totalRows: { type: Number, attribute: false },
    query: { type: String },
    matchingRows: { type: Number, attribute: false },
    matchCountExact: { type: Boolean, attribute: false },
    scannedRows: { type: Number, attribute: false },
    pages: { type: Number },
    samples: { attribute: false },
    tokenView: { type: Boolean, attribute: 'token-view' },
    hasTokens: { type: Boolean, attribute: 'has-tokens' },
    elapsedMs: { type: Number, attribute: false },
    title: { type: String },
    error: { type: String },
    draft: { state: true },
    pending: { state: true },
  };

  static override styles = css`
    :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: var(--jp-ui-font-color1, #1a1a1a); }
    .title { font-weight: 600; margin-bottom: 4px; }
    .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-bottom: 6px; }
    input[type='search'] { flex: 1 1 220px; min-width: 120px; padding: 3px 6px; font: inherit; }
    input.goto { width: 4.5em; padding: 2px 4px; font: inherit; }
    button { font: inherit; padding: 2px 8px; cursor: pointer; }
    button:disabled { cursor: default; opacity: 0.5; }
    .status { color: var(--jp-ui-font-color2, #555); font-size: 12px; margin-bottom: 6px; }
    .status.pending { opacity: 0.6; }
    .error { color: #b00020; margin-bottom: 6px; }
    .rows { border-top: 1px solid #ddd; }
    .row { display: flex; gap: 8px; padding: 4px 0; border-bottom: 1px solid #eee; }
    .meta { flex: 0 0 auto; min-width: 4.5em; color: var(--jp-ui-font-color2, #555); font-size: 11px; }
    .text { flex: 1 1 auto; font-family: var(--jp-code-font-family, ui-monospace, monospace); white-space: pre-wrap; word-break: break-word; }
    .more { color: #777; }
    mark { background: #ffe066; }
    .tok { border-radius: 2px; padding: 0 1px; }
    .empty { color: #777; padding: 8px 0; }
  `;

  name = '';
  kind: 'text' | 'tokenized' = 'text';
  page = 0;
  pageSize = 20;
  totalRows = 0;
  query = '';
  matchingRows = 0;
  matchCountExact = true;
  scannedRows = 0;
  pages = 1;
  samples: DatasetBrowserSample[] = [];
  tokenView = false;
  hasTokens = false;
  elapsedMs?: number;
  override title = '';
  error?: string;
  /** The search box's text before it is submitted. */
  private draft = '';
  /** A page was requested and its props have not arrived yet. */
  private pending = false;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('query')) this.draft = this.query;
    // New props from the kernel answer the outstanding request.
    if (changed.has('samples') || changed.has('error')) this.pending = false;
  }

  /** Asks the kernel for a page; props arrive with the answer. */
  request(change: Partial<DatasetPageRequest>): void {
    const payload: DatasetPageRequest = { page: this.page, pageSize: this.pageSize, query: this.query, tokens: this.tokenView, ...change };
    payload.page = Math.max(0, Math.floor(payload.page));
    this.pending = true;
    emitAction(this, 'page', payload);
  }

  private submitSearch(): void {
    this.request({ page: 0, query: this.draft.trim() });
  }

  private renderSample(s: DatasetBrowserSample) {
    let body;
    if (this.tokenView && s.tokens) {
      const hidden = (s.fullTokens ?? s.tokens.length) - s.tokens.length;
      body = html`${s.tokens.map((t, i) => html`<span class="tok" title=${`id ${s.tokenIds?.[i] ?? ''}`} style="background:${tokenShade(i)}">${tokenLabel(t)}</span>`)}${
        hidden > 0 ? html`<span class="more"> … ${hidden} more tokens</span>` : nothing}`;
    } else {
      const { segments, hiddenChars } = sampleSegments(s.text, this.query, s.fullChars);
      body = html`${segments.map((g) => (g.match ? html`<mark>${g.text}</mark>` : g.text))}${hiddenChars > 0 ? html`<span class="more"> … ${hiddenChars} more characters</span>` : nothing}`;
    }
    return html`<div class="row" data-index=${s.index}><div class="meta">#${s.index}<br />${s.split}</div><div class="text">${body}</div></div>`;
  }

  override render() {
    const last = Math.max(0, this.pages - 1);
    const more = !this.matchCountExact;
    return html`
      <div class="title">${this.title || `Dataset ${this.name}`}</div>
      <div class="bar">
        <input type="search" placeholder="Search samples…" aria-label="search samples" .value=${this.draft}
          @input=${(e: Event) => (this.draft = (e.target as HTMLInputElement).value)}
          @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.submitSearch()} />
        <button class="search" @click=${() => this.submitSearch()}>Search</button>
        ${this.query ? html`<button class="clear" @click=${() => this.request({ page: 0, query: '' })}>Clear</button>` : nothing}
        <label title=${this.hasTokens ? 'show each sample as tokens with ids' : 'no tokenizer for this dataset'}>
          <input type="checkbox" class="token-view" .checked=${this.tokenView} ?disabled=${!this.hasTokens}
            @change=${(e: Event) => this.request({ tokens: (e.target as HTMLInputElement).checked })} /> tokens
        </label>
      </div>
      <div class="bar">
        <button class="first" ?disabled=${this.page <= 0} @click=${() => this.request({ page: 0 })}>«</button>
        <button class="prev" ?disabled=${this.page <= 0} @click=${() => this.request({ page: this.page - 1 })}>‹</button>
        <span>page <input class="goto" type="number" min="1" max=${last + 1} .value=${String(this.page + 1)}
          @change=${(e: Event) => this.request({ page: Number((e.target as HTMLInputElement).value) - 1 })} /> of ${this.pages}${more ? '+' : ''}</span>
        <button class="next" ?disabled=${this.page >= last && !more} @click=${() => this.request({ page: this.page + 1 })}>›</button>
        <button class="last" ?disabled=${this.page >= last} @click=${() => this.request({ page: last })}>»</button>
      </div>
      <div class="status ${this.pending ? 'pending' : ''}">${browserStatus(this)}${this.elapsedMs !== undefined ? ` · ${this.elapsedMs} ms` : ''}${this.pending ? ' · loading…' : ''}
        ${this.query && !this.matchCountExact ? html`<button class="further" title="the kernel searches in time slices; continue where it stopped" @click=${() => this.request({})}>Search further</button>` : nothing}</div>
      ${this.error ? html`<div class="error">${this.error}</div>` : nothing}
      <div class="rows">${this.samples.length ? this.samples.map((s) => this.renderSample(s)) : html`<div class="empty">no samples on this page</div>`}</div>
    `;
  }
}

defineElement(DATASET_BROWSER_TAG, DatasetBrowserElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-dataset-browser': DatasetBrowserElement;
  }
}
