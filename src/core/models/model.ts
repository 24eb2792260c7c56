/**
 * A loaded language model: normalized config, tokenizer, hook names, and `run`, which executes one
 * forward pass with cached hooks and interventions. Graphs are built once per (hooks,
 * interventions' shape, stop layer, logits mode, KV cache) and their sessions reused.
 */
import * as ort from 'onnxruntime-node';
import { resolveDevice, type Device, type ResolvedDevice } from '../engine/devices.js';
import { defaultThreadCount, digest, SessionCache } from '../engine/sessions.js';
import { i64 } from '../engine/tensors.js';
import { MiStudioError } from '../errors.js';
import { hookNamesFor, hookPositionAxis, hookShape, resolveArchitecture, type Architecture } from './architectures/index.js';
import type { ModelConfig } from './config.js';
import { ATTENTION_MASK, ForwardGraph, INPUT_IDS, LOGITS, POSITION_IDS, pastNames, presentNames, type LogitsMode } from './forward-graph.js';
import { broadcastsTo, checkHookNames, hookLayer, hookOutputName, interventionInputNames, type HookPlan, type HookTensor, type Intervention, type InterventionSlot } from './hooks.js';
import { choosePrecision, estimateMemory, PRECISIONS, weightShapes, type MemoryEstimate, type PrecisionInfo, type PrecisionOptions, type WeightShapes } from './precision.js';
import { createTokenizer, type Tokenizer } from './tokenizer.js';
import { WeightStore } from './weight-store.js';
import type { LoadedModelFiles } from './weights.js';

/** Token ids: equal-length rows, or a flat array with its [B, T] shape. */
export type TokenBatch = readonly (readonly number[])[] | { data: Int32Array | Uint32Array | BigInt64Array | readonly number[]; shape: readonly [number, number] };

/** 1 for real tokens, 0 for padding; same shape as the tokens. Left or right padding both work. */
export type AttentionMask = readonly (readonly number[])[] | { data: Int32Array | Uint8Array | readonly number[]; shape: readonly [number, number] };

export interface RunOptions {
  /** Hook names whose activations to return. */
  cache?: readonly string[];
  interventions?: readonly Intervention[];
  /**
   * Run only blocks [0, stopAtLayer) (TransformerLens `stop_at_layer`): no logits. When logits are
   * not wanted (`logits: 'none'`), the default is to stop after the deepest hook needed.
   */
  stopAtLayer?: number;
  attentionMask?: AttentionMask;
  /** 'all' (default): [B, T, V]; 'last': the last position only, [B, 1, V]; 'none': no logits. */
  logits?: LogitsMode;
}

export interface RunResult {
  logits?: HookTensor;
  cache: Map<string, HookTensor>;
}

export interface ModelOptions extends PrecisionOptions {
  device?: Device;
  /** CPU threads per operator (default MISTUDIO_THREADS or every core). */
  threads?: number;
  /** Use onnxruntime's fused kernels where hooks allow (default true). */
  fused?: boolean;
  /**
   * Graph variants (hook sets, interventions, stop layers) kept as live sessions at once (default
   * 3). Each session holds its own copy of the weights (onnxruntime copies and pre-packs them), so
   * memory is about the prepared weights plus sessions × the session copy (`precision.estimate`).
   */
  maxSessions?: number;
}

/** Per-layer past keys/values [B, P, K*dh] (keys after the rotation) for incremental decoding. */
export interface KvCache {
  keys: ort.Tensor[];
  values: ort.Tensor[];
  /** The attention mask so far [B, P] (1 = real token). */
  mask: number[][];
}

interface Prepared {
  B: number;
  T: number;
  feeds: Record<string, ort.Tensor>;
}

