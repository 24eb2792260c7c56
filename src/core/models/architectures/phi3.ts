/**
 * Phi-3 / Phi-3.5 / Phi-4-mini (Hugging Face `Phi3ForCausalLM`): Llama with one fused [q; k; v]
 * projection (qkv_proj) and one fused [gate; up] projection (gate_up_proj), partial rotary
 * (`partial_rotary_factor`: the first int(head_dim·factor) features of each head rotate), and
 * sliding-window attention in every layer when `sliding_window` is set. The "longrope"/"su" rope
 * scaling of the 128k-context variants is not supported.
 */
import type { Architecture } from './index.js';
import { llamaLikeConfig } from './llama.js';
import { buildRotaryDecoder } from './rotary-decoder.js';

export const phi3: Architecture = {
  name: 'phi3',
  modelTypes: ['phi3'],
  learnedPositions: false,
  gatedMlp: true,
  normalizeConfig(c) {
    const cfg = llamaLikeConfig(c, 'phi3');
    const factor = c.num('partial_rotary_factor', 1);
    const dim = Math.floor(cfg.dHead * factor);
    if (!(factor > 0 && factor <= 1) || dim % 2 !== 0) throw c.invalid('partial_rotary_factor', `a factor in (0, 1] giving an even number of the ${cfg.dHead} head features`, factor);
    const withRope = { ...cfg, rope: { ...cfg.rope!, dim } };
    // Phi3Model masks every layer alike when sliding_window is set.
    if (c.raw.sliding_window == null) return withRope;
    return { ...withRope, attentionWindows: new Array<number>(cfg.nLayers).fill(c.int('sliding_window')) };
  },
  build(fg) {
    buildRotaryDecoder(fg, {
      embed: 'model.embed_tokens.weight',
      finalNorm: 'model.norm',
      lmHead: 'lm_head.weight',
      layer: (l) => {
        const p = `model.layers.${l}`;
        return {
          preAttnNorm: `${p}.input_layernorm`,
          preMlpNorm: `${p}.post_attention_layernorm`,
          qkv: { fused: `${p}.self_attn.qkv_proj` },
          o: `${p}.self_attn.o_proj`,
          gateUp: { fused: `${p}.mlp.gate_up_proj` },
          down: `${p}.mlp.down_proj`,
        };
      },
    });
  },
};
