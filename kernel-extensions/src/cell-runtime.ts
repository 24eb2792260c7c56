/**
 * What cells reach through `@mistudio/kernel`: displays and widgets, wired to the kernel's outbox
 * and comm manager. Also owns the kernel's notion of "the current parent message": outputs go to
 * the cell that is executing (or last executed), while comm replies go to the comm message being
 * handled, so a front end can match e.g. a request_state with its update.
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { CommManager } from './comm-manager.js';
import { logError } from './log.js';
import { normalizeBundle } from './mime-bundle.js';
import type { Outbox } from './outbox.js';
import type { KernelRuntime } from './runtime-registry.js';
import type { DisplayHandle, DisplayOptions, MimeBundle, WidgetHandle, WidgetOptions } from './types.js';
import { type SnapshotRenderer, Widget, WIDGET_TARGET, type WidgetHost } from './widget.js';
import type { JsonObject, JupyterMessage, MessageHeader } from './wire.js';

export const WIDGET_CONTROL_TARGET = 'jupyter.widget.control';

export class CellRuntime implements KernelRuntime, WidgetHost {
  readonly comms: CommManager;
  /** Header of the execute_request running now, or of the last one. */
  private executeParent: Partial<MessageHeader> = {};
  /** Header of the shell message whose handler is running synchronously right now. */
  private dispatchParent: Partial<MessageHeader> | null = null;
  private readonly widgets = new Map<string, Widget>();
  private readonly dirty = new Set<Widget>();

  constructor(
    private readonly outbox: Outbox,
    readonly renderSnapshot: SnapshotRenderer,
  ) {
    this.comms = new CommManager({
      publish: (msgType, content, options) => this.outbox.publish(msgType, content, this.commParent(), options),
    });
    this.comms.registerTarget(WIDGET_TARGET, (comm) => {
      logError(`the front end opened a "${WIDGET_TARGET}" comm (${comm.id}); miStudio widgets are created by cells only`);
      comm.close();
    });
    this.comms.registerTarget(WIDGET_CONTROL_TARGET, (comm) => {
      comm.onMessage = (data) => {
        if (data.method !== 'request_states') {
          logError(`${WIDGET_CONTROL_TARGET}: unknown method ${JSON.stringify(data.method)}; ignored`);
          return;
        }
        comm.send(...this.allWidgetStates());
      };
    });
  }

  get currentExecuteParent(): Partial<MessageHeader> {
    return this.executeParent;
  }

  beginExecute(header: MessageHeader): void {
    this.executeParent = header;
  }

  /** Runs a shell message's handler with that message as the parent of what the handler sends. */
  withDispatchParent(message: JupyterMessage, handler: () => void): void {
    const previous = this.dispatchParent;
    this.dispatchParent = message.header;
    try {
      handler();
    } finally {
      this.dispatchParent = previous;
    }
  }

  display(bundle: MimeBundle, options: DisplayOptions): DisplayHandle {
    const id = options.id ?? randomUUID();
    const data = normalizeBundle(bundle, 'display()');
    this.outbox.publish(
      'display_data',
      { data, metadata: options.metadata ?? {}, transient: { display_id: id } },
      this.executeParent,
    );
    return {
      id,
      update: (next: MimeBundle) => this.update(id, next),
      [inspect.custom]: () => `display ${id}`,
    } as DisplayHandle;
  }

  update(id: string, bundle: MimeBundle): void {
    const data = normalizeBundle(bundle, 'update()');
    this.outbox.publish('update_display_data', { data, metadata: {}, transient: { display_id: id } }, this.executeParent);
  }

  widget(tag: string, props: Record<string, unknown>, options: WidgetOptions): WidgetHandle {
    for (const [id, open] of this.widgets) if (open.closed) this.widgets.delete(id);
    const widget = new Widget(this, tag, props, options);
    this.widgets.set(widget.modelId, widget);
    return widget;
  }

  publishDisplay(data: JsonObject, displayId: string, update: boolean): void {
    this.outbox.publish(
      update ? 'update_display_data' : 'display_data',
      { data, metadata: {}, transient: { display_id: displayId } },
      this.executeParent,
    );
  }

  markDirty(widget: Widget): void {
    this.dirty.add(widget);
  }

  markClean(widget: Widget): void {
    this.dirty.delete(widget);
  }

  /** At the end of a cell: send the pending display refreshes, so the cell's saved outputs are current. */
  flushDisplays(): void {
    for (const widget of [...this.dirty]) widget.flushDisplay();
  }

  reportUserError(message: string): void {
    logError(message);
    this.outbox.stream('stderr', `${message}\n`, this.executeParent);
  }

  private commParent(): Partial<MessageHeader> {
    return this.dispatchParent ?? this.executeParent;
  }

  /** update_states for the control comm: every open widget's state, buffers keyed by model id. */
  private allWidgetStates(): [JsonObject, { buffers: Buffer[] }] {
    const states: JsonObject = {};
    const bufferPaths: Array<Array<string | number>> = [];
    const buffers: Buffer[] = [];
    for (const [id, widget] of this.widgets) {
      if (widget.closed) continue;
      const { state, paths, frames } = widget.fullState();
      states[id] = {
        model_name: state._model_name,
        model_module: state._model_module,
        model_module_version: state._model_module_version,
        state,
      };
      for (const path of paths) bufferPaths.push([id, ...path]);
      buffers.push(...frames);
    }
    return [{ method: 'update_states', states, buffer_paths: bufferPaths }, { buffers }];
  }
}
