import { MiStudioError } from '../../errors.js';
import type { LoadedModelFiles, WeightSource, WeightTensor } from '../weights.js';
import { mapGpt2 } from './arch-gpt2.js';
import { mapLlama } from './arch-llama.js';
import type { ArchitectureMapping, TensorMapping } from './architecture.js';
import { parseGgufFile, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf-file.js';
import { GgufMetadata } from './metadata.js';
import { codecFor, SUPPORTED_TYPE_NAMES } from './quants/index.js';
import { readTensorFloat32 } from './tensor-reader.js';
import { convertGgufTokenizer } from './tokenizer.js';

export { parseGgufFile, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf-file.js';
export { readTensorFloat32 } from './tensor-reader.js';
export { SUPPORTED_TYPE_NAMES } from './quants/index.js';

const ARCHITECTURES: Record<string, (meta: GgufMetadata) => ArchitectureMapping> = {
  llama: mapLlama,
  gpt2: mapGpt2,
};

function architectureOf(meta: GgufMetadata): string {
  return meta.string('general.architecture');
}

function mapArchitecture(meta: GgufMetadata): ArchitectureMapping {
  const arch = architectureOf(meta);
  const map = ARCHITECTURES[arch];
  if (!map) {
    throw new MiStudioError('UNSUPPORTED', `GGUF architecture '${arch}' is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`, {
      file: meta.file.path,
      field: 'general.architecture',
      hint: 'Load the Hugging Face safetensors version of this model instead',
    });
  }
  return map(meta);
}

/** The type holding most elements of the file's matrices, e.g. 'Q4_1' (embeddings are often kept wider). */
function storedPrecision(file: GgufFile): string {
  const elements = new Map<string, number>();
  for (const t of file.tensors) {
    if (t.shape.length < 2) continue;
    elements.set(t.type.name, (elements.get(t.type.name) ?? 0) + t.elementCount);
  }
  let best = 'F32';
  let most = -1;
  for (const [name, n] of elements) if (n > most) [best, most] = [name, n];
  return best;
}

/** Checked before anything else: loading would fail on this tensor anyway, and re-quantizing is the fix. */
function unsupportedTensorError(file: GgufFile): MiStudioError | undefined {
  const t = file.tensors.find((x) => !codecFor(x.type.id));
  if (!t) return undefined;
  return new MiStudioError('UNSUPPORTED', `GGUF tensor '${t.name}' is stored as ${t.type.name}, which miStudio cannot dequantize (supported: ${SUPPORTED_TYPE_NAMES.join(', ')})`, {
    file: file.path,
    field: t.name,
    hint: `Re-quantize the model to one of ${SUPPORTED_TYPE_NAMES.join(', ')}`,
  });
}

/** Weights read lazily from the GGUF file: each `get` reads and dequantizes one tensor. */
class GgufWeightSource implements WeightSource {
  private readonly byHfName = new Map<string, { tensor: GgufTensorInfo; mapping: TensorMapping }>();

  constructor(
    private readonly file: GgufFile,
    mapping: ArchitectureMapping,
  ) {
    for (const tensor of file.tensors) {
      const m = mapping.tensors.get(tensor.name);
      if (m) this.byHfName.set(m.hfName, { tensor, mapping: m });
    }
  }

  get origin(): string {
    return this.file.path;
  }

  names(): string[] {
    return [...this.byHfName.keys()];
  }

  has(name: string): boolean {
    return this.byHfName.has(name);
  }

  get(name: string): WeightTensor {
    const entry = this.byHfName.get(name);
    if (!entry) {
      throw new MiStudioError('NOT_FOUND', `tensor '${name}' is not in this GGUF file`, {
        file: this.file.path,
        field: name,
        hint: `It has ${this.byHfName.size} tensors, e.g. ${this.names().slice(0, 4).join(', ')}`,
      });
    }
    const { tensor, mapping } = entry;
    const data = readTensorFloat32(this.file.path, tensor);
    const out = mapping.transform ? mapping.transform(data, tensor.shape) : { data, shape: [...tensor.shape] };
    return { name, shape: out.shape, dtype: 'float32', data: out.data };
  }
}

/**
 * Opens a GGUF file as a Hugging Face style model: config.json object, weights under Hugging Face
 * names (dequantized to float32 on access) and the embedded tokenizer as tokenizer.json files.
 * Only the header is read here; tensor data is read when a weight is requested.
 */
export async function loadGgufModelFiles(path: string): Promise<LoadedModelFiles> {
  const file = parseGgufFile(path);
  const meta = new GgufMetadata(file);
  const unsupported = unsupportedTensorError(file);
  if (unsupported) throw unsupported;
  const mapping = mapArchitecture(meta);
  return {
    config: mapping.config,
    weights: new GgufWeightSource(file, mapping),
    tokenizer: convertGgufTokenizer(meta, architectureOf(meta)),
    source: path,
    format: 'gguf',
    storedPrecision: storedPrecision(file),
  };
}

export interface GgufMetadataEntry {
  type: string;
  /** The value; arrays longer than 16 are cut to their first 16 elements (see `length`); 64-bit integers beyond 2^53 as strings. */
  value: unknown;
  length?: number;
}

export interface GgufTensorEntry {
  name: string;
  /** Hugging Face name, when the architecture is supported. */
  hfName?: string;
  type: string;
  /** Row-major shape (numpy/PyTorch order). */
  shape: number[];
  elementCount: number;
  byteSize: number;
  fileOffsetBytes: number;
  /** Whether miStudio can dequantize this tensor's type. */
  supported: boolean;
}

export interface GgufInspection {
  file: string;
  version: number;
  fileBytes: number;
  alignment: number;
  dataOffsetBytes: number;
  architecture?: string;
  storedPrecision: string;
  /** The Hugging Face config miStudio derives, when the architecture is supported. */
  config?: Record<string, unknown>;
  /** Why the file cannot be loaded as a model, when it cannot (it still parses). */
  problem?: string;
  metadata: Record<string, GgufMetadataEntry>;
  tensors: GgufTensorEntry[];
}

const INSPECT_ARRAY_LIMIT = 16;

function jsonValue(v: GgufValue): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonValue);
  return v;
}

