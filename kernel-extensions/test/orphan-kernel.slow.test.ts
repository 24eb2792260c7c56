/**
 * A kernel whose parent (the Jupyter server) dies without shutting it down exits by itself, instead
 * of holding its memory forever (kernels run in their own session, so killing the server's process
 * group does not reach them).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ms-orphan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PARENT = `
import subprocess, sys, time
from jupyter_client.connect import write_connection_file
cf, _ = write_connection_file(fname=sys.argv[1])
k = subprocess.Popen(['node', sys.argv[2], '--connection-file', cf], start_new_session=True)
print(k.pid, flush=True)
time.sleep(600)
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kernel lifetime', () => {
  it('exits within seconds once its parent process is killed', async () => {
    const parent = spawn(path.join(root, '.venv/bin/python'), ['-c', PARENT, path.join(tmp, 'kernel.json'), path.join(root, 'kernel-extensions/dist/launcher.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const kernelPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    });
    // Let the kernel start, then check it is still running while its parent lives.
    await new Promise((r) => setTimeout(r, 5000));
    expect(alive(kernelPid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(kernelPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const stillAlive = alive(kernelPid);
    if (stillAlive) process.kill(kernelPid, 'SIGKILL');
    expect(stillAlive).toBe(false);
  }, 60_000);
});
