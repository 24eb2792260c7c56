// `mistudio datasets ...` as a user runs it: a child process per command on one workspace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GPT2_TINY, GUTENBERG } from './helpers/dataset-workspace.js';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.ts');
const workspace = mkdtempSync(path.join(os.tmpdir(), 'mistudio-cli-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'datasets', ...args], { env: { ...process.env, MISTUDIO_WORKSPACE: workspace }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('mistudio datasets', () => {
  it('add, tokenize, list, stats --json, page, rename, rm', () => {
    expect(cli('add', path.join(GUTENBERG, 'blake-poems.txt'), '--name', 'blake', '--limit', '50').code).toBe(0);
    const tok = cli('tokenize', 'blake', '--tokenizer', GPT2_TINY, '--context', '32', '--as', 'blake-32', '--attention-mask', '--json');
    expect(tok.code).toBe(0);
    const rec = JSON.parse(tok.stdout) as { name: string; kind: string; dir: string; tokens: number; rows: number };
    expect(rec).toMatchObject({ name: 'blake-32', kind: 'tokenized' });
    expect(rec.tokens).toBe(rec.rows * 32);
    expect(existsSync(path.join(rec.dir, 'attention-mask.bin'))).toBe(true);

    const list = JSON.parse(cli('list', '--json').stdout) as Array<{ name: string }>;
    expect(list.map((d) => d.name)).toEqual(['blake', 'blake-32']);
    const stats = JSON.parse(cli('stats', 'blake-32', '--json').stdout) as { tokens: number; rows: number; documents: number; uniqueTokens: number };
    expect(stats).toMatchObject({ tokens: rec.tokens, rows: rec.rows, documents: 50 });
    const page = JSON.parse(cli('page', 'blake-32', '--page', '1', '--page-size', '3', '--tokens', '--json').stdout) as { samples: Array<{ index: number; tokenIds: number[] }> };
    expect(page.samples.map((s) => s.index)).toEqual([3, 4, 5]);
    expect(page.samples[0].tokenIds).toHaveLength(32);

    expect(cli('rename', 'blake', 'poems').code).toBe(0);
    expect(cli('rm', 'blake-32').code).toBe(0);
    expect(existsSync(rec.dir)).toBe(false);
    expect(cli('list').stdout).toContain('poems');
  });

  it('reports typed errors on stderr with exit code 1, and usage errors', () => {
    const dup = cli('add', path.join(GUTENBERG, 'blake-poems.txt'), '--name', 'poems');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a dataset named 'poems' already exists");
    const missing = cli('stats', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no dataset named 'nope'");
    expect(cli('tokenize', 'poems').stderr).toContain('--tokenizer');
    expect(cli('--help').stdout).toContain('tokenize <name> --tokenizer');
  });
});
