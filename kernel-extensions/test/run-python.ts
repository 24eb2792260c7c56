/** Runs a Python helper of these tests with the project venv; JSON in on stdin, JSON out on stdout. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(TEST_DIR, '..', '..');
export const VENV_PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');

export interface PythonRun {
  args: string[];
  input?: unknown;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs: number;
}

export function runPython<T>(run: PythonRun): Promise<T> {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(`${VENV_PYTHON} is missing: run scripts/setup.sh to create the project venv`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(VENV_PYTHON, run.args, {
      cwd: run.cwd ?? TEST_DIR,
      env: { ...process.env, ...run.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`python ${run.args.join(' ')} exited with ${code}\n${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        reject(new Error(`python ${run.args.join(' ')} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
    child.stdin.end(run.input === undefined ? '' : JSON.stringify(run.input));
  });
}
