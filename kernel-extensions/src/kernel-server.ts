/**
 * The kernel's sockets and message dispatch (Jupyter messaging spec 5.3). Replaces tslab's
 * ZmqServer; tslab's executor, converter and completion/inspection handlers are reused.
 *
 * Every shell/control message is handled as soon as it arrives, wrapped in status busy/idle with
 * that message as parent. Only execute_requests queue behind each other (ExecutionQueue), so comm
 * messages reach widgets while a cell is running.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { MiStudioError } from '@mistudio/core/errors';
import { Publisher, Reply, Router } from 'zeromq';
import type { JupyterHandlerImpl } from 'tslab/dist/jupyter.js';
import type { CellRuntime } from './cell-runtime.js';
import { describe } from './comm-manager.js';
import type { ExecutionQueue } from './execution.js';
import { logError } from './log.js';
import { Outbox } from './outbox.js';
import { type FrameSink, SendQueue } from './send-queue.js';
import { type JsonObject, type JupyterMessage, parseMessage, PROTOCOL_VERSION, Signer, WireError } from './wire.js';

export interface ConnectionInfo {
  transport: string;
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
}

export function readConnectionFile(path: string): ConnectionInfo {
  let info: Partial<ConnectionInfo>;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConnectionInfo>;
  } catch (err) {
    throw new MiStudioError('INVALID_CONFIG', `cannot read the kernel connection file: ${(err as Error).message}`, {
      file: path,
      hint: 'start the kernel through Jupyter, which writes this file',
    });
  }
  for (const field of ['transport', 'ip', 'shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const) {
    if (info[field] === undefined) {
      throw new MiStudioError('INVALID_CONFIG', 'kernel connection file is incomplete', { file: path, field });
    }
  }
  return { key: '', signature_scheme: 'hmac-sha256', ...info } as ConnectionInfo;
}

/** What the server needs besides sockets; built by the launcher. */
export interface KernelParts {
  runtime: CellRuntime;
  execution: ExecutionQueue;
  /** tslab's handler, used for is_complete / inspect / complete / kernel_info basics. */
  tslabHandler: JupyterHandlerImpl;
  typescriptVersion: string;
  kernelVersion: string;
  /** Called after shutdown_reply is sent and the sockets are closed. */
  onShutdown(): void;
}

const LINGER_MS = 1000;

export class KernelServer {
  readonly outbox: Outbox;
  private readonly signer: Signer;
  private readonly queue = new SendQueue();
  // Unlimited iopub high-water mark: a Publisher silently drops what exceeds it, and a cell that
  // prints thousands of messages must not lose any (memory is bounded by the client reading them).
  private readonly iopub = new Publisher({ sendHighWaterMark: 0, linger: LINGER_MS });
  private readonly shell = new Router({ linger: LINGER_MS });
  private readonly control = new Router({ linger: LINGER_MS });
  private readonly stdin = new Router({ linger: LINGER_MS });
  private readonly heartbeat = new Reply({ linger: LINGER_MS });
  private parts: KernelParts | null = null;
  private closing = false;

  constructor(private readonly connection: ConnectionInfo) {
    this.signer = new Signer(connection.signature_scheme, connection.key);
    this.outbox = new Outbox(this.queue, this.signer, randomUUID(), this.iopub);
  }

  /** Binds all sockets and starts serving; `parts` may need `outbox`, hence the two-step start. */
  async start(parts: KernelParts): Promise<void> {
    this.parts = parts;
    const c = this.connection;
    await Promise.all([
      this.iopub.bind(address(c, c.iopub_port)),
      this.shell.bind(address(c, c.shell_port)),
      this.control.bind(address(c, c.control_port)),
      this.stdin.bind(address(c, c.stdin_port)),
      this.heartbeat.bind(address(c, c.hb_port)),
    ]);
    void this.serve(this.shell);
    void this.serve(this.control);
    void this.echoHeartbeats();
    this.outbox.status('starting', {});
  }

  private async serve(socket: Router): Promise<void> {
    try {
      for await (const frames of socket) {
        // Not awaited: a running execute must not hold up comm messages behind it.
        void this.handleFrames(socket, frames);
      }
    } catch (err) {
      if (!this.closing) logError(`socket loop ended: ${describe(err)}`);
    }
  }

