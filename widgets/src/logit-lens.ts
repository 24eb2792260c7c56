/** `<ms-logit-lens>`: the tokens a feature's decoder direction promotes and suppresses, and the logit histogram. */
import { LitElement, html, nothing, unsafeCSS, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import type { HistogramData, LogitLensProps, TokenLogit } from './feature-types.js';
import { featureStyles, histogramTemplate, tokenLogitsTemplate } from './feature-view.js';

export const LOGIT_LENS_TAG = 'ms-logit-lens';

export class LogitLensElement extends LitElement implements LogitLensProps {
  static override properties: PropertyDeclarations = {
    feature: { type: Number },
    title: { type: String },
    positive: { attribute: false },
    negative: { attribute: false },
    histogram: { attribute: false },
    convention: { type: String },
  };

  static override styles = unsafeCSS(featureStyles);

  feature = 0;
  override title = '';
  positive: TokenLogit[] = [];
  negative: TokenLogit[] = [];
  histogram?: HistogramData;
  convention?: string;

  override render() {
    return html`<div class="title">${this.title || `Logit lens · feature ${this.feature}`}</div>
      <div class="lists">
        ${tokenLogitsTemplate('Positive logits', this.positive, '#fdd49e')}
        ${tokenLogitsTemplate('Negative logits', this.negative, '#d1e5f0')}
        ${histogramTemplate(this.histogram, { title: 'Logits over the vocabulary', color: '#4a7fb5', markZero: true })}
      </div>
      ${this.convention ? html`<div class="muted">${this.convention}</div>` : nothing}`;
  }
}

defineElement(LOGIT_LENS_TAG, LogitLensElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-logit-lens': LogitLensElement;
  }
}
