/**
 * The forward pass shared by the Llama family (llama, mistral, qwen2, qwen3, gemma2, gemma3,
 * phi3): token embedding (optionally scaled), pre-norm RMSNorm blocks with rotary attention
 * (grouped-query, optional q/k norms, sliding windows, soft-capping, partial rotary), a gated MLP,
 * optional sandwich norms after attention and MLP (Gemma), final RMSNorm and unembedding.
 * Each architecture file supplies the config normalization and the checkpoint's tensor names.
 *
 * Hooks (TransformerLens semantics): attn.hook_q/k/v are the projections before q/k norms and
 * rotation, k/v with the key/value head count [B, T, K, dh]; hook_attn_out and hook_mlp_out are
 * what is added to the residual stream (after Gemma's post-norms, as TransformerLens's
 * ln1_post/ln2_post); mlp.hook_pre is the gate projection before the activation and mlp.hook_post
 * act(gate) * up, the input of down_proj; hook_embed includes Gemma's sqrt(d) scale (TransformerLens
 * folds it into W_E).
 */
import type { Value } from '../../engine/graph-builder.js';
import type { ForwardGraph, LinearSource } from '../forward-graph.js';
import { applyRotary, rotaryTables } from '../rotary.js';
import { concatRows, concatVectors, type PreparedWeight } from '../weight-store.js';

/** Checkpoint tensor-name prefixes of one block (without `.weight`/`.bias`). */
export interface DecoderLayerNames {
  preAttnNorm: string;
  /** Gemma's post_attention_layernorm, applied to the attention output. */
  postAttnNorm?: string;
  preMlpNorm: string;
  /** Gemma's post_feedforward_layernorm, applied to the MLP output. */
  postMlpNorm?: string;
  /** Separate projections, or one fused [q; k; v] weight (Phi-3's qkv_proj). */
  qkv: { q: string; k: string; v: string } | { fused: string };
  /** RMSNorm over each head's query/key (Qwen 3, Gemma 3). */
  qkNorm?: { q: string; k: string };
  o: string;
  /** Separate gate/up projections, or one fused [gate; up] weight (Phi-3's gate_up_proj). */
  gateUp: { gate: string; up: string } | { fused: string };
  down: string;
}

export interface RotaryDecoderSpec {
  embed: string;
  finalNorm: string;
  lmHead: string;
  layer(l: number): DecoderLayerNames;
  /** Gemma's RMSNorm scales by (1 + weight). */
  normPlusOne?: boolean;
}

/** Tensor names of a Hugging Face Llama checkpoint (also Mistral, Qwen 2/3, Gemma). */
export function llamaLayerNames(l: number, extra: Partial<DecoderLayerNames> = {}): DecoderLayerNames {
  const p = `model.layers.${l}`;
  return {
    preAttnNorm: `${p}.input_layernorm`,
    preMlpNorm: `${p}.post_attention_layernorm`,
    qkv: { q: `${p}.self_attn.q_proj`, k: `${p}.self_attn.k_proj`, v: `${p}.self_attn.v_proj` },
    o: `${p}.self_attn.o_proj`,
    gateUp: { gate: `${p}.mlp.gate_proj`, up: `${p}.mlp.up_proj` },
    down: `${p}.mlp.down_proj`,
    ...extra,
  };
}

const outIn = (w: PreparedWeight): LinearSource => ({ data: w.data, out: w.dims[0], in: w.dims[1], layout: 'outIn' });

