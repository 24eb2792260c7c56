/**
 * Dawn in Node (npm `webgpu`, what the trainer and bench/gpu use) frees its native instance when the
 * object `create()` returned is collected, while devices still process events on it: the process
 * then aborts, segfaults or hangs at a random later point. dawn-device.ts holds the instance; this
 * forces full collections between WGSL training steps on SwiftShader and checks that the process
 * lives and that Node's Dawn computes what the CPU graph does.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'gpu-gc-child.ts');

describe("Dawn's instance outlives garbage collection", () => {
  it('WGSL steps after forced collections finish, and their losses equal the CPU graph', () => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], { encoding: 'utf8', timeout: 120_000 });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const { losses, cpuLosses } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { losses: number[]; cpuLosses: number[] };
    expect(losses).toHaveLength(4);
    losses.forEach((loss, i) => expect(Math.abs(loss - cpuLosses[i]) / cpuLosses[i], `step ${i + 1}`).toBeLessThan(1e-5));
    // Training must move the loss, or equal losses would prove nothing about the steps after the first.
    expect(losses[3]).toBeLessThan(0.8 * losses[0]);
  });
});
