/**
 * GPT-2 (Hugging Face `GPT2LMHeadModel`): learned positions, pre-LayerNorm blocks, fused c_attn
 * projection, GELU MLP, unembedding tied to the token embedding. Conv1D weights are stored
 * [in, out] already, so they feed MatMul as they are.
 */
import type { Value } from '../../engine/graph-builder.js';
import type { ConfigReader, ModelConfig } from '../config.js';
import type { ForwardGraph } from '../forward-graph.js';
import type { Architecture } from './index.js';

function normalizeConfig(c: ConfigReader): ModelConfig {
  const dModel = c.int('n_embd');
  const nHeads = c.int('n_head');
  if (dModel % nHeads !== 0) throw c.invalid('n_head', `a divisor of n_embd ${dModel}`, nHeads);
  if (!c.bool('scale_attn_weights', true)) throw c.invalid('scale_attn_weights', 'true (unscaled attention is not supported)', false);
  return {
    architecture: 'gpt2',
    nLayers: c.int('n_layer'),
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead: dModel / nHeads,
    dMlp: c.raw.n_inner == null ? 4 * dModel : c.int('n_inner'),
    vocabSize: c.int('vocab_size'),
    maxPositions: c.int('n_positions'),
    normEps: c.num('layer_norm_epsilon', 1e-5),
    activation: c.str('activation_function', 'gelu_new'),
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    attnScaleByLayer: c.bool('scale_attn_by_inverse_layer_idx', false),
    bosTokenId: c.tokenId('bos_token_id'),
    eosTokenId: c.tokenId('eos_token_id'),
  };
}

function build(fg: ForwardGraph): void {
  const { g, cfg, store } = fg;
  const { dModel: D, dMlp: M, nHeads: H, vocabSize: V } = cfg;
  // Checkpoints saved from GPT2LMHeadModel prefix names with `transformer.`; the original ones do not.
  const prefix = store.has('transformer.wte.weight') ? 'transformer.' : '';
  const w = (name: string, dims: number[]) => fg.weight(prefix + name, () => store.load(prefix + name, dims));
  /** Conv1D weight [in, out]. */
  const conv = (name: string, inDim: number, out: number) =>
    fg.linearWeight(prefix + name, () => ({ data: store.load(prefix + name, [inDim, out]).data, out, in: inDim, layout: 'inOut' }));

  const wte = fg.embeddingTable(`${prefix}wte.weight`, () => store.load(`${prefix}wte.weight`, [V, D]));
  const wpe = fg.embeddingTable(`${prefix}wpe.weight`, () => store.load(`${prefix}wpe.weight`, [cfg.maxPositions, D]));
  const embed = fg.hook('hook_embed', fg.gatherRows(wte, fg.inputIds), 3);
  const posEmbed = fg.hook('hook_pos_embed', fg.gatherRows(wpe, fg.positionIds), 3);
  let resid = fg.hook('blocks.0.hook_resid_pre', g.op('Add', [embed, posEmbed]), 3);
  const ln = (name: string) => ({ w: w(`${name}.weight`, [D]), b: w(`${name}.bias`, [D]) });
  let normed: Value | undefined = fg.layers > 0 ? fg.norm(resid, ln('h.0.ln_1').w, ln('h.0.ln_1').b) : undefined;

  for (let l = 0; l < fg.layers; l++) {
    const p = `h.${l}`;
    const hp = `blocks.${l}`;
    const qkv = fg.linear(normed!, conv(`${p}.attn.c_attn.weight`, D, 3 * D), w(`${p}.attn.c_attn.bias`, [3 * D]));
    const [q, k, v] = g.opMulti('Split', [qkv, g.constInt64([D, D, D])], 3, { axis: -1 });
    const qh = fg.hook(`${hp}.attn.hook_q`, fg.splitHeads(q, H), 4);
    const kh = fg.hook(`${hp}.attn.hook_k`, fg.splitHeads(k, H), 4);
    const vh = fg.hook(`${hp}.attn.hook_v`, fg.splitHeads(v, H), 4);
    const scale = 1 / Math.sqrt(cfg.dHead) / (cfg.attnScaleByLayer ? l + 1 : 1);
    const z = fg.attention(l, qh, kh, vh, scale);
    const attnOut = fg.hook(`${hp}.hook_attn_out`, fg.linear(fg.mergeHeads(z), conv(`${p}.attn.c_proj.weight`, D, D), w(`${p}.attn.c_proj.bias`, [D])), 3);
    const mid = fg.addNorm(resid, attnOut, [`${hp}.hook_resid_mid`], ln(`${p}.ln_2`));
    resid = mid.resid;
    const pre = fg.hook(`${hp}.mlp.hook_pre`, fg.linear(mid.normed!, conv(`${p}.mlp.c_fc.weight`, D, M), w(`${p}.mlp.c_fc.bias`, [M])), 3);
    const post = fg.hook(`${hp}.mlp.hook_post`, fg.activation(pre), 3);
    const mlpOut = fg.hook(`${hp}.hook_mlp_out`, fg.linear(post, conv(`${p}.mlp.c_proj.weight`, M, D), w(`${p}.mlp.c_proj.bias`, [D])), 3);
    const last = l === fg.layers - 1;
    // The next block's resid_pre is also computed when the graph stops before that block.
    const hooks = [`${hp}.hook_resid_post`, ...(l + 1 < cfg.nLayers ? [`blocks.${l + 1}.hook_resid_pre`] : [])];
    // The final norm is applied separately so that ln_final.hook_normalized can be taken before its affine.
    const after = fg.addNorm(resid, mlpOut, hooks, last ? undefined : ln(`h.${l + 1}.ln_1`));
    resid = after.resid;
    normed = after.normed;
  }
  if (fg.runsHead) {
    const unembedding =
      store.has('lm_head.weight') && !cfg.tiedEmbeddings
        ? fg.unembeddingWeight('lm_head.weight', () => ({ data: store.load('lm_head.weight', [V, D]).data, out: V, in: D, layout: 'outIn' }))
        : wte;
    fg.finalNormAndUnembed(resid, w('ln_f.weight', [D]), w('ln_f.bias', [D]), unembedding);
  }
}

export const gpt2: Architecture = { name: 'gpt2', modelTypes: ['gpt2'], learnedPositions: true, gatedMlp: false, normalizeConfig, build };
