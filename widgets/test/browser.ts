/**
 * Debian's chromium through playwright-core, as docs/CONTRIBUTING-helpers.md prescribes (no browser
 * download), and the folder screenshots go to.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `extraArgs` come after the flags every browser test uses (e.g. WebGPU's). */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (scripts/setup.sh --test does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...extraArgs],
  });
}

/** test-artifacts/<group>/, created on demand. */
export function artifactDir(group: string): string {
  const dir = path.join(repoRoot, 'test-artifacts', group);
  mkdirSync(dir, { recursive: true });
  return dir;
}
