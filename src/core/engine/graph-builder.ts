import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { MiStudioError } from '../errors.js';

const { onnx } = onnxProto;

/** Element types the engine uses in graphs (names follow onnxruntime's `Tensor.Type`). */
export type DataType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const ONNX_TYPE: Record<DataType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A symbolic dimension (string, e.g. 'batch') or a fixed size. */
export type Dim = number | string;

/** A named value flowing through the graph (a graph input, initializer or node output). */
export interface Value {
  readonly name: string;
}

/**
 * An attribute value. A plain integral number becomes an INT attribute; wrap floats that may be
 * integral in `{ float: x }` / `{ floats: [...] }` (e.g. Gemm's `alpha: { float: 1 }`).
 */
export type AttributeValue =
  | number
  | string
  | number[]
  | string[]
  | { float: number }
  | { floats: number[] }
  | { tensor: InitializerData }
  | { graph: OnnxTypes.IGraphProto };

export interface InitializerData {
  type: DataType;
  dims: readonly number[];
  /** Raw little-endian bytes, or a typed array of the matching element type. */
  data: ArrayBufferView;
}

/** One in-memory external data file (onnxruntime-node's `SessionOptions.externalData` entry). */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

export interface OpOptions {
  /** Operator domain: '' (ai.onnx) or 'com.microsoft' for onnxruntime contrib ops. */
  domain?: string;
  /** Name prefix for outputs; useful for reading graphs. */
  name?: string;
}

/** The default opset: every op the architectures use at its newest stable form in onnxruntime 1.30. */
export const DEFAULT_OPSET = 21;
const IR_VERSION = 10;

/**
 * Builds an ONNX model in memory. Graph construction is pure TypeScript; the result is a protobuf
 * byte array for `InferenceSession.create`. Names are unique per builder, so building the same
 * architecture twice gives byte-identical models (sessions can be cached by content).
 */
export class GraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly external: ExternalDataFile[] = [];
  private readonly usedNames = new Set<string>();
  private readonly domains = new Set<string>();
  private counter = 0;
  private readonly opset: number;

  constructor(options: { opset?: number } = {}) {
    this.opset = options.opset ?? DEFAULT_OPSET;
  }

  /** A fresh unique name with the given prefix. */
  uniqueName(prefix: string): string {
    let name = prefix;
    while (this.usedNames.has(name)) name = `${prefix}_${++this.counter}`;
    this.usedNames.add(name);
    return name;
  }

  input(name: string, type: DataType, shape: readonly Dim[]): Value {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, shape));
    return { name };
  }

  /** Marks `value` as a graph output under `name` (an Identity is inserted when names differ). */
  output(value: Value, name: string, type: DataType, shape?: readonly Dim[]): void {
    let outName = value.name;
    if (name !== value.name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', input: [value.name], output: [name], name: `${name}_identity` });
      outName = name;
    }
    this.outputs.push(valueInfo(outName, type, shape));
  }

  initializer(name: string, init: InitializerData): Value {
    const unique = this.uniqueName(name);
    this.initializers.push(tensorProto(unique, init));
    return { name: unique };
  }

  /**
   * An initializer whose bytes stay outside the protobuf: the model references an in-memory
   * "file" that `externalData()` hands to the session. Large weights go this way because a
   * protobuf message cannot exceed 2 GB and because it saves copying every weight into the model.
   * The data must stay unchanged until the session has been created.
   */
  externalInitializer(name: string, init: InitializerData): Value {
    const unique = this.uniqueName(name);
    const bytes = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
    const path = `mistudio-external/${this.external.length}`;
    this.external.push({ path, data: bytes });
    this.initializers.push({
      name: unique,
      dataType: ONNX_TYPE[init.type],
      dims: [...init.dims],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(bytes.byteLength) },
      ],
    });
    return { name: unique };
  }

  /** The in-memory files referenced by `externalInitializer`, for `SessionOptions.externalData`. */
  externalData(): ExternalDataFile[] {
    return [...this.external];
  }

  /** A float32 constant (scalar when dims is []). */
  constFloat(values: number | readonly number[], dims?: readonly number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    return this.initializer('c_f', { type: 'float32', dims: dims ?? (typeof values === 'number' ? [] : [arr.length]), data: Float32Array.from(arr) });
  }

  /** An int64 constant (1-D unless dims says otherwise); shapes, axes and indices use these. */
  constInt64(values: number | readonly number[], dims?: readonly number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    return this.initializer('c_i', { type: 'int64', dims: dims ?? (typeof values === 'number' ? [] : [arr.length]), data: BigInt64Array.from(arr.map((v) => BigInt(v))) });
  }

  /** Adds one node with a single output. */
  op(opType: string, inputs: ReadonlyArray<Value | null>, attributes: Record<string, AttributeValue> = {}, options: OpOptions = {}): Value {
    return this.opMulti(opType, inputs, 1, attributes, options)[0];
  }

  /** Adds one node with `outputCount` outputs. A null input is an omitted optional input. */
  opMulti(opType: string, inputs: ReadonlyArray<Value | null>, outputCount: number, attributes: Record<string, AttributeValue> = {}, options: OpOptions = {}): Value[] {
    const base = options.name ?? opType.toLowerCase();
    const outs = Array.from({ length: outputCount }, (_, i) => this.uniqueName(outputCount === 1 ? base : `${base}_o${i}`));
    const domain = options.domain ?? '';
    if (domain) this.domains.add(domain);
    this.nodes.push({
      opType,
      domain,
      name: this.uniqueName(`n_${base}`),
      input: inputs.map((v) => (v ? v.name : '')),
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outs.map((name) => ({ name }));
  }

  /** Serializes the model. Throws if an output or input name is missing. */
  build(docString = ''): Uint8Array {
    if (this.outputs.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'graph has no outputs', { hint: 'call output() before build()' });
    const opsetImport: OnnxTypes.IOperatorSetIdProto[] = [{ domain: '', version: this.opset }];
    for (const d of this.domains) opsetImport.push({ domain: d, version: 1 });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'mistudio',
      docString,
      opsetImport,
      graph: { name: 'mistudio', node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new MiStudioError('INVALID_ARGUMENT', `graph name '${name}' is already used`);
    this.usedNames.add(name);
  }
}

function valueInfo(name: string, type: DataType, shape?: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[type],
        shape: shape ? { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  };
}

function tensorProto(name: string, init: InitializerData): OnnxTypes.ITensorProto {
  const bytes = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
  return { name, dataType: ONNX_TYPE[init.type], dims: [...init.dims], rawData: bytes };
}

function attribute(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') return { name, type: T.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = value as number[];
    return nums.every(Number.isInteger) ? { name, type: T.INTS, ints: nums } : { name, type: T.FLOATS, floats: nums };
  }
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  if ('tensor' in value) return { name, type: T.TENSOR, t: tensorProto(name, value.tensor) };
  return { name, type: T.GRAPH, g: value.graph };
}