export class Model {
  readonly config: ModelConfig;
  readonly architecture: Architecture;
  readonly source: string;
  readonly format: LoadedModelFiles['format'];
  readonly storedPrecision: string;
  private readonly store: WeightStore;
  private readonly sessions = new SessionCache();
  private readonly sessionKeys = new Set<string>();
  private readonly hooks: string[];
  private readonly shapes: WeightShapes;
  private tokenizerInstance?: Tokenizer;
  /** The weight precision chosen at load (after any fall-back) with its memory estimate. */
  readonly precision: PrecisionInfo;

  private constructor(private readonly files: LoadedModelFiles, readonly device: ResolvedDevice, private readonly options: ModelOptions) {
    const { arch, config } = resolveArchitecture(files.config, configOrigin(files));
    this.architecture = arch;
    this.config = config;
    this.source = files.source;
    this.format = files.format;
    this.storedPrecision = files.storedPrecision;
    this.store = new WeightStore(files.weights);
    this.hooks = hookNamesFor(arch, config);
    this.shapes = weightShapes(config, arch.gatedMlp, arch.learnedPositions);
    this.precision = choosePrecision(this.shapes, options);
  }

  /** The memory estimate of every precision (with this model's quantization block size). */
  memoryEstimates(): MemoryEstimate[] {
    return PRECISIONS.map((p) => estimateMemory(this.shapes, p, this.precision.blockSize));
  }

  /** Bytes of the weights prepared so far for graphs (one copy; onnxruntime sessions hold their own). */
  preparedWeightBytes(): number {
    return this.store.preparedBytes();
  }

  static async create(files: LoadedModelFiles, options: ModelOptions = {}): Promise<Model> {
    return new Model(files, await resolveDevice(options.device), options);
  }

  /** Every hook name, in forward order. */
  hookNames(): string[] {
    return [...this.hooks];
  }

  /** The tokenizer; MISSING_TOKENIZER when the model came without one. */
  get tokenizer(): Tokenizer {
    if (!this.tokenizerInstance) {
      const lookedFor = this.format === 'gguf' ? ['tokenizer.ggml.* metadata'] : ['tokenizer.json', 'tokenizer_config.json'];
      this.tokenizerInstance = createTokenizer(this.files.tokenizer, this.source, lookedFor);
    }
    return this.tokenizerInstance;
  }

  get hasTokenizer(): boolean {
    return this.files.tokenizer !== undefined;
  }

  /** One forward pass: logits and/or cached hook activations, with interventions applied. */
  async run(tokens: TokenBatch, options: RunOptions = {}): Promise<RunResult> {
    const cache = [...new Set(options.cache ?? [])];
    checkHookNames(cache, this.hooks, 'cache');
    const interventions = options.interventions ?? [];
    checkHookNames(interventions.map((i) => i.hook), this.hooks, 'interventions');
    let logits: LogitsMode = options.logits ?? 'all';
    let stopAtLayer = options.stopAtLayer;
    if (stopAtLayer !== undefined) {
      if (!Number.isInteger(stopAtLayer) || stopAtLayer < 0 || stopAtLayer > this.config.nLayers) {
        throw new MiStudioError('INVALID_ARGUMENT', `stopAtLayer must be an integer in [0, ${this.config.nLayers}], got ${stopAtLayer}`, { field: 'stopAtLayer' });
      }
      if (stopAtLayer === this.config.nLayers) stopAtLayer = undefined;
      else logits = 'none';
    } else if (logits === 'none') {
      // Extraction: run only the blocks the hooks need.
      const needed = Math.max(0, ...[...cache, ...interventions.map((i) => i.hook)].map(blocksNeeded));
      if (needed < this.config.nLayers) stopAtLayer = needed;
    }
    if (stopAtLayer !== undefined) {
      for (const h of [...cache, ...interventions.map((i) => i.hook)]) {
        const needed = blocksNeeded(h);
        if (needed > stopAtLayer) {
          throw new MiStudioError('INVALID_ARGUMENT', `hook '${h}' is not computed when stopping at layer ${stopAtLayer}`, {
            field: 'stopAtLayer',
            hint: needed === Infinity ? 'ln_final hooks need the whole model' : `use stopAtLayer >= ${needed}`,
          });
        }
      }
    }
    if (logits === 'none' && cache.length === 0) {
      throw new MiStudioError('INVALID_ARGUMENT', 'nothing to compute: logits are off and no hooks are cached', { field: 'cache' });
    }

    const prepared = this.prepare(tokens, options.attentionMask);
    const slots = this.interventionFeeds(interventions, prepared);
    const plan: HookPlan = { cache: new Set(cache), interventions: groupSlots(slots) };
    const session = await this.session(plan, { stopAtLayer, logits, kvCache: false });
    const out = await session.run(prepared.feeds);
    const result: RunResult = { cache: new Map() };
    if (out[LOGITS]) result.logits = logitsTensor(out[LOGITS], prepared.B, logits === 'last' ? 1 : prepared.T);
    for (const h of cache) result.cache.set(h, toHookTensor(out[hookOutputName(h)]));
    return result;
  }

