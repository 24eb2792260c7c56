/**
 * `<ms-feature-browser>`: one page of an analysis' features with search (by label text, by token,
 * by which features fire on a prompt), sorting, a favorites filter and paging, and the opened
 * feature's `<ms-feature-card>` below. It holds only the page it shows: every change dispatches
 * `ms-action` and the kernel answers with new props —
 *   `search` {query, by} · `page` {offset, sort, descending, favoritesOnly} · `open` {feature}.
 * The card's own actions (favorite, label) bubble out of it unchanged.
 */
import { LitElement, html, nothing, unsafeCSS, type PropertyDeclarations, type PropertyValues } from 'lit';
import './feature-card.js';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import type { FeatureBrowserProps, FeatureBrowserRow, FeatureBrowserSort, FeatureCardProps, FeatureOpenPayload, FeaturePagePayload, FeatureSearchBy, FeatureSearchPayload } from './feature-types.js';
import { featureStyles } from './feature-view.js';
import { browserStatusLine, formatPercent } from './static/feature-snapshots.js';
import { formatNumber, visibleToken } from './static/format.js';

export const FEATURE_BROWSER_TAG = 'ms-feature-browser';

const SORTS: { value: FeatureBrowserSort; label: string }[] = [
  { value: 'feature', label: 'index' },
  { value: 'density', label: 'density' },
  { value: 'max', label: 'max activation' },
  { value: 'meanActive', label: 'mean activation' },
  { value: 'score', label: 'label score' },
  { value: 'label', label: 'label' },
];

export class FeatureBrowserElement extends LitElement implements FeatureBrowserProps {
  static override properties: PropertyDeclarations = {
    analysis: { type: String },
    title: { type: String },
    total: { type: Number },
    offset: { type: Number },
    limit: { type: Number },
    rows: { attribute: false },
    query: { type: String },
    searchBy: { type: String, attribute: 'search-by' },
    sort: { type: String },
    descending: { type: Boolean },
    favoritesOnly: { type: Boolean, attribute: 'favorites-only' },
    promptTokens: { attribute: false },
    selected: { attribute: false },
    card: { attribute: false },
    message: { type: String },
    pending: { state: true },
  };

  static override styles = unsafeCSS(`${featureStyles}
    .bar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 4px 0 6px 0; }
    .bar input[type='search'] { flex: 1 1 220px; min-width: 120px; font: inherit; padding: 2px 6px; }
    select { font: inherit; font-size: 12px; }
    .status { margin-bottom: 4px; }
    .status.pending { opacity: 0.55; }
    .error { color: #b00020; font-size: 12px; }
    tbody tr { cursor: pointer; }
    tbody tr:hover { background: #f3f6fb; }
    tbody tr.selected { background: #fff3cd; }
    .lbl { max-width: 520px; }
    .prompt { font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 12px; margin-bottom: 4px; }
    .card { margin-top: 8px; }
  `);

  analysis?: string;
  override title = '';
  total = 0;
  offset = 0;
  limit = 20;
  rows: FeatureBrowserRow[] = [];
  query = '';
  searchBy: FeatureSearchBy = 'label';
  sort: FeatureBrowserSort = 'feature';
  descending = false;
  favoritesOnly = false;
  promptTokens?: string[];
  selected?: number | null;
  card?: FeatureCardProps | null;
  message?: string;
  /** An action was sent and its answer (new props) has not arrived. */
  private pending = false;

  protected override willUpdate(changed: PropertyValues): void {
    // New props from the kernel answer the pending request.
    if (changed.has('rows') || changed.has('card') || changed.has('total') || changed.has('message')) this.pending = false;
  }

  private send(action: 'search' | 'page' | 'open', payload: FeatureSearchPayload | FeaturePagePayload | FeatureOpenPayload): void {
    this.pending = true;
    emitAction(this, action, payload);
  }

  private page(changes: Partial<FeaturePagePayload>): void {
    this.send('page', { offset: this.offset, sort: this.sort, descending: this.descending, favoritesOnly: this.favoritesOnly, ...changes });
  }