/** Header, metadata and tensor table of a GGUF file as plain JSON-ready data (for the CLI and notebooks). */
export function inspectGguf(path: string): GgufInspection {
  const file = parseGgufFile(path);
  const meta = new GgufMetadata(file);
  let mapping: ArchitectureMapping | undefined;
  let problem: string | undefined;
  problem = unsupportedTensorError(file)?.message;
  try {
    mapping = mapArchitecture(meta);
  } catch (e) {
    if (!(e instanceof MiStudioError)) throw e;
    problem ??= e.message;
  }
  const metadata: Record<string, GgufMetadataEntry> = {};
  for (const [key, value] of file.metadata) {
    const type = file.metadataTypes.get(key)!;
    if (Array.isArray(value) && value.length > INSPECT_ARRAY_LIMIT) {
      metadata[key] = { type, value: jsonValue(value.slice(0, INSPECT_ARRAY_LIMIT)), length: value.length };
    } else {
      metadata[key] = { type, value: jsonValue(value) };
    }
  }
  const arch = file.metadata.get('general.architecture');
  return {
    file: path,
    version: file.version,
    fileBytes: file.fileBytes,
    alignment: file.alignment,
    dataOffsetBytes: file.dataOffsetBytes,
    architecture: typeof arch === 'string' ? arch : undefined,
    storedPrecision: storedPrecision(file),
    config: mapping?.config,
    problem,
    metadata,
    tensors: file.tensors.map((t) => ({
      name: t.name,
      hfName: mapping?.tensors.get(t.name)?.hfName,
      type: t.type.name,
      shape: [...t.shape],
      elementCount: t.elementCount,
      byteSize: t.byteSize,
      fileOffsetBytes: t.fileOffsetBytes,
      supported: codecFor(t.type.id) !== undefined,
    })),
  };
}