  /**
   * Incremental decoding: runs `tokens` [B, T] after the cached past (none when `past` is
   * undefined), returns the last position's logits [B, 1, V] and the extended cache.
   */
  async decodeStep(tokens: TokenBatch, past?: KvCache, attentionMask?: AttentionMask): Promise<{ logits: HookTensor; cache: KvCache }> {
    const prepared = this.prepare(tokens, attentionMask, past?.mask);
    const { nLayers, nKvHeads: K, dHead: dh } = this.config;
    for (let l = 0; l < nLayers; l++) {
      const names = pastNames(l);
      prepared.feeds[names.key] = past?.keys[l] ?? new ort.Tensor('float32', new Float32Array(0), [prepared.B, 0, K * dh]);
      prepared.feeds[names.value] = past?.values[l] ?? new ort.Tensor('float32', new Float32Array(0), [prepared.B, 0, K * dh]);
    }
    const session = await this.session({ cache: new Set(), interventions: new Map() }, { stopAtLayer: undefined, logits: 'last', kvCache: true });
    const out = await session.run(prepared.feeds);
    const mask = maskRows(prepared.feeds[ATTENTION_MASK]);
    return {
      logits: logitsTensor(out[LOGITS], prepared.B, 1),
      cache: {
        keys: Array.from({ length: nLayers }, (_, l) => out[presentNames(l).key]),
        values: Array.from({ length: nLayers }, (_, l) => out[presentNames(l).value]),
        mask,
      },
    };
  }

  /** Releases every onnxruntime session (weights prepared for graphs stay until the model is dropped). */
  async release(): Promise<void> {
    this.sessionKeys.clear();
    await this.sessions.release();
  }

  private async session(plan: HookPlan, opts: { stopAtLayer?: number; logits: LogitsMode; kvCache: boolean }): Promise<ort.InferenceSession> {
    const fused = this.options.fused ?? true;
    const key = `${this.config.architecture}|${digest({
      cache: [...plan.cache].sort(),
      interventions: [...plan.interventions.values()].flat().map((s) => [s.hook, s.op, s.valueRank, s.hasPositions]),
      ...opts,
      fused,
    })}`;
    const settings = { device: this.device, intraOpNumThreads: this.options.threads ?? defaultThreadCount() };
    if (!this.sessionKeys.has(key) && this.sessionKeys.size >= (this.options.maxSessions ?? 3)) {
      // Each session holds packed copies of the weights: bound the memory by starting over.
      await this.sessions.release();
      this.sessionKeys.clear();
    }
    this.sessionKeys.add(key);
    return this.sessions.get(key, settings, () => {
      const fg = new ForwardGraph(this.config, this.store, { plan, fused, precision: this.precision.used, quantBlockSize: this.precision.blockSize, ...opts });
      this.architecture.build(fg);
      return fg.finish();
    });
  }

