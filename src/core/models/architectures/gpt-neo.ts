/**
 * GPT-Neo (Hugging Face `GPTNeoForCausalLM`): GPT-2's layout with separate q/k/v projections
 * without bias, attention scores not scaled (scale 1), and local layers (`attention_layers`
 * 'local') that see only the last `window_size` positions; learned positions, tied embeddings.
 */
import type { Value } from '../../engine/graph-builder.js';
import type { ConfigReader, ModelConfig } from '../config.js';
import type { ForwardGraph, LinearSource } from '../forward-graph.js';
import { concatRows, type PreparedWeight } from '../weight-store.js';
import type { Architecture } from './index.js';

/** `attention_layers` ('global' | 'local' per layer), or its compact form `attention_types` [[[types...], repeat], ...]. */
function attentionLayers(c: ConfigReader, nLayers: number): string[] {
  let layers = c.raw.attention_layers as unknown;
  if (layers == null) {
    const types = c.raw.attention_types;
    if (!Array.isArray(types)) throw c.invalid('attention_types', 'a list like [[["global", "local"], 12]]', types);
    layers = types.flatMap((item: unknown) => {
      if (!Array.isArray(item) || !Array.isArray(item[0]) || !Number.isInteger(item[1])) throw c.invalid('attention_types', 'entries like [["global", "local"], 12]', item);
      return Array.from({ length: item[1] as number }, () => item[0] as unknown[]).flat();
    });
  }
  if (!Array.isArray(layers) || layers.length !== nLayers || layers.some((t) => t !== 'global' && t !== 'local')) {
    throw c.invalid('attention_layers', `${nLayers} entries of 'global' or 'local'`, layers);
  }
  return layers as string[];
}

function normalizeConfig(c: ConfigReader): ModelConfig {
  const dModel = c.int('hidden_size');
  const nHeads = c.int('num_heads');
  if (dModel % nHeads !== 0) throw c.invalid('num_heads', `a divisor of hidden_size ${dModel}`, nHeads);
  const nLayers = c.int('num_layers');
  const window = c.int('window_size', 256);
  return {
    architecture: 'gpt_neo',
    nLayers,
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead: dModel / nHeads,
    dMlp: c.raw.intermediate_size == null ? 4 * dModel : c.int('intermediate_size'),
    vocabSize: c.int('vocab_size'),
    maxPositions: c.int('max_position_embeddings', 2048),
    normEps: c.num('layer_norm_epsilon', 1e-5),
    activation: c.str('activation_function', 'gelu_new'),
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    attentionWindows: attentionLayers(c, nLayers).map((t) => (t === 'local' ? window : null)),
    attnScale: 1,
    bosTokenId: c.tokenId('bos_token_id'),
    eosTokenId: c.tokenId('eos_token_id'),
  };
}

const outIn = (w: PreparedWeight): LinearSource => ({ data: w.data, out: w.dims[0], in: w.dims[1], layout: 'outIn' });

function build(fg: ForwardGraph): void {
  const { g, cfg, store } = fg;
  const { dModel: D, dMlp: M, nHeads: H, vocabSize: V } = cfg;
  const vec = (name: string, n: number) => fg.weight(name, () => store.load(name, [n]));
  const ln = (prefix: string) => ({ w: vec(`transformer.${prefix}.weight`, D), b: vec(`transformer.${prefix}.bias`, D) });
  const linear = (name: string, out: number, inDim: number) => fg.linearWeight(name, () => outIn(store.load(name, [out, inDim])));

  const wte = fg.embeddingTable('transformer.wte.weight', () => store.load('transformer.wte.weight', [V, D]));
  const wpe = fg.embeddingTable('transformer.wpe.weight', () => store.load('transformer.wpe.weight', [cfg.maxPositions, D]));
  const embed = fg.hook('hook_embed', fg.gatherRows(wte, fg.inputIds), 3);
  const posEmbed = fg.hook('hook_pos_embed', fg.gatherRows(wpe, fg.positionIds), 3);
  let resid = fg.hook('blocks.0.hook_resid_pre', g.op('Add', [embed, posEmbed]), 3);
  let normed: Value | undefined = fg.layers > 0 ? fg.norm(resid, ln('h.0.ln_1').w, ln('h.0.ln_1').b) : undefined;

  for (let l = 0; l < fg.layers; l++) {
    const p = `transformer.h.${l}`;
    const hp = `blocks.${l}`;
    const a = `${p}.attn.attention`;
    const qkvW = fg.linearWeight(`${a}.qkv.weight`, () => outIn(concatRows(['q', 'k', 'v'].map((x) => store.load(`${a}.${x}_proj.weight`, [D, D])))));
    const [q, k, v] = g.opMulti('Split', [fg.linear(normed!, qkvW), g.constInt64([D, D, D])], 3, { axis: -1 });
    const qh = fg.hook(`${hp}.attn.hook_q`, fg.splitHeads(q, H), 4);
    const kh = fg.hook(`${hp}.attn.hook_k`, fg.splitHeads(k, H), 4);
    const vh = fg.hook(`${hp}.attn.hook_v`, fg.splitHeads(v, H), 4);
    const z = fg.attention(l, qh, kh, vh, cfg.attnScale!, { window: cfg.attentionWindows![l] });
    const attnOut = fg.hook(`${hp}.hook_attn_out`, fg.linear(fg.mergeHeads(z), linear(`${a}.out_proj.weight`, D, D), vec(`${a}.out_proj.bias`, D)), 3);
    const mid = fg.addNorm(resid, attnOut, [`${hp}.hook_resid_mid`], ln(`h.${l}.ln_2`));
    resid = mid.resid;
    const pre = fg.hook(`${hp}.mlp.hook_pre`, fg.linear(mid.normed!, linear(`${p}.mlp.c_fc.weight`, M, D), vec(`${p}.mlp.c_fc.bias`, M)), 3);
    const post = fg.hook(`${hp}.mlp.hook_post`, fg.activation(pre), 3);
    const mlpOut = fg.hook(`${hp}.hook_mlp_out`, fg.linear(post, linear(`${p}.mlp.c_proj.weight`, D, M), vec(`${p}.mlp.c_proj.bias`, D)), 3);
    const last = l === fg.layers - 1;
    // The next block's resid_pre is also computed when the graph stops before that block.
    const hooks = [`${hp}.hook_resid_post`, ...(l + 1 < cfg.nLayers ? [`blocks.${l + 1}.hook_resid_pre`] : [])];
    const after = fg.addNorm(resid, mlpOut, hooks, last ? undefined : ln(`h.${l + 1}.ln_1`));
    resid = after.resid;
    normed = after.normed;
  }
  if (fg.runsHead) {
    const unembedding = store.has('lm_head.weight') && !cfg.tiedEmbeddings ? fg.unembeddingWeight('lm_head.weight', () => outIn(store.load('lm_head.weight', [V, D]))) : wte;
    fg.finalNormAndUnembed(resid, ln('ln_f').w, ln('ln_f').b, unembedding);
  }
}

export const gptNeo: Architecture = { name: 'gpt_neo', modelTypes: ['gpt_neo'], learnedPositions: true, gatedMlp: false, normalizeConfig, build };
