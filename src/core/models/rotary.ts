/**
 * Rotary position embeddings (RoPE) as transformers computes them: inverse frequencies from
 * `rope_theta` and `rope_scaling` (linear, llama3), cos/sin from the position ids inside the graph,
 * and the non-interleaved `rotate_half` rotation.
 */
import type { Value } from '../engine/graph-builder.js';
import { MiStudioError } from '../errors.js';
import type { ConfigReader, RopeConfig, RopeScaling } from './config.js';
import type { ForwardGraph } from './forward-graph.js';

/** Reads `rope_scaling` from config.json; undefined for plain RoPE. */
export function readRopeScaling(c: ConfigReader): RopeScaling | undefined {
  const raw = c.raw.rope_scaling as Record<string, unknown> | null | undefined;
  if (!raw) return undefined;
  const type = (raw.rope_type ?? raw.type) as string;
  const num = (k: string) => {
    const v = raw[k];
    if (typeof v !== 'number') throw c.invalid(`rope_scaling.${k}`, 'a number', v);
    return v;
  };
  if (type === 'default') return undefined;
  if (type === 'linear') return { type, factor: num('factor') };
  if (type === 'llama3') {
    return { type, factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'), originalMaxPositions: num('original_max_position_embeddings') };
  }
  throw new MiStudioError('UNSUPPORTED', `rope_scaling type '${type}' is not supported`, { file: c.origin, field: 'rope_scaling.rope_type', hint: 'supported: default, linear, llama3' });
}

/** inv_freq[i] = 1 / theta^(2i/dim), adjusted by the scaling rule; float32 like transformers. */
export function ropeInverseFrequencies(rope: RopeConfig): Float32Array {
  const half = rope.dim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(Math.pow(rope.theta, Math.fround((2 * i) / rope.dim))));
  const s = rope.scaling;
  if (!s) return inv;
  if (s.type === 'linear') return inv.map((f) => f / s.factor);
  // llama3: long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / s.factor;
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

export interface RotaryTables {
  cos: Value;
  sin: Value;
  /** Rotated features per head (the first `dim` of dHead). */
  dim: number;
}

/**
 * cos and sin for the graph's position ids, shared by every layer using `rope` (default the
 * model's): [B, T, dim/2] for the fused RotaryEmbedding operator, [B, T, 1, dim] (both halves) for
 * the plain rotation.
 */
export function rotaryTables(fg: ForwardGraph, rope: RopeConfig = fg.cfg.rope!): RotaryTables {
  const g = fg.g;
  const inv = g.constFloat(Array.from(ropeInverseFrequencies(rope))); // [dim/2]
  const pos = g.op('Unsqueeze', [g.op('Cast', [fg.positionIds], { to: 1 /* FLOAT */ }), g.constInt64([2])]); // [B, T, 1]
  const freqs = g.op('Mul', [pos, inv]); // [B, T, dim/2], float32 products as transformers computes them
  const angles = fg.options.fused ? freqs : g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }), g.constInt64([2])]);
  return { cos: g.op('Cos', [angles], {}, { name: 'rope_cos' }), sin: g.op('Sin', [angles], {}, { name: 'rope_sin' }), dim: rope.dim };
}

/**
 * x·cos + rotate_half(x)·sin on the first `tables.dim` features of x [B, T, n, dh] (the rest pass
 * through, as transformers' partial rotary does); rotate_half(x) = concat(-x2, x1).
 */
export function applyRotary(fg: ForwardGraph, x: Value, heads: number, tables: RotaryTables): Value {
  const g = fg.g;
  const dh = fg.cfg.dHead;
  const dim = tables.dim;
  if (fg.options.fused) {
    const x3 = g.op('Reshape', [x, g.constInt64([0, 0, heads * dh])]);
    const attrs: Record<string, number> = { num_heads: heads, interleaved: 0 };
    if (dim < dh) attrs.rotary_embedding_dim = dim;
    const rotated = g.op('RotaryEmbedding', [x3, tables.cos, tables.sin], attrs);
    return g.op('Reshape', [rotated, g.constInt64([0, 0, heads, dh])]);
  }
  const [rot, pass] = dim < dh ? g.opMulti('Split', [x, g.constInt64([dim, dh - dim])], 2, { axis: -1 }) : [x, undefined];
  const [x1, x2] = g.opMulti('Split', [rot, g.constInt64([dim / 2, dim / 2])], 2, { axis: -1 });
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
  const out = g.op('Add', [g.op('Mul', [rot, tables.cos]), g.op('Mul', [rotated, tables.sin])]);
  return pass ? g.op('Concat', [out, pass], { axis: -1 }) : out;
}
