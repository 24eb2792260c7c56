import { MiStudioError } from '../../errors.js';
import type { TokenizerFiles } from '../weights.js';
import type { GgufMetadata } from './metadata.js';

/**
 * The tokenizer embedded in GGUF metadata → Hugging Face `tokenizer.json` + `tokenizer_config.json`,
 * built the way transformers converts it (integrations/ggml.py: GGUFLlamaConverter for llama files,
 * including its "llama-3" branch for byte-level BPE vocabularies such as SmolLM2's, and
 * GGUFGPTConverter for gpt2 files), so token ids equal `AutoTokenizer.from_pretrained(dir,
 * gguf_file=...)`. Two deliberate differences, both following llama.cpp and the original models:
 * `tokenizer.ggml.add_bos_token` / `add_eos_token` are honoured (transformers ignores them and always
 * adds BOS to llama files), and eos_token is the file's EOS token (transformers sets it to BOS).
 */

type Json = Record<string, unknown>;

const TOKEN_TYPE_CONTROL = 3;

interface GgufVocab {
  model: string;
  tokens: string[];
  scores?: number[];
  tokenTypes?: number[];
  merges?: string[];
  bosId?: number;
  eosId?: number;
  unkId?: number;
  padId?: number;
  addBos?: boolean;
  addEos?: boolean;
  addSpacePrefix?: boolean;
  chatTemplate?: string;
}

function readVocab(meta: GgufMetadata, tokens: string[]): GgufVocab {
  const vocab: GgufVocab = {
    model: meta.string('tokenizer.ggml.model', 'llama'),
    tokens,
    scores: meta.numbers('tokenizer.ggml.scores'),
    tokenTypes: meta.numbers('tokenizer.ggml.token_type'),
    merges: meta.strings('tokenizer.ggml.merges'),
    bosId: meta.number('tokenizer.ggml.bos_token_id', undefined),
    eosId: meta.number('tokenizer.ggml.eos_token_id', undefined),
    unkId: meta.number('tokenizer.ggml.unknown_token_id', undefined),
    padId: meta.number('tokenizer.ggml.padding_token_id', undefined),
    addBos: meta.bool('tokenizer.ggml.add_bos_token'),
    addEos: meta.bool('tokenizer.ggml.add_eos_token'),
    addSpacePrefix: meta.bool('tokenizer.ggml.add_space_prefix'),
    chatTemplate: meta.string('tokenizer.chat_template', undefined),
  };
  for (const [key, id] of [['bos', vocab.bosId], ['eos', vocab.eosId], ['unknown', vocab.unkId], ['padding', vocab.padId]] as const) {
    if (id !== undefined && (id < 0 || id >= tokens.length)) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF tokenizer.ggml.${key}_token_id is ${id}, outside the vocabulary of ${tokens.length} tokens`, {
        file: meta.file.path,
        field: `tokenizer.ggml.${key}_token_id`,
      });
    }
  }
  for (const [key, arr] of [['scores', vocab.scores], ['token_type', vocab.tokenTypes]] as const) {
    if (arr && arr.length !== tokens.length) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF tokenizer.ggml.${key} has ${arr.length} entries for ${tokens.length} tokens`, {
        file: meta.file.path,
        field: `tokenizer.ggml.${key}`,
      });
    }
  }
  return vocab;
}

/** "a b" → ["a", "b"], splitting at the first space after the first character (as llama.cpp does). */
function splitMerges(merges: readonly string[], file: string): [string, string][] {
  return merges.map((m) => {
    const at = m.indexOf(' ', 1);
    if (at < 0) throw new MiStudioError('CORRUPT_FILE', `GGUF tokenizer merge '${m}' is not two tokens separated by a space`, { file, field: 'tokenizer.ggml.merges' });
    return [m.slice(0, at), m.slice(at + 1)];
  });
}

/**
 * SentencePiece GGUF files carry scores, not merges: derive merges exactly as transformers'
 * GGUFTokenizerSkeleton does — for each token (first-occurrence order), every split into two
 * vocabulary pieces, ordered by the pieces' scores, then all merges by the merged token's score
 * (both sorts stable and descending). Splits are by code point, as Python slices strings.
 */
