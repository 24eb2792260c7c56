/**
 * Staging folders: every artifact (a dataset's files) is written into `<workspace>/staging/<pid>-<hex>/`
 * and only renamed into its final place when complete, so an error or a crash never leaves a
 * half-written artifact where readers look. Folders of processes that died are swept on the next
 * catalog open.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Creates a fresh staging folder owned by this process. */
export function createStagingDir(stagingRoot: string, label = 'work'): string {
  const dir = path.join(stagingRoot, `${process.pid}-${label.replace(/[^a-z0-9]/gi, '').slice(0, 24)}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes staging folders whose owning process is gone. Returns the names removed. */
export function sweepStaging(stagingRoot: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(stagingRoot);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const pid = Number(entry.split('-', 1)[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    removeDir(path.join(stagingRoot, entry));
    removed.push(entry);
  }
  return removed;
}
