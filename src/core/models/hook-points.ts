/**
 * Hook points with symbolic shapes, as the architecture viewer and `mistudio models inspect --json`
 * show them: batch and sequence axes by name (`batch`, `pos`, `key_pos`), widths as numbers, e.g.
 * `blocks.0.attn.hook_q` → `['batch', 'pos', 4, 16]`. Shapes come from the same `hookShape` that
 * sizes interventions, so the listing cannot drift from what `model.run` returns.
 */
import { hookShape } from './architectures/index.js';
import type { ModelConfig } from './config.js';

export type SymbolicDim = number | 'batch' | 'pos' | 'key_pos';

export interface HookPoint {
  name: string;
  /** e.g. ['batch', 'pos', 64]; attention patterns are ['batch', heads, 'pos', 'key_pos']. */
  shape: SymbolicDim[];
  /** Block index, or null for hooks outside the blocks (embeddings, final norm). */
  layer: number | null;
}

// Sentinels passed as B, T, S: real widths are positive, so a negative value can only be an axis.
const AXES = new Map<number, SymbolicDim>([[-1, 'batch'], [-2, 'pos'], [-3, 'key_pos']]);

export function hookPoints(config: ModelConfig, hookNames: readonly string[]): HookPoint[] {
  return hookNames.map((name) => {
    const m = /^blocks\.(\d+)\./.exec(name);
    return {
      name,
      shape: hookShape(config, name, -1, -2, -3).map((d) => AXES.get(d) ?? d),
      layer: m ? Number(m[1]) : null,
    };
  });
}

/** The concrete shape of a hook point for B sequences of T tokens (S keys, default T). */
export function concreteShape(shape: readonly SymbolicDim[], B: number, T: number, S = T): number[] {
  return shape.map((d) => (d === 'batch' ? B : d === 'pos' ? T : d === 'key_pos' ? S : d));
}
