/**
 * The kernel side of one miStudio widget: a `jupyter.widget` comm (widget protocol 2.1.0) whose
 * model is the generic `MiStudioModel` of docs/widget-protocol.md, plus the display output that
 * shows it. The output carries the live view, the data and a static snapshot; `set`/`append`
 * refresh that output (throttled) so a saved notebook shows the latest state without a kernel.
 */
import { inspect } from 'node:util';
import { MiStudioError } from '@mistudio/core/errors';
import { type Comm, type CommManager, describe, isObject } from './comm-manager.js';
import { logError } from './log.js';
import type { BufferLike, WidgetHandle, WidgetListener, WidgetOptions } from './types.js';
import { encodeNamedBuffers, putBuffers, viewOf } from './widget-buffers.js';
import { type JsonObject, type JupyterMessage, toBuffer } from './wire.js';

export const WIDGET_TARGET = 'jupyter.widget';
export const WIDGET_PROTOCOL_VERSION = '2.1.0';

/** The model/view names every miStudio widget uses (docs/widget-protocol.md). */
export const MODEL_IDENTITY = {
  _model_name: 'MiStudioModel',
  _model_module: '@mistudio/jupyterlab-extension',
  _model_module_version: '^0.1.0',
  _view_name: 'MiStudioView',
  _view_module: '@mistudio/jupyterlab-extension',
  _view_module_version: '^0.1.0',
} as const;

/** At most one display refresh (re-rendered snapshot) per widget in this interval. */
export const DISPLAY_REFRESH_INTERVAL_MS = 250;

export type SnapshotRenderer = (tag: string, props: Record<string, unknown>) => string;

/** What a widget needs from the kernel. */
export interface WidgetHost {
  readonly comms: CommManager;
  /** display_data (`update: false`) or update_display_data for the widget's display id. */
  publishDisplay(data: JsonObject, displayId: string, update: boolean): void;
  renderSnapshot: SnapshotRenderer;
  /** A widget with a refresh pending; the host flushes all of them when a cell finishes. */
  markDirty(widget: Widget): void;
  markClean(widget: Widget): void;
  /** A listener in user code failed: tell the user (cell output) and the kernel log. */
  reportUserError(message: string): void;
}

export class Widget implements WidgetHandle {
  readonly modelId: string;
  readonly displayId: string;
  private currentProps: Record<string, unknown>;
  private readonly binary = new Map<string, DataView>();
  /** Typed arrays as the user gave them: the snapshot and the data bundle show them as numbers. */
  private readonly numericSources = new Map<string, ArrayLike<number | bigint>>();
  private readonly listeners = new Map<string, Set<WidgetListener>>();
  /** Array props that `append` copied and may grow in place (the user's own arrays are never mutated). */
  private readonly ownedArrays = new Set<string>();
  private readonly comm: Comm;
  private closedByUser = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshPending = false;
  private lastRefreshAtMs = 0;

  constructor(
    private readonly host: WidgetHost,
    readonly tag: string,
    props: Record<string, unknown>,
    options: WidgetOptions,
  ) {
    if (!/^[a-z][a-z0-9]*-[a-z0-9-]*$/.test(tag)) {
      throw new MiStudioError('INVALID_ARGUMENT', `widget tag "${tag}" is not a custom element name`, {
        field: 'tag',
        hint: "use the element name, e.g. 'ms-training-monitor'",
      });
    }
    this.currentProps = { ...checkProps(props, 'widget props') };
    this.storeBuffers(options.buffers);
    const { state, paths, frames } = this.fullState();
    this.comm = host.comms.open(
      WIDGET_TARGET,
      { state, buffer_paths: paths },
      { metadata: { version: WIDGET_PROTOCOL_VERSION }, buffers: frames },
    );
    this.modelId = this.comm.id;
    this.displayId = `mistudio-${this.modelId}`;
    this.comm.onMessage = (data, buffers, message) => this.handleMessage(data, buffers, message);
    this.comm.onClose = () => this.flushDisplay();
    host.publishDisplay(this.bundle(), this.displayId, false);
    this.lastRefreshAtMs = Date.now();
  }

  get props(): Readonly<Record<string, unknown>> {
    return this.currentProps;
  }

  get buffers(): Readonly<Record<string, DataView>> {
    return Object.fromEntries(this.binary);
  }

  get closed(): boolean {
    return this.closedByUser || this.comm.closed;
  }

