/** The cooperative job runner: pause/resume/stop at checkpoints, events, and the record file. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Job, isResumable, readJobRecord, type JobEvent } from '../jobs/job.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A loop of `n` units that records which units ran. */
async function loop(job: Job<number[], number>, n: number, onPause?: () => Promise<void>): Promise<number[]> {
  const done: number[] = [];
  for (let i = 0; i < n; i++) {
    if ((await job.checkpoint(onPause)) === 'stop') break;
    done.push(i);
    job.progress({ done: i + 1, total: n, unit: 'units' });
    job.metrics(i);
  }
  return done;
}

describe('Job', () => {
  it('pauses at a checkpoint (running onPause), resumes, and reports every status change', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-job-'));
    dirs.push(dir);
    const record = path.join(dir, 'job.json');
    const job = new Job<number[], number>('demo', { kind: 'test', recordFile: record });
    const events: JobEvent<number>[] = [];
    let pausedAt = -1;
    job.on((e) => {
      events.push(e);
      if (e.type === 'metrics' && e.metrics === 2) job.pause('user asked');
    });
    const onPause = async () => {
      pausedAt = job.progressValue!.done;
      expect(readJobRecord(record)!.status).toBe('paused');
      expect(isResumable(readJobRecord(record))).toBe(true);
      setTimeout(() => job.resume(), 20);
    };
    const out = await job.run(() => loop(job, 5, onPause));
    expect(out).toEqual({ status: 'completed', result: [0, 1, 2, 3, 4] });
    expect(pausedAt).toBe(3);
    const statuses = events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
    expect(statuses).toEqual(['running', 'paused', 'running', 'completed']);
    expect(events.find((e) => e.type === 'status' && e.status === 'paused')).toMatchObject({ reason: 'user asked' });
    expect(readJobRecord(record)).toMatchObject({ name: 'demo', kind: 'test', status: 'completed' });
    expect(isResumable(readJobRecord(record))).toBe(false);
  });

  it('a pause asked while the job is still pending takes effect at its first checkpoint', async () => {
    const job = new Job<number[], number>('early', { kind: 'test' });
    job.pause('before start');
    let pausedAfter = -1;
    const out = await job.run(() => loop(job, 3, async () => {
      pausedAfter = job.progressValue?.done ?? 0;
      setTimeout(() => job.resume(), 10);
    }));
    expect(pausedAfter).toBe(0);
    expect(out).toEqual({ status: 'completed', result: [0, 1, 2] });
  });

  it('stop ends the loop at the next checkpoint, also while paused', async () => {
    const running = new Job<number[], number>('stop-running', { kind: 'test' });
    running.on((e) => e.type === 'metrics' && e.metrics === 1 && running.stop());
    expect(await running.run(() => loop(running, 10))).toEqual({ status: 'stopped', result: [0, 1] });

    const paused = new Job<number[], number>('stop-paused', { kind: 'test' });
    paused.on((e) => e.type === 'metrics' && e.metrics === 0 && paused.pause());
    const out = await paused.run(() => loop(paused, 10, async () => void setTimeout(() => paused.stop(), 10)));
    expect(out).toEqual({ status: 'stopped', result: [0] });
    expect(paused.status).toBe('stopped');
  });

  it('yields to the event loop at each checkpoint, so control messages arrive during a long loop', async () => {
    const job = new Job<number[], number>('yield', { kind: 'test' });
    // A timer (like a comm message) can only fire if the loop yields between units.
    setTimeout(() => job.stop(), 5);
    const out = await job.run(async () => {
      const done: number[] = [];
      for (let i = 0; i < 1e7; i++) {
        if ((await job.checkpoint()) === 'stop') break;
        const t = Date.now();
        while (Date.now() - t < 1); // 1 ms of synchronous work per unit
        done.push(i);
      }
      return done;
    });
    expect(out.status).toBe('stopped');
    expect(out.result!.length).toBeLessThan(200);
  });

  it('reports a failure with its message', async () => {
    const job = new Job('fails', { kind: 'test' });
    const out = await job.run(async () => {
      throw new Error('boom');
    });
    expect(out.status).toBe('failed');
    expect(job.status).toBe('failed');
    await expect(job.run(async () => 1)).rejects.toThrow(/already run/);
  });
});
