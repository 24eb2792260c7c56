/**
 * Llama (Hugging Face `LlamaForCausalLM`; also SmolLM/SmolLM2, TinyLlama, Llama 2 and 3):
 * RMSNorm, rotary positions (rope_theta, linear/llama3 rope_scaling), grouped-query attention,
 * gated SiLU MLP, optionally tied embeddings, optional attention/MLP biases.
 *
 * Hooks: attn.hook_q/k/v are the projections before the rotation (TransformerLens's hook_rot_q/k
 * come after it); k/v have the key/value head count [B, T, K, dh]. For the gated MLP, mlp.hook_pre
 * is the gate projection before the activation and mlp.hook_post is act(gate) * up, the input of
 * down_proj, exactly as TransformerLens's GatedMLP.
 *
 * q, k and v share one MatMul (weights concatenated once per model), as do gate and up.
 */
import type { Value } from '../../engine/graph-builder.js';
import type { ConfigReader, ModelConfig } from '../config.js';
import type { ForwardGraph } from '../forward-graph.js';
import { applyRotary, readRopeScaling, rotaryTables } from '../rotary.js';
import { concatTransposed, concatVectors } from '../weight-store.js';
import type { Architecture } from './index.js';

function normalizeConfig(c: ConfigReader): ModelConfig {
  const dModel = c.int('hidden_size');
  const nHeads = c.int('num_attention_heads');
  const dHead = c.raw.head_dim == null ? dModel / nHeads : c.int('head_dim');
  if (!Number.isInteger(dHead)) throw c.invalid('num_attention_heads', `a divisor of hidden_size ${dModel}`, nHeads);
  return {
    architecture: 'llama',
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

function build(fg: ForwardGraph): void {
  const { g, cfg, store } = fg;
  const { dModel: D, dMlp: M, nHeads: H, nKvHeads: K, dHead: dh, vocabSize: V } = cfg;
  const w = (name: string, dims: number[]) => fg.weight(name, () => store.load(name, dims));
  /** Linear weights [out, in] → one [in, Σ out] MatMul weight (+ bias when the checkpoint has them). */
  const fused = (key: string, names: string[], dims: number[][]): { w: Value; b?: Value } => {
    const weight = fg.weight(key, () => concatTransposed(names.map((n, i) => store.load(`${n}.weight`, dims[i]))));
    const hasBias = store.has(`${names[0]}.bias`);
    const bias = hasBias ? fg.weight(`${key}.bias`, () => concatVectors(names.map((n, i) => store.load(`${n}.bias`, [dims[i][0]])))) : undefined;
    return { w: weight, b: bias };
  };
  const rms = (name: string) => ({ w: w(name, [D]) });

  const embedTokens = w('model.embed_tokens.weight', [V, D]);
  const embed = fg.hook('hook_embed', g.op('Gather', [embedTokens, fg.inputIds], { axis: 0 }), 3);
  let resid = fg.hook('blocks.0.hook_resid_pre', embed, 3);
  let normed: Value | undefined = fg.layers > 0 ? fg.norm(resid, rms('model.layers.0.input_layernorm.weight').w) : undefined;
  const rope = fg.layers > 0 ? rotaryTables(fg) : undefined;
  const scale = 1 / Math.sqrt(dh);

  for (let l = 0; l < fg.layers; l++) {
    const p = `model.layers.${l}`;
    const hp = `blocks.${l}`;
    const qkvW = fused(`${p}.self_attn.qkv`, [`${p}.self_attn.q_proj`, `${p}.self_attn.k_proj`, `${p}.self_attn.v_proj`], [[H * dh, D], [K * dh, D], [K * dh, D]]);
    const qkv = fg.linear(normed!, qkvW.w, qkvW.b);
    const [q, k, v] = g.opMulti('Split', [qkv, g.constInt64([H * dh, K * dh, K * dh])], 3, { axis: -1 });
    const qh = applyRotary(fg, fg.hook(`${hp}.attn.hook_q`, fg.splitHeads(q, H), 4), H, rope!);
    const kh = applyRotary(fg, fg.hook(`${hp}.attn.hook_k`, fg.splitHeads(k, K), 4), K, rope!);
    const vh = fg.hook(`${hp}.attn.hook_v`, fg.splitHeads(v, K), 4);
    const z = fg.attention(l, qh, kh, vh, scale);
    const oBias = store.has(`${p}.self_attn.o_proj.bias`) ? w(`${p}.self_attn.o_proj.bias`, [D]) : undefined;
    const oW = fg.weight(`${p}.self_attn.o_proj.weight^T`, () => concatTransposed([store.load(`${p}.self_attn.o_proj.weight`, [D, H * dh])]));
    const attnOut = fg.hook(`${hp}.hook_attn_out`, fg.linear(fg.mergeHeads(z), oW, oBias), 3);
    const mid = fg.addNorm(resid, attnOut, [`${hp}.hook_resid_mid`], rms(`${p}.post_attention_layernorm.weight`));
    resid = mid.resid;

    const gateUp = fused(`${p}.mlp.gate_up`, [`${p}.mlp.gate_proj`, `${p}.mlp.up_proj`], [[M, D], [M, D]]);
    const [gate, up] = g.opMulti('Split', [fg.linear(mid.normed!, gateUp.w, gateUp.b), g.constInt64([M, M])], 2, { axis: -1 });
    const pre = fg.hook(`${hp}.mlp.hook_pre`, gate, 3);
    const post = fg.hook(`${hp}.mlp.hook_post`, g.op('Mul', [fg.activation(pre), up]), 3);
    const downBias = store.has(`${p}.mlp.down_proj.bias`) ? w(`${p}.mlp.down_proj.bias`, [D]) : undefined;
    const downW = fg.weight(`${p}.mlp.down_proj.weight^T`, () => concatTransposed([store.load(`${p}.mlp.down_proj.weight`, [D, M])]));
    const mlpOut = fg.hook(`${hp}.hook_mlp_out`, fg.linear(post, downW, downBias), 3);
    const last = l === fg.layers - 1;
    // The next block's resid_pre is also computed when the graph stops before that block.
    const hooks = [`${hp}.hook_resid_post`, ...(l + 1 < cfg.nLayers ? [`blocks.${l + 1}.hook_resid_pre`] : [])];
    const after = fg.addNorm(resid, mlpOut, hooks, last ? undefined : rms(`model.layers.${l + 1}.input_layernorm.weight`));
    resid = after.resid;
    normed = after.normed;
  }
  if (fg.runsHead) {
    // Tied checkpoints (SmolLM2, Llama 3.2) omit lm_head.weight.
    const unembedding = store.has('lm_head.weight') ? w('lm_head.weight', [V, D]) : embedTokens;
    fg.finalNormAndUnembed(resid, w('model.norm.weight', [D]), undefined, unembedding);
  }
}

export const llama: Architecture = { modelTypes: ['llama'], learnedPositions: false, normalizeConfig, build };
