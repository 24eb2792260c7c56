import { closeSync, fstatSync, openSync } from 'node:fs';
import { MiStudioError } from '../../errors.js';
import { ByteReader } from './byte-reader.js';
import { ggmlType, type GgmlTypeInfo } from './ggml-types.js';

/**
 * GGUF container parsing (versions 2 and 3, little-endian): header, metadata key/values, tensor
 * table, alignment and data offset, validated against the file size. Tensor data is not read here;
 * see tensor-reader.ts. Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 */

/** A metadata value. 64-bit integers are numbers when exactly representable, bigints otherwise. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  /** GGUF tensor name, e.g. `blk.0.attn_q.weight`. */
  readonly name: string;
  /** ggml dimensions, innermost first (ne[0] is the contiguous one), as stored in the file. */
  readonly ggmlDims: readonly number[];
  /** Row-major (PyTorch/numpy) shape: ggmlDims reversed. */
  readonly shape: readonly number[];
  readonly type: GgmlTypeInfo;
  readonly elementCount: number;
  readonly byteSize: number;
  /** Absolute byte offset of the tensor data in the file. */
  readonly fileOffsetBytes: number;
}

export interface GgufFile {
  readonly path: string;
  readonly version: number;
  readonly fileBytes: number;
  readonly alignment: number;
  /** Absolute byte offset where tensor data begins. */
  readonly dataOffsetBytes: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** GGUF value type of each key, e.g. 'uint32', 'array<string>'. */
  readonly metadataTypes: ReadonlyMap<string, string>;
  readonly tensors: readonly GgufTensorInfo[];
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4; // GGML_MAX_DIMS

const VALUE_TYPE_NAMES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'];
/** Smallest encoded size of one value of each type, to reject absurd array counts before looping. */
const MIN_VALUE_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

function corrupt(file: string, message: string, field?: string): MiStudioError {
  return new MiStudioError('CORRUPT_FILE', message, { file, field });
}

function bigToValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readValue(r: ByteReader, type: number, key: string, file: string, depth: number): [GgufValue, string] {
  const what = `value of metadata key '${key}'`;
  switch (type) {
    case 0: return [r.u8(what), 'uint8'];
    case 1: return [r.i8(what), 'int8'];
    case 2: return [r.u16(what), 'uint16'];
    case 3: return [r.i16(what), 'int16'];
    case 4: return [r.u32(what), 'uint32'];
    case 5: return [r.i32(what), 'int32'];
    case 6: return [r.f32(what), 'float32'];
    case 7: {
      const b = r.u8(what);
      if (b > 1) throw corrupt(file, `GGUF metadata key '${key}' has bool byte ${b} (must be 0 or 1)`, key);
      return [b === 1, 'bool'];
    }
    case 8: return [r.string(what), 'string'];
    case 10: return [bigToValue(r.u64(what)), 'uint64'];
    case 11: return [bigToValue(r.i64(what)), 'int64'];
    case 12: return [r.f64(what), 'float64'];
    case 9: {
      if (depth > 8) throw corrupt(file, `GGUF metadata key '${key}' nests arrays more than 8 deep`, key);
      const elementType = r.u32(`array element type of '${key}'`);
      if (elementType >= VALUE_TYPE_NAMES.length) {
        throw corrupt(file, `GGUF metadata key '${key}' has unknown array element type ${elementType}`, key);
      }
      const n = r.count(`array length of '${key}'`);
      if (n * MIN_VALUE_BYTES[elementType] > r.remaining) {
        throw corrupt(file, `GGUF file is truncated: metadata array '${key}' declares ${n} elements, more than the ${r.remaining} bytes left can hold`, key);
      }
      const out: GgufValue[] = new Array(n);
      let elementName = VALUE_TYPE_NAMES[elementType];
      for (let i = 0; i < n; i++) {
        const [v, name] = readValue(r, elementType, key, file, depth + 1);
        out[i] = v;
        elementName = name;
      }
      return [out, `array<${elementName}>`];
    }
    default:
      throw corrupt(file, `GGUF metadata key '${key}' has unknown value type ${type}`, key);
  }
}

/** Parses a GGUF file's header, metadata and tensor table; throws MiStudioError naming the file. */
export function parseGgufFile(path: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new MiStudioError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_ARGUMENT', `cannot open GGUF file: ${(cause as Error).message}`, { file: path, cause });
  }
  try {
    return parseOpen(fd, fstatSync(fd).size, path);
  } finally {
    closeSync(fd);
  }
}