  set(partialProps: Record<string, unknown>, options: WidgetOptions = {}): void {
    this.assertOpen('set');
    this.currentProps = { ...this.currentProps, ...checkProps(partialProps, 'set()') };
    for (const key of Object.keys(partialProps)) this.ownedArrays.delete(key);
    const state: JsonObject = { props: this.currentProps };
    let paths: Array<Array<string | number>> = [];
    let frames: Buffer[] = [];
    if (options.buffers) {
      this.storeBuffers(options.buffers);
      ({ paths, frames } = encodeNamedBuffers(this.binary));
      state.buffers = {};
    }
    this.sendToFrontEnd({ method: 'update', state, buffer_paths: paths }, frames);
    this.scheduleRefresh();
  }

  append(key: string, rows: unknown[]): void {
    this.assertOpen('append');
    if (!Array.isArray(rows)) {
      throw new MiStudioError('INVALID_ARGUMENT', `append("${key}", rows): rows must be an array`, { field: key });
    }
    const existing = this.currentProps[key];
    if (existing !== undefined && !Array.isArray(existing)) {
      throw new MiStudioError('INVALID_ARGUMENT', `append("${key}"): props.${key} is not an array`, {
        field: `props.${key}`,
        hint: 'append only to array props, e.g. metrics',
      });
    }
    // Copy the array once, then grow our own copy in place: appending step by step stays O(rows).
    let target = existing as unknown[] | undefined;
    if (!target || !this.ownedArrays.has(key)) {
      target = [...(target ?? [])];
      this.currentProps = { ...this.currentProps, [key]: target };
      this.ownedArrays.add(key);
    }
    for (const row of rows) target.push(row);
    this.sendToFrontEnd({ method: 'custom', content: { type: 'append', key, rows } }, []);
    this.scheduleRefresh();
  }

  on(action: string, listener: WidgetListener): () => void {
    const set = this.listeners.get(action) ?? new Set<WidgetListener>();
    this.listeners.set(action, set);
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  send(content: unknown, buffers: BufferLike[] = []): void {
    this.assertOpen('send');
    this.sendToFrontEnd({ method: 'custom', content }, buffers.map(toBuffer));
  }

  close(): void {
    if (this.closedByUser) return;
    this.closedByUser = true;
    this.flushDisplay();
    this.comm.close();
    this.listeners.clear();
  }

  /** Sends update_display_data now if a refresh is pending. */
  flushDisplay(): void {
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = null;
    }
    if (!this.refreshPending) return;
    this.refreshPending = false;
    this.host.markClean(this);
    this.lastRefreshAtMs = Date.now();
    this.host.publishDisplay(this.bundle(), this.displayId, true);
  }

  /** Full widget state, as sent in comm_open and in reply to request_state. */
  fullState(): { state: JsonObject; paths: Array<Array<string | number>>; frames: Buffer[] } {
    const { paths, frames } = encodeNamedBuffers(this.binary);
    return { state: { ...MODEL_IDENTITY, tag: this.tag, props: this.currentProps, buffers: {} }, paths, frames };
  }

  [inspect.custom](): string {
    return `<${this.tag}> widget ${this.modelId}${this.closed ? ' (closed)' : ''}`;
  }

  private handleMessage(data: JsonObject, frames: Buffer[], message: JupyterMessage): void {
    switch (data.method) {
      case 'update':
        this.applyFrontEndUpdate(data, frames);
        return;
      case 'request_state': {
        const { state, paths, frames: out } = this.fullState();
        this.sendToFrontEnd({ method: 'update', state, buffer_paths: paths }, out);
        return;
      }
      case 'custom':
        this.dispatchCustom(data.content, frames);
        return;
      default:
        logError(
          `widget ${this.modelId} <${this.tag}>: unknown method ${JSON.stringify(data.method)} in comm_msg ${message.header.msg_id}; ignored`,
        );
    }
  }

  /** The front end changed state: apply the attributes we own and echo them (protocol 2.1.0). */
  private applyFrontEndUpdate(data: JsonObject, frames: Buffer[]): void {
    if (!isObject(data.state)) {
      logError(`widget ${this.modelId} <${this.tag}>: update without a state object; ignored`);
      return;
    }
    const echo = structuredClone(data.state);
    const state = data.state;
    try {
      putBuffers(state, data.buffer_paths, frames);
    } catch (err) {
      logError(`widget ${this.modelId} <${this.tag}>: bad update: ${(err as Error).message}; ignored`);
      return;
    }
    if ('props' in state && !isObject(state.props)) {
      logError(`widget ${this.modelId} <${this.tag}>: update.state.props is not an object; ignored`);
      return;
    }
    if ('buffers' in state && (!isObject(state.buffers) || !Object.values(state.buffers).every((v) => v instanceof DataView))) {
      logError(`widget ${this.modelId} <${this.tag}>: update.state.buffers must map names to binary buffers; ignored`);
      return;
    }
    const readOnly = Object.keys(state).filter((k) => k !== 'props' && k !== 'buffers');
    if (readOnly.length > 0) {
      logError(`widget ${this.modelId} <${this.tag}>: attributes ${readOnly.join(', ')} cannot be changed; ignored them`);
    }
    if (isObject(state.props)) {
      this.currentProps = state.props;
      this.ownedArrays.clear();
    }
    if (isObject(state.buffers)) {
      this.binary.clear();
      this.numericSources.clear();
      for (const [key, view] of Object.entries(state.buffers)) this.binary.set(key, view as DataView);
    }
    for (const key of readOnly) delete echo[key];
    if (Object.keys(echo).length > 0) {
      const paths = (Array.isArray(data.buffer_paths) ? data.buffer_paths : []) as unknown[][];
      this.sendToFrontEnd({ method: 'echo_update', state: echo, buffer_paths: paths }, frames);
    }
    this.scheduleRefresh();
  }

