/**
 * The building blocks architectures assemble their forward graphs from: graph inputs (token ids,
 * attention mask, position ids, KV cache), hook points (cache outputs and interventions), weights
 * as in-memory external initializers, attention with its padding/causal bias, norms and rotary
 * embeddings. One ForwardGraph builds one ONNX model for one (hooks, interventions, stop layer,
 * logits, KV cache) combination.
 *
 * Shapes: B batch, T new tokens, P past tokens (KV cache), S = P + T keys, D model width,
 * H query heads, K key/value heads, dh head width.
 */
import { float32ToHalfArray } from '../engine/float16.js';
import { GraphBuilder, type Value } from '../engine/graph-builder.js';
import type { BuiltModel } from '../engine/sessions.js';
import { MiStudioError } from '../errors.js';
import type { ModelConfig } from './config.js';
import { hookOutputName, interventionInputNames, type HookPlan, type InterventionSlot } from './hooks.js';
import { quantBits, type Precision } from './precision.js';
import { blockIndicator, blocksPerRow, quantizeBlockwise, type MatrixLayout, type QuantBits, type QuantBlockSize } from './quantize.js';
import { transpose2d, type HalfWeight, type PreparedWeight, type WeightStore } from './weight-store.js';

export type LogitsMode = 'all' | 'last' | 'none';

export interface GraphOptions {
  plan: HookPlan;
  /** Run blocks [0, stopAtLayer) only (TransformerLens `stop_at_layer`); no final norm or logits. */
  stopAtLayer?: number;
  logits: LogitsMode;
  /** Past key/value inputs and present outputs per layer, for incremental decoding. */
  kvCache: boolean;
  /**
   * Fused kernels where no hook needs what they hide: ONNX Attention (unless hook_pattern is
   * wanted), RotaryEmbedding, and Skip(Simplified)LayerNormalization (unless the residual sum is
   * intervened on). The plain path computes the same with elementary operators.
   */
  fused: boolean;
  /** Precision of Linear weights and embedding tables (see precision.ts). */
  precision: Precision;
  /** Quantization block size for int8/int4. */
  quantBlockSize: QuantBlockSize;
}

/** A Linear weight as a checkpoint holds it, float32: `outIn` [out, in] (Hugging Face) or `inOut` [in, out] (GPT-2 Conv1D). */
export interface LinearSource {
  data: Float32Array;
  out: number;
  in: number;
  layout: MatrixLayout;
}

/** A Linear weight in the graph: a float32 [in, out] MatMul operand, or MatMulNBits inputs. */
export type LinearWeight =
  | { kind: 'dense'; w: Value }
  | { kind: 'nbits'; b: Value; scales: Value; zeroPoints: Value; offsets: Value; k: number; n: number; bits: QuantBits; blockSize: number };

/** An embedding table [rows, width] in the graph, float32 or float16. */
export interface EmbeddingTable {
  table: Value;
  half: boolean;
}

export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const POSITION_IDS = 'position_ids';
export const LOGITS = 'logits';
export const pastNames = (layer: number) => ({ key: `past_key_${layer}`, value: `past_value_${layer}` });
export const presentNames = (layer: number) => ({ key: `present_key_${layer}`, value: `present_value_${layer}` });

/** MLP activations `ForwardGraph.activation` implements (config.json spelling). */
export const SUPPORTED_ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'relu', 'silu', 'swish'] as const;

/** Additive attention bias for masked keys: the most negative float32, as transformers' eager path uses. */
const MASKED = -3.4028234663852886e38;

export class ForwardGraph {
  /** Opset 23: the ONNX Attention, RotaryEmbedding and RMSNormalization operators. */
  readonly g = new GraphBuilder({ opset: 23 });
  readonly inputIds: Value;
  readonly attentionMask: Value;
  readonly positionIds: Value;
  /** Number of blocks the graph runs. */
  readonly layers: number;
  private readonly weights = new Map<string, Value>();
  private readonly linears = new Map<string, LinearWeight>();
  private readonly tables = new Map<string, EmbeddingTable>();
  private readonly biases = new Map<number, Value>();
  private readonly indicators = new Map<string, Value>();