export function buildRotaryDecoder(fg: ForwardGraph, spec: RotaryDecoderSpec): void {
  const { g, cfg, store } = fg;
  const { dModel: D, dMlp: M, nHeads: H, nKvHeads: K, dHead: dh, vocabSize: V } = cfg;
  const vec = (name: string, n: number) => fg.weight(name, () => store.load(name, [n]));
  const optionalBias = (name: string, n: number) => (store.has(name) ? vec(name, n) : undefined);
  // float32 (1 + w), as Gemma computes it
  const normWeight = (prefix: string, n = D) =>
    spec.normPlusOne ? fg.weight(`${prefix}.weight+1`, () => plusOne(store.load(`${prefix}.weight`, [n]))) : vec(`${prefix}.weight`, n);
  const linear = (prefix: string, out: number, inDim: number) => fg.linearWeight(`${prefix}.weight`, () => outIn(store.load(`${prefix}.weight`, [out, inDim])));

  const table = fg.embeddingTable(spec.embed, () => store.load(spec.embed, [V, D]));
  let embedded = fg.gatherRows(table, fg.inputIds);
  if (cfg.embedScale !== undefined) embedded = g.op('Mul', [embedded, g.constFloat(cfg.embedScale)]);
  let resid = fg.hook('blocks.0.hook_resid_pre', fg.hook('hook_embed', embedded, 3), 3);
  let normed: Value | undefined = fg.layers > 0 ? fg.norm(resid, normWeight(spec.layer(0).preAttnNorm)) : undefined;
  const windows = cfg.attentionWindows?.slice(0, fg.layers) ?? [];
  const globalRope = fg.layers > 0 ? rotaryTables(fg) : undefined;
  const localRope = cfg.localRope && windows.some((w) => w !== null) ? rotaryTables(fg, cfg.localRope) : undefined;
  const scale = cfg.attnScale ?? 1 / Math.sqrt(dh);
  const qkvSizes = [H * dh, K * dh, K * dh];

  for (let l = 0; l < fg.layers; l++) {
    const n = spec.layer(l);
    const hp = `blocks.${l}`;
    const window = windows[l] ?? null;
    const rope = window !== null && localRope ? localRope : globalRope!;

    let qkvW, qkvB: Value | undefined;
    if ('fused' in n.qkv) {
      qkvW = linear(n.qkv.fused, (H + 2 * K) * dh, D);
      qkvB = optionalBias(`${n.qkv.fused}.bias`, (H + 2 * K) * dh);
    } else {
      const parts = [n.qkv.q, n.qkv.k, n.qkv.v];
      // q, k and v share one MatMul: their weights are stacked once per model.
      qkvW = fg.linearWeight(`${parts[0]}+k+v.weight`, () => outIn(concatRows(parts.map((p, i) => store.load(`${p}.weight`, [qkvSizes[i], D])))));
      qkvB = store.has(`${parts[0]}.bias`) ? fg.weight(`${parts[0]}+k+v.bias`, () => concatVectors(parts.map((p, i) => store.load(`${p}.bias`, [qkvSizes[i]])))) : undefined;
    }
    const [q, k, v] = g.opMulti('Split', [fg.linear(normed!, qkvW, qkvB), g.constInt64(qkvSizes)], 3, { axis: -1 });
    let qh = fg.hook(`${hp}.attn.hook_q`, fg.splitHeads(q, H), 4);
    let kh = fg.hook(`${hp}.attn.hook_k`, fg.splitHeads(k, K), 4);
    const vh = fg.hook(`${hp}.attn.hook_v`, fg.splitHeads(v, K), 4);
    if (n.qkNorm) {
      qh = fg.norm(qh, normWeight(n.qkNorm.q, dh));
      kh = fg.norm(kh, normWeight(n.qkNorm.k, dh));
    }
    const z = fg.attention(l, applyRotary(fg, qh, H, rope), applyRotary(fg, kh, K, rope), vh, scale, { window, softcap: cfg.attnSoftcap });
    let attnOut = fg.linear(fg.mergeHeads(z), linear(n.o, D, H * dh), optionalBias(`${n.o}.bias`, D));
    if (n.postAttnNorm) attnOut = fg.norm(attnOut, normWeight(n.postAttnNorm));
    attnOut = fg.hook(`${hp}.hook_attn_out`, attnOut, 3);
    const mid = fg.addNorm(resid, attnOut, [`${hp}.hook_resid_mid`], { w: normWeight(n.preMlpNorm) });
    resid = mid.resid;

    let gateUpW, gateUpB: Value | undefined;
    if ('fused' in n.gateUp) {
      gateUpW = linear(n.gateUp.fused, 2 * M, D);
      gateUpB = optionalBias(`${n.gateUp.fused}.bias`, 2 * M);
    } else {
      const parts = [n.gateUp.gate, n.gateUp.up];
      gateUpW = fg.linearWeight(`${parts[0]}+up.weight`, () => outIn(concatRows(parts.map((p) => store.load(`${p}.weight`, [M, D])))));
      gateUpB = store.has(`${parts[0]}.bias`) ? fg.weight(`${parts[0]}+up.bias`, () => concatVectors(parts.map((p) => store.load(`${p}.bias`, [M])))) : undefined;
    }
    const [gate, up] = g.opMulti('Split', [fg.linear(mid.normed!, gateUpW, gateUpB), g.constInt64([M, M])], 2, { axis: -1 });
    const pre = fg.hook(`${hp}.mlp.hook_pre`, gate, 3);
    const post = fg.hook(`${hp}.mlp.hook_post`, g.op('Mul', [fg.activation(pre), up]), 3);
    let mlpOut = fg.linear(post, linear(n.down, D, M), optionalBias(`${n.down}.bias`, D));
    if (n.postMlpNorm) mlpOut = fg.norm(mlpOut, normWeight(n.postMlpNorm));
    mlpOut = fg.hook(`${hp}.hook_mlp_out`, mlpOut, 3);
    const last = l === fg.layers - 1;
    // The next block's resid_pre is also computed when the graph stops before that block.
    const hooks = [`${hp}.hook_resid_post`, ...(l + 1 < cfg.nLayers ? [`blocks.${l + 1}.hook_resid_pre`] : [])];
    const after = fg.addNorm(resid, mlpOut, hooks, last ? undefined : { w: normWeight(spec.layer(l + 1).preAttnNorm) });
    resid = after.resid;
    normed = after.normed;
  }
  if (fg.runsHead) {
    // Tied checkpoints (SmolLM2, Llama 3.2, Gemma) omit lm_head.weight or repeat the embedding.
    const unembedding = store.has(spec.lmHead) && !cfg.tiedEmbeddings ? fg.unembeddingWeight(spec.lmHead, () => outIn(store.load(spec.lmHead, [V, D]))) : table;
    fg.finalNormAndUnembed(resid, normWeight(spec.finalNorm), undefined, unembedding);
  }
}

function plusOne(w: PreparedWeight): PreparedWeight {
  return { data: w.data.map((x) => x + 1), dims: w.dims };
}