function mergesFromScores(tokens: readonly string[], scores: readonly number[]): [string, string][] {
  const score = new Map<string, number>();
  tokens.forEach((t, i) => score.set(t, scores[i])); // insertion order = first occurrence; value = last
  const merges: { l: string; r: string; s: number }[] = [];
  for (const [token, pieceScore] of score) {
    const chars = Array.from(token);
    const local: { l: string; r: string; s: number }[] = [];
    for (let i = 1; i < chars.length; i++) {
      const l = chars.slice(0, i).join('');
      const r = chars.slice(i).join('');
      if (score.has(l) && score.has(r)) local.push({ l, r, s: pieceScore });
    }
    local.sort((a, b) => score.get(b.l)! - score.get(a.l)! || score.get(b.r)! - score.get(a.r)!);
    merges.push(...local);
  }
  merges.sort((a, b) => b.s - a.s);
  return merges.map(({ l, r }) => [l, r]);
}

function addedToken(id: number, content: string): Json {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** Special tokens: CONTROL-typed tokens (or, without types, unk/bos/eos), plus bos/eos/unk themselves. */
function specialTokens(v: GgufVocab, vocabIds: Map<string, number>): Json[] {
  const contents: string[] = [];
  if (v.tokenTypes) v.tokenTypes.forEach((t, i) => t === TOKEN_TYPE_CONTROL && contents.push(v.tokens[i]));
  for (const id of [v.unkId, v.bosId, v.eosId]) if (id !== undefined) contents.push(v.tokens[id]);
  const ids = new Map<number, string>();
  for (const c of contents) ids.set(vocabIds.get(c)!, c);
  return [...ids].sort((a, b) => a[0] - b[0]).map(([id, c]) => addedToken(id, c));
}

/** LlamaTokenizerFast.update_post_processor / GPT2 with add_bos_token. */
function templateProcessor(v: GgufVocab, addBos: boolean, addEos: boolean): Json {
  const bos = v.bosId === undefined ? undefined : v.tokens[v.bosId];
  const eos = v.eosId === undefined ? undefined : v.tokens[v.eosId];
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const useBos = addBos && bos !== undefined;
  const useEos = addEos && eos !== undefined;
  const single = [...(useBos ? [special(bos!, 0)] : []), seq('A', 0), ...(useEos ? [special(eos!, 0)] : [])];
  const pair = [...single, ...(useBos ? [special(bos!, 1)] : []), seq('B', 1), ...(useEos ? [special(eos!, 1)] : [])];
  const specialTokensMap: Json = {};
  if (useBos) specialTokensMap[bos!] = { id: bos, ids: [v.bosId], tokens: [bos] };
  if (useEos) specialTokensMap[eos!] = { id: eos, ids: [v.eosId], tokens: [eos] };
  return { type: 'TemplateProcessing', single, pair, special_tokens: specialTokensMap };
}

function vocabObject(tokens: readonly string[]): { vocab: Json; ids: Map<string, number> } {
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => ids.set(t, i)); // duplicates: the last id wins, as in Python's dict
  return { vocab: Object.fromEntries(ids), ids };
}

const BYTE_LEVEL_DECODER = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };

