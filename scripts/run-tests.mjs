#!/usr/bin/env node
// Runs every test of the project with one runner (vitest). Tests that need Python use the project
// venv (.venv) made by scripts/setup.sh; browser tests use Debian's /usr/bin/chromium.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = ['vitest', 'run', ...process.argv.slice(2)];
const result = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, MISTUDIO_ROOT: root } });
process.exit(result.status ?? 1);
