/**
 * The normalized model config every architecture produces from its Hugging Face `config.json`,
 * with TransformerLens-style field names, plus typed readers for the raw config.
 */
import { MiStudioError } from '../errors.js';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface ModelConfig {
  /** Architecture name as in config.json `model_type` ('gpt2', 'llama'). */
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
  /** Rotary position embedding (llama family); absent for learned positions. */
  rope?: { theta: number; dim: number; scaling?: RopeScaling };
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