  constructor(readonly cfg: ModelConfig, readonly store: WeightStore, readonly options: GraphOptions) {
    this.layers = options.stopAtLayer ?? cfg.nLayers;
    this.inputIds = this.g.input(INPUT_IDS, 'int64', ['batch', 'tokens']);
    this.attentionMask = this.g.input(ATTENTION_MASK, 'int64', ['batch', 'keys']);
    this.positionIds = this.g.input(POSITION_IDS, 'int64', ['batch', 'tokens']);
  }

  get runsHead(): boolean {
    return this.options.stopAtLayer === undefined;
  }

  /** Whether a hook's tensor is cached or intervened on (so fused kernels must not hide it). */
  needs(hook: string): boolean {
    return this.options.plan.cache.has(hook) || this.options.plan.interventions.has(hook);
  }

  /** A prepared weight as an initializer, shared by every use within this graph. */
  weight(key: string, make: () => PreparedWeight): Value {
    let v = this.weights.get(key);
    if (!v) {
      const w = this.store.get(key, make);
      v = this.g.externalInitializer(key.replace(/[^A-Za-z0-9_.]/g, '_'), { type: 'float32', dims: w.dims, data: w.data });
      this.weights.set(key, v);
    }
    return v;
  }

  /**
   * A Linear weight at the graph's precision, prepared once per model: float32 [in, out], float16
   * widened by a Cast, or quantized blockwise for MatMulNBits (to `quantizedBits` if given).
   */
  linearWeight(key: string, make: () => LinearSource, quantizedBits?: QuantBits): LinearWeight {
    let lw = this.linears.get(key);
    if (lw) return lw;
    const { precision, quantBlockSize } = this.options;
    const bits = quantBits(precision) && (quantizedBits ?? quantBits(precision));
    const name = key.replace(/[^A-Za-z0-9_.]/g, '_');
    if (bits) {
      const q = this.store.get(`${key}@int${bits}/${quantBlockSize}`, () => {
        const src = make();
        return quantizeBlockwise(src.data, src.out, src.in, src.layout, bits, quantBlockSize);
      });
      const g = this.g;
      const nb = q.scales.length / q.n;
      lw = {
        kind: 'nbits',
        b: g.externalInitializer(`${name}_q`, { type: 'uint8', dims: [q.n, nb, (q.blockSize * bits) / 8], data: q.data }),
        scales: g.externalInitializer(`${name}_scales`, { type: 'float32', dims: [q.scales.length], data: q.scales }),
        zeroPoints: g.externalInitializer(`${name}_zp`, { type: 'uint8', dims: [q.zeroPoints.length], data: q.zeroPoints }),
        offsets: g.externalInitializer(`${name}_offsets`, { type: 'float32', dims: [nb, q.n], data: q.offsets }),
        k: q.k,
        n: q.n,
        bits,
        blockSize: q.blockSize,
      };
    } else {
      const inOut = (src: LinearSource) => (src.layout === 'inOut' ? src.data : transpose2d(src.data, src.out, src.in));
      if (precision === 'f16') {
        const h = this.store.get(`${key}@f16`, (): HalfWeight => {
          const src = make();
          return { data: float32ToHalfArray(inOut(src)), dims: [src.in, src.out] };
        });
        lw = { kind: 'dense', w: this.g.op('Cast', [this.g.externalInitializer(name, { type: 'float16', dims: h.dims, data: h.data })], { to: 1 /* FLOAT */ }) };
      } else {
        const w = this.store.get(key, (): PreparedWeight => {
          const src = make();
          return { data: inOut(src), dims: [src.in, src.out] };
        });
        lw = { kind: 'dense', w: this.g.externalInitializer(name, { type: 'float32', dims: w.dims, data: w.data }) };
      }
    }
    this.linears.set(key, lw);
    return lw;
  }

