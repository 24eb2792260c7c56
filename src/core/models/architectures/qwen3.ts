/**
 * Qwen 3 (Hugging Face `Qwen3ForCausalLM`): Llama with an RMSNorm over each query and key head
 * (q_norm/k_norm, after the projection and before the rotation; attn.hook_q/k are taken before
 * it, as in TransformerLens), an explicit head_dim, and Qwen's optional sliding-window layers.
 */
import type { Architecture } from './index.js';
import { llamaLikeConfig } from './llama.js';
import { qwenWindows } from './qwen2.js';
import { buildRotaryDecoder, llamaLayerNames } from './rotary-decoder.js';

export const qwen3: Architecture = {
  name: 'qwen3',
  modelTypes: ['qwen3'],
  learnedPositions: false,
  gatedMlp: true,
  normalizeConfig: (c) => qwenWindows(c, llamaLikeConfig(c, 'qwen3')),
  build(fg) {
    buildRotaryDecoder(fg, {
      embed: 'model.embed_tokens.weight',
      finalNorm: 'model.norm',
      lmHead: 'lm_head.weight',
      layer: (l) => llamaLayerNames(l, { qkNorm: { q: `model.layers.${l}.self_attn.q_norm`, k: `model.layers.${l}.self_attn.k_norm` } }),
    });
  },
};