  private search(): void {
    const root = this.renderRoot as ShadowRoot;
    const query = (root.querySelector('input[type=search]') as HTMLInputElement).value;
    const by = (root.querySelector('select.by') as HTMLSelectElement).value as FeatureSearchBy;
    this.send('search', { query, by });
  }

  override render() {
    const last = this.offset + this.rows.length;
    const prompt = this.searchBy === 'prompt';
    return html`<div class="title">${this.title || `Features${this.analysis ? ` · ${this.analysis}` : ''}`}</div>
      <div class="bar">
        <input type="search" placeholder="search labels, a token, or a prompt" .value=${this.query ?? ''} @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.search()} />
        <select class="by" aria-label="search by" .value=${this.searchBy}>
          <option value="label" ?selected=${this.searchBy === 'label'}>label</option>
          <option value="token" ?selected=${this.searchBy === 'token'}>token</option>
          <option value="prompt" ?selected=${this.searchBy === 'prompt'}>fires on prompt</option>
        </select>
        <button class="go" @click=${() => this.search()}>Search</button>
        <label class="muted">sort <select class="sort" aria-label="sort by" @change=${(e: Event) => this.page({ offset: 0, sort: (e.target as HTMLSelectElement).value as FeatureBrowserSort })}>
          ${SORTS.map((s) => html`<option value=${s.value} ?selected=${s.value === this.sort}>${s.label}</option>`)}
        </select></label>
        <button class="dir" title="sort direction" @click=${() => this.page({ offset: 0, descending: !this.descending })}>${this.descending ? '↓' : '↑'}</button>
        <label class="muted"><input type="checkbox" class="fav" .checked=${this.favoritesOnly} @change=${(e: Event) => this.page({ offset: 0, favoritesOnly: (e.target as HTMLInputElement).checked })} /> ★ only</label>
      </div>
      <div class="muted status ${this.pending ? 'pending' : ''}">${browserStatusLine(this)}
        <button class="prev" ?disabled=${this.offset <= 0 || prompt} @click=${() => this.page({ offset: Math.max(0, this.offset - this.limit) })}>‹ Prev</button>
        <button class="next" ?disabled=${last >= this.total || prompt} @click=${() => this.page({ offset: this.offset + this.limit })}>Next ›</button>
      </div>
      ${this.message ? html`<div class="error">${this.message}</div>` : nothing}
      ${prompt && this.promptTokens ? html`<div class="prompt">${this.promptTokens.map((t) => visibleToken(t)).join('')}</div>` : nothing}
      <table>
        <thead><tr><th class="num">feature</th><th>label</th><th class="num">density</th><th class="num">max</th>${prompt ? html`<th class="num">on prompt</th>` : nothing}</tr></thead>
        <tbody>${this.rows.map(
          (r) => html`<tr class=${r.feature === this.selected ? 'selected' : ''} data-feature=${r.feature} @click=${() => this.send('open', { feature: r.feature })}>
            <td class="num">${r.favorite ? '★ ' : ''}${r.feature}</td><td class="lbl">${r.label ?? ''}</td><td class="num">${formatPercent(r.density)}</td>
            <td class="num">${r.max === null ? '–' : formatNumber(r.max)}</td>${prompt ? html`<td class="num">${formatNumber(r.promptMax ?? 0)}</td>` : nothing}</tr>`,
        )}</tbody>
      </table>
      ${this.card ? html`<div class="card"><ms-feature-card .feature=${this.card.feature} .analysis=${this.card.analysis} .hook=${this.card.hook} .label=${this.card.label} .labelSource=${this.card.labelSource}
          .score=${this.card.score} .favorite=${this.card.favorite ?? false} .density=${this.card.density} .fired=${this.card.fired} .tokens=${this.card.tokens} .meanActive=${this.card.meanActive}
          .max=${this.card.max} .histogram=${this.card.histogram} .topExamples=${this.card.topExamples} .intervals=${this.card.intervals} .logitLens=${this.card.logitLens}></ms-feature-card></div>` : nothing}`;
  }
}

defineElement(FEATURE_BROWSER_TAG, FeatureBrowserElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-feature-browser': FeatureBrowserElement;
  }
}