/** GGUFLlamaConverter: SentencePiece-style BPE with byte fallback, or byte-level BPE ("llama-3" branch). */
function llamaTokenizer(v: GgufVocab, file: string): TokenizerFiles {
  const byteLevel = v.model !== 'llama';
  let merges: [string, string][];
  if (v.merges) merges = splitMerges(v.merges, file);
  else if (v.scores) merges = mergesFromScores(v.tokens, v.scores);
  else {
    throw new MiStudioError('CORRUPT_FILE', 'GGUF tokenizer has neither tokenizer.ggml.merges nor tokenizer.ggml.scores', {
      file,
      field: 'tokenizer.ggml.merges',
    });
  }
  const { vocab, ids } = vocabObject(v.tokens);
  const addPrefixSpace = v.addSpacePrefix ?? true;
  const addBos = v.addBos ?? true; // LlamaTokenizerFast's default when the file does not say
  const addEos = v.addEos ?? false;
  const decoders: Json[] = [{ type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Replace', pattern: { String: '▁' }, content: ' ' }];
  if (byteLevel) decoders.push(BYTE_LEVEL_DECODER);
  if (addPrefixSpace) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  const tokenizerJson: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens(v, ids),
    normalizer: byteLevel
      ? { type: 'Sequence', normalizers: [] }
      : {
          type: 'Sequence',
          normalizers: [
            ...(addPrefixSpace ? [{ type: 'Prepend', prepend: '▁' }] : []),
            { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
          ],
        },
    pre_tokenizer: byteLevel ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true } : null,
    post_processor: templateProcessor(v, addBos, addEos),
    decoder: { type: 'Sequence', decoders },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: v.unkId === undefined ? null : v.tokens[v.unkId],
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  return {
    tokenizerJson,
    tokenizerConfig: tokenizerConfig(v, 'LlamaTokenizerFast', addBos, addEos, {
      clean_up_tokenization_spaces: byteLevel,
      legacy: !byteLevel,
      padding_side: 'left',
    }),
  };
}

/** GGUFGPTConverter: byte-level BPE without byte fallback. */
function gpt2Tokenizer(v: GgufVocab, file: string): TokenizerFiles {
  if (!v.merges) throw new MiStudioError('CORRUPT_FILE', 'GGUF gpt2 tokenizer has no tokenizer.ggml.merges', { file, field: 'tokenizer.ggml.merges' });
  const { vocab, ids } = vocabObject(v.tokens);
  const addBos = v.addBos ?? false;
  const addEos = v.addEos ?? false;
  const tokenizerJson: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens(v, ids),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: v.addSpacePrefix ?? false, trim_offsets: true, use_regex: true },
    post_processor: addBos || addEos ? templateProcessor(v, addBos, addEos) : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: BYTE_LEVEL_DECODER,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: splitMerges(v.merges, file),
    },
  };
  return { tokenizerJson, tokenizerConfig: tokenizerConfig(v, 'GPT2TokenizerFast', addBos, addEos, { clean_up_tokenization_spaces: false }) };
}

function tokenizerConfig(v: GgufVocab, tokenizerClass: string, addBos: boolean, addEos: boolean, extra: Json): Json {
  const token = (id: number | undefined) => (id === undefined ? null : v.tokens[id]);
  return {
    tokenizer_class: tokenizerClass,
    bos_token: token(v.bosId),
    eos_token: token(v.eosId),
    unk_token: token(v.unkId),
    pad_token: token(v.padId),
    add_bos_token: addBos,
    add_eos_token: addEos,
    ...extra,
    ...(v.chatTemplate === undefined ? {} : { chat_template: v.chatTemplate }),
  };
}

/** The embedded tokenizer of a llama or gpt2 GGUF file, or undefined when the file carries none. */
export function convertGgufTokenizer(meta: GgufMetadata, architecture: string): TokenizerFiles | undefined {
  const tokens = meta.strings('tokenizer.ggml.tokens');
  if (!tokens) return undefined;
  const v = readVocab(meta, tokens);
  const file = meta.file.path;
  if (v.model !== 'llama' && v.model !== 'gpt2') {
    throw new MiStudioError('UNSUPPORTED', `GGUF tokenizer model '${v.model}' is not supported (supported: llama, gpt2)`, {
      file,
      field: 'tokenizer.ggml.model',
      hint: 'Load the Hugging Face version of this model, whose tokenizer.json miStudio reads directly',
    });
  }
  if (architecture === 'llama') return llamaTokenizer(v, file);
  if (architecture === 'gpt2') return gpt2Tokenizer(v, file);
  throw new MiStudioError('UNSUPPORTED', `no GGUF tokenizer conversion for architecture '${architecture}'`, { file, field: 'general.architecture' });
}
