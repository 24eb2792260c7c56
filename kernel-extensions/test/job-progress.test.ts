/**
 * `showJob`: a real core Job drives `<ms-job-progress>` through the real widget runtime (capturing
 * socket), and the widget's pause/resume/stop actions drive the job.
 */
import { describe, expect, it } from 'vitest';
import { Job } from '@mistudio/core/jobs/index';
import { CellRuntime } from '../src/cell-runtime.js';
import { showJob } from '../src/job-progress.js';
import { Outbox } from '../src/outbox.js';
import { installRuntime } from '../src/runtime-registry.js';
import { SendQueue } from '../src/send-queue.js';
import { type JupyterMessage, newHeader, parseMessage, Signer } from '../src/wire.js';

const signer = new Signer('hmac-sha256', 'k');

describe('showJob', () => {
  it('mirrors job progress and status into the widget and maps its buttons to the job', async () => {
    const sent: JupyterMessage[] = [];
    const outbox = new Outbox(new SendQueue(), signer, 's', { send: async (frames: Buffer[]) => void sent.push(parseMessage(frames, signer)) });
    const runtime = new CellRuntime(outbox, (tag, props) => `<div>${tag} ${String(props.status)}</div>`);
    installRuntime(runtime);
    runtime.beginExecute(newHeader('execute_request', 'client'));

    const job = new Job<number>('demo', { kind: 'test' });
    const w = showJob(job, 'Demo job');
    const action = (name: string) => {
      const message: JupyterMessage = { identities: [], header: newHeader('comm_msg', 'client'), parent_header: {}, metadata: {}, content: { comm_id: w.modelId, data: { method: 'custom', content: { event: name, payload: {} } } }, buffers: [] };
      runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
    };
    let steps = 0;
    const outcome = job.run(async (j) => {
      for (let i = 0; i < 50; i++) {
        if ((await j.checkpoint()) === 'stop') break;
        steps++;
        j.progress({ done: steps, total: 50, unit: 'rows' });
        if (steps === 5) action('pause');
        await new Promise((r) => setTimeout(r, 2));
      }
      return steps;
    });
    // Paused at the checkpoint after step 5: the counter holds still.
    await new Promise((r) => setTimeout(r, 60));
    expect(job.status).toBe('paused');
    expect(w.props.status).toBe('paused');
    const heldAt = steps;
    await new Promise((r) => setTimeout(r, 40));
    expect(steps).toBe(heldAt);
    action('resume');
    await new Promise((r) => setTimeout(r, 30));
    expect(steps).toBeGreaterThan(heldAt);
    action('stop');
    const result = await outcome;
    expect(result.status).toBe('stopped');
    expect(w.props.status).toBe('stopped');
    expect(w.props.done).toBe(steps);
    expect(w.props.total).toBe(50);
    expect(steps).toBeLessThan(50);
    await outbox.flushed();
    const open = sent.find((m) => m.header.msg_type === 'comm_open')!;
    expect((open.content as { data: { state: { tag: string } } }).data.state.tag).toBe('ms-job-progress');
  });
});
