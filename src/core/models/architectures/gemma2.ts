/**
 * Gemma 2 (Hugging Face `Gemma2ForCausalLM`): RMSNorm scaling by (1 + weight), token embedding
 * scaled by sqrt(hidden_size), sandwich norms (post_attention_layernorm on the attention output,
 * pre/post_feedforward_layernorm around the MLP), local (sliding-window) and global layers
 * alternating as `layer_types` says, attention scaled by query_pre_attn_scalar^-0.5, soft-capped
 * attention scores and logits, gated GELU (tanh) MLP, tied embeddings.
 */
import type { ConfigReader, ModelConfig } from '../config.js';
import { readRopeScaling } from '../rotary.js';
import type { Architecture } from './index.js';
import { buildRotaryDecoder, llamaLayerNames, type DecoderLayerNames } from './rotary-decoder.js';

/** The config fields Gemma 2 and 3 share; `defaultSliding(l)` for configs without layer_types. */
export function gemmaConfig(c: ConfigReader, architecture: string, defaultSliding: (layer: number) => boolean): ModelConfig {
  const dModel = c.int('hidden_size');
  const nHeads = c.int('num_attention_heads');
  const dHead = c.int('head_dim', 256);
  const nLayers = c.int('num_hidden_layers');
  const attnSoftcap = c.optionalNum('attn_logit_softcapping');
  const finalSoftcap = c.optionalNum('final_logit_softcapping');
  return {
    architecture,
    nLayers,
    dModel,
    nHeads,
    nKvHeads: c.raw.num_key_value_heads == null ? nHeads : c.int('num_key_value_heads'),
    dHead,
    dMlp: c.int('intermediate_size'),
    vocabSize: c.int('vocab_size'),
    maxPositions: c.int('max_position_embeddings', 8192),
    normEps: c.num('rms_norm_eps', 1e-6),
    // Gemma's config names the MLP activation hidden_activation (hidden_act is a legacy alias).
    activation: c.str('hidden_activation', typeof c.raw.hidden_act === 'string' ? c.raw.hidden_act : 'gelu_pytorch_tanh'),
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    rope: { theta: c.num('rope_theta', 10000), dim: dHead, scaling: readRopeScaling(c) },
    attentionWindows: c.attentionWindows(nLayers, c.optionalNum('sliding_window'), defaultSliding),
    attnScale: c.num('query_pre_attn_scalar', dHead) ** -0.5,
    ...(attnSoftcap !== undefined ? { attnSoftcap } : {}),
    ...(finalSoftcap !== undefined ? { finalSoftcap } : {}),
    // transformers multiplies by sqrt(hidden_size) as a float32 tensor
    embedScale: Math.fround(Math.sqrt(dModel)),
    bosTokenId: c.tokenId('bos_token_id'),
    eosTokenId: c.tokenId('eos_token_id'),
  };
}

/** Gemma's tensor names: the sandwich norms around attention and MLP. */
export function gemmaLayerNames(l: number, extra: Partial<DecoderLayerNames> = {}): DecoderLayerNames {
  const p = `model.layers.${l}`;
  return llamaLayerNames(l, {
    postAttnNorm: `${p}.post_attention_layernorm`,
    preMlpNorm: `${p}.pre_feedforward_layernorm`,
    postMlpNorm: `${p}.post_feedforward_layernorm`,
    ...extra,
  });
}

export const gemma2: Architecture = {
  name: 'gemma2',
  modelTypes: ['gemma2'],
  learnedPositions: false,
  gatedMlp: true,
  // transformers' default: even layers local, odd layers global
  normalizeConfig: (c) => gemmaConfig(c, 'gemma2', (l) => (l + 1) % 2 !== 0),
  build(fg) {
    buildRotaryDecoder(fg, { embed: 'model.embed_tokens.weight', finalNorm: 'model.norm', lmHead: 'lm_head.weight', normPlusOne: true, layer: (l) => gemmaLayerNames(l) });
  },
};