function parseOpen(fd: number, fileBytes: number, file: string): GgufFile {
  const r = new ByteReader(fd, fileBytes, file);
  if (fileBytes < 4) throw corrupt(file, `not a GGUF file: only ${fileBytes} bytes`);
  const magic = r.u32('magic');
  if (magic !== MAGIC) {
    throw new MiStudioError('CORRUPT_FILE', `not a GGUF file: magic bytes are 0x${magic.toString(16).padStart(8, '0')}, expected "GGUF"`, {
      file,
      hint: 'Pass a .gguf file made by llama.cpp or the gguf Python package',
    });
  }
  const version = r.u32('version');
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >> 8) & 0xff00) | (version >>> 24);
    const bigEndian = swapped === 2 || swapped === 3;
    throw new MiStudioError('UNSUPPORTED', bigEndian ? 'big-endian GGUF files are not supported' : `GGUF version ${version} is not supported (supported: 2, 3)`, {
      file,
      field: 'version',
      hint: version === 1 ? 'Re-convert the model with a current llama.cpp (GGUF v1 is from 2023)' : 'Convert the model with llama.cpp to a little-endian GGUF v3 file',
    });
  }
  const tensorCount = r.count('tensor count');
  const kvCount = r.count('metadata key count');
  // each metadata entry takes ≥ 8 (key) + 4 (type) + 1 bytes; each tensor info ≥ 8 + 4 + 8 + 4 + 8
  if (kvCount * 13 + tensorCount * 32 > r.remaining) {
    throw corrupt(file, `GGUF file is truncated: the header declares ${kvCount} metadata keys and ${tensorCount} tensors but only ${r.remaining} bytes follow`);
  }

  const metadata = new Map<string, GgufValue>();
  const metadataTypes = new Map<string, string>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key #${i}`);
    if (metadata.has(key)) throw corrupt(file, `GGUF metadata key '${key}' appears twice`, key);
    const type = r.u32(`value type of metadata key '${key}'`);
    const [value, typeName] = readValue(r, type, key, file, 0);
    metadata.set(key, value);
    metadataTypes.set(key, typeName);
  }

  let alignment = DEFAULT_ALIGNMENT;
  if (metadata.has('general.alignment')) {
    const a = metadata.get('general.alignment');
    if (metadataTypes.get('general.alignment') !== 'uint32' || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0) {
      throw corrupt(file, `GGUF general.alignment must be a power-of-two uint32, got ${String(a)} (${metadataTypes.get('general.alignment')})`, 'general.alignment');
    }
    alignment = a;
  }

  const raw: { name: string; dims: number[]; type: GgmlTypeInfo; offset: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`name of tensor #${i}`);
    if (names.has(name)) throw corrupt(file, `GGUF tensor '${name}' appears twice`, name);
    names.add(name);
    const nDims = r.u32(`dimension count of tensor '${name}'`);
    if (nDims < 1 || nDims > MAX_DIMS) throw corrupt(file, `GGUF tensor '${name}' has ${nDims} dimensions (1–${MAX_DIMS} allowed)`, name);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(r.count(`dimension ${d} of tensor '${name}'`));
    const typeId = r.u32(`type of tensor '${name}'`);
    const type = ggmlType(typeId);
    if (!type) {
      throw new MiStudioError('UNSUPPORTED', `GGUF tensor '${name}' has ggml type id ${typeId}, which this version of miStudio does not know`, {
        file,
        field: name,
        hint: 'The file may come from a newer llama.cpp; re-quantize it to Q8_0, Q4_K or Q6_K',
      });
    }
    const offset = r.count(`data offset of tensor '${name}'`);
    if (offset % alignment !== 0) throw corrupt(file, `GGUF tensor '${name}' data offset ${offset} is not a multiple of the alignment ${alignment}`, name);
    if (dims[0] % type.blockElements !== 0) {
      throw corrupt(file, `GGUF tensor '${name}' row length ${dims[0]} is not a multiple of the ${type.name} block size ${type.blockElements}`, name);
    }
    raw.push({ name, dims, type, offset });
  }

  const dataOffsetBytes = Math.ceil(r.position / alignment) * alignment;
  const tensors: GgufTensorInfo[] = raw.map(({ name, dims, type, offset }) => {
    const elementCount = dims.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(elementCount)) throw corrupt(file, `GGUF tensor '${name}' has an impossible shape [${dims.join(', ')}]`, name);
    const byteSize = (elementCount / type.blockElements) * type.blockBytes;
    const fileOffsetBytes = dataOffsetBytes + offset;
    if (fileOffsetBytes + byteSize > fileBytes) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF tensor '${name}' data (bytes ${fileOffsetBytes}–${fileOffsetBytes + byteSize}) lies beyond the end of the file (${fileBytes} bytes)`, {
        file,
        field: name,
        hint: 'The file is truncated; download or convert it again',
      });
    }
    return { name, ggmlDims: dims, shape: [...dims].reverse(), type, elementCount, byteSize, fileOffsetBytes };
  });

  return { path: file, version, fileBytes, alignment, dataOffsetBytes, metadata, metadataTypes, tensors };
}
