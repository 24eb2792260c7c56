/**
 * A JupyterLab for browser tests, started through scripts/start.sh (the real start command) on a
 * free loopback port with a random token, a temporary root folder and its own Jupyter config and
 * settings folders (`c.ServerApp.allow_root = True` there, for CI containers running as root).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LabServer {
  /** http://127.0.0.1:<port>/ */
  baseUrl: string;
  token: string;
  rootDir: string;
  /** GET/POST/DELETE on the server's REST API with the token. */
  api(pathname: string, init?: RequestInit): Promise<Response>;
  /** Server output so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface LabOptions {
  rootDir: string;
  /** Extra `jupyter lab` arguments; later ones override start.sh's. */
  args?: string[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** What the studio needs installed in the venv; checked first, so a missing set-up step is named. */
const PREREQUISITES: Array<[string, string]> = [
  [path.join(repoRoot, '.venv', 'share', 'jupyter', 'kernels', 'mistudio', 'kernel.json'), 'the mistudio kernel spec (scripts/setup.sh installs it)'],
  [path.join(repoRoot, '.venv', 'share', 'jupyter', 'labextensions', '@mistudio', 'jupyterlab-extension', 'package.json'), 'the labextension (scripts/setup.sh builds and pip-installs it)'],
];

export async function startLab(options: LabOptions): Promise<LabServer> {
  for (const [file, fix] of PREREQUISITES) if (!existsSync(file)) throw new Error(`missing ${file}: ${fix}`);
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const home = mkdtempSync(path.join(os.tmpdir(), 'ms-lab-home-'));
  const configDir = path.join(home, 'config');
  mkdirSync(path.join(configDir, 'labconfig'), { recursive: true });
  writeFileSync(path.join(configDir, 'jupyter_server_config.py'), 'c.ServerApp.allow_root = True\n');
  // The news toast would cover the notebook in screenshots.
  writeFileSync(
    path.join(configDir, 'labconfig', 'page_config.json'),
    JSON.stringify({ disabledExtensions: { '@jupyterlab/apputils-extension:announcements': true } }),
  );
  const child: ChildProcess = spawn(
    'bash',
    [
      path.join(repoRoot, 'scripts', 'start.sh'),
      `--ServerApp.token=${token}`,
      `--ServerApp.root_dir=${options.rootDir}`,
      '--ServerApp.port_retries=0',
      // window.jupyterapp: the test saves, closes and reads notebook models through the app's API.
      '--LabApp.expose_app_in_browser=True',
      ...(options.args ?? []),
    ],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MISTUDIO_PORT: String(port),
        JUPYTER_CONFIG_DIR: configDir,
        JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'),
        JUPYTERLAB_SETTINGS_DIR: path.join(home, 'settings'),
        JUPYTERLAB_WORKSPACES_DIR: path.join(home, 'workspaces'),
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}/`;
  const api = (pathname: string, init: RequestInit = {}) =>
    fetch(new URL(pathname, baseUrl), { ...init, headers: { Authorization: `token ${token}`, ...(init.headers ?? {}) } });

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      child.kill('SIGTERM'); // jupyter server shuts its kernels down on SIGTERM
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`JupyterLab exited (${child.exitCode}):\n${output}`);
    try {
      if ((await api('api/status')).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`JupyterLab did not answer on ${baseUrl} within 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { baseUrl, token, rootDir: options.rootDir, api, log: () => output, stop };
}
