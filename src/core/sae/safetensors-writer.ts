/**
 * Writes safetensors files (float32 tensors plus string metadata), atomically: the file appears
 * whole or not at all. The header is padded with spaces to 8 bytes, as the reference writer does.
 */
import { writeFileAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of sorted) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new MiStudioError('SHAPE_MISMATCH', `tensor has ${t.data.length} values but shape [${t.shape.join(', ')}]`, { field: t.name });
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of sorted) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
