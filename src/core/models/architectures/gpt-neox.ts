/**
 * GPT-NeoX / Pythia (Hugging Face `GPTNeoXForCausalLM`): LayerNorm blocks, one query_key_value
 * projection whose rows interleave the heads ([h][q|k|v][dh]; regrouped here to [q; k; v]),
 * partial rotary (`rotary_pct` of each head's features, base `rotary_emb_base`), GELU MLP, untied
 * unembedding (embed_out). With `use_parallel_residual` (Pythia), attention and MLP both read
 * resid_pre and resid_post = resid_pre + attn_out + mlp_out: as in TransformerLens's
 * parallel_attn_mlp there is no hook_resid_mid.
 */
import type { Value } from '../../engine/graph-builder.js';
import type { ConfigReader, ModelConfig } from '../config.js';
import type { ForwardGraph, LinearSource } from '../forward-graph.js';
import { applyRotary, readRopeScaling, rotaryTables } from '../rotary.js';
import type { PreparedWeight } from '../weight-store.js';
import type { Architecture } from './index.js';

function normalizeConfig(c: ConfigReader): ModelConfig {
  const dModel = c.int('hidden_size');
  const nHeads = c.int('num_attention_heads');
  if (dModel % nHeads !== 0) throw c.invalid('num_attention_heads', `a divisor of hidden_size ${dModel}`, nHeads);
  const dHead = dModel / nHeads;
  const pct = c.num('rotary_pct', typeof c.raw.partial_rotary_factor === 'number' ? c.raw.partial_rotary_factor : 0.25);
  const dim = Math.floor(dHead * pct);
  if (!(pct > 0 && pct <= 1) || dim % 2 !== 0) throw c.invalid('rotary_pct', `a fraction in (0, 1] giving an even number of the ${dHead} head features`, pct);
  return {
    architecture: 'gpt_neox',
    nLayers: c.int('num_hidden_layers'),
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead,
    dMlp: c.int('intermediate_size'),
    vocabSize: c.int('vocab_size'),
    maxPositions: c.int('max_position_embeddings', 2048),
    normEps: c.num('layer_norm_eps', 1e-5),
    activation: c.str('hidden_act', 'gelu'),
    tiedEmbeddings: c.bool('tie_word_embeddings', false),
    rope: { theta: c.num('rotary_emb_base', typeof c.raw.rope_theta === 'number' ? c.raw.rope_theta : 10000), dim, scaling: readRopeScaling(c) },
    parallelAttnMlp: c.bool('use_parallel_residual', true),
    bosTokenId: c.tokenId('bos_token_id'),
    eosTokenId: c.tokenId('eos_token_id'),
  };
}

/** Rows [h][part][j] of query_key_value (weight [3D, D] or bias [3D]) → [part][h][j]. */
function regroupQkv(w: PreparedWeight, heads: number, dHead: number): PreparedWeight {
  const cols = w.dims.length === 2 ? w.dims[1] : 1;
  const out = new Float32Array(w.data.length);
  const D = heads * dHead;
  for (let h = 0; h < heads; h++) {
    for (let part = 0; part < 3; part++) {
      const src = (h * 3 + part) * dHead * cols;
      out.set(w.data.subarray(src, src + dHead * cols), (part * D + h * dHead) * cols);
    }
  }
  return { data: out, dims: w.dims };
}

const outIn = (w: PreparedWeight): LinearSource => ({ data: w.data, out: w.dims[0], in: w.dims[1], layout: 'outIn' });

