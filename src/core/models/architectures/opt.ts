/**
 * OPT (Hugging Face `OPTForCausalLM`): learned positions stored with an offset of 2 (row
 * position + 2), ReLU MLP (fc1/fc2), biases everywhere (unless enable_bias is false), tied
 * embeddings. Blocks are pre-LayerNorm (`do_layer_norm_before`, most OPT models) or post-LayerNorm
 * (opt-350m): x = LN(x + attn(x)), x = LN(x + mlp(x)), and then no final norm. opt-350m also
 * embeds in a narrower `word_embed_proj_dim` with project_in/project_out around the blocks.
 *
 * Hooks: hook_embed is the token embedding in the model width (after project_in); with
 * post-LayerNorm blocks hook_resid_mid and hook_resid_post are the normalized streams the next
 * sublayer reads (TransformerLens has no post-LN blocks), and there is no ln_final hook.
 */
import type { Value } from '../../engine/graph-builder.js';
import type { ConfigReader, ModelConfig } from '../config.js';
import type { ForwardGraph, LinearSource } from '../forward-graph.js';
import { concatRows, concatVectors, type PreparedWeight } from '../weight-store.js';
import type { Architecture } from './index.js';

/** Rows of embed_positions before position 0. */
const POSITION_OFFSET = 2;

function normalizeConfig(c: ConfigReader): ModelConfig {
  const dModel = c.int('hidden_size');
  const nHeads = c.int('num_attention_heads');
  if (dModel % nHeads !== 0) throw c.invalid('num_attention_heads', `a divisor of hidden_size ${dModel}`, nHeads);
  const preNorm = c.bool('do_layer_norm_before', true);
  const dEmbedding = c.int('word_embed_proj_dim', dModel);
  return {
    architecture: 'opt',
    nLayers: c.int('num_hidden_layers'),
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead: dModel / nHeads,
    dMlp: c.int('ffn_dim'),
    vocabSize: c.int('vocab_size'),
    maxPositions: c.int('max_position_embeddings', 2048),
    normEps: 1e-5, // nn.LayerNorm's default; OPT's config has no epsilon
    activation: c.str('activation_function', 'relu'),
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    finalNorm: preNorm && !c.bool('_remove_final_layer_norm', false),
    ...(preNorm ? {} : { postNorm: true }),
    ...(dEmbedding !== dModel ? { dEmbedding } : {}),
    bosTokenId: c.tokenId('bos_token_id'),
    eosTokenId: c.tokenId('eos_token_id'),
  };
}

const outIn = (w: PreparedWeight): LinearSource => ({ data: w.data, out: w.dims[0], in: w.dims[1], layout: 'outIn' });

