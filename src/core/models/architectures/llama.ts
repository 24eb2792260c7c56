/**
 * Llama (Hugging Face `LlamaForCausalLM`; also SmolLM/SmolLM2, TinyLlama, Llama 2 and 3):
 * RMSNorm, rotary positions (rope_theta, linear/llama3 rope_scaling), grouped-query attention,
 * gated SiLU MLP, optionally tied embeddings, optional attention/MLP biases.
 * The forward pass and hook semantics are those of rotary-decoder.ts.
 */
import type { ConfigReader, ModelConfig } from '../config.js';
import type { ForwardGraph } from '../forward-graph.js';
import { readRopeScaling } from '../rotary.js';
import type { Architecture } from './index.js';
import { buildRotaryDecoder, llamaLayerNames } from './rotary-decoder.js';

/** The config fields Llama-like models share (also read by mistral, qwen2, qwen3). */
export function llamaLikeConfig(c: ConfigReader, architecture: string): ModelConfig {
  const dModel = c.int('hidden_size');
  const nHeads = c.int('num_attention_heads');
  const dHead = c.raw.head_dim == null ? dModel / nHeads : c.int('head_dim');
  if (!Number.isInteger(dHead)) throw c.invalid('num_attention_heads', `a divisor of hidden_size ${dModel}`, nHeads);
  return {
    architecture,
    nLayers: c.int('num_hidden_layers'),
    dModel,
    nHeads,
    nKvHeads: c.raw.num_key_value_heads == null ? nHeads : c.int('num_key_value_heads'),
    dHead,
    dMlp: c.int('intermediate_size'),
    vocabSize: c.int('vocab_size'),
    maxPositions: c.int('max_position_embeddings', 2048),
    normEps: c.num('rms_norm_eps', 1e-6),
    activation: c.str('hidden_act', 'silu'),
    tiedEmbeddings: c.bool('tie_word_embeddings', false),
    rope: { theta: c.num('rope_theta', 10000), dim: dHead, scaling: readRopeScaling(c) },
    bosTokenId: c.tokenId('bos_token_id'),
    eosTokenId: c.tokenId('eos_token_id'),
  };
}

export function buildLlama(fg: ForwardGraph): void {
  buildRotaryDecoder(fg, { embed: 'model.embed_tokens.weight', finalNorm: 'model.norm', lmHead: 'lm_head.weight', layer: (l) => llamaLayerNames(l) });
}

export const llama: Architecture = {
  name: 'llama',
  modelTypes: ['llama'],
  learnedPositions: false,
  gatedMlp: true,
  normalizeConfig: (c) => llamaLikeConfig(c, 'llama'),
  build: buildLlama,
};
