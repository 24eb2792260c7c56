import type { MsActionDetail } from './types.js';

/** Name of the DOM event every miStudio widget dispatches for user actions (see docs/widget-protocol.md). */
export const ACTION_EVENT = 'ms-action';

/** Dispatches `ms-action` so it crosses shadow roots and reaches the widget view that forwards it to the kernel. */
export function emitAction<P>(el: HTMLElement, action: string, payload: P): void {
  const detail: MsActionDetail<P> = { action, payload };
  el.dispatchEvent(new CustomEvent(ACTION_EVENT, { detail, bubbles: true, composed: true }));
}
