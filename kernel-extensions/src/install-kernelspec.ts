#!/usr/bin/env node
/**
 * Installs the `mistudio` kernel spec into a prefix (the project venv; never a global location):
 *
 *   node kernel-extensions/dist/install-kernelspec.js --prefix .venv
 *
 * writes <prefix>/share/jupyter/kernels/mistudio/kernel.json, which Jupyter started from that
 * venv finds through its data path.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiStudioError } from '@mistudio/core/errors';

export const KERNEL_NAME = 'mistudio';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal';
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The spec for this checkout: absolute paths to node, the launcher and the repo's node_modules. */
export function kernelSpec(repoRoot: string, nodeBinary: string = process.execPath): KernelSpec {
  return {
    argv: [nodeBinary, path.join(repoRoot, 'kernel-extensions', 'dist', 'launcher.js'), '--connection-file', '{connection_file}'],
    display_name: 'TypeScript (miStudio)',
    language: 'typescript',
    interrupt_mode: 'signal',
    // NODE_PATH lets notebooks outside the repository import @mistudio/* (the launcher extends
    // the same lookup to tslab's type checker).
    env: { NODE_PATH: path.join(repoRoot, 'node_modules') },
    metadata: { debugger: false },
  };
}

/** Writes kernel.json atomically (temp file + rename); returns the kernel spec directory. */
export function installKernelSpec(prefix: string, repoRoot: string): string {
  const dir = path.join(path.resolve(prefix), 'share', 'jupyter', 'kernels', KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'kernel.json');
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(kernelSpec(repoRoot), null, 2)}\n`);
  renameSync(temp, file);
  return dir;
}

function main(argv: string[]): void {
  const at = argv.indexOf('--prefix');
  const prefix = at >= 0 ? argv[at + 1] : undefined;
  if (!prefix) {
    throw new MiStudioError('INVALID_ARGUMENT', 'missing --prefix <dir>', {
      hint: 'pass the project venv, e.g. --prefix .venv (global installs are not supported)',
    });
  }
  // dist/install-kernelspec.js → the repository root is two levels up.
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = installKernelSpec(prefix, repoRoot);
  process.stdout.write(`installed kernel spec "${KERNEL_NAME}" in ${dir}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