function build(fg: ForwardGraph): void {
  const { g, cfg, store } = fg;
  const { dModel: D, dMlp: M, nHeads: H, dHead: dh, vocabSize: V } = cfg;
  const vec = (name: string, n: number) => fg.weight(name, () => store.load(name, [n]));
  const optionalBias = (name: string, n: number) => (store.has(name) ? vec(name, n) : undefined);
  const ln = (prefix: string) => ({ w: vec(`${prefix}.weight`, D), b: vec(`${prefix}.bias`, D) });
  const linear = (name: string, out: number, inDim: number) => fg.linearWeight(name, () => outIn(store.load(name, [out, inDim])));
  const layer = (l: number) => `gpt_neox.layers.${l}`;

  const table = fg.embeddingTable('gpt_neox.embed_in.weight', () => store.load('gpt_neox.embed_in.weight', [V, D]));
  let resid = fg.hook('blocks.0.hook_resid_pre', fg.hook('hook_embed', fg.gatherRows(table, fg.inputIds), 3), 3);
  let normed: Value | undefined = fg.layers > 0 ? fg.norm(resid, ln(`${layer(0)}.input_layernorm`).w, ln(`${layer(0)}.input_layernorm`).b) : undefined;
  const rope = fg.layers > 0 ? rotaryTables(fg) : undefined;
  const scale = 1 / Math.sqrt(dh);

  for (let l = 0; l < fg.layers; l++) {
    const p = layer(l);
    const hp = `blocks.${l}`;
    const qkvName = `${p}.attention.query_key_value`;
    const qkvW = fg.linearWeight(`${qkvName}.weight`, () => outIn(regroupQkv(store.load(`${qkvName}.weight`, [3 * D, D]), H, dh)));
    const qkvB = store.has(`${qkvName}.bias`) ? fg.weight(`${qkvName}.bias`, () => regroupQkv(store.load(`${qkvName}.bias`, [3 * D]), H, dh)) : undefined;
    const [q, k, v] = g.opMulti('Split', [fg.linear(normed!, qkvW, qkvB), g.constInt64([D, D, D])], 3, { axis: -1 });
    const qh = fg.hook(`${hp}.attn.hook_q`, fg.splitHeads(q, H), 4);
    const kh = fg.hook(`${hp}.attn.hook_k`, fg.splitHeads(k, H), 4);
    const vh = fg.hook(`${hp}.attn.hook_v`, fg.splitHeads(v, H), 4);
    const z = fg.attention(l, applyRotary(fg, qh, H, rope!), applyRotary(fg, kh, H, rope!), vh, scale);
    const attnOut = fg.hook(`${hp}.hook_attn_out`, fg.linear(fg.mergeHeads(z), linear(`${p}.attention.dense.weight`, D, D), optionalBias(`${p}.attention.dense.bias`, D)), 3);
    const mlpNorm = ln(`${p}.post_attention_layernorm`);
    let mlpIn: Value;
    if (cfg.parallelAttnMlp) {
      mlpIn = fg.norm(resid, mlpNorm.w, mlpNorm.b);
    } else {
      const mid = fg.addNorm(resid, attnOut, [`${hp}.hook_resid_mid`], mlpNorm);
      resid = mid.resid;
      mlpIn = mid.normed!;
    }
    const pre = fg.hook(`${hp}.mlp.hook_pre`, fg.linear(mlpIn, linear(`${p}.mlp.dense_h_to_4h.weight`, M, D), vec(`${p}.mlp.dense_h_to_4h.bias`, M)), 3);
    const post = fg.hook(`${hp}.mlp.hook_post`, fg.activation(pre), 3);
    const mlpOut = fg.hook(`${hp}.hook_mlp_out`, fg.linear(post, linear(`${p}.mlp.dense_4h_to_h.weight`, D, M), vec(`${p}.mlp.dense_4h_to_h.bias`, D)), 3);
    // parallel: resid_pre + (attn_out + mlp_out), the association transformers uses
    const delta = cfg.parallelAttnMlp ? g.op('Add', [attnOut, mlpOut]) : mlpOut;
    const last = l === fg.layers - 1;
    // The next block's resid_pre is also computed when the graph stops before that block.
    const hooks = [`${hp}.hook_resid_post`, ...(l + 1 < cfg.nLayers ? [`blocks.${l + 1}.hook_resid_pre`] : [])];
    const after = fg.addNorm(resid, delta, hooks, last ? undefined : ln(`${layer(l + 1)}.input_layernorm`));
    resid = after.resid;
    normed = after.normed;
  }
  if (fg.runsHead) {
    const unembedding = store.has('embed_out.weight') && !cfg.tiedEmbeddings ? fg.unembeddingWeight('embed_out.weight', () => outIn(store.load('embed_out.weight', [V, D]))) : table;
    fg.finalNormAndUnembed(resid, ln('gpt_neox.final_layer_norm').w, ln('gpt_neox.final_layer_norm').b, unembedding);
  }
}

export const gptNeox: Architecture = { name: 'gpt_neox', modelTypes: ['gpt_neox'], learnedPositions: false, gatedMlp: false, normalizeConfig, build };
