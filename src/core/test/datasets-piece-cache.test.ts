// The pre-token cache must give exactly the real tokenizer's ids (and Python's): checked on whole
// books through the cached path, and it must switch itself off when a check finds a difference.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTokenizer } from '../datasets/index.js';
import { PieceCacheEncoder } from '../datasets/piece-cache-encoder.js';
import type { Tokenizer } from '../models/tokenizer.js';
import { FIXTURES, GPT2_TINY, GUTENBERG, LLAMA_TINY } from './helpers/dataset-workspace.js';

const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'tokenizers', 'expected.json'), 'utf8')) as {
  samples: string[];
  books: string[];
  tokenizers: Record<string, { with_special: number[][]; without_special: number[][]; books: Record<string, { count: number; sha256: string }> }>;
};

const sha = (ids: number[]) => createHash('sha256').update(new Uint8Array(Uint32Array.from(ids).buffer)).digest('hex');
const book = (name: string) => new TextDecoder().decode(readFileSync(path.join(GUTENBERG, `${name}.txt`)));

describe('PieceCacheEncoder', () => {
  it('gives Python ids for whole books and every sample through the cached path (gpt2-tiny)', async () => {
    const { tokenizer, files } = await resolveTokenizer(GPT2_TINY);
    const enc = PieceCacheEncoder.create(tokenizer, files)!;
    expect(enc).toBeDefined();
    // Get past the documents that are verified both ways, so what follows uses the cache alone.
    for (let i = 0; i < 40; i++) enc.encode(`warm up ${i} the cat`, false);
    const before = enc.counts.cached;
    for (const b of expected.books) {
      const ids = enc.encode(book(b), false);
      expect(ids.length, b).toBe(expected.tokenizers['gpt2-tiny'].books[b].count);
      expect(sha(ids), b).toBe(expected.tokenizers['gpt2-tiny'].books[b].sha256);
    }
    expected.samples.forEach((s, i) => {
      expect(enc.encode(s, false)).toEqual(expected.tokenizers['gpt2-tiny'].without_special[i]);
      expect(enc.encode(s, true)).toEqual(expected.tokenizers['gpt2-tiny'].with_special[i]);
    });
    expect(enc.counts.cached).toBeGreaterThan(before);
    expect(enc.counts.direct).toBeGreaterThan(0); // the sample with <|endoftext|> in it went to the real tokenizer
    expect(enc.enabled).toBe(true);
  });

  it('is not offered for a tokenizer that does not split into pre-tokens (Metaspace, llama-tiny)', async () => {
    const { tokenizer, files } = await resolveTokenizer(LLAMA_TINY);
    expect(PieceCacheEncoder.create(tokenizer, files)).toBeUndefined();
  });

  it('turns itself off when a verification finds a difference, and still returns the real ids', async () => {
    const { tokenizer, files } = await resolveTokenizer(GPT2_TINY);
    // A tokenizer that is context-dependent across pre-tokens: an extra token for texts with 2+ spaces.
    const odd: Tokenizer = Object.create(tokenizer, {
      encode: { value: (text: string, o?: { addSpecialTokens?: boolean }) => [...tokenizer.encode(text, o), ...(text.split(' ').length > 2 ? [0] : [])] },
    }) as Tokenizer;
    const enc = PieceCacheEncoder.create(odd, files)!;
    const ids = enc.encode('one two three', false);
    expect(ids).toEqual(odd.encode('one two three', { addSpecialTokens: false }));
    expect(enc.enabled).toBe(false);
    for (let i = 0; i < 50; i++) expect(enc.encode(`a b c ${i}`, false)).toEqual(odd.encode(`a b c ${i}`, { addSpecialTokens: false }));
  });
});
