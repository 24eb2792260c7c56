/**
 * Runs execute_requests one after another with tslab's executor. Only executions are queued:
 * the kernel server handles every other shell message (comms included) as soon as it arrives, so a
 * cell that awaits between steps sees pause/stop clicks while it runs.
 */
import type { Executor } from 'tslab/dist/executor.js';
import type { CellRuntime } from './cell-runtime.js';
import type { FrameSink } from './send-queue.js';
import type { Outbox, StreamName } from './outbox.js';
import type { JupyterMessage, MessageHeader } from './wire.js';

/**
 * After a failed cell, queued cells received up to this long after the failure are aborted, as
 * tslab and ipykernel do ("run all" must stop at the first error). Requests still sitting in
 * ZeroMQ's buffer while a synchronous cell failed are read only after it returns, hence the grace.
 */
const ABORT_GRACE_MS = 200;

type StreamWrite = typeof process.stdout.write;

export class ExecutionQueue {
  private tail: Promise<void> = Promise.resolve();
  private executionCount = 0;
  private abortReceivedUntilMs = -Infinity;

  constructor(
    private readonly executor: Executor,
    private readonly outbox: Outbox,
    private readonly runtime: CellRuntime,
  ) {}

  /** Queues the request; resolves once its execute_reply is queued for sending. */
  enqueue(sink: FrameSink, request: JupyterMessage): Promise<void> {
    const receivedAtMs = Date.now();
    const run = this.tail.then(() => this.run(sink, request, receivedAtMs));
    // A failure of one request (logged by the server) must not skip the ones queued after it.
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run(sink: FrameSink, request: JupyterMessage, receivedAtMs: number): Promise<void> {
    const content = request.content;
    const code = typeof content.code === 'string' ? content.code : '';
    const silent = content.silent === true;
    const stopOnError = content.stop_on_error !== false;

    if (stopOnError && receivedAtMs <= this.abortReceivedUntilMs) {
      this.outbox.reply(sink, request, 'execute_reply', { status: 'aborted', execution_count: this.executionCount }, {
        status: 'aborted',
      });
      return;
    }
    if (!silent) this.executionCount++;
    const count = this.executionCount;
    this.runtime.beginExecute(request.header);
    if (!silent) this.outbox.publish('execute_input', { code, execution_count: count }, request.header);

    // Like tslab (and ipykernel), output written after the cell returned (timers, listeners) still
    // goes to the most recent cell, so the redirection stays until the next execution.
    redirect(process.stdout, 'stdout', this.outbox, request.header);
    redirect(process.stderr, 'stderr', this.outbox, request.header);

    let ok: boolean;
    try {
      ok = await this.executor.execute(code);
    } catch (err) {
      // tslab reports cell errors by returning false; a throw here is a converter failure.
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      ok = false;
    }
    this.runtime.flushDisplays();
    if (ok) {
      this.outbox.reply(sink, request, 'execute_reply', { status: 'ok', execution_count: count, user_expressions: {} }, {
        status: 'ok',
      });
      return;
    }
    this.abortReceivedUntilMs = Date.now() + ABORT_GRACE_MS;
    // tslab prints the diagnostics or the exception to the cell's stderr and returns false.
    this.outbox.reply(
      sink,
      request,
      'execute_reply',
      {
        status: 'error',
        execution_count: count,
        ename: 'CellError',
        evalue: "the cell failed; see its stderr output for the error",
        traceback: [],
      },
      { status: 'error' },
    );
  }

  interrupt(): void {
    this.executor.interrupt();
  }
}

function redirect(stream: NodeJS.WriteStream, name: StreamName, outbox: Outbox, parent: Partial<MessageHeader>): void {
  const decoder = new TextDecoder();
  const write = ((chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    outbox.stream(name, text, parent);
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as StreamWrite;
  stream.write = write;
}
