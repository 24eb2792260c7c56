/**
 * Gemma 3 text models (Hugging Face `Gemma3ForCausalLM`, config `model_type` 'gemma3_text', e.g.
 * gemma-3-270m/1b): Gemma 2's layout (see gemma2.ts) plus (1 + weight) RMSNorms over each query
 * and key head, five local layers per global one by default (`sliding_window_pattern`), and a
 * separate rotary base for the local layers (`rope_local_base_freq`, no scaling) while global
 * layers use `rope_theta` with `rope_scaling`. Soft-capping is off unless the config sets it.
 * The multimodal 'gemma3' checkpoints (vision tower, nested text_config) are not supported.
 */
import { MiStudioError } from '../../errors.js';
import type { Architecture } from './index.js';
import { gemmaConfig, gemmaLayerNames } from './gemma2.js';
import { buildRotaryDecoder } from './rotary-decoder.js';

export const gemma3: Architecture = {
  name: 'gemma3',
  modelTypes: ['gemma3_text'],
  learnedPositions: false,
  gatedMlp: true,
  normalizeConfig(c) {
    if (c.bool('use_bidirectional_attention', false)) {
      throw new MiStudioError('UNSUPPORTED', 'bidirectional Gemma 3 (EmbeddingGemma) is not a causal language model', { file: c.origin, field: 'use_bidirectional_attention' });
    }
    const pattern = c.int('sliding_window_pattern', 6);
    const cfg = gemmaConfig(c, 'gemma3', (l) => (l + 1) % pattern !== 0);
    return { ...cfg, rope: { ...cfg.rope!, theta: c.num('rope_theta', 1_000_000) }, localRope: { theta: c.num('rope_local_base_freq', 10_000), dim: cfg.dHead } };
  },
  build(fg) {
    buildRotaryDecoder(fg, {
      embed: 'model.embed_tokens.weight',
      finalNorm: 'model.norm',
      lmHead: 'lm_head.weight',
      normPlusOne: true,
      layer: (l) => gemmaLayerNames(l, { qkNorm: { q: `model.layers.${l}.self_attn.q_norm`, k: `model.layers.${l}.self_attn.k_norm` } }),
    });
  },
};