  /**
   * The heartbeat echoes on its own REQ/REP socket, outside the send queue: it is a liveness probe
   * and must answer even while thousands of outputs are queued.
   */
  private async echoHeartbeats(): Promise<void> {
    try {
      for await (const frames of this.heartbeat) await this.heartbeat.send(frames);
    } catch (err) {
      if (!this.closing) logError(`heartbeat loop ended: ${describe(err)}`);
    }
  }

  private async handleFrames(sink: FrameSink, frames: Buffer[]): Promise<void> {
    let message: JupyterMessage;
    try {
      message = parseMessage(frames, this.signer);
    } catch (err) {
      if (err instanceof WireError) {
        logError(`rejected a message: ${err.message}`);
        // A signed message with a bad body still gets busy/idle, so its sender is not left waiting.
        if (err.header) {
          this.outbox.status('busy', err.header);
          this.outbox.status('idle', err.header);
        }
      } else {
        logError(`rejected a message: ${describe(err)}`);
      }
      return;
    }
    this.outbox.status('busy', message.header);
    try {
      await this.dispatch(sink, message);
    } catch (err) {
      logError(`${message.header.msg_type} ${message.header.msg_id} failed: ${describe(err)}`);
    } finally {
      this.outbox.status('idle', message.header);
    }
    if (message.header.msg_type === 'shutdown_request') {
      await this.close();
      this.parts!.onShutdown();
    }
  }

  private async dispatch(sink: FrameSink, message: JupyterMessage): Promise<void> {
    const parts = this.parts!;
    const { runtime } = parts;
    const content = message.content;
    switch (message.header.msg_type) {
      case 'kernel_info_request':
        this.outbox.reply(sink, message, 'kernel_info_reply', this.kernelInfo(parts));
        return;
      case 'execute_request':
        await parts.execution.enqueue(sink, message);
        return;
      case 'comm_open':
        runtime.withDispatchParent(message, () => runtime.comms.handleOpen(message));
        return;
      case 'comm_msg':
        runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
        return;
      case 'comm_close':
        runtime.withDispatchParent(message, () => runtime.comms.handleClose(message));
        return;
      case 'comm_info_request':
        this.outbox.reply(sink, message, 'comm_info_reply', runtime.comms.info(content.target_name));
        return;
      case 'is_complete_request':
        this.outbox.reply(sink, message, 'is_complete_reply', asJson(parts.tslabHandler.handleIsComplete(content as never)));
        return;
      case 'inspect_request':
        this.outbox.reply(sink, message, 'inspect_reply', asJson(parts.tslabHandler.handleInspect(content as never)));
        return;
      case 'complete_request':
        this.outbox.reply(sink, message, 'complete_reply', asJson(parts.tslabHandler.handleComplete(content as never)));
        return;
      case 'history_request':
        this.outbox.reply(sink, message, 'history_reply', { status: 'ok', history: [] });
        return;
      case 'interrupt_request':
        parts.execution.interrupt();
        this.outbox.reply(sink, message, 'interrupt_reply', { status: 'ok' });
        return;
      case 'shutdown_request':
        // The sockets close after the idle status that follows this reply (handleFrames).
        this.outbox.reply(sink, message, 'shutdown_reply', { status: 'ok', restart: content.restart === true });
        return;
      default:
        logError(`unsupported message type "${message.header.msg_type}"; ignored`);
    }
  }

  private kernelInfo(parts: KernelParts): JsonObject {
    const base = parts.tslabHandler.handleKernel() as unknown as JsonObject;
    return {
      ...base,
      status: 'ok',
      protocol_version: PROTOCOL_VERSION,
      implementation: 'mistudio',
      implementation_version: parts.kernelVersion,
      // tslab 1.0.22 reports TypeScript "3.7.2" whatever it bundles; report the real one.
      language_info: { ...(base.language_info as JsonObject), version: parts.typescriptVersion },
      banner: `miStudio TypeScript kernel (tslab executor, TypeScript ${parts.typescriptVersion})`,
      help_links: [],
    };
  }

  /** Sends what is queued, then closes every socket. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.outbox.flushed();
    for (const socket of [this.shell, this.control, this.stdin, this.heartbeat, this.iopub]) socket.close();
  }
}

function address(c: ConnectionInfo, port: number): string {
  return c.transport === 'ipc' ? `ipc://${c.ip}-${port}` : `${c.transport}://${c.ip}:${port}`;
}

function asJson(value: unknown): JsonObject {
  return value as JsonObject;
}
