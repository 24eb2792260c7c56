/** Token strings for display (models/token-strings.ts), from the tokenizer a tokenized dataset keeps. */
import { MiStudioError } from '../errors.js';
import { readTokenizerFiles } from '../models/hf-directory.js';
import { TokenStrings } from '../models/token-strings.js';
import { createTokenizer } from '../models/tokenizer.js';

export class TokenText extends TokenStrings {
  /** The tokenizer stored with a tokenized dataset (its `tokenizer/` folder). */
  static fromDir(dir: string): TokenText {
    const files = readTokenizerFiles(dir);
    if (!files) throw new MiStudioError('MISSING_TOKENIZER', 'no tokenizer.json in the dataset tokenizer folder', { file: dir, hint: 'the tokenized dataset is damaged; tokenize it again' });
    return new TokenText(createTokenizer(files, dir));
  }
}
