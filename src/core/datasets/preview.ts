/**
 * Tokenization preview: text → its tokens as chunks with ids, shaped as `<ms-token-highlight>` props
 * (TokenHighlightProps in widgets/src/types.ts). Token boundaries show as alternating shades: values
 * alternate between 1 and 0.45 on a scale whose maximum is 1.
 */
import type { Tokenizer } from '../models/tokenizer.js';
import { resolveTokenizer, TokenStrings, type TokenizerSpec } from './tokenizer-source.js';

export interface TokenizationPreview {
  title: string;
  tokens: string[];
  tokenIds: number[];
  values: number[];
  maxValue: number;
}

export interface PreviewOptions {
  addSpecialTokens?: boolean;
  title?: string;
}

export function tokenizationPreview(tokenizer: Tokenizer, text: string, options: PreviewOptions = {}): TokenizationPreview {
  const ids = tokenizer.encode(text, { addSpecialTokens: options.addSpecialTokens ?? false });
  const strings = new TokenStrings(tokenizer);
  return {
    title: options.title ?? `${ids.length} tokens · ${text.length} characters`,
    tokens: strings.all(ids),
    tokenIds: ids,
    values: ids.map((_, i) => (i % 2 === 0 ? 1 : 0.45)),
    maxValue: 1,
  };
}

/** The same, loading the tokenizer from a path, hub id or files first. */
export async function previewTokenization(spec: TokenizerSpec, text: string, options: PreviewOptions = {}): Promise<TokenizationPreview> {
  const { tokenizer } = await resolveTokenizer(spec);
  return tokenizationPreview(tokenizer, text, options);
}
