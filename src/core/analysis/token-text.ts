/** Token strings for display: each id decoded alone (keeping its leading space), cached. */
import { MiStudioError } from '../errors.js';
import { readTokenizerFiles } from '../models/hf-directory.js';
import { createTokenizer, type Tokenizer } from '../models/tokenizer.js';

export class TokenText {
  private readonly cache = new Map<number, string>();

  constructor(readonly tokenizer: Tokenizer) {}

  /** The tokenizer stored with a tokenized dataset (its `tokenizer/` folder). */
  static fromDir(dir: string): TokenText {
    const files = readTokenizerFiles(dir);
    if (!files) throw new MiStudioError('MISSING_TOKENIZER', 'no tokenizer.json in the dataset tokenizer folder', { file: dir, hint: 'the tokenized dataset is damaged; tokenize it again' });
    return new TokenText(createTokenizer(files, dir));
  }

  of(id: number): string {
    let s = this.cache.get(id);
    if (s === undefined) {
      s = this.tokenizer.decode([id]);
      // SentencePiece-style decoders drop the word-start space of a sequence's first token; a token
      // shown alone is not a sequence start, so its '▁' is a space.
      if (this.tokenizer.idToToken(id)?.startsWith('▁') && !s.startsWith(' ')) s = ` ${s}`;
      this.cache.set(id, s);
    }
    return s;
  }

  all(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.of(id));
  }
}
