/** `<ms-correlations>`: correlated features and decoder neighbours; clicking one emits `open` {feature}. */
import { LitElement, html, nothing, unsafeCSS, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import type { CorrelationsProps, RelatedFeature } from './feature-types.js';
import { featureStyles } from './feature-view.js';
import { formatNumber } from './static/format.js';

export const CORRELATIONS_TAG = 'ms-correlations';

export class CorrelationsElement extends LitElement implements CorrelationsProps {
  static override properties: PropertyDeclarations = {
    feature: { type: Number },
    title: { type: String },
    sampleTokens: { attribute: false },
    positive: { attribute: false },
    negative: { attribute: false },
    neighbours: { attribute: false },
  };

  static override styles = unsafeCSS(`${featureStyles} tbody tr { cursor: pointer; } tbody tr:hover { background: #f3f6fb; }`);

  feature = 0;
  override title = '';
  sampleTokens?: number;
  positive: RelatedFeature[] = [];
  negative?: RelatedFeature[];
  neighbours?: RelatedFeature[];

  private table(title: string, items: RelatedFeature[] | undefined, valueName: string) {
    if (!items) return nothing;
    return html`<div class="list"><div class="h">${title}</div><table><thead><tr><th class="num">feature</th><th class="num">${valueName}</th><th>label</th></tr></thead><tbody>${items.length
      ? items.map((r) => html`<tr data-feature=${r.feature} @click=${() => emitAction(this, 'open', { feature: r.feature })}><td class="num">${r.feature}</td><td class="num">${formatNumber(r.value)}</td><td>${r.label ?? ''}</td></tr>`)
      : html`<tr><td colspan="3" class="muted">none</td></tr>`}</tbody></table></div>`;
  }

  override render() {
    return html`<div class="title">${this.title || `Related features · feature ${this.feature}`}</div>
      ${this.sampleTokens !== undefined ? html`<div class="muted">Pearson correlation over ${this.sampleTokens.toLocaleString('en-US')} sampled tokens</div>` : nothing}
      <div class="lists">${this.table('Correlated', this.positive, 'r')}${this.table('Anti-correlated', this.negative, 'r')}${this.table('Decoder neighbours', this.neighbours, 'cosine')}</div>`;
  }
}

defineElement(CORRELATIONS_TAG, CorrelationsElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-correlations': CorrelationsElement;
  }
}
