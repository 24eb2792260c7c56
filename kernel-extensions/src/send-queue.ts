/**
 * One FIFO queue for every outgoing message of the kernel (shell, control and iopub).
 *
 * zeromq.js allows one pending `send()` per socket; tslab 1.0.22 fires sends without awaiting them,
 * so a cell that prints in a tight loop gets `EBUSY` rejections and loses messages. Here each send is
 * awaited before the next starts, and one queue across sockets also keeps the cross-socket order the
 * spec requires (stream output → execute_reply → status idle).
 */
import { logError } from './log.js';

export interface FrameSink {
  send(frames: Buffer[]): Promise<void>;
}

interface Pending {
  sink: FrameSink;
  frames: Buffer[];
  what: string;
}

export class SendQueue {
  private readonly pending: Pending[] = [];
  /** Index of the next item to send; items before it are dropped lazily to avoid O(n) shifts. */
  private head = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];

  /** Queues frames for `sink`; `what` names the message in the error log if sending fails. */
  enqueue(sink: FrameSink, frames: Buffer[], what: string): void {
    this.pending.push({ sink, frames, what });
    if (!this.draining) void this.drain();
  }

  get length(): number {
    return this.pending.length - this.head;
  }

  /** Resolves once everything queued so far (and anything queued meanwhile) has been handed to zmq. */
  flushed(): Promise<void> {
    if (!this.draining && this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.head < this.pending.length) {
        const item = this.pending[this.head];
        this.pending[this.head] = undefined as unknown as Pending;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.pending.length) {
          this.pending.splice(0, this.head);
          this.head = 0;
        }
        try {
          await item.sink.send(item.frames);
        } catch (err) {
          // A closed socket or a dead peer must not stop the queue: later messages may still go out.
          logError(`could not send ${item.what}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.pending.length = 0;
      this.head = 0;
      this.draining = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
