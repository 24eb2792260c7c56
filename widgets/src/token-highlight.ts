/**
 * `<ms-token-highlight>`: tokens with activation-coloured backgrounds. Hovering a token shows its id
 * and value; clicking it dispatches `ms-action` with action `token-click` (payload TokenClickPayload).
 */
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { defineElement } from './define-element.js';
import { emitAction } from './emit-action.js';
import { activationColor, maxAbs, positiveGradientCss } from './static/color-scale.js';
import { formatNumber, visibleToken } from './static/format.js';
import type { TokenClickPayload, TokenHighlightProps } from './types.js';

export const TOKEN_HIGHLIGHT_TAG = 'ms-token-highlight';

export class TokenHighlightElement extends LitElement implements TokenHighlightProps {
  static override properties: PropertyDeclarations = {
    tokens: { attribute: false },
    values: { attribute: false },
    tokenIds: { attribute: false },
    title: { type: String },
    maxValue: { type: Number, attribute: 'max-value' },
    selected: { type: Number },
    hovered: { state: true },
  };

  /** Typed arrays of the binary buffers the widget view may set (see docs/widget-protocol.md). */
  static bufferTypes = { values: Float32Array, tokenIds: Int32Array };

  static override styles = css`
    :host { display: block; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; position: relative; color: var(--jp-ui-font-color1, #1a1a1a); }
    .title { font-weight: 600; margin-bottom: 4px; }
    .tokens { font-family: var(--jp-code-font-family, ui-monospace, monospace); line-height: 1.9; white-space: pre-wrap; word-break: break-word; }
    .tok { border-radius: 3px; padding: 1px 1px; margin: 0 0.5px; cursor: pointer; }
    .tok:hover, .tok:focus { outline: 1px solid #444; }
    .tok.selected { outline: 2px solid #222; }
    .legend { display: flex; align-items: center; gap: 6px; margin-top: 6px; font-size: 11px; color: var(--jp-ui-font-color2, #555); }
    .bar { display: inline-block; width: 120px; height: 10px; border: 1px solid #ccc; }
    .tip { position: absolute; z-index: 10; pointer-events: none; background: #222; color: #fff; font-size: 11px; padding: 3px 6px; border-radius: 3px; white-space: nowrap; }
  `;

  tokens: string[] = [];
  values: ArrayLike<number> = [];
  tokenIds?: ArrayLike<number>;
  override title = '';
  maxValue?: number;
  selected?: number;
  private hovered?: { index: number; x: number; y: number };

  private scaleMax(): number {
    return this.maxValue ?? maxAbs(this.values);
  }

  private payload(index: number): TokenClickPayload {
    const tokenId = this.tokenIds?.[index];
    return { index, token: this.tokens[index], value: Number(this.values[index] ?? 0), ...(tokenId === undefined ? {} : { tokenId }) };
  }

  private onEnter(index: number, event: Event): void {
    const host = this.getBoundingClientRect();
    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
    this.hovered = { index, x: box.left - host.left, y: box.bottom - host.top + 4 };
  }

  private onKey(index: number, event: KeyboardEvent): void {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      emitAction(this, 'token-click', this.payload(index));
    }
  }

  override render() {
    const scaleMax = this.scaleMax();
    const hovered = this.hovered;
    return html`
      ${this.title ? html`<div class="title">${this.title}</div>` : nothing}
      <div class="tokens" @mouseleave=${() => (this.hovered = undefined)}>${this.tokens.map((token, i) => {
        const value = Number(this.values[i] ?? 0);
        const { background, foreground } = activationColor(value, scaleMax);
        return html`<span class="tok ${this.selected === i ? 'selected' : ''}" tabindex="0" data-index=${i}
          aria-label=${`${token} ${formatNumber(value)}`} style="background:${background};color:${foreground}"
          @mouseenter=${(e: Event) => this.onEnter(i, e)} @focus=${(e: Event) => this.onEnter(i, e)}
          @click=${() => emitAction(this, 'token-click', this.payload(i))} @keydown=${(e: KeyboardEvent) => this.onKey(i, e)}
        >${visibleToken(token)}</span>`;
      })}</div>
      <div class="legend"><span>0</span><span class="bar" style="background:${positiveGradientCss()}"></span><span>${formatNumber(scaleMax)}</span><span>· ${this.tokens.length} tokens</span></div>
      ${hovered && hovered.index < this.tokens.length
        ? html`<div class="tip" role="tooltip" style="left:${hovered.x}px;top:${hovered.y}px">“${visibleToken(this.tokens[hovered.index])}” · ${
            this.tokenIds?.[hovered.index] !== undefined ? `id ${this.tokenIds[hovered.index]} · ` : ''
          }activation ${formatNumber(Number(this.values[hovered.index] ?? 0))}</div>`
        : nothing}
    `;
  }
}

defineElement(TOKEN_HIGHLIGHT_TAG, TokenHighlightElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-token-highlight': TokenHighlightElement;
  }
}
