/**
 * A small binary container for the analysis side files and checkpoints: named typed arrays plus a
 * JSON header, in one file. Layout: the magic `MSAN`, a uint32 header length, the UTF-8 JSON header
 * `{meta, arrays: [{name, type, length, offset}]}`, then each array's bytes at an 8-byte-aligned
 * offset (little-endian, as typed arrays are on every platform Node runs on).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';

const MAGIC = 0x4e41534d; // 'MSAN' little-endian

export type StoredArray = Float32Array | Float64Array | Uint32Array | Int32Array | Uint16Array | Int16Array | Uint8Array;

const CONSTRUCTORS = { Float32Array, Float64Array, Uint32Array, Int32Array, Uint16Array, Int16Array, Uint8Array } as const;
type ArrayType = keyof typeof CONSTRUCTORS;

interface ArrayEntry {
  name: string;
  type: ArrayType;
  length: number;
  /** Byte offset from the start of the file. */
  offset: number;
}

interface Header {
  meta: unknown;
  arrays: ArrayEntry[];
}

function typeOf(a: StoredArray): ArrayType {
  return a.constructor.name as ArrayType;
}

/** Serializes `arrays` and `meta` into one buffer. */
export function packArrays(meta: unknown, arrays: Record<string, StoredArray>): Uint8Array {
  const entries: ArrayEntry[] = Object.entries(arrays).map(([name, a]) => ({ name, type: typeOf(a), length: a.length, offset: 0 }));
  // The header's own length depends on the offsets it lists: fix its size with wide placeholders.
  let headerBytes = Buffer.byteLength(JSON.stringify({ meta, arrays: entries.map((e) => ({ ...e, offset: 1e15 })) }));
  let offset = align8(8 + headerBytes);
  for (const e of entries) {
    e.offset = offset;
    offset = align8(offset + arrays[e.name].byteLength);
  }
  const header = Buffer.from(JSON.stringify({ meta, arrays: entries } satisfies Header));
  headerBytes = header.length;
  const out = new Uint8Array(offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerBytes, true);
  out.set(header, 8);
  for (const e of entries) {
    const a = arrays[e.name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), e.offset);
  }
  return out;
}

/** Writes a container atomically (temp file + rename). */
export function writeArraysFile(file: string, meta: unknown, arrays: Record<string, StoredArray>): void {
  writeFileAtomic(file, packArrays(meta, arrays));
}

export interface UnpackedArrays<M> {
  meta: M;
  arrays: Record<string, StoredArray>;
}

/** Reads a whole container; every problem names the file. */
export function readArraysFile<M>(file: string): UnpackedArrays<M> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new MiStudioError('FILE_NOT_FOUND', 'analysis file is missing', { file, cause, hint: 'the analysis folder is incomplete; run the analysis again' });
  }
  const header = readHeader(bytes, file);
  const arrays: Record<string, StoredArray> = {};
  for (const e of header.arrays) {
    const C = CONSTRUCTORS[e.type];
    const byteLength = e.length * C.BYTES_PER_ELEMENT;
    if (!C || e.offset + byteLength > bytes.length) throw new MiStudioError('CORRUPT_FILE', `array ${e.name} runs past the end of the file`, { file, field: e.name });
    // Copy into a fresh, aligned buffer (the file buffer's offset need not suit the element size).
    const copy = new Uint8Array(byteLength);
    copy.set(bytes.subarray(e.offset, e.offset + byteLength));
    arrays[e.name] = new C(copy.buffer);
  }
  return { meta: header.meta as M, arrays };
}

/** Only the header (meta and the array directory) of a container, for positioned reads. */
export function readArraysHeader<M>(file: string): { meta: M; arrays: ArrayEntry[] } {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const length = head.readUInt32LE(4);
    const all = Buffer.alloc(8 + length);
    readSync(fd, all, 0, 8 + length, 0);
    const header = readHeader(all, file);
    return { meta: header.meta as M, arrays: header.arrays };
  } finally {
    closeSync(fd);
  }
}

function readHeader(bytes: Uint8Array, file: string): Header {
  if (bytes.length < 8) throw new MiStudioError('CORRUPT_FILE', 'analysis file is truncated', { file });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new MiStudioError('CORRUPT_FILE', 'not a miStudio analysis file (bad magic)', { file });
  const length = view.getUint32(4, true);
  if (8 + length > bytes.length) throw new MiStudioError('CORRUPT_FILE', 'analysis file header is truncated', { file });
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, length).toString('utf8')) as Header;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', 'analysis file header is not valid JSON', { file, cause });
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
