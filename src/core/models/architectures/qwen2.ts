/**
 * Qwen 2 / 2.5 (Hugging Face `Qwen2ForCausalLM`): Llama with biases on the q/k/v projections and,
 * with `use_sliding_window`, sliding-window attention in the layers `layer_types` marks (older
 * configs: layers from `max_window_layers` on).
 */
import type { ConfigReader, ModelConfig } from '../config.js';
import type { Architecture } from './index.js';
import { buildLlama, llamaLikeConfig } from './llama.js';

/** Qwen's sliding-window layers: `sliding_window` only counts when `use_sliding_window` is set. */
export function qwenWindows(c: ConfigReader, cfg: ModelConfig): ModelConfig {
  const useSliding = c.bool('use_sliding_window', false);
  const window = useSliding ? c.optionalNum('sliding_window') : undefined;
  const maxWindowLayers = c.raw.max_window_layers == null ? cfg.nLayers : c.int('max_window_layers');
  const windows = c.attentionWindows(cfg.nLayers, window, (l) => window !== undefined && l >= maxWindowLayers);
  return windows.some((w) => w !== null) ? { ...cfg, attentionWindows: windows } : cfg;
}

export const qwen2: Architecture = {
  name: 'qwen2',
  modelTypes: ['qwen2'],
  learnedPositions: false,
  gatedMlp: true,
  normalizeConfig: (c) => qwenWindows(c, llamaLikeConfig(c, 'qwen2')),
  build: buildLlama,
};
