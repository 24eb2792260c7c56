/**
 * `trainWithMonitor` / `resumeWithMonitor`: a real SAE training job drives `<ms-training-monitor>`
 * through the real widget runtime (capturing socket): metrics stream as `append` messages (never a
 * full resend of the history), the widget's pause / resume / stop actions drive the job (the step
 * counter holds while paused), Stop leaves a checkpoint, and resuming in a later "cell" completes
 * the run with the result of an uninterrupted one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SyntheticDictionarySource } from '@mistudio/core/sae/activation-source';
import { CHECKPOINT_FILE, readCheckpoint } from '@mistudio/core/sae/checkpoint';
import { trainSae } from '@mistudio/core/sae/trainer';
import { CellRuntime } from '../src/cell-runtime.js';
import { Outbox } from '../src/outbox.js';
import { installRuntime } from '../src/runtime-registry.js';
import { SendQueue } from '../src/send-queue.js';
import { resumeWithMonitor, trainWithMonitor } from '../src/train-monitor.js';
import type { WidgetHandle } from '../src/types.js';
import { type JupyterMessage, newHeader, parseMessage, Signer } from '../src/wire.js';

const signer = new Signer('hmac-sha256', 'k');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ms-train-monitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = { architecture: 'topk' as const, dIn: 16, dSae: 48, k: 4, batchSizeTokens: 64, trainingTokens: 64 * 400, lr: 3e-3, seed: 2, metricsInterval: 5, checkpointInterval: 10_000 };

/** A synthetic source that takes a little time per batch, as a real store would. */
class PacedSource extends SyntheticDictionarySource {
  override async nextBatch(rows: number): Promise<Float32Array> {
    await new Promise((r) => setTimeout(r, 2));
    return super.nextBatch(rows);
  }
}
const source = () => new PacedSource({ d: 16, features: 30, activePerRow: 3, seed: 4, noise: 0.01 });

describe('trainWithMonitor', () => {
  it('streams metrics, maps Pause / Resume / Stop to the job, and resumeWithMonitor completes the run', async () => {
    const sent: JupyterMessage[] = [];
    const outbox = new Outbox(new SendQueue(), signer, 's', { send: async (frames: Buffer[]) => void sent.push(parseMessage(frames, signer)) });
    const runtime = new CellRuntime(outbox, (tag, props) => `<div>${tag} ${String(props.status)}</div>`);
    installRuntime(runtime);
    runtime.beginExecute(newHeader('execute_request', 'client'));
    const click = (w: WidgetHandle, name: string) => {
      const message: JupyterMessage = { identities: [], header: newHeader('comm_msg', 'client'), parent_header: {}, metadata: {}, content: { comm_id: w.modelId, data: { method: 'custom', content: { event: name, payload: {} } } }, buffers: [] };
      runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
    };
    const runDir = path.join(dir, 'run');
    let steps = 0;
    const observed: string[] = [];
    const started = Date.now();
    const first = trainWithMonitor(CONFIG, {
      runDir, source: source(), intraOpNumThreads: 1, title: 'test run',
      onJob: (job) => job.on((e) => {
        if (e.type === 'progress') steps = e.progress.done / 64;
        if (e.type === 'status') observed.push(e.status);
      }),
    });
    // The widget opens before the first step, with the monitor's props.
    await outbox.flushed();
    const opened = sent.find((m) => m.header.msg_type === 'comm_open')!;
    const state = (opened.content as { data: { state: { tag: string; props: Record<string, unknown> } } }).data.state;
    expect(state.tag).toBe('ms-training-monitor');
    expect(state.props).toMatchObject({ title: 'test run', status: 'running', step: 0, totalSteps: 400, dLatents: 48, metrics: [] });
    const w = { modelId: (opened.content as { comm_id: string }).comm_id } as WidgetHandle;

    await expect.poll(() => steps, { timeout: 10_000, interval: 5 }).toBeGreaterThanOrEqual(20);
    click(w, 'pause');
    await expect.poll(() => observed.at(-1), { timeout: 5000, interval: 5 }).toBe('paused');
    const heldAt = steps;
    await new Promise((r) => setTimeout(r, 150));
    expect(steps).toBe(heldAt);
    click(w, 'resume');
    await expect.poll(() => steps, { timeout: 5000, interval: 5 }).toBeGreaterThan(heldAt + 10);
    click(w, 'stop');
    const stopped = await first;
    expect(stopped.status).toBe('stopped');
    expect(stopped.widget.props.status).toBe('stopped');
    expect(String(stopped.widget.props.message)).toMatch(/checkpoint saved in .*run; continue with resumeWithMonitor/);
    const stoppedAt = readCheckpoint(path.join(runDir, CHECKPOINT_FILE)).state.step;
    expect(stoppedAt).toBe(stopped.result!.steps);
    expect(stoppedAt).toBeGreaterThan(heldAt + 10);
    expect(stoppedAt).toBeLessThan(400);
    expect(observed).toEqual(['running', 'paused', 'running', 'stopping', 'stopped']);

    // Metrics went out as append messages, batched (at most about one a second, plus one before
    // each status change); only the few status updates carry the whole props.
    await outbox.flushed();
    const customs = sent.filter((m) => m.header.msg_type === 'comm_msg').map((m) => (m.content as { data: { method: string; content?: { type?: string; rows?: { step: number }[] }; state?: { props?: { metrics?: unknown[] } } } }).data);
    const appends = customs.filter((d) => d.method === 'custom' && d.content?.type === 'append');
    const appended = appends.flatMap((d) => d.content!.rows!);
    expect(appends.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000) + 5);
    expect(appends.length).toBeLessThan(appended.length);
    expect(appended.map((r) => r.step)).toEqual(Array.from({ length: Math.floor(stoppedAt / 5) }, (_, i) => 5 * (i + 1)));
    expect(appended[0]).toMatchObject({ step: 5, loss: expect.any(Number), l0: expect.any(Number), deadLatents: expect.any(Number), explainedVariance: expect.any(Number) });
    const pausedUpdate = customs.find((d) => d.method === 'update' && (d.state as { props: { status: string } }).props.status === 'paused');
    expect(pausedUpdate).toBeDefined();

    // A new "cell": resume from the checkpoint and finish; same weights as an uninterrupted run.
    runtime.beginExecute(newHeader('execute_request', 'client'));
    const second = await resumeWithMonitor({ runDir, source: source(), intraOpNumThreads: 1 });
    expect(second.status).toBe('completed');
    expect(second.widget.props).toMatchObject({ status: 'finished', step: 400 });
    expect(String(second.widget.props.title)).toContain(`resumed at step ${stoppedAt}`);
    expect(String(second.widget.props.message)).toMatch(/SAE saved to .*run\/sae · EV/);
    const straight = await trainSae(CONFIG, { runDir: path.join(dir, 'straight'), source: source(), intraOpNumThreads: 1 });
    expect(readFileSync(path.join(runDir, 'sae', 'sae_weights.safetensors')).equals(readFileSync(path.join(straight.result!.saeDir!, 'sae_weights.safetensors')))).toBe(true);
  });
});
