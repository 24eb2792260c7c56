/**
 * The normalized model config every architecture produces from its Hugging Face `config.json`,
 * with TransformerLens-style field names, plus typed readers for the raw config.
 */
import { MiStudioError } from '../errors.js';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface RopeConfig {
  theta: number;
  /** Rotated features per head (even; dHead unless the rotary is partial). */
  dim: number;
  scaling?: RopeScaling;
}

export interface ModelConfig {
  /** Architecture family ('gpt2', 'llama', 'gpt_neox', 'gemma3', ...): config.json `model_type`, except gemma3 for `gemma3_text`. */
  architecture: string;
  nLayers: number;
  dModel: number;
  nHeads: number;
  /** Key/value heads (< nHeads for grouped-query attention). */
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  vocabSize: number;
  /** Longest context the position embedding supports. */
  maxPositions: number;
  normEps: number;
  /** MLP activation ('gelu_new', 'silu', ...). */
  activation: string;
  /** Whether the unembedding reuses the token embedding matrix. */
  tiedEmbeddings: boolean;
  /** GPT-2's `scale_attn_by_inverse_layer_idx`: attention scores of block L are divided by L + 1. */
  attnScaleByLayer?: boolean;
  /** Rotary position embedding (llama family); absent for learned positions. `dim` < dHead rotates only the first `dim` features of each head (partial rotary: GPT-NeoX rotary_pct, Phi-3 partial_rotary_factor). */
  rope?: RopeConfig;
  /** Rotary of the sliding-window layers where it differs from `rope` (Gemma 3's rope_local_base_freq). */
  localRope?: RopeConfig;
  /**
   * Per-layer sliding attention window: a query at sequence index i sees keys at indices > i - window
   * (transformers' sliding_window_overlay; indices count padding, as transformers' masks do); null
   * for global attention. Absent: every layer is global.
   */
  attentionWindows?: (number | null)[];
  /** Attention score scale; default 1/sqrt(dHead) (GPT-Neo: 1, Gemma: query_pre_attn_scalar^-0.5). */
  attnScale?: number;
  /** Gemma 2 soft-capping: scores become cap·tanh(scores/cap) before the mask. */
  attnSoftcap?: number;
  /** Gemma 2 soft-capping of the logits: cap·tanh(logits/cap). */
  finalSoftcap?: number;
  /** Multiplier of the token embedding (Gemma: sqrt(hidden_size), rounded to float32). */
  embedScale?: number;
  /**
   * Attention and MLP both read resid_pre and add to it (GPT-NeoX use_parallel_residual,
   * TransformerLens parallel_attn_mlp): there is no hook_resid_mid.
   */
  parallelAttnMlp?: boolean;
  /** False when the model has no final norm (OPT with post-LayerNorm blocks): no ln_final.hook_normalized. */
  finalNorm?: boolean;
  /** Norms after each residual add instead of before each sublayer (OPT's do_layer_norm_before false). */
  postNorm?: boolean;
  /** Token embedding width when it differs from dModel (OPT's word_embed_proj_dim, with project_in/out). */
  dEmbedding?: number;
  bosTokenId?: number;
  eosTokenId?: number;
}

/** Typed access to config.json fields with errors naming the file and field. */
export class ConfigReader {
  constructor(readonly raw: Record<string, unknown>, readonly origin: string) {}

  int(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw this.invalid(field, 'a positive integer', v);
    return v;
  }

  num(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.invalid(field, 'a number', v);
    return v;
  }

  str(field: string, fallback?: string): string {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'string') throw this.invalid(field, 'a string', v);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'boolean') throw this.invalid(field, 'true or false', v);
    return v;
  }

  /** A number field that may be null or absent (undefined then). */
  optionalNum(field: string): number | undefined {
    return this.raw[field] == null ? undefined : this.num(field);
  }

  /**
   * transformers' `layer_types` ('full_attention' | 'sliding_attention' per layer) as attention
   * windows, or `fallback(layer)` for configs saved before the field existed. Sliding layers need
   * a positive `sliding_window`.
   */
  attentionWindows(nLayers: number, window: number | undefined, fallback: (layer: number) => boolean): (number | null)[] {
    const types = this.raw.layer_types;
    let sliding: boolean[];
    if (types == null) {
      sliding = Array.from({ length: nLayers }, (_, l) => fallback(l));
    } else {
      if (!Array.isArray(types) || types.length !== nLayers || types.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
        throw this.invalid('layer_types', `${nLayers} entries of 'full_attention' or 'sliding_attention'`, types);
      }
      sliding = types.map((t) => t === 'sliding_attention');
    }
    if (sliding.some(Boolean) && !(window !== undefined && Number.isInteger(window) && window > 0)) throw this.invalid('sliding_window', 'a positive integer (the config has sliding-attention layers)', window);
    return sliding.map((s) => (s ? window! : null));
  }

  /** A token id field, which may be a list (first entry wins) or absent. */
  tokenId(field: string): number | undefined {
    const v = this.raw[field];
    const id = Array.isArray(v) ? v[0] : v;
    return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : undefined;
  }

  invalid(field: string, expected: string, got: unknown): MiStudioError {
    return new MiStudioError('INVALID_CONFIG', `expected ${expected}, got ${JSON.stringify(got)}`, { file: this.origin, field });
  }
}
