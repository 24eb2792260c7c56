/**
 * Fast encoding of long texts for byte-level BPE tokenizers (GPT-2, Llama 3, Qwen, SmolLM, ...).
 * Their encoding decomposes over pre-tokens: split the text with the tokenizer's own pre-tokenizer
 * regexes, and the ids of the text are the ids of each piece, concatenated. Pieces repeat a lot in
 * natural text (words), so each distinct piece is encoded once by the real tokenizer and cached;
 * a document costs one regex pass and a few map lookups.
 *
 * Exactness is not assumed: only pre-tokenizers known to decompose are accepted (ByteLevel regex,
 * Split, Digits and sequences of them, no normalizer but NFC), documents containing an added token or
 * not in NFC go through the real tokenizer, and the first documents (then every 1000th) are encoded
 * both ways; one difference turns the cache off for good.
 */
import * as hfTokenizers from '@huggingface/tokenizers';
import type { Tokenizer } from '../models/tokenizer.js';
import type { TokenizerFiles } from '../models/weights.js';

/** The GPT-2 pre-tokenizer regex, exactly as ByteLevel (use_regex) applies it in transformers.js. */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
/** Pieces longer than this are encoded directly, not cached (they rarely repeat). */
const MAX_CACHED_PIECE_CHARS = 48;
/** The cache is cleared when it grows past this many pieces (bounds memory on huge vocabularies of rare words). */
const MAX_CACHED_PIECES = 400_000;
const VERIFY_FIRST_DOCUMENTS = 32;
const VERIFY_EVERY = 1000;

type Splitter = (text: string) => string[];

/**
 * The pre-tokenizer classes transformers.js uses (@huggingface/tokenizers). Typed here because the
 * package's .d.ts re-exports them with extensionless paths that NodeNext resolution does not follow.
 */
interface RawPreTokenizer {
  pattern?: RegExp | null;
  pre_tokenize_text(text: string): string[];
}
type PreTokenizerClass = new (config: unknown) => RawPreTokenizer;
const { SplitPreTokenizer, DigitsPreTokenizer } = hfTokenizers as unknown as { SplitPreTokenizer: PreTokenizerClass; DigitsPreTokenizer: PreTokenizerClass };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A raw-text splitter equivalent to the pre-tokenizer config, or undefined when not decomposable. */
function splitterFor(config: unknown): Splitter | undefined {
  if (config === null || config === undefined) return (t) => [t];
  const c = config as Record<string, unknown>;
  switch (c.type) {
    case 'ByteLevel':
      if (c.add_prefix_space) return undefined;
      return c.use_regex === false ? (t) => [t] : (t) => t.match(GPT2_PATTERN) ?? [];
    case 'Split': {
      const behavior = String(c.behavior ?? '').toLowerCase();
      if (c.invert !== false && c.invert !== undefined) return undefined;
      if (behavior !== 'isolated' && behavior !== 'removed') return undefined;
      const split = new SplitPreTokenizer(c);
      if (!split.pattern) return undefined;
      return (t) => split.pre_tokenize_text(t);
    }
    case 'Digits': {
      const digits = new DigitsPreTokenizer(c);
      return (t) => digits.pre_tokenize_text(t);
    }
    case 'Sequence': {
      const parts = (c.pretokenizers as unknown[] | undefined)?.map(splitterFor);
      if (!parts || parts.some((p) => p === undefined)) return undefined;
      return (t) => parts.reduce<string[]>((pieces, p) => pieces.flatMap((x) => p!(x)), [t]);
    }
    default:
      return undefined;
  }
}

function normalizerOk(config: unknown): 'none' | 'nfc' | undefined {
  if (config === null || config === undefined) return 'none';
  const c = config as Record<string, unknown>;
  if (c.type === 'Sequence' && Array.isArray(c.normalizers)) {
    if (c.normalizers.length === 0) return 'none';
    if (c.normalizers.length === 1) return normalizerOk(c.normalizers[0]);
    return undefined;
  }
  return c.type === 'NFC' ? 'nfc' : undefined;
}

export class PieceCacheEncoder {
  private readonly cache = new Map<string, number[]>();
  private documents = 0;
  /** False once a verification found a difference: everything goes to the real tokenizer. */
  enabled = true;
  /** Documents encoded through the cache / verified both ways / sent to the real tokenizer. */
  readonly counts = { cached: 0, verified: 0, direct: 0 };

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly split: Splitter,
    private readonly nfc: boolean,
    private readonly addedTokens: RegExp | undefined,
    private readonly special: { prefix: number[]; suffix: number[] } | undefined,
  ) {}

  /** An encoder for `tokenizer`, or undefined when its pipeline is not known to decompose over pre-tokens. */
  static create(tokenizer: Tokenizer, files: TokenizerFiles): PieceCacheEncoder | undefined {
    const json = files.tokenizerJson as Record<string, unknown>;
    const model = json.model as Record<string, unknown> | undefined;
    if (model?.type !== 'BPE') return undefined;
    const norm = normalizerOk(json.normalizer);
    const split = splitterFor(json.pre_tokenizer);
    if (!norm || !split) return undefined;
    const added = ((json.added_tokens as Array<{ content: string }> | undefined) ?? []).map((t) => t.content).filter((s) => s.length > 0);
    const addedTokens = added.length ? new RegExp(added.sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')) : undefined;
    // What the post-processor wraps around a text, found by probing: encode(text) = prefix + pieces + suffix.
    const probe = 'probe text';
    const plain = tokenizer.encode(probe, { addSpecialTokens: false });
    const full = tokenizer.encode(probe, { addSpecialTokens: true });
    const at = full.findIndex((_, i) => plain.every((id, k) => full[i + k] === id));
    const special = at < 0 ? undefined : { prefix: full.slice(0, at), suffix: full.slice(at + plain.length) };
    return new PieceCacheEncoder(tokenizer, split, norm === 'nfc', addedTokens, special);
  }

  private piece(p: string, out: number[]): void {
    let ids = this.cache.get(p);
    if (ids === undefined) {
      ids = this.tokenizer.encode(p, { addSpecialTokens: false });
      if (p.length <= MAX_CACHED_PIECE_CHARS) {
        if (this.cache.size >= MAX_CACHED_PIECES) this.cache.clear();
        this.cache.set(p, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }

  private viaCache(text: string, addSpecialTokens: boolean): number[] {
    const out: number[] = addSpecialTokens ? [...this.special!.prefix] : [];
    for (const p of this.split(text)) this.piece(p, out);
    if (addSpecialTokens) out.push(...this.special!.suffix);
    return out;
  }

  encode(text: string, addSpecialTokens: boolean): number[] {
    const direct = () => {
      this.counts.direct++;
      return this.tokenizer.encode(text, { addSpecialTokens });
    };
    if (!this.enabled || (addSpecialTokens && !this.special) || this.addedTokens?.test(text) || (this.nfc && text !== text.normalize('NFC'))) return direct();
    const n = this.documents++;
    if (n < VERIFY_FIRST_DOCUMENTS || n % VERIFY_EVERY === 0) {
      const reference = this.tokenizer.encode(text, { addSpecialTokens });
      const fast = this.viaCache(text, addSpecialTokens);
      this.counts.verified++;
      if (reference.length !== fast.length || reference.some((id, i) => id !== fast[i])) {
        this.enabled = false;
        this.cache.clear();
      }
      return reference;
    }
    this.counts.cached++;
    return this.viaCache(text, addSpecialTokens);
  }
}
