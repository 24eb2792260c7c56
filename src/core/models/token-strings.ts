/**
 * Display strings of token ids — each id decoded alone, as token views show them — cached per id.
 * SentencePiece-style decoders drop the word-start space of a sequence's first token; a token shown
 * alone is not a sequence start, so its '▁' is kept as a space.
 */
import type { Tokenizer } from './tokenizer.js';

export class TokenStrings {
  private readonly cache = new Map<number, string>();

  constructor(readonly tokenizer: Tokenizer) {}

  of(id: number): string {
    let s = this.cache.get(id);
    if (s === undefined) {
      s = this.tokenizer.decode([id]);
      if (this.tokenizer.idToToken(id)?.startsWith('▁') && !s.startsWith(' ')) s = ` ${s}`;
      this.cache.set(id, s);
    }
    return s;
  }

  all(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.of(id));
  }
}
