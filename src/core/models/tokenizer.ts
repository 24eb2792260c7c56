/**
 * Tokenizers through `@huggingface/transformers` (the AutoTokenizer class choice, `tokenizer_class`
 * in tokenizer_config.json), built from in-memory TokenizerFiles so the same code serves model
 * directories, hub downloads and tokenizers converted from GGUF metadata.
 */
import * as transformers from '@huggingface/transformers';
import { MiStudioError } from '../errors.js';
import type { TokenizerFiles } from './weights.js';

export interface EncodeOptions {
  /** Add BOS/EOS etc. as the tokenizer's post-processor says (default true, as in transformers). */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** The vocabulary string of one token id (e.g. 'Ġthe'), undefined when out of range. */
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** Number of token ids the tokenizer can produce (base vocabulary plus added tokens). */
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  /** The pad token, falling back to EOS as transformers does when none is configured. */
  readonly padTokenId?: number;
}

type HfTokenizer = transformers.PreTrainedTokenizer;
type TokenizerClass = new (json: unknown, config: unknown) => HfTokenizer;

/** AutoTokenizer's class selection, without its file loading. */
function tokenizerClass(config: Record<string, unknown>): TokenizerClass {
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const candidate = (transformers as unknown as Record<string, unknown>)[name];
  if (typeof candidate === 'function' && (candidate === transformers.PreTrainedTokenizer || candidate.prototype instanceof transformers.PreTrainedTokenizer)) {
    return candidate as TokenizerClass;
  }
  return transformers.PreTrainedTokenizer as unknown as TokenizerClass;
}

class HfTokenizerAdapter implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  private readonly byId: string[] = [];

  constructor(private readonly tok: HfTokenizer) {
    for (const [token, id] of tok.get_vocab()) this.byId[id] = token;
    this.vocabSize = this.byId.length;
    this.bosTokenId = definedId(tok.bos_token_id);
    this.eosTokenId = definedId(tok.eos_token_id);
    this.padTokenId = definedId(tok.pad_token_id);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true });
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  idToToken(id: number): string | undefined {
    return this.byId[id];
  }

  tokenToId(token: string): number | undefined {
    return definedId(this.tok.convert_tokens_to_ids(token));
  }
}

function definedId(id: number | null | undefined): number | undefined {
  return typeof id === 'number' && id >= 0 ? id : undefined;
}

/**
 * Builds a tokenizer from its files. `origin` (a directory, GGUF file or hub id) and `lookedFor`
 * name what was searched when `files` is undefined, for the MISSING_TOKENIZER error.
 */
export function createTokenizer(files: TokenizerFiles | undefined, origin: string, lookedFor: readonly string[] = ['tokenizer.json', 'tokenizer_config.json']): Tokenizer {
  if (!files) {
    throw new MiStudioError('MISSING_TOKENIZER', `no tokenizer found; looked for ${lookedFor.join(', ')}`, {
      file: origin,
      hint: 'copy the tokenizer files of the model next to its weights, or pass token ids instead of text',
    });
  }
  const cls = tokenizerClass(files.tokenizerConfig);
  try {
    return new HfTokenizerAdapter(new cls(files.tokenizerJson, files.tokenizerConfig));
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', `tokenizer.json could not be loaded (${(cause as Error).message})`, { file: origin, cause });
  }
}
