/**
 * Terse named ops over GraphBuilder for the SAE graphs, so the hand-derived backward passes read
 * like the maths in their comments. Shapes in comments: B batch rows, d input width, S latents.
 */
import type { GraphBuilder, Value } from '../engine/graph-builder.js';

const FLOAT = 1;

export class Ops {
  private readonly floats = new Map<number, Value>();

  constructor(readonly g: GraphBuilder) {}

  /** A float32 scalar constant (shared per value). */
  f(v: number): Value {
    let c = this.floats.get(v);
    if (!c) {
      c = this.g.constFloat(v);
      this.floats.set(v, c);
    }
    return c;
  }
  /** A 1-D int64 constant (axes, shapes, indices). */
  ints(values: readonly number[]): Value {
    return this.g.constInt64(values);
  }

  add(a: Value, b: Value): Value { return this.g.op('Add', [a, b]); }
  sub(a: Value, b: Value): Value { return this.g.op('Sub', [a, b]); }
  mul(a: Value, b: Value): Value { return this.g.op('Mul', [a, b]); }
  div(a: Value, b: Value): Value { return this.g.op('Div', [a, b]); }
  neg(a: Value): Value { return this.g.op('Neg', [a]); }
  sqrt(a: Value): Value { return this.g.op('Sqrt', [a]); }
  exp(a: Value): Value { return this.g.op('Exp', [a]); }
  relu(a: Value): Value { return this.g.op('Relu', [a]); }
  min(a: Value, b: Value): Value { return this.g.op('Min', [a, b]); }
  /** Boolean a > b. */
  gt(a: Value, b: Value): Value { return this.g.op('Greater', [a, b]); }
  lt(a: Value, b: Value): Value { return this.g.op('Less', [a, b]); }
  and(a: Value, b: Value): Value { return this.g.op('And', [a, b]); }
  where(cond: Value, a: Value, b: Value): Value { return this.g.op('Where', [cond, a, b]); }
  /** bool → float32 0/1. */
  float(a: Value): Value { return this.g.op('Cast', [a], { to: FLOAT }); }
  identity(a: Value): Value { return this.g.op('Identity', [a]); }

  matmul(a: Value, b: Value): Value { return this.g.op('MatMul', [a, b]); }
  /** 2-D GEMM with optional transposes (MLAS reads transposed operands in place). */
  gemm(a: Value, b: Value, transA = 0, transB = 0): Value {
    return this.g.op('Gemm', [a, b], { transA, transB });
  }

  sum(x: Value, axes: readonly number[], keepdims = false): Value {
    return this.g.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  /** Sum of every element, as a scalar. */
  sumAll(x: Value): Value { return this.g.op('ReduceSum', [x], { keepdims: 0 }); }
  mean(x: Value, axes: readonly number[], keepdims = false): Value {
    return this.g.op('ReduceMean', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  minAll(x: Value): Value { return this.g.op('ReduceMin', [x], { keepdims: 0 }); }
  /** Sum of squares of every element, as a scalar. */
  sumSquares(x: Value): Value { return this.g.op('ReduceSumSquare', [x], { keepdims: 0 }); }
  /** Euclidean norm of each row of a 2-D tensor: [S, d] → [S]. */
  rowNorms(x: Value): Value { return this.g.op('ReduceL2', [x, this.ints([1])], { keepdims: 0 }); }

  unsqueeze(x: Value, axes: readonly number[]): Value { return this.g.op('Unsqueeze', [x, this.ints(axes)]); }
  squeeze(x: Value, axes: readonly number[]): Value { return this.g.op('Squeeze', [x, this.ints(axes)]); }
  reshape(x: Value, shape: readonly number[]): Value { return this.g.op('Reshape', [x, this.ints(shape)]); }
  concat(xs: Value[], axis: number): Value { return this.g.op('Concat', xs, { axis }); }

  gather(x: Value, indices: Value, axis = 0): Value { return this.g.op('Gather', [x, indices], { axis }); }
  gatherElements(x: Value, indices: Value, axis: number): Value { return this.g.op('GatherElements', [x, indices], { axis }); }
  /** data with rows (slices) at `indices` [N, 1] combined with `updates` [N, ...]. */
  scatterND(data: Value, indices: Value, updates: Value, reduction: 'none' | 'add' = 'none'): Value {
    return this.g.op('ScatterND', [data, indices, updates], { reduction });
  }
  scatterElements(data: Value, indices: Value, updates: Value, axis: number, reduction: 'none' | 'add' = 'none'): Value {
    return this.g.op('ScatterElements', [data, indices, updates], { axis, reduction });
  }
  /** float32 zeros of a constant shape. */
  zeros(shape: readonly number[]): Value {
    return this.g.op('ConstantOfShape', [this.ints(shape)], { value: { tensor: { type: 'float32', dims: [1], data: new Float32Array([0]) } } });
  }
  /** float32 zeros shaped like x (x's values are not read). */
  zerosLike(x: Value): Value {
    return this.g.op('ConstantOfShape', [this.g.op('Shape', [x])], { value: { tensor: { type: 'float32', dims: [1], data: new Float32Array([0]) } } });
  }
  /** Largest `k` (an int64 [1] value) along `axis`: [values, int64 indices]. */
  topk(x: Value, k: Value, axis = -1): [Value, Value] {
    const [v, i] = this.g.opMulti('TopK', [x, k], 2, { axis, largest: 1, sorted: 0 });
    return [v, i];
  }
}
