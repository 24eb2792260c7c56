/**
 * Public types of the cell API (`import { display, update, widget } from '@mistudio/kernel'`).
 * Kept free of imports so tslab's TypeScript (5.0, Node10 resolution) reads them without following
 * anything else.
 */

/** MIME type → data, e.g. `{ 'text/html': '<b>hi</b>', 'text/plain': 'hi' }`. Uint8Array values are base64-encoded. */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Display id to update later with `update(id, bundle)`; generated when omitted. */
  id?: string;
  /** Per-MIME-type metadata of the output (e.g. `{ 'image/png': { width: 200 } }`). */
  metadata?: Record<string, unknown>;
}

export interface DisplayHandle {
  readonly id: string;
  /** Replaces the data of every output showing this display id (update_display_data). */
  update(bundle: MimeBundle): void;
}

/** Binary data sent as a raw comm buffer. Typed arrays also reach the static snapshot as numbers. */
export type BufferLike = ArrayBuffer | ArrayBufferView;

export interface WidgetOptions {
  /**
   * Binary properties, delivered to the element as typed-array views (`buffer_paths: [["buffers", key]]`);
   * the component documents which typed array it expects for each key.
   */
  buffers?: Record<string, BufferLike>;
}

/**
 * Called for `{method: "custom", content: {event, payload}}` from the front end, i.e. an
 * `ms-action` event of the element. `buffers` are the binary buffers that came with it.
 */
export type WidgetListener = (payload: unknown, buffers: DataView[]) => void | Promise<void>;

export interface WidgetHandle {
  /** The comm id, which is also the widget model id in the front end. */
  readonly modelId: string;
  /** The display id of the widget's output; `update(displayId, ...)` is what `set` does, throttled. */
  readonly displayId: string;
  readonly tag: string;
  /** Current properties, including changes made by the front end. */
  readonly props: Readonly<Record<string, unknown>>;
  /** Current binary properties, including ones the front end sent. */
  readonly buffers: Readonly<Record<string, DataView>>;
  /** True after `close()`; also true once the front end closed the widget's comm. */
  readonly closed: boolean;
  /** Merges into props, sends the whole props to the front end, and refreshes the saved output (throttled). */
  set(partialProps: Record<string, unknown>, options?: WidgetOptions): void;
  /** Appends rows to the array prop `key` (front end: `el.append(key, rows)`); no full resend. */
  append(key: string, rows: unknown[]): void;
  /** Listens for an action of the element; returns a function that removes the listener. */
  on(action: string, listener: WidgetListener): () => void;
  /** Sends a custom message `{method: "custom", content}` to the front-end view. */
  send(content: unknown, buffers?: BufferLike[]): void;
  /** Flushes the saved output one last time and closes the comm. */
  close(): void;
}
