/**
 * Mistral (Hugging Face `MistralForCausalLM`): Llama with sliding-window attention in every layer
 * when config.json sets `sliding_window` (null: global attention).
 */
import type { Architecture } from './index.js';
import { buildLlama, llamaLikeConfig } from './llama.js';

export const mistral: Architecture = {
  name: 'mistral',
  modelTypes: ['mistral'],
  learnedPositions: false,
  gatedMlp: true,
  normalizeConfig(c) {
    const cfg = llamaLikeConfig(c, 'mistral');
    // MistralModel masks every layer alike and ignores layer_types.
    if (c.raw.sliding_window == null) return cfg;
    return { ...cfg, attentionWindows: new Array<number>(cfg.nLayers).fill(c.int('sliding_window')) };
  },
  build: buildLlama,
};
