/**
 * Jupyter comms (messaging spec "Custom messages"): comm_open / comm_msg / comm_close in both
 * directions and comm_info_request. Comm targets are registered by name; the widget runtime
 * registers `jupyter.widget` and `jupyter.widget.control`.
 *
 * Every failure caused by what a front end sent (unknown target, unknown or closed comm id,
 * malformed data, a throwing handler) is logged to the kernel's stderr and the message is dropped:
 * a bad message must never take the kernel down.
 */
import { randomUUID } from 'node:crypto';
import { logError } from './log.js';
import type { PublishOptions } from './outbox.js';
import type { JsonObject, JupyterMessage } from './wire.js';

/** Publishes a comm message on iopub with the parent header of whatever the kernel is doing now. */
export interface CommTransport {
  publish(msgType: 'comm_open' | 'comm_msg' | 'comm_close', content: JsonObject, options?: PublishOptions): void;
}

export interface CommSendOptions {
  metadata?: JsonObject;
  buffers?: Buffer[];
}

export type CommMessageHandler = (data: JsonObject, buffers: Buffer[], message: JupyterMessage) => void;
export type CommCloseHandler = (data: JsonObject, message: JupyterMessage | null) => void;

export class Comm {
  private isClosed = false;
  onMessage: CommMessageHandler | null = null;
  onClose: CommCloseHandler | null = null;

  constructor(
    readonly id: string,
    readonly targetName: string,
    private readonly transport: CommTransport,
    private readonly forget: (comm: Comm) => void,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends a comm_msg; on a comm the front end already closed, logs and drops it. */
  send(data: JsonObject, options: CommSendOptions = {}): void {
    if (this.isClosed) {
      logError(`comm ${this.id} (${this.targetName}) is closed; dropped an outgoing comm_msg`);
      return;
    }
    this.transport.publish('comm_msg', { comm_id: this.id, data }, options);
  }

  /** Closes from the kernel side: sends comm_close and forgets the comm. */
  close(data: JsonObject = {}): void {
    if (this.isClosed) return;
    this.transport.publish('comm_close', { comm_id: this.id, data });
    this.markClosed();
  }

  /** @internal the front end closed it (or it never opened): no message goes back. */
  markClosed(): void {
    this.isClosed = true;
    this.forget(this);
  }
}

/** Called when the front end opens a comm to `target`; attach onMessage/onClose to `comm` here. */
export type CommTargetHandler = (comm: Comm, data: JsonObject, buffers: Buffer[], message: JupyterMessage) => void;

/** How many closed comm ids are remembered, to tell "closed" from "never existed" in error logs. */
const CLOSED_IDS_REMEMBERED = 10_000;

export class CommManager {
  private readonly targets = new Map<string, CommTargetHandler>();
  private readonly comms = new Map<string, Comm>();
  private readonly closedIds = new Set<string>();

  constructor(private readonly transport: CommTransport) {}

  registerTarget(name: string, handler: CommTargetHandler): void {
    this.targets.set(name, handler);
  }

  /** Opens a comm from the kernel side (comm_open on iopub). */
  open(targetName: string, data: JsonObject, options: CommSendOptions & { commId?: string } = {}): Comm {
    const comm = this.track(options.commId ?? randomUUID().replaceAll('-', ''), targetName);
    this.transport.publish(
      'comm_open',
      { comm_id: comm.id, target_name: targetName, data },
      { metadata: options.metadata, buffers: options.buffers },
    );
    return comm;
  }

  get(commId: string): Comm | undefined {
    return this.comms.get(commId);
  }

  /** comm_info_reply content: open comms, filtered by `target_name` when the request names one. */
  info(targetName?: unknown): JsonObject {
    const comms: Record<string, { target_name: string }> = {};
    for (const comm of this.comms.values()) {
      if (typeof targetName === 'string' && targetName !== '' && comm.targetName !== targetName) continue;
      comms[comm.id] = { target_name: comm.targetName };
    }
    return { status: 'ok', comms };
  }

  handleOpen(message: JupyterMessage): void {
    const { comm_id: commId, target_name: targetName, data } = message.content;
    if (typeof commId !== 'string' || commId === '' || typeof targetName !== 'string') {
      logError(`comm_open ${message.header.msg_id}: content needs string comm_id and target_name; ignored`);
      return;
    }
    const handler = this.targets.get(targetName);
    if (!handler) {
      logError(`comm_open for unknown target "${targetName}" (comm ${commId}); closing it`);
      // Tell the front end at once, so it does not wait for a reply that will never come.
      this.transport.publish('comm_close', { comm_id: commId, data: {} });
      return;
    }
    if (this.comms.has(commId)) {
      logError(`comm_open for comm ${commId}, which is already open; ignored`);
      return;
    }
    const comm = this.track(commId, targetName);
    if (!isObject(data)) {
      logError(`comm_open for "${targetName}" (comm ${commId}): data is not a JSON object; closing it`);
      comm.close();
      return;
    }
    try {
      handler(comm, data, message.buffers, message);
    } catch (err) {
      logError(`comm target "${targetName}" failed on comm_open ${commId}: ${describe(err)}`);
    }
  }

  handleMessage(message: JupyterMessage): void {
    const comm = this.lookup(message, 'comm_msg');
    if (!comm) return;
    const data = message.content.data;
    if (!isObject(data)) {
      logError(`comm_msg for comm ${comm.id} (${comm.targetName}): data is not a JSON object; ignored`);
      return;
    }
    if (!comm.onMessage) {
      logError(`comm ${comm.id} (${comm.targetName}) takes no messages; ignored a comm_msg`);
      return;
    }
    try {
      comm.onMessage(data, message.buffers, message);
    } catch (err) {
      logError(`comm ${comm.id} (${comm.targetName}) failed on a comm_msg: ${describe(err)}`);
    }
  }

  handleClose(message: JupyterMessage): void {
    const comm = this.lookup(message, 'comm_close');
    if (!comm) return;
    comm.markClosed();
    const data = isObject(message.content.data) ? message.content.data : {};
    try {
      comm.onClose?.(data, message);
    } catch (err) {
      logError(`comm ${comm.id} (${comm.targetName}) failed on comm_close: ${describe(err)}`);
    }
  }

  private lookup(message: JupyterMessage, what: string): Comm | undefined {
    const commId = message.content.comm_id;
    if (typeof commId !== 'string') {
      logError(`${what} ${message.header.msg_id}: content has no string comm_id; ignored`);
      return undefined;
    }
    const comm = this.comms.get(commId);
    if (!comm) {
      const why = this.closedIds.has(commId) ? 'a comm that is already closed' : 'an unknown comm id';
      logError(`${what} for ${why} (${commId}); ignored`);
    }
    return comm;
  }

  private track(commId: string, targetName: string): Comm {
    const comm = new Comm(commId, targetName, this.transport, (c) => {
      this.comms.delete(c.id);
      this.closedIds.add(c.id);
      if (this.closedIds.size > CLOSED_IDS_REMEMBERED) {
        const oldest = this.closedIds.values().next().value;
        if (oldest !== undefined) this.closedIds.delete(oldest);
      }
    });
    this.comms.set(commId, comm);
    return comm;
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
