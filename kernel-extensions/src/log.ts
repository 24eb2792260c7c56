/**
 * Kernel diagnostics go to the kernel process's real stderr (the Jupyter server's log), never into
 * a cell: tslab replaces `process.stderr.write` with a writer that forwards to the running cell's
 * output, so this writes to file descriptor 2 directly.
 */
import { writeSync } from 'node:fs';

const PREFIX = '[mistudio-kernel]';

function write(level: string, message: string): void {
  try {
    writeSync(2, `${PREFIX} ${level}: ${message}\n`);
  } catch {
    // stderr closed (e.g. the launching process went away): nothing left to report to.
  }
}

export function logError(message: string): void {
  write('ERROR', message);
}