  /** An embedding table [rows, width]: float32 at f32 precision, float16 otherwise. */
  embeddingTable(key: string, make: () => PreparedWeight): EmbeddingTable {
    let t = this.tables.get(key);
    if (t) return t;
    const name = key.replace(/[^A-Za-z0-9_.]/g, '_');
    if (this.options.precision === 'f32') {
      t = { table: this.weight(key, make), half: false };
    } else {
      const h = this.store.get(`${key}@f16`, (): HalfWeight => {
        const w = make();
        return { data: float32ToHalfArray(w.data), dims: w.dims };
      });
      t = { table: this.g.externalInitializer(name, { type: 'float16', dims: h.dims, data: h.data }), half: true };
    }
    this.tables.set(key, t);
    return t;
  }

  /**
   * An untied unembedding (lm_head) [V, D] in Hugging Face layout: a Linear weight, quantized to
   * 8 bits at int4 too — the output layer is the most sensitive to rounding. (A tied unembedding
   * reads the embedding table itself.)
   */
  unembeddingWeight(key: string, make: () => LinearSource): LinearWeight {
    return this.linearWeight(key, make, 8);
  }

  /** Rows of an embedding table for int64 indices [B, T] → float32 [B, T, width]. */
  gatherRows(t: EmbeddingTable, indices: Value): Value {
    const rows = this.g.op('Gather', [t.table, indices], { axis: 0 });
    return t.half ? this.g.op('Cast', [rows], { to: 1 /* FLOAT */ }) : rows;
  }

  // ---- hooks ------------------------------------------------------------------------------------

  /**
   * A hook point: applies the hook's interventions in order, then caches the result when asked.
   * `positionAxis` is the token axis the interventions' `positions` select on; `rank` the tensor's.
   */
  hook(name: string, x: Value, rank: number, positionAxis = 1): Value {
    let v = x;
    for (const slot of this.options.plan.interventions.get(name) ?? []) v = this.intervene(v, slot, rank, positionAxis);
    if (this.options.plan.cache.has(name)) this.g.output(v, hookOutputName(name), 'float32');
    return v;
  }

  private intervene(x: Value, slot: InterventionSlot, rank: number, positionAxis: number): Value {
    const g = this.g;
    const names = interventionInputNames(slot.index);
    let changed: Value;
    if (slot.op === 'zero') {
      changed = g.op('Expand', [g.constFloat(0), g.op('Shape', [x])]);
    } else {
      const dims = Array.from({ length: slot.valueRank }, (_, i) => `intervention_${slot.index}_d${i}`);
      const value = g.input(names.value, 'float32', dims);
      changed = slot.op === 'add' ? g.op('Add', [x, value]) : g.op('Expand', [value, g.op('Shape', [x])]);
    }
    if (!slot.hasPositions) return changed;
    const maskDims = Array.from({ length: rank }, (_, i) => (i === positionAxis ? 'tokens' : 1));
    const mask = g.input(names.mask, 'bool', maskDims);
    return g.op('Where', [mask, changed, x]);
  }

  // ---- attention ----------------------------------------------------------------------------------

