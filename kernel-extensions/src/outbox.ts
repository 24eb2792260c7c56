/**
 * Builds, signs and queues every message the kernel sends: shell/control replies and iopub
 * broadcasts. Stream text (stdout/stderr of cells) is coalesced into one `stream` message per
 * event-loop turn, as ipykernel does; any other message first flushes pending stream text so the
 * output order seen by the front end is the order the cell produced it.
 */
import { type FrameSink, SendQueue } from './send-queue.js';
import { type JsonObject, type JupyterMessage, type MessageHeader, newHeader, serializeMessage, Signer } from './wire.js';

/** Stream text is sent once this much is pending even if the cell has not yielded yet. */
const STREAM_CHUNK_BYTES = 64 * 1024;

export type StreamName = 'stdout' | 'stderr';

interface PendingStream {
  name: StreamName;
  parent: Partial<MessageHeader>;
  chunks: string[];
  length: number;
}

export interface PublishOptions {
  metadata?: JsonObject;
  buffers?: Buffer[];
}

export class Outbox {
  private pendingStream: PendingStream | null = null;
  private flushScheduled = false;

  constructor(
    private readonly queue: SendQueue,
    private readonly signer: Signer,
    /** The kernel's own session id, put in the header of every message it sends. */
    readonly session: string,
    private readonly iopub: FrameSink,
  ) {}

  /** Sends a reply to `request` on the socket it came from (shell or control). */
  reply(sink: FrameSink, request: JupyterMessage, msgType: string, content: JsonObject, metadata: JsonObject = {}): void {
    this.flushStreams();
    const message: JupyterMessage = {
      identities: request.identities,
      header: newHeader(msgType, this.session),
      parent_header: request.header,
      metadata,
      content,
      buffers: [],
    };
    this.queue.enqueue(sink, serializeMessage(message, this.signer), msgType);
  }

  /** Broadcasts on iopub. The topic frame is the message type, as ipykernel does. */
  publish(msgType: string, content: JsonObject, parent: Partial<MessageHeader>, options: PublishOptions = {}): void {
    this.flushStreams();
    this.publishNow(msgType, content, parent, options);
  }

  status(state: 'busy' | 'idle' | 'starting', parent: Partial<MessageHeader>): void {
    this.publish('status', { execution_state: state }, parent);
  }

  stream(name: StreamName, text: string, parent: Partial<MessageHeader>): void {
    if (text.length === 0) return;
    const pending = this.pendingStream;
    if (pending && (pending.name !== name || pending.parent !== parent)) this.flushStreams();
    if (!this.pendingStream) this.pendingStream = { name, parent, chunks: [], length: 0 };
    const target = this.pendingStream;
    target.chunks.push(text);
    target.length += text.length;
    if (target.length >= STREAM_CHUNK_BYTES) {
      this.flushStreams();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushStreams();
      });
    }
  }

  flushStreams(): void {
    const pending = this.pendingStream;
    if (!pending) return;
    this.pendingStream = null;
    this.publishNow('stream', { name: pending.name, text: pending.chunks.join('') }, pending.parent, {});
  }

  /** Resolves when every message queued so far has been handed to ZeroMQ. */
  flushed(): Promise<void> {
    this.flushStreams();
    return this.queue.flushed();
  }

  private publishNow(msgType: string, content: JsonObject, parent: Partial<MessageHeader>, options: PublishOptions): void {
    const message: JupyterMessage = {
      identities: [Buffer.from(msgType, 'utf8')],
      header: newHeader(msgType, this.session),
      parent_header: parent,
      metadata: options.metadata ?? {},
      content,
      buffers: options.buffers ?? [],
    };
    this.queue.enqueue(this.iopub, serializeMessage(message, this.signer), msgType);
  }
}
