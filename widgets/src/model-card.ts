/**
 * `<ms-model-card>`: the architecture viewer of one model — sizes, parameters, stored precision,
 * weight memory per runtime precision, and every hook point with its shape, grouped by block with
 * a filter (by name or layer). Display only: it dispatches no actions.
 */
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { modelFacts } from './static/model-card-snapshot.js';
import { formatBytes, formatShape } from './static/workspace-format.js';
import type { ModelCardHook, ModelCardProps } from './workspace-types.js';

export const MODEL_CARD_TAG = 'ms-model-card';

export class ModelCardElement extends LitElement implements ModelCardProps {
  static override properties: PropertyDeclarations = {
    title: { type: String },
    source: { type: String },
    architecture: { type: String },
    format: { type: String },
    storedPrecision: { type: String },
    tokenizer: { type: Boolean },
    nLayers: { type: Number },
    dModel: { type: Number },
    nHeads: { type: Number },
    nKvHeads: { type: Number },
    dHead: { type: Number },
    dMlp: { type: Number },
    vocabSize: { type: Number },
    maxPositions: { type: Number },
    activation: { type: String },
    positions: { type: String },
    tiedEmbeddings: { type: Boolean },
    parameters: { type: Number },
    fileBytes: { type: Number },
    memory: { attribute: false },
    hooks: { attribute: false },
    filter: { state: true },
  };

  static override styles = css`
    :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; color: var(--jp-ui-font-color1, #1a1a1a); }
    .title { font-weight: 600; margin-bottom: 2px; }
    .source { color: #666; font-size: 11px; margin-bottom: 6px; word-break: break-all; }
    .top { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; margin-bottom: 8px; }
    .facts { display: grid; grid-template-columns: repeat(3, auto auto); gap: 2px 10px; font-size: 12px; }
    .facts .k { color: #555; }
    .facts .v { font-weight: 600; }
    table { border-collapse: collapse; font-size: 12px; }
    th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .hooks-head { display: flex; gap: 8px; align-items: center; margin: 6px 0 4px; }
    .hooks-head .t { font-weight: 600; }
    input { font: inherit; padding: 2px 6px; width: 220px; }
    .mono { font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; }
    .block { margin-bottom: 4px; }
    summary { cursor: pointer; font-size: 12px; }
    .muted { color: #777; }
  `;

  override title = '';
  source = '';
  architecture = '';
  format = '';
  storedPrecision = '';
  tokenizer = false;
  nLayers = 0;
  dModel = 0;
  nHeads = 0;
  nKvHeads = 0;
  dHead = 0;
  dMlp = 0;
  vocabSize = 0;
  maxPositions = 0;
  activation = '';
  positions: 'learned' | 'rotary' = 'rotary';
  tiedEmbeddings = false;
  parameters = 0;
  fileBytes = 0;
  memory: ModelCardProps['memory'] = [];
  hooks: ModelCardHook[] = [];
  /** Shows only hooks whose name contains this text (or, as a number, of that layer). */
  private filter = '';

  private shownByFilter(h: ModelCardHook): boolean {
    const f = this.filter.trim();
    if (!f) return true;
    if (/^\d+$/.test(f)) return h.layer === Number(f);
    return h.name.includes(f);
  }

  private hookTable(hooks: ModelCardHook[]) {
    return html`<table class="hook-table">${hooks.map((h) => html`<tr class="hook" data-hook=${h.name}><td class="mono name">${h.name}</td><td class="mono shape">${formatShape(h.shape)}</td></tr>`)}</table>`;
  }

  override render() {
    const shown = this.hooks.filter((h) => this.shownByFilter(h));
    // Consecutive hooks of one block form a group; hooks outside the blocks keep their place
    // (embeddings before block 0, the final norm after the last block): forward order throughout.
    const groups: { layer: number | null; hooks: ModelCardHook[] }[] = [];
    for (const h of shown) {
      const last = groups[groups.length - 1];
      if (last && last.layer === h.layer) last.hooks.push(h);
      else groups.push({ layer: h.layer, hooks: [h] });
    }
    const filtering = this.filter.trim() !== '';
    return html`
      <div class="title">${this.title || `${this.architecture} model`}</div>
      <div class="source">${this.source}</div>
      <div class="top">
        <div class="facts">${modelFacts(this).map(([k, v]) => html`<span class="k">${k}</span><span class="v" data-fact=${k}>${v}</span>`)}</div>
        <table class="memory"><tr><th>precision</th><th class="num">weights</th><th class="num">resident estimate</th></tr>
          ${this.memory.map((m) => html`<tr data-precision=${m.precision}><td>${m.precision}</td><td class="num">${formatBytes(m.weightBytes)}</td>
            <td class="num">${formatBytes(m.estimatedBytes)}</td></tr>`)}</table>
      </div>
      <div class="hooks-head"><span class="t">Hook points</span><span class="muted count">${shown.length} of ${this.hooks.length}</span>
        <input type="search" placeholder="filter: name or layer number" aria-label="filter hooks" .value=${this.filter}
          @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)} /></div>
      ${groups.map((g) =>
        g.layer === null
          ? this.hookTable(g.hooks)
          : html`<details class="block" data-layer=${g.layer} ?open=${filtering || g.layer === 0}><summary>block ${g.layer} <span class="muted">(${g.hooks.length} hooks)</span></summary>
              ${this.hookTable(g.hooks)}</details>`,
      )}
    `;
  }
}

defineElement(MODEL_CARD_TAG, ModelCardElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-model-card': ModelCardElement;
  }
}