  /** Builds input_ids, attention_mask and position_ids feeds; validates token ids and shapes. */
  private prepare(tokens: TokenBatch, attentionMask?: AttentionMask, pastMask?: number[][]): Prepared {
    const { rows: ids, B, T } = toRows(tokens, 'tokens');
    const V = this.config.vocabSize;
    for (const row of ids) for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new MiStudioError('INVALID_ARGUMENT', `token id ${id} is outside the vocabulary [0, ${V})`, { field: 'tokens' });
    }
    let mask: number[][];
    if (attentionMask) {
      const m = toRows(attentionMask, 'attentionMask');
      if (m.B !== B || m.T !== T) throw new MiStudioError('SHAPE_MISMATCH', `attentionMask is [${m.B}, ${m.T}] but tokens are [${B}, ${T}]`, { field: 'attentionMask' });
      mask = m.rows.map((r) => r.map((v) => (v ? 1 : 0)));
    } else {
      mask = ids.map((r) => r.map(() => 1));
    }
    if (pastMask && pastMask.length !== B) throw new MiStudioError('SHAPE_MISMATCH', `the KV cache holds ${pastMask.length} sequences but tokens have ${B}`, { field: 'tokens' });
    const full = mask.map((r, b) => [...(pastMask?.[b] ?? []), ...r]);
    const P = full[0].length - T;
    // Position ids as `generate` computes them: count of real tokens before, so left padding is invisible.
    const positions = full.map((r) => {
      let seen = 0;
      const pos = r.map((v) => (v ? seen++ : 1));
      return pos.slice(P);
    });
    const maxPos = Math.max(...positions.flat());
    if (!this.config.rope && maxPos >= this.config.maxPositions) {
      throw new MiStudioError('INVALID_ARGUMENT', `sequence position ${maxPos} exceeds the model's ${this.config.maxPositions} positions`, { field: 'tokens', hint: 'truncate the input' });
    }
    return {
      B,
      T,
      feeds: {
        [INPUT_IDS]: i64(ids.flat(), [B, T]),
        [ATTENTION_MASK]: i64(full.flat(), [B, full[0].length]),
        [POSITION_IDS]: i64(positions.flat(), [B, T]),
      },
    };
  }

  private interventionFeeds(interventions: readonly Intervention[], p: Prepared): InterventionSlot[] {
    return interventions.map((iv, index) => {
      const names = interventionInputNames(index);
      const shape = hookShape(this.config, iv.hook, p.B, p.T);
      const axis = hookPositionAxis(iv.hook);
      const hasPositions = iv.positions !== undefined;
      if (!['zero', 'add', 'replace'].includes(iv.op)) {
        throw new MiStudioError('INVALID_ARGUMENT', `unknown intervention op '${(iv as { op: string }).op}'`, { field: `interventions[${index}].op`, hint: 'use zero, add or replace' });
      }
      let valueRank = 0;
      if (iv.op !== 'zero') {
        const v = iv.value;
        if (!v || !(v.data instanceof Float32Array)) throw new MiStudioError('INVALID_ARGUMENT', `intervention '${iv.op}' needs a value {data: Float32Array, shape}`, { field: `interventions[${index}].value` });
        const n = v.shape.reduce((a, b) => a * b, 1);
        if (n !== v.data.length) throw new MiStudioError('SHAPE_MISMATCH', `value has ${v.data.length} elements but shape [${v.shape.join(', ')}]`, { field: `interventions[${index}].value` });
        if (!broadcastsTo(v.shape, shape)) {
          throw new MiStudioError('SHAPE_MISMATCH', `value of shape [${v.shape.join(', ')}] does not broadcast to ${iv.hook} [${shape.join(', ')}]`, { field: `interventions[${index}].value` });
        }
        valueRank = v.shape.length;
        p.feeds[names.value] = new ort.Tensor('float32', v.data, [...v.shape]);
      }
      if (hasPositions) {
        const T = shape[axis];
        const sel = new Uint8Array(T);
        for (const pos of iv.positions!) {
          const i = pos < 0 ? T + pos : pos;
          if (!Number.isInteger(pos) || i < 0 || i >= T) throw new MiStudioError('INVALID_ARGUMENT', `position ${pos} is outside [${-T}, ${T})`, { field: `interventions[${index}].positions` });
          sel[i] = 1;
        }
        const dims = shape.map((d, k) => (k === axis ? T : 1));
        p.feeds[names.mask] = new ort.Tensor('bool', sel, dims);
      }
      return { index, hook: iv.hook, op: iv.op, valueRank, hasPositions };
    });
  }
}

