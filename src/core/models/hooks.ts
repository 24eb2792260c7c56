/**
 * Hook points (TransformerLens names) and interventions. A cached hook is an extra graph output;
 * an intervention is spliced into the graph at its hook, with its value and position mask as extra
 * graph inputs, so it takes effect in the same forward pass.
 */
import { MiStudioError } from '../errors.js';

/** A float32 tensor in row-major order. */
export interface HookTensor {
  data: Float32Array;
  shape: number[];
}

interface InterventionBase {
  /** TransformerLens hook name, e.g. `blocks.3.hook_resid_pre`. */
  hook: string;
  /**
   * Token positions to act on (negative counts from the end); all positions when omitted. The
   * position axis is axis 1 (`[B, T, ...]` hooks) or the query axis 2 of `attn.hook_pattern`.
   */
  positions?: number[];
}

/**
 * `zero` sets the activation to 0; `add` adds `value`; `replace` substitutes `value`. `value` must
 * broadcast to the hook's shape (numpy rules): a `[d]` steering vector, a cached `[B, T, d]`
 * activation of another prompt, etc. With `positions`, only those positions change.
 */
export type Intervention =
  | (InterventionBase & { op: 'zero' })
  | (InterventionBase & { op: 'add' | 'replace'; value: HookTensor });

export type InterventionOp = Intervention['op'];

/** What a graph needs to know about an intervention (its data are run-time inputs). */
export interface InterventionSlot {
  index: number;
  hook: string;
  op: InterventionOp;
  /** Rank of the value input; 0 when the op has no value. */
  valueRank: number;
  hasPositions: boolean;
}

/** The hooks a graph exposes and the interventions spliced into it. */
export interface HookPlan {
  cache: ReadonlySet<string>;
  interventions: ReadonlyMap<string, InterventionSlot[]>;
}

export function hookOutputName(hook: string): string {
  return `hook/${hook}`;
}

export function interventionInputNames(index: number): { value: string; mask: string } {
  return { value: `intervention_${index}_value`, mask: `intervention_${index}_mask` };
}

/** The layer a hook belongs to (`blocks.{L}.…`): undefined for embeddings, Infinity for ln_final. */
export function hookLayer(hook: string): number | undefined {
  const m = /^blocks\.(\d+)\./.exec(hook);
  if (m) return Number(m[1]);
  return hook.startsWith('ln_final.') ? Infinity : undefined;
}

/** Levenshtein distance, for suggesting hook names. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The `count` valid names nearest to `name` by edit distance. */
export function nearestNames(name: string, valid: readonly string[], count = 3): string[] {
  return [...valid]
    .map((v) => ({ v, d: editDistance(name, v) }))
    .sort((x, y) => x.d - y.d || x.v.localeCompare(y.v))
    .slice(0, count)
    .map((x) => x.v);
}

/** Throws UNKNOWN_HOOK (listing the nearest valid names) unless every name is a hook of the model. */
export function checkHookNames(names: Iterable<string>, valid: readonly string[], field: string): void {
  const set = new Set(valid);
  for (const name of names) {
    if (!set.has(name)) {
      throw new MiStudioError('UNKNOWN_HOOK', `unknown hook '${name}'`, {
        field,
        hint: `nearest valid hooks: ${nearestNames(name, valid).join(', ')}; model.hookNames() lists all ${valid.length}`,
      });
    }
  }
}

/** Numpy broadcasting check of `value` against `target` (right-aligned, 1 stretches). */
export function broadcastsTo(value: readonly number[], target: readonly number[]): boolean {
  if (value.length > target.length) return false;
  for (let i = 1; i <= value.length; i++) {
    const v = value[value.length - i];
    if (v !== 1 && v !== target[target.length - i]) return false;
  }
  return true;
}