  private dispatchCustom(content: unknown, frames: Buffer[]): void {
    if (!isObject(content) || typeof content.event !== 'string') {
      logError(`widget ${this.modelId} <${this.tag}>: custom message without a string "event"; ignored`);
      return;
    }
    const action = content.event;
    const listeners = this.listeners.get(action);
    if (!listeners || listeners.size === 0) return;
    const views = frames.map(viewOf);
    for (const listener of [...listeners]) {
      const fail = (err: unknown) =>
        this.host.reportUserError(`<${this.tag}> listener for "${action}" failed: ${describe(err)}`);
      try {
        const result = listener(content.payload, views);
        if (result instanceof Promise) result.catch(fail);
      } catch (err) {
        fail(err);
      }
    }
  }

  private sendToFrontEnd(data: JsonObject, frames: Buffer[]): void {
    // Once the front end has closed the comm there is nobody to tell; the display still refreshes.
    if (!this.comm.closed) this.comm.send(data, { buffers: frames });
  }

  private scheduleRefresh(): void {
    this.refreshPending = true;
    this.host.markDirty(this);
    if (this.refreshTimer) return;
    const waitMs = this.lastRefreshAtMs + DISPLAY_REFRESH_INTERVAL_MS - Date.now();
    if (waitMs <= 0) {
      this.flushDisplay();
      return;
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.flushDisplay();
    }, waitMs);
  }

  private storeBuffers(buffers: Record<string, BufferLike> | undefined): void {
    if (!buffers) return;
    for (const [key, value] of Object.entries(buffers)) {
      if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
        throw new MiStudioError('INVALID_ARGUMENT', `buffers.${key} is not an ArrayBuffer or typed array`, {
          field: `buffers.${key}`,
        });
      }
      const bytes = toBuffer(value);
      this.binary.set(key, viewOf(bytes));
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        this.numericSources.set(key, value as unknown as ArrayLike<number | bigint>);
      } else this.numericSources.delete(key);
    }
  }

  private bundle(): JsonObject {
    const numeric: Record<string, number[]> = {};
    for (const [key, array] of this.numericSources) {
      numeric[key] = Array.from(array, Number);
    }
    const dataProps = { ...this.currentProps, ...numeric };
    let html: string;
    try {
      html = this.host.renderSnapshot(this.tag, dataProps);
    } catch (err) {
      logError(`static snapshot of <${this.tag}> failed: ${describe(err)}`);
      html = `<div><code>&lt;${this.tag}&gt;</code>: static snapshot unavailable (${escapeHtml((err as Error).message ?? String(err))})</div>`;
    }
    return {
      'application/vnd.jupyter.widget-view+json': { model_id: this.modelId, version_major: 2, version_minor: 1 },
      'application/vnd.mistudio.v1+json': { tag: this.tag, props: dataProps },
      'text/html': html,
      'text/plain': `<${this.tag}> miStudio widget (live in JupyterLab with the miStudio extension)`,
    };
  }

  private assertOpen(what: string): void {
    if (this.closedByUser) {
      throw new MiStudioError('INVALID_ARGUMENT', `${what}() on widget <${this.tag}> ${this.modelId} after close()`, {
        hint: 'create a new widget with widget(tag, props)',
      });
    }
  }
}

/** Props are JSON; binary arrays must go in `buffers`, or JSON would turn them into {"0": ...} objects. */
function checkProps(props: unknown, what: string): Record<string, unknown> {
  if (!isObject(props)) {
    throw new MiStudioError('INVALID_ARGUMENT', `${what}: props must be a plain object`, { field: 'props' });
  }
  for (const [key, value] of Object.entries(props)) {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      throw new MiStudioError('INVALID_ARGUMENT', `${what}: props.${key} is binary (${value.constructor.name})`, {
        field: `props.${key}`,
        hint: `pass it as { buffers: { ${key}: array } } (or Array.from(...) it into props)`,
      });
    }
  }
  return props;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
