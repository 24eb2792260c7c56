/**
 * The send queue against a sink that behaves like a zeromq.js socket: a second send() while one is
 * pending is rejected with EBUSY. tslab 1.0.22 fires sends without awaiting and loses messages here.
 */
import { describe, expect, it } from 'vitest';
import { type FrameSink, SendQueue } from '../src/send-queue.js';

/** One pending send at a time, each completing after a macrotask, like a socket in the mute state. */
class BusySocket implements FrameSink {
  readonly received: string[] = [];
  private busy = false;
  failOn: string | null = null;

  send(frames: Buffer[]): Promise<void> {
    if (this.busy) return Promise.reject(Object.assign(new Error('Socket is busy writing'), { code: 'EBUSY' }));
    this.busy = true;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        this.busy = false;
        const text = frames.map((f) => f.toString()).join('|');
        if (text === this.failOn) {
          reject(new Error('peer went away'));
          return;
        }
        this.received.push(text);
        resolve();
      });
    });
  }
}

describe('SendQueue', () => {
  it('delivers 5,000 messages queued in one synchronous burst, in order', async () => {
    const socket = new BusySocket();
    const queue = new SendQueue();
    for (let i = 0; i < 5000; i++) queue.enqueue(socket, [Buffer.from(`m${i}`)], 'test');
    expect(queue.length).toBeGreaterThan(0);
    await queue.flushed();
    expect(socket.received).toHaveLength(5000);
    expect(socket.received).toEqual(Array.from({ length: 5000 }, (_, i) => `m${i}`));
  });

  it('keeps one order across sockets', async () => {
    const shell = new BusySocket();
    const iopub = new BusySocket();
    const order: string[] = [];
    const tap = (name: string, socket: BusySocket): FrameSink => ({
      send: (frames) => {
        order.push(`${name}:${frames[0].toString()}`);
        return socket.send(frames);
      },
    });
    const queue = new SendQueue();
    queue.enqueue(tap('iopub', iopub), [Buffer.from('stream')], 'stream');
    queue.enqueue(tap('shell', shell), [Buffer.from('execute_reply')], 'execute_reply');
    queue.enqueue(tap('iopub', iopub), [Buffer.from('idle')], 'status');
    await queue.flushed();
    expect(order).toEqual(['iopub:stream', 'shell:execute_reply', 'iopub:idle']);
  });

  it('goes on after a failed send', async () => {
    const socket = new BusySocket();
    socket.failOn = 'b';
    const queue = new SendQueue();
    for (const m of ['a', 'b', 'c']) queue.enqueue(socket, [Buffer.from(m)], m);
    await queue.flushed();
    expect(socket.received).toEqual(['a', 'c']);
    queue.enqueue(socket, [Buffer.from('d')], 'd');
    await queue.flushed();
    expect(socket.received).toEqual(['a', 'c', 'd']);
  });
});
