/**
 * Safetensors reading: strict header validation when a file is opened, lazy per-tensor reads at
 * byte offsets afterwards (Node has no mmap; `fs.readSync` at an offset reads only what a tensor
 * needs). bf16 is widened to float32; f16 stays as half bits (the WeightSource contract allows it).
 *
 * Format: u64 little-endian header length N, N bytes of JSON `{name: {dtype, shape,
 * data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then the data section; offsets are
 * relative to the data section, and tensors tile it exactly (the reference implementation rejects
 * gaps, overlaps and trailing bytes, and so do we).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import { MiStudioError } from '../errors.js';
import type { WeightSource, WeightTensor } from './weights.js';

/** Bytes per element of every dtype the safetensors format defines. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** Headers larger than this are not weight files (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  fileOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  fileBytes: number;
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

function corrupt(file: string, message: string, field?: string, hint?: string): MiStudioError {
  return new MiStudioError('CORRUPT_FILE', message, { file, field, hint: hint ?? 'the safetensors file is damaged; download or save it again' });
}

/** Reads and validates the header of one safetensors file. Throws CORRUPT_FILE naming the file and problem. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw new MiStudioError('FILE_NOT_FOUND', 'cannot open safetensors file', { file, cause });
  }
  try {
    const fileBytes = fstatSync(fd).size;
    if (fileBytes < 8) throw corrupt(file, `file is truncated: ${fileBytes} bytes, less than the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerBytes = lenBuf.readBigUInt64LE(0);
    if (headerBytes > BigInt(MAX_HEADER_BYTES)) throw corrupt(file, `header length ${headerBytes} bytes is implausibly large`);
    const n = Number(headerBytes);
    if (8 + n > fileBytes) throw corrupt(file, `file is truncated: the header needs ${n} bytes but only ${fileBytes - 8} follow the length prefix`);
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json.toString('utf8'));
    } catch (cause) {
      throw corrupt(file, `header is not valid JSON (${(cause as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw corrupt(file, 'header is not a JSON object');
    return validateHeader(file, fileBytes, 8 + n, parsed as Record<string, unknown>);
  } finally {
    closeSync(fd);
  }
}

function validateHeader(file: string, fileBytes: number, dataStart: number, header: Record<string, unknown>): SafetensorsHeader {
  const dataBytes = fileBytes - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!info || typeof info !== 'object') throw corrupt(file, `header entry is not an object`, name);
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw corrupt(file, `unknown dtype ${JSON.stringify(dtype)}`, name, `safetensors dtypes are ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(file, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw corrupt(file, `data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw corrupt(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end > dataBytes) {
      throw corrupt(file, `header offsets exceed the file: tensor data ends at byte ${end} of the data section but the file holds only ${dataBytes} data bytes (the file is truncated or its header is corrupt)`, name);
    }
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = elements * DTYPE_BYTES[dtype];
    if (expected !== end - begin) {
      throw corrupt(file, `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`, name);
    }
    entries.push({ name, dtype, shape: shape as number[], fileOffset: dataStart + begin, byteLength: end - begin });
  }
  // Tensors must tile the data section: sorted by offset, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.fileOffset - b.fileOffset || a.byteLength - b.byteLength);
  let cursor = dataStart;
  for (const e of sorted) {
    if (e.fileOffset < cursor) throw corrupt(file, `data_offsets overlap: tensor starts at data byte ${e.fileOffset - dataStart}, inside the previous tensor (which ends at ${cursor - dataStart})`, e.name);
    if (e.fileOffset > cursor) throw corrupt(file, `data_offsets leave a gap: tensor starts at data byte ${e.fileOffset - dataStart} but the previous tensor ends at ${cursor - dataStart}`, e.name);
    cursor = e.fileOffset + e.byteLength;
  }
  if (cursor !== fileBytes) throw corrupt(file, `${fileBytes - cursor} bytes after the last tensor are not described by the header`);
  return { file, fileBytes, entries: new Map(entries.map((e) => [e.name, e])), metadata };
}

if (os.endianness() !== 'LE') {
  throw new MiStudioError('UNSUPPORTED', 'safetensors reading assumes a little-endian machine');
}

/** Reads one tensor's bytes from disk and converts it to a WeightTensor (f32, or f16 bits). */
export function readSafetensorsTensor(header: SafetensorsHeader, name: string): WeightTensor {
  const e = header.entries.get(name);
  if (!e) throw new MiStudioError('NOT_FOUND', `tensor '${name}' is not in the file`, { file: header.file, field: name });
  if (e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16') {
    throw new MiStudioError('UNSUPPORTED', `tensor dtype ${e.dtype} is not supported for weights`, { file: header.file, field: name, hint: 'weights must be F32, F16 or BF16' });
  }
  const buf = new ArrayBuffer(e.byteLength);
  const bytes = new Uint8Array(buf);
  const fd = openSync(header.file, 'r');
  try {
    let done = 0;
    while (done < e.byteLength) {
      // One read is limited to 2 GiB in Node; large embeddings take several.
      const n = readSync(fd, bytes, done, Math.min(e.byteLength - done, 1 << 30), e.fileOffset + done);
      if (n === 0) throw corrupt(header.file, 'file ended while reading tensor data (was it truncated after opening?)', name);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  if (e.dtype === 'F32') return { name, shape: e.shape, dtype: 'float32', data: new Float32Array(buf) };
  if (e.dtype === 'F16') return { name, shape: e.shape, dtype: 'float16', data: new Uint16Array(buf) };
  // bf16 is the top half of an f32: widen by shifting the bits into place.
  const src = new Uint16Array(buf);
  const out = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
  return { name, shape: e.shape, dtype: 'float32', data: new Float32Array(out.buffer) };
}

/** The dtypes stored in a set of headers, for `storedPrecision` (e.g. 'bfloat16'). */
export function storedPrecisionOf(headers: readonly SafetensorsHeader[]): string {
  const names: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
  const seen = new Set<string>();
  for (const h of headers) for (const e of h.entries.values()) if (e.shape.length > 1) seen.add(names[e.dtype] ?? e.dtype);
  return [...seen].sort().join('+') || 'float32';
}

/** A WeightSource over one or more validated safetensors files (a sharded checkpoint). */
export class SafetensorsWeights implements WeightSource {
  private readonly byName = new Map<string, SafetensorsHeader>();

  constructor(readonly headers: readonly SafetensorsHeader[], readonly origin: string) {
    for (const h of headers) {
      for (const name of h.entries.keys()) {
        const prev = this.byName.get(name);
        if (prev) throw new MiStudioError('CORRUPT_FILE', `tensor '${name}' appears in two shards (also in ${prev.file})`, { file: h.file, field: name });
        this.byName.set(name, h);
      }
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): WeightTensor {
    const h = this.byName.get(name);
    if (!h) throw new MiStudioError('NOT_FOUND', `weight '${name}' is missing`, { file: this.origin, field: name, hint: 'the checkpoint does not match its config.json architecture' });
    return readSafetensorsTensor(h, name);
  }
}
