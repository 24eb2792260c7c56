/** `<ms-ablation>`: cross-entropy / perplexity with and without a feature, per-token loss changes, logit effects. */
import { LitElement, html, unsafeCSS, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import type { AblationProps, TokenLogit } from './feature-types.js';
import { featureStyles, tokenLogitsTemplate } from './feature-view.js';
import { lossDeltaColor } from './static/feature-snapshots.js';
import { formatNumber, visibleToken } from './static/format.js';

export const ABLATION_TAG = 'ms-ablation';

export class AblationElement extends LitElement implements AblationProps {
  static override properties: PropertyDeclarations = {
    feature: { type: Number },
    title: { type: String },
    hook: { type: String },
    meanCeClean: { attribute: false },
    meanCeAblated: { attribute: false },
    deltaCe: { attribute: false },
    perplexityClean: { attribute: false },
    perplexityAblated: { attribute: false },
    positionsAblated: { attribute: false },
    sequences: { attribute: false },
    promoted: { attribute: false },
    suppressed: { attribute: false },
  };

  static override styles = unsafeCSS(`${featureStyles} .seq { font-family: var(--jp-code-font-family, ui-monospace, monospace); white-space: pre-wrap; word-break: break-word; line-height: 1.7; padding: 2px 0; border-bottom: 1px solid #f0f0f0; } .fired { text-decoration: underline; }`);

  feature = 0;
  override title = '';
  hook?: string;
  meanCeClean = 0;
  meanCeAblated = 0;
  deltaCe = 0;
  perplexityClean = 0;
  perplexityAblated = 0;
  positionsAblated = 0;
  sequences: AblationProps['sequences'] = [];
  promoted: TokenLogit[] = [];
  suppressed: TokenLogit[] = [];

  override render() {
    const scale = Math.max(1e-6, ...this.sequences.flatMap((s) => s.lossDelta.map(Math.abs)));
    const sign = (x: number) => (x > 0 ? `+${formatNumber(x)}` : formatNumber(x));
    return html`<div class="title">${this.title || `Ablation · feature ${this.feature}${this.hook ? ` at ${this.hook}` : ''}`}</div>
      <div class="summary">cross-entropy ${formatNumber(this.meanCeClean)} → ${formatNumber(this.meanCeAblated)} (<b>${sign(this.deltaCe)}</b>) · perplexity ${formatNumber(this.perplexityClean)} → ${formatNumber(this.perplexityAblated)} · ${this.positionsAblated} positions ablated</div>
      <div class="muted">Tokens coloured by the loss change predicting the next token (red: higher without the feature); underlined where the feature fired.</div>
      ${this.sequences.map(
        (s) => html`<div class="seq">${s.tokens.map((t, i) => {
          const c = lossDeltaColor(s.lossDelta[i] ?? 0, scale);
          return html`<span class="tok ${(s.activations[i] ?? 0) > 0 ? 'fired' : ''}" title=${`activation ${formatNumber(s.activations[i] ?? 0)} · Δloss of the next token ${formatNumber(s.lossDelta[i] ?? 0)}`}
            style="background:${c.background};color:${c.foreground}">${visibleToken(t)}</span>`;
        })}</div>`,
      )}
      <div class="lists">${tokenLogitsTemplate('Logits raised by ablation', this.promoted, '#fdd49e')}${tokenLogitsTemplate('Logits lowered by ablation', this.suppressed, '#d1e5f0')}</div>`;
  }
}

defineElement(ABLATION_TAG, AblationElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-ablation': AblationElement;
  }
}
