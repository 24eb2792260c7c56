import { randomBytes } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { MiStudioError } from '../errors.js';
import { FIXTURES, GPT2_TINY, GUTENBERG, leftovers, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await tempWorkspace();
});
afterEach(() => ws.dispose());

/** Runs `work`, expects a MiStudioError with `code` naming `file`, and checks nothing partial is left. */
async function expectCleanFailure(work: Promise<unknown>, code: string, file?: string, keep: string[] = []): Promise<MiStudioError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MiStudioError);
  expect((err as MiStudioError).code).toBe(code);
  if (file) expect((err as MiStudioError).file).toBe(file);
  const left = leftovers(ws);
  expect(left.staging).toEqual([]);
  expect(left.rows).toEqual(keep);
  expect(left.datasets).toHaveLength(keep.length);
  return err as MiStudioError;
}

describe('bad input gives typed errors and leaves no partial dataset', () => {
  it('empty file', async () => {
    const file = path.join(ws.scratch, 'empty.txt');
    writeFileSync(file, '');
    await expectCleanFailure(addDataset(ws.catalog, file), 'INVALID_ARGUMENT', file);
    const blank = path.join(ws.scratch, 'blank.jsonl');
    writeFileSync(blank, '{"text": "   "}\n{"text": ""}\n');
    await expectCleanFailure(addDataset(ws.catalog, blank), 'INVALID_ARGUMENT', blank);
  });

  it('binary garbage as txt, jsonl and csv', async () => {
    const garbage = Buffer.concat([randomBytes(5000), Buffer.from([0, 0, 0]), randomBytes(5000)]);
    for (const ext of ['txt', 'jsonl', 'csv']) {
      const file = path.join(ws.scratch, `garbage.${ext}`);
      writeFileSync(file, garbage);
      const err = await expectCleanFailure(addDataset(ws.catalog, file), 'CORRUPT_FILE', file);
      expect(err.message).toMatch(/binary|UTF-8/);
    }
    // Latin-1 bytes without NULs: not UTF-8 either.
    const latin = path.join(ws.scratch, 'latin1.txt');
    writeFileSync(latin, Buffer.from(Array.from({ length: 4000 }, (_, i) => (i % 3 === 0 ? 0xe9 : 0x61))));
    await expectCleanFailure(addDataset(ws.catalog, latin), 'CORRUPT_FILE', latin);
  });

  it('a jsonl line that is not JSON names the line', async () => {
    const file = path.join(ws.scratch, 'bad.jsonl');
    writeFileSync(file, `${JSON.stringify({ text: 'ok' })}\n${JSON.stringify({ text: 'ok too' })}\n{"text": "broken\n`);
    const err = await expectCleanFailure(addDataset(ws.catalog, file), 'CORRUPT_FILE', file);
    expect(err.message).toContain('line 3');
  });

  it('missing column (jsonl, csv, parquet) lists the columns there are', async () => {
    const jsonl = path.join(ws.scratch, 'a.jsonl');
    writeFileSync(jsonl, '{"meta": {"text": "x"}, "id": 1}\n');
    const e1 = await expectCleanFailure(addDataset(ws.catalog, jsonl, { column: 'meta.body' }), 'INVALID_ARGUMENT', jsonl);
    expect(e1.field).toBe('meta.body');
    expect(e1.message).toContain('meta.text');
    const csv = path.join(ws.scratch, 'a.csv');
    writeFileSync(csv, 'id,title\n1,hello\n');
    await expectCleanFailure(addDataset(ws.catalog, csv, { column: 'text' }), 'INVALID_ARGUMENT', csv);
    const numbers = path.join(ws.scratch, 'n.jsonl');
    writeFileSync(numbers, '{"id": 1}\n{"id": 2}\n');
    await expectCleanFailure(addDataset(ws.catalog, numbers), 'INVALID_ARGUMENT', numbers);
    await expectCleanFailure(addDataset(ws.catalog, numbers, { column: 'id' }), 'INVALID_ARGUMENT', numbers);
    const parquet = path.join(FIXTURES, 'datasets', 'small-snappy.parquet');
    const e2 = await expectCleanFailure(addDataset(ws.catalog, parquet, { column: 'body' }), 'INVALID_ARGUMENT', parquet);
    expect(e2.message).toContain('text');
  });

  it('a parquet file with a corrupt page fails after rows were already written, and is cleaned up', async () => {
    const file = path.join(FIXTURES, 'datasets', 'corrupt-page.parquet');
    const err = await expectCleanFailure(addDataset(ws.catalog, file), 'CORRUPT_FILE', file);
    expect(err.message).toContain('rows 20-30');
  });

  it('a truncated parquet file', async () => {
    const file = path.join(ws.scratch, 'cut.parquet');
    writeFileSync(file, (await import('node:fs')).readFileSync(path.join(FIXTURES, 'datasets', 'small-zstd.parquet')).subarray(0, 3000));
    await expectCleanFailure(addDataset(ws.catalog, file), 'CORRUPT_FILE', file);
  });

  it('a dataset name that exists (add and tokenize), checked before any work', async () => {
    const file = path.join(ws.scratch, 'a.txt');
    copyFileSync(path.join(GUTENBERG, 'blake-poems.txt'), file);
    await addDataset(ws.catalog, file, { name: 'poems' });
    await expectCleanFailure(addDataset(ws.catalog, file, { name: 'poems' }), 'ALREADY_EXISTS', undefined, ['poems']);
    await tokenizeDataset(ws.catalog, 'poems', { tokenizer: GPT2_TINY, name: 'poems-tok', contextSize: 32 });
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'poems', { tokenizer: GPT2_TINY, name: 'poems-tok' }), 'ALREADY_EXISTS', undefined, ['poems', 'poems-tok']);
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'poems', { tokenizer: GPT2_TINY, name: 'poems' }), 'ALREADY_EXISTS', undefined, ['poems', 'poems-tok']);
  });

  it('tokenization errors: missing tokenizer, bad options, cancellation mid-way', async () => {
    await addDataset(ws.catalog, GUTENBERG, { name: 'g', sampleBy: 'paragraph' });
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'g', { tokenizer: ws.scratch }), 'MISSING_TOKENIZER', ws.scratch, ['g']);
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'g', { tokenizer: GPT2_TINY, contextSize: 0 }), 'INVALID_ARGUMENT', undefined, ['g']);
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'g', { tokenizer: GPT2_TINY, splits: ['test'] }), 'INVALID_ARGUMENT', undefined, ['g']);
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'g', { tokenizer: GPT2_TINY, separator: 99999 }), 'INVALID_ARGUMENT', undefined, ['g']);
    await expectCleanFailure(tokenizeDataset(ws.catalog, 'nope', { tokenizer: GPT2_TINY }), 'NOT_FOUND', undefined, ['g']);
    const ctrl = new AbortController();
    const work = tokenizeDataset(ws.catalog, 'g', { tokenizer: GPT2_TINY, signal: ctrl.signal, onProgress: (p) => p.done > 500 && ctrl.abort() });
    await expectCleanFailure(work, 'CANCELLED', undefined, ['g']);
  });

  it('an unknown file type and a path that does not exist', async () => {
    const file = path.join(ws.scratch, 'x.xlsx');
    writeFileSync(file, 'abc');
    await expectCleanFailure(addDataset(ws.catalog, file), 'UNSUPPORTED', file);
    await expectCleanFailure(addDataset(ws.catalog, path.join(ws.scratch, 'missing.txt')), 'FILE_NOT_FOUND');
  });
});
