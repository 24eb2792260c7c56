/**
 * Creating a miStudio element and feeding it data, shared by the widget view (live) and the MIME
 * renderer (saved data). Importing @mistudio/widgets registers the elements.
 */
import '@mistudio/widgets';
import { renderSnapshot } from '@mistudio/widgets/static';
import { isMiStudioTag } from './widget-data.js';

/**
 * The element for `tag`, or, for a tag this version does not define (a newer kernel), a block with
 * its static snapshot, which our own renderer builds with every data string escaped.
 */
export function createWidgetElement(tag: string, props: Record<string, unknown>): HTMLElement {
  if (isMiStudioTag(tag) && customElements.get(tag)) {
    const el = document.createElement(tag);
    applyProps(el, props);
    return el;
  }
  const fallback = document.createElement('div');
  fallback.className = 'jp-MiStudio-unknown';
  fallback.innerHTML = renderSnapshot(isMiStudioTag(tag) ? tag : 'ms-invalid-tag', props);
  return fallback;
}

/** Whole-props update: `Object.assign(el, props)` (the protocol sends every prop each time). */
export function applyProps(el: HTMLElement, props: Record<string, unknown>): void {
  if (el.classList.contains('jp-MiStudio-unknown')) return;
  Object.assign(el, props);
}

type TypedArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Uint8ArrayConstructor;

/**
 * Binary buffers arrive as DataViews; elements take typed arrays. An element class documents the
 * array type of each buffer key in `static bufferTypes`; Float32Array (activations) otherwise.
 * The typed array views the buffer's memory (no copy).
 */
export function applyBuffers(el: HTMLElement, buffers: Record<string, unknown> | undefined): void {
  if (!buffers || el.classList.contains('jp-MiStudio-unknown')) return;
  const types = (el.constructor as { bufferTypes?: Record<string, TypedArrayConstructor> }).bufferTypes ?? {};
  const views: Record<string, ArrayLike<number>> = {};
  for (const [key, value] of Object.entries(buffers)) {
    if (!(value instanceof DataView)) continue;
    const Type = types[key] ?? Float32Array;
    views[key] = new Type(value.buffer as ArrayBuffer, value.byteOffset, Math.floor(value.byteLength / Type.BYTES_PER_ELEMENT));
  }
  Object.assign(el, views);
}

interface StreamingElement extends HTMLElement {
  appendRows(key: string, rows: unknown[]): void;
}

/**
 * The protocol's `append` message. Elements that stream implement `appendRows` (their
 * `append(key, rows)` routes to it); `el.append` itself cannot be the test, since every element has
 * DOM `append(...nodes)`. Other elements get the rows concatenated onto the list prop.
 */
export function appendRows(el: HTMLElement, key: string, rows: unknown[]): void {
  if (typeof (el as Partial<StreamingElement>).appendRows === 'function') {
    (el as StreamingElement).appendRows(key, rows);
    return;
  }
  const current = (el as unknown as Record<string, unknown>)[key];
  (el as unknown as Record<string, unknown>)[key] = Array.isArray(current) ? current.concat(rows) : rows.slice();
}