  /**
   * [B, 1, T, S] additive bias: 0 where a query may attend a key (causal, not padding, and with a
   * sliding `window`, at most window - 1 indices back), else MASKED.
   */
  attentionBias(window?: number): Value {
    const cached = this.biases.get(window ?? 0);
    if (cached) return cached;
    const g = this.g;
    const zero = g.constInt64(0);
    const one = g.constInt64(1);
    const s = g.op('Gather', [g.op('Shape', [this.attentionMask]), one], { axis: 0 }); // scalar S
    const t = g.op('Gather', [g.op('Shape', [this.inputIds]), one], { axis: 0 }); // scalar T
    const keyPos = g.op('Unsqueeze', [g.op('Range', [zero, s, one]), g.constInt64([0])]); // [1, S]
    const queryPos = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [s, t]), s, one]), g.constInt64([1])]); // [T, 1]: queries follow the past
    let visible = g.op('LessOrEqual', [keyPos, queryPos]); // [T, S]
    if (window !== undefined) visible = g.op('And', [visible, g.op('Less', [g.op('Sub', [queryPos, keyPos]), g.constInt64(window)])]);
    const keep = g.op('Unsqueeze', [g.op('Cast', [this.attentionMask], { to: 9 /* BOOL */ }), g.constInt64([1, 2])]); // [B, 1, 1, S]
    const allowed = g.op('And', [visible, keep]); // [B, 1, T, S]
    const bias = g.op('Where', [allowed, g.constFloat(0), g.constFloat(MASKED)], {}, { name: window === undefined ? 'attention_bias' : `attention_bias_w${window}` });
    this.biases.set(window ?? 0, bias);
    return bias;
  }

  /**
   * Scaled dot-product attention with hooks `attn.hook_pattern` and `attn.hook_z`.
   * q [B, T, H, dh] (rotated), k/v [B, T, K, dh] → z [B, T, H, dh] after the z hook.
   * With a KV cache, this layer's past keys/values [B, P, K*dh] are prepended and the presents
   * [B, S, K*dh] are outputs (the layout the fused kernel reads, so no transposes).
   */
  attention(layer: number, q: Value, k: Value, v: Value, scale: number, options: { window?: number | null; softcap?: number } = {}): Value {
    const window = options.window ?? undefined;
    const g = this.g;
    const { nHeads: H, nKvHeads: K, dHead: dh } = this.cfg;
    let k3 = g.op('Reshape', [k, g.constInt64([0, 0, K * dh])]); // [B, T, K*dh]
    let v3 = g.op('Reshape', [v, g.constInt64([0, 0, K * dh])]);
    if (this.options.kvCache) {
      const past = pastNames(layer), present = presentNames(layer);
      k3 = g.op('Concat', [g.input(past.key, 'float32', ['batch', 'past', K * dh]), k3], { axis: 1 }); // [B, S, K*dh]
      v3 = g.op('Concat', [g.input(past.value, 'float32', ['batch', 'past', K * dh]), v3], { axis: 1 });
      g.output(k3, present.key, 'float32');
      g.output(v3, present.value, 'float32');
    }
    const patternHook = `blocks.${layer}.attn.hook_pattern`;
    const zHook = `blocks.${layer}.attn.hook_z`;
    // Soft-capping must act before the mask (transformers); the ONNX operator caps after adding it.
    if (this.options.fused && !this.needs(patternHook) && options.softcap === undefined) {
      // ONNX Attention (opset 23): grouped-query heads natively, the additive mask as attn_mask.
      const q3 = g.op('Reshape', [q, g.constInt64([0, 0, H * dh])]);
      const z = g.op('Attention', [q3, k3, v3, this.attentionBias(window)], { q_num_heads: H, kv_num_heads: K, scale: { float: scale } }); // [B, T, H*dh]
      return this.hook(zHook, g.op('Reshape', [z, g.constInt64([0, 0, H, dh])]), 4);
    }
    const heads = (x: Value, n: number) => g.op('Transpose', [g.op('Reshape', [x, g.constInt64([0, 0, n, dh])])], { perm: [0, 2, 1, 3] }); // [B, n, S, dh]
    const qh = g.op('Transpose', [q], { perm: [0, 2, 1, 3] }); // [B, H, T, dh]
    let kh = heads(k3, K), vh = heads(v3, K);
    if (H !== K) {
      kh = this.expandKvHeads(kh);
      vh = this.expandKvHeads(vh);
    }
    let scores = g.op('Mul', [g.op('MatMul', [qh, g.op('Transpose', [kh], { perm: [0, 1, 3, 2] })]), g.constFloat(scale)]); // [B, H, T, S]
    if (options.softcap !== undefined) scores = this.softcap(scores, options.softcap);
    const probs = this.hook(patternHook, g.op('Softmax', [g.op('Add', [scores, this.attentionBias(window)])], { axis: -1 }), 4, 2);
    const z = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] }); // [B, T, H, dh]
    return this.hook(zHook, z, 4);
  }

  /** Grouped-query attention: [B, K, S, dh] → [B, H, S, dh], query head h reading kv head floor(h / (H / K)) as repeat_kv does. */
  private expandKvHeads(x: Value): Value {
    const g = this.g;
    const { nHeads: H, nKvHeads: K, dHead: dh } = this.cfg;
    const grouped = g.op('Expand', [g.op('Unsqueeze', [x, g.constInt64([2])]), g.constInt64([1, 1, H / K, 1, 1])]); // [B, K, H/K, S, dh]
    return g.op('Reshape', [grouped, g.constInt64([0, H, -1, dh])]);
  }

  // ---- shared pieces --------------------------------------------------------------------------------

  /** x [.., in] @ W [in, out] (+ b). */
  linear(x: Value, w: Value | LinearWeight, b?: Value): Value {
    const g = this.g;
    let y: Value;
    if (!('kind' in w)) y = g.op('MatMul', [x, w]);
    else if (w.kind === 'dense') y = g.op('MatMul', [x, w.w]);
    else {
      y = g.op('MatMulNBits', [x, w.b, w.scales, w.zeroPoints], { K: w.k, N: w.n, bits: w.bits, block_size: w.blockSize }, { domain: 'com.microsoft' });
      // the blocks' real zero points: + Σ_b (Σ_{k in b} x_k) · offset_b (quantize.ts)
      const blockSums = g.op('MatMul', [x, this.blockIndicator(w.k, w.blockSize)]); // [.., nBlocks]
      y = g.op('Add', [y, g.op('MatMul', [blockSums, w.offsets])]);
    }
    return b ? g.op('Add', [y, b]) : y;
  }

  /** The [K, nBlocks] block indicator of quantize.ts, one per (K, block size) in the graph. */
  private blockIndicator(k: number, blockSize: number): Value {
    const key = `${k}/${blockSize}`;
    let e = this.indicators.get(key);
    if (!e) {
      e = this.g.externalInitializer(`block_indicator_${k}_${blockSize}`, { type: 'float32', dims: [k, blocksPerRow(k, blockSize)], data: blockIndicator(k, blockSize) });
      this.indicators.set(key, e);
    }
    return e;
  }

  /** cap · tanh(x / cap) (Gemma 2 soft-capping). */
  softcap(x: Value, cap: number): Value {
    const g = this.g;
    return g.op('Mul', [g.op('Tanh', [g.op('Div', [x, g.constFloat(cap)])]), g.constFloat(cap)]);
  }

  /** [B, T, n*dh] → [B, T, n, dh] */
  splitHeads(x: Value, heads: number): Value {
    return this.g.op('Reshape', [x, this.g.constInt64([0, 0, heads, this.cfg.dHead])]);
  }

  /** [B, T, n, dh] → [B, T, n*dh] */
  mergeHeads(x: Value): Value {
    return this.g.op('Reshape', [x, this.g.constInt64([0, 0, -1])]);
  }

  /** The MLP activation named in config.json (`hidden_act` / `activation_function`). */
  activation(x: Value): Value {
    const g = this.g;
    switch (this.cfg.activation) {
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_fast':
        return g.op('Gelu', [x], { approximate: 'tanh' });
      case 'gelu':
        return g.op('Gelu', [x]);
      case 'relu':
        return g.op('Relu', [x]);
      case 'silu':
      case 'swish':
        return g.op('Mul', [x, g.op('Sigmoid', [x])]);
      default:
        throw new MiStudioError('UNSUPPORTED', `activation '${this.cfg.activation}' is not supported`, { field: 'hidden_act', hint: `supported: ${SUPPORTED_ACTIVATIONS.join(', ')}` });
    }
  }

  /** LayerNorm (with bias) or RMSNorm (bias undefined) over the last axis. */
  norm(x: Value, w: Value, b?: Value): Value {
    const eps = { float: this.cfg.normEps };
    return b
      ? this.g.op('LayerNormalization', [x, w, b], { axis: -1, epsilon: eps })
      : this.g.op('SimplifiedLayerNormalization', [x, w], { axis: -1, epsilon: eps });
  }

  /**
   * resid + delta, through the hooks that sit on the sum (e.g. hook_resid_post of one block and
   * hook_resid_pre of the next), then the next norm (absent after the last block run). With fused
   * kernels and no intervention on those hooks, one Skip(Simplified)LayerNormalization does both
   * and still yields the sum for caching.
   */
  addNorm(resid: Value, delta: Value, hooks: readonly string[], norm?: { w: Value; b?: Value }): { resid: Value; normed?: Value } {
    const g = this.g;
    const intervened = hooks.some((h) => this.options.plan.interventions.has(h));
    if (norm && this.options.fused && !intervened) {
      const eps = { float: this.cfg.normEps };
      const [normed, , , sum] = norm.b
        ? g.opMulti('SkipLayerNormalization', [resid, delta, norm.w, norm.b], 4, { epsilon: eps }, { domain: 'com.microsoft' })
        : g.opMulti('SkipSimplifiedLayerNormalization', [resid, delta, norm.w], 4, { epsilon: eps }, { domain: 'com.microsoft' });
      for (const h of hooks) this.hook(h, sum, 3);
      return { resid: sum, normed };
    }
    let sum = g.op('Add', [resid, delta]);
    for (const h of hooks) sum = this.hook(h, sum, 3);
    return { resid: sum, normed: norm ? this.norm(sum, norm.w, norm.b) : undefined };
  }

  /**
   * The final norm with hook `ln_final.hook_normalized` (normalized, before the norm's weight and
   * bias, as in TransformerLens), then the logits.
   */
  finalNormAndUnembed(x: Value, w: Value, b: Value | undefined, unembedding: EmbeddingTable | LinearWeight): void {
    const out = this.finalNorm(x, w, b);
    if (this.options.logits !== 'none') this.unembed(out, unembedding);
  }

  /** The final norm, through `ln_final.hook_normalized` (before the weight and bias) when it is wanted. */
  finalNorm(x: Value, w: Value, b: Value | undefined): Value {
    const g = this.g;
    const hookName = 'ln_final.hook_normalized';
    if (!this.needs(hookName)) return this.norm(x, w, b);
    const ones = g.constFloat(new Array(this.cfg.dModel).fill(1));
    const normalized = this.hook(hookName, this.norm(x, ones, b ? g.constFloat(new Array(this.cfg.dModel).fill(0)) : undefined), 3);
    const out = g.op('Mul', [normalized, w]);
    return b ? g.op('Add', [out, b]) : out;
  }

  /**
   * Logits [B*T, V] (or [B, V] for 'last') from the final hidden state [B, T, width], through a tied
   * embedding table [V, D] or an unembedding Linear weight, soft-capped when the config says so.
   * The output stays 2-D: reshaping a graph output would copy it (200 MB for 8×128 tokens of a
   * 49k vocabulary); the caller sets the [B, T, V] shape.
   */
  unembed(x: Value, unembedding: EmbeddingTable | LinearWeight, bias?: Value, width = this.cfg.dModel): Value {
    const g = this.g;
    const h = this.options.logits === 'last' ? g.op('Gather', [x, g.constInt64(-1)], { axis: 1 }) : x; // [B, D] or [B, T, D]
    const flat = g.op('Reshape', [h, g.constInt64([-1, width])]);
    let logits: Value;
    if ('table' in unembedding) {
      // Gemm with transB reads the [V, D] table as stored, so tied embeddings need no transposed copy.
      const table = unembedding.half ? g.op('Cast', [unembedding.table], { to: 1 /* FLOAT */ }) : unembedding.table;
      logits = g.op('Gemm', bias ? [flat, table, bias] : [flat, table], { transB: 1 });
    } else {
      logits = this.linear(flat, unembedding, bias);
    }
    if (this.cfg.finalSoftcap !== undefined) logits = this.softcap(logits, this.cfg.finalSoftcap);
    g.output(logits, LOGITS, 'float32');
    return logits;
  }

  /** Serializes the graph; weights travel as in-memory external data. */
  finish(): BuiltModel {
    return { model: this.g.build(`mistudio ${this.cfg.architecture}`), externalData: this.g.externalData() };
  }
}