/**
 * How many blocks must run for a hook to be computed: blocks.L.hook_resid_pre is the output of
 * block L-1 (the embedding for L = 0), every other blocks.L hook needs block L, ln_final all.
 */
function blocksNeeded(hook: string): number {
  const layer = hookLayer(hook);
  if (layer === undefined) return 0;
  return hook.endsWith('.hook_resid_pre') ? layer : layer + 1;
}

function configOrigin(files: LoadedModelFiles): string {
  return files.format === 'gguf' ? files.source : `${files.source}/config.json`;
}

function groupSlots(slots: readonly InterventionSlot[]): Map<string, InterventionSlot[]> {
  const m = new Map<string, InterventionSlot[]>();
  for (const s of slots) m.set(s.hook, [...(m.get(s.hook) ?? []), s]);
  return m;
}

function toRows(batch: TokenBatch | AttentionMask, field: string): { rows: number[][]; B: number; T: number } {
  let rows: number[][];
  if (Array.isArray(batch)) {
    rows = (batch as readonly (readonly number[])[]).map((r) => [...r]);
  } else {
    const { data, shape } = batch as { data: ArrayLike<number | bigint>; shape: readonly [number, number] };
    const [B, T] = shape;
    if (B * T !== data.length) throw new MiStudioError('SHAPE_MISMATCH', `${field} has ${data.length} values but shape [${B}, ${T}]`, { field });
    rows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Number(data[b * T + t])));
  }
  const B = rows.length;
  const T = rows[0]?.length ?? 0;
  if (B === 0 || T === 0) throw new MiStudioError('INVALID_ARGUMENT', `${field} is empty`, { field });
  if (rows.some((r) => r.length !== T)) throw new MiStudioError('SHAPE_MISMATCH', `${field} rows have different lengths; pad them and pass an attentionMask`, { field, hint: 'padBatch() pads ragged sequences' });
  return { rows, B, T };
}

function maskRows(t: ort.Tensor): number[][] {
  const [B, S] = t.dims;
  const d = t.data as BigInt64Array;
  return Array.from({ length: B }, (_, b) => Array.from({ length: S }, (_, s) => Number(d[b * S + s])));
}

/** The graph's 2-D logits viewed as [B, T, V] (no copy). */
function logitsTensor(t: ort.Tensor, B: number, T: number): HookTensor {
  return { data: t.data as Float32Array, shape: [B, T, t.dims[1]] };
}

function toHookTensor(t: ort.Tensor): HookTensor {
  return { data: t.data as Float32Array, shape: [...t.dims] };
}

/** Pads ragged sequences to one length; returns tokens and the attention mask. */
export function padBatch(sequences: readonly (readonly number[])[], options: { side?: 'left' | 'right'; padId?: number } = {}): { tokens: number[][]; attentionMask: number[][] } {
  const T = Math.max(...sequences.map((s) => s.length));
  const pad = options.padId ?? 0;
  const left = options.side === 'left';
  const tokens = sequences.map((s) => (left ? [...new Array(T - s.length).fill(pad), ...s] : [...s, ...new Array(T - s.length).fill(pad)]));
  const attentionMask = sequences.map((s) => (left ? [...new Array(T - s.length).fill(0), ...s.map(() => 1)] : [...s.map(() => 1), ...new Array(T - s.length).fill(0)]));
  return { tokens, attentionMask };
}
