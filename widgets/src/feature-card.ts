/**
 * `<ms-feature-card>`: one feature at a glance — label (editable), density, activation histogram,
 * logit-lens summary, top examples with the activating tokens coloured on the feature's scale, and
 * examples from activation intervals. Actions: `favorite` {feature, favorite}, `label` {feature, label}.
 */
import { LitElement, html, nothing, unsafeCSS, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import type { FeatureCardProps, FeatureExample, HistogramData, LabelSourceName, TokenLogit } from './feature-types.js';
import { exampleTemplate, featureStyles, histogramTemplate, tokenLogitsTemplate } from './feature-view.js';
import { featureHeading, labelLine, statsLine } from './static/feature-snapshots.js';
import { formatNumber } from './static/format.js';

export const FEATURE_CARD_TAG = 'ms-feature-card';

export class FeatureCardElement extends LitElement implements FeatureCardProps {
  static override properties: PropertyDeclarations = {
    feature: { type: Number },
    analysis: { type: String },
    hook: { type: String },
    label: { attribute: false },
    labelSource: { attribute: false },
    score: { attribute: false },
    favorite: { type: Boolean },
    density: { type: Number },
    fired: { attribute: false },
    tokens: { attribute: false },
    meanActive: { attribute: false },
    max: { type: Number },
    histogram: { attribute: false },
    topExamples: { attribute: false },
    intervals: { attribute: false },
    logitLens: { attribute: false },
    editing: { state: true },
  };

  static override styles = unsafeCSS(`${featureStyles}
    .card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }
    .head { display: flex; align-items: center; gap: 8px; }
    .star { border: none; background: none; font-size: 16px; padding: 0 2px; color: #c9a227; }
    .label { margin: 2px 0 4px 0; display: flex; gap: 6px; align-items: center; }
    .label input { flex: 1 1 auto; font: inherit; padding: 1px 4px; }
    .row { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-start; margin-top: 4px; }
    .sec { font-weight: 600; margin-top: 8px; }
    details summary { cursor: pointer; font-size: 12px; color: #444; margin-top: 6px; }
  `);

  feature = 0;
  analysis?: string;
  hook?: string;
  label?: string | null;
  labelSource?: LabelSourceName | null;
  score?: number | null;
  favorite = false;
  density = 0;
  fired?: number;
  tokens?: number;
  meanActive?: number;
  max = 0;
  histogram?: HistogramData;
  topExamples: FeatureExample[] = [];
  intervals?: { lower: number; upper: number; fired: number; examples: FeatureExample[] }[];
  logitLens?: { positive: TokenLogit[]; negative: TokenLogit[] };
  private editing = false;

  private submitLabel(input: HTMLInputElement): void {
    const label = input.value.trim();
    this.editing = false;
    if (label && label !== this.label) emitAction(this, 'label', { feature: this.feature, label });
  }

  override render() {
    const scaleMax = this.max > 0 ? this.max : 1;
    const intervals = (this.intervals ?? []).filter((g) => g.examples.length > 0).reverse();
    return html`<div class="card">
      <div class="head">
        <button class="star" title=${this.favorite ? 'remove from favorites' : 'add to favorites'} aria-pressed=${String(this.favorite)}
          @click=${() => emitAction(this, 'favorite', { feature: this.feature, favorite: !this.favorite })}>${this.favorite ? '★' : '☆'}</button>
        <span class="title">${featureHeading(this)}</span>
      </div>
      <div class="label">${this.editing
        ? html`<input aria-label="label" .value=${this.label ?? ''} @keydown=${(e: KeyboardEvent) => {
            if (e.key === 'Enter') this.submitLabel(e.target as HTMLInputElement);
            if (e.key === 'Escape') this.editing = false;
          }} /><button @click=${(e: Event) => this.submitLabel((e.target as HTMLElement).previousElementSibling as HTMLInputElement)}>Save</button>`
        : html`<span class="lbl">${labelLine(this)}</span><button class="edit" @click=${() => (this.editing = true)}>Edit</button>`}</div>
      <div class="muted stats">${statsLine(this)}</div>
      <div class="row">
        ${histogramTemplate(this.histogram, { title: 'Activations when active' })}
        ${this.logitLens ? html`<div class="lists">${tokenLogitsTemplate('Promotes', this.logitLens.positive, '#fdd49e')}${tokenLogitsTemplate('Suppresses', this.logitLens.negative, '#d1e5f0')}</div>` : nothing}
      </div>
      <div class="sec">Top activations</div>
      <div class="top">${this.topExamples.length ? this.topExamples.map((e) => exampleTemplate(e, scaleMax)) : html`<div class="muted">the feature never fired</div>`}</div>
      ${intervals.length
        ? html`<details><summary>Examples by activation interval</summary>${intervals.map(
            (g) => html`<div class="muted">Interval ${formatNumber(g.lower)} – ${formatNumber(g.upper)} · ${g.fired.toLocaleString('en-US')} firings</div>${g.examples.map((e) => exampleTemplate(e, scaleMax))}`,
          )}</details>`
        : nothing}
    </div>`;
  }
}

defineElement(FEATURE_CARD_TAG, FeatureCardElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-feature-card': FeatureCardElement;
  }
}