function build(fg: ForwardGraph): void {
  const { g, cfg, store } = fg;
  const { dModel: D, dMlp: M, nHeads: H, vocabSize: V } = cfg;
  const d = 'model.decoder';
  const preNorm = !cfg.postNorm;
  const vec = (name: string, n: number) => fg.weight(name, () => store.load(name, [n]));
  const optionalBias = (name: string, n: number) => (store.has(name) ? vec(name, n) : undefined);
  // layer_norm_elementwise_affine false: no weight and bias, i.e. ones and zeros
  const ln = (prefix: string) =>
    store.has(`${prefix}.weight`) ? { w: vec(`${prefix}.weight`, D), b: vec(`${prefix}.bias`, D) } : { w: g.constFloat(new Array(D).fill(1)), b: g.constFloat(new Array(D).fill(0)) };
  const linear = (name: string, out: number, inDim: number) => fg.linearWeight(name, () => outIn(store.load(name, [out, inDim])));
  const embedWidth = cfg.dEmbedding ?? D;

  const table = fg.embeddingTable(`${d}.embed_tokens.weight`, () => store.load(`${d}.embed_tokens.weight`, [V, embedWidth]));
  let tokens = fg.gatherRows(table, fg.inputIds);
  if (embedWidth !== D) tokens = fg.linear(tokens, linear(`${d}.project_in.weight`, D, embedWidth));
  const embed = fg.hook('hook_embed', tokens, 3);
  const positions = fg.embeddingTable(`${d}.embed_positions.weight`, () => store.load(`${d}.embed_positions.weight`, [cfg.maxPositions + POSITION_OFFSET, D]));
  const posEmbed = fg.hook('hook_pos_embed', fg.gatherRows(positions, g.op('Add', [fg.positionIds, g.constInt64(POSITION_OFFSET)])), 3);
  let resid = fg.hook('blocks.0.hook_resid_pre', g.op('Add', [embed, posEmbed]), 3);
  const scale = 1 / Math.sqrt(cfg.dHead);
  let normed: Value | undefined = preNorm && fg.layers > 0 ? fg.norm(resid, ln(`${d}.layers.0.self_attn_layer_norm`).w, ln(`${d}.layers.0.self_attn_layer_norm`).b) : undefined;

  for (let l = 0; l < fg.layers; l++) {
    const p = `${d}.layers.${l}`;
    const hp = `blocks.${l}`;
    const a = `${p}.self_attn`;
    const parts = ['q', 'k', 'v'].map((x) => `${a}.${x}_proj`);
    const qkvW = fg.linearWeight(`${a}.qkv.weight`, () => outIn(concatRows(parts.map((x) => store.load(`${x}.weight`, [D, D])))));
    const qkvB = store.has(`${parts[0]}.bias`) ? fg.weight(`${a}.qkv.bias`, () => concatVectors(parts.map((x) => store.load(`${x}.bias`, [D])))) : undefined;
    const attnIn = preNorm ? normed! : resid;
    const [q, k, v] = g.opMulti('Split', [fg.linear(attnIn, qkvW, qkvB), g.constInt64([D, D, D])], 3, { axis: -1 });
    const qh = fg.hook(`${hp}.attn.hook_q`, fg.splitHeads(q, H), 4);
    const kh = fg.hook(`${hp}.attn.hook_k`, fg.splitHeads(k, H), 4);
    const vh = fg.hook(`${hp}.attn.hook_v`, fg.splitHeads(v, H), 4);
    const z = fg.attention(l, qh, kh, vh, scale);
    const attnOut = fg.hook(`${hp}.hook_attn_out`, fg.linear(fg.mergeHeads(z), linear(`${a}.out_proj.weight`, D, D), optionalBias(`${a}.out_proj.bias`, D)), 3);
    const attnNorm = ln(`${p}.self_attn_layer_norm`);
    const mlpNorm = ln(`${p}.final_layer_norm`);
    let mlpIn: Value;
    if (preNorm) {
      const mid = fg.addNorm(resid, attnOut, [`${hp}.hook_resid_mid`], mlpNorm);
      resid = mid.resid;
      mlpIn = mid.normed!;
    } else {
      resid = fg.hook(`${hp}.hook_resid_mid`, fg.norm(g.op('Add', [resid, attnOut]), attnNorm.w, attnNorm.b), 3);
      mlpIn = resid;
    }
    const pre = fg.hook(`${hp}.mlp.hook_pre`, fg.linear(mlpIn, linear(`${p}.fc1.weight`, M, D), optionalBias(`${p}.fc1.bias`, M)), 3);
    const post = fg.hook(`${hp}.mlp.hook_post`, fg.activation(pre), 3);
    const mlpOut = fg.hook(`${hp}.hook_mlp_out`, fg.linear(post, linear(`${p}.fc2.weight`, D, M), optionalBias(`${p}.fc2.bias`, D)), 3);
    const last = l === fg.layers - 1;
    // The next block's resid_pre is also computed when the graph stops before that block.
    const hooks = [`${hp}.hook_resid_post`, ...(l + 1 < cfg.nLayers ? [`blocks.${l + 1}.hook_resid_pre`] : [])];
    if (preNorm) {
      const after = fg.addNorm(resid, mlpOut, hooks, last ? undefined : ln(`${d}.layers.${l + 1}.self_attn_layer_norm`));
      resid = after.resid;
      normed = after.normed;
    } else {
      resid = fg.norm(g.op('Add', [resid, mlpOut]), mlpNorm.w, mlpNorm.b);
      for (const h of hooks) resid = fg.hook(h, resid, 3);
    }
  }
  if (fg.runsHead) {
    let out = cfg.finalNorm === false ? resid : fg.finalNorm(resid, ln(`${d}.final_layer_norm`).w, ln(`${d}.final_layer_norm`).b);
    if (embedWidth !== D) out = fg.linear(out, linear(`${d}.project_out.weight`, embedWidth, D));
    const unembedding = store.has('lm_head.weight') && !cfg.tiedEmbeddings ? fg.unembeddingWeight('lm_head.weight', () => outIn(store.load('lm_head.weight', [V, embedWidth]))) : table;
    if (fg.options.logits !== 'none') fg.unembed(out, unembedding, undefined, embedWidth);
  }
}

export const opt: Architecture = { name: 'opt', modelTypes: ['opt'], learnedPositions: true, gatedMlp: false, normalizeConfig, build };
