import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { inspectGguf, loadGgufModelFiles, parseGgufFile, readTensorFloat32 } from '../models/gguf/index.js';

// Fixtures from tests/python/make_gguf_fixtures.py (gguf's GGUFWriter is the independent writer).
const FIX = new URL('./fixtures/gguf/', import.meta.url).pathname;
const QUANTS = join(FIX, 'quants.gguf');
const expected = JSON.parse(readFileSync(join(FIX, 'quants.expected.json'), 'utf8'));

const scratch = mkdtempSync(join(tmpdir(), 'mistudio-gguf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function variant(name: string, edit: (bytes: Buffer) => Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, edit(readFileSync(QUANTS)));
  return path;
}

function errorOf(fn: () => unknown): MiStudioError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MiStudioError);
    return e as MiStudioError;
  }
  throw new Error('expected a MiStudioError');
}

/** Metadata as the fixture writes it: 64-bit integers beyond 2^53 compare as strings. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

describe('GGUF container', () => {
  it('reads every metadata value type, including 64-bit integers and nested arrays', () => {
    const file = parseGgufFile(QUANTS);
    expect(file.version).toBe(3);
    for (const [key, value] of Object.entries(expected.metadata)) {
      expect(plain(file.metadata.get(key)), key).toEqual(value);
    }
    expect(typeof file.metadata.get('test.u64')).toBe('bigint');
    expect(file.metadataTypes.get('test.arr_nested')).toBe('array<array<int32>>');
    expect(file.metadataTypes.get('test.arr_i16')).toBe('array<int16>');
    expect(file.metadata.get('general.architecture')).toBe('quanttest');
  });

  it('honours general.alignment for the data offset and tensor offsets', () => {
    const file = parseGgufFile(QUANTS);
    expect(file.alignment).toBe(64);
    expect(file.dataOffsetBytes % 64).toBe(0);
    for (const t of file.tensors) expect((t.fileOffsetBytes - file.dataOffsetBytes) % 64).toBe(0);
    const last = file.tensors[file.tensors.length - 1];
    expect(last.fileOffsetBytes + last.byteSize).toBeLessThanOrEqual(file.fileBytes);
  });

  it('lists tensors with numpy-order shapes, types and byte sizes', () => {
    const file = parseGgufFile(QUANTS);
    expect(file.tensors.map((t) => t.name)).toEqual(expected.tensors.map((t: { name: string }) => t.name));
    for (const t of expected.tensors) {
      const info = file.tensors.find((x) => x.name === t.name)!;
      expect(info.shape, t.name).toEqual(t.shape);
      expect(info.type.name).toBe(t.type);
      expect(info.ggmlDims).toEqual([...t.shape].reverse());
    }
    expect(file.tensors.find((t) => t.name === 't.q4_k')!.byteSize).toBe(4 * 144);
  });

  it('reads version 2 files (same layout as v3)', () => {
    const path = variant('v2.gguf', (b) => {
      b.writeUInt32LE(2, 4);
      return b;
    });
    const file = parseGgufFile(path);
    expect(file.version).toBe(2);
    const t = file.tensors.find((x) => x.name === 't.q8_0')!;
    expect(readTensorFloat32(path, t).length).toBe(512);
  });

  it('rejects a file with bad magic, naming the file', () => {
    const path = variant('magic.gguf', (b) => {
      b.write('GGML', 0, 'latin1');
      return b;
    });
    const e = errorOf(() => parseGgufFile(path));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/not a GGUF file: magic/);
    expect(e.file).toBe(path);
  });

  it('rejects unsupported versions and big-endian files', () => {
    const v1 = variant('v1.gguf', (b) => {
      b.writeUInt32LE(1, 4);
      return b;
    });
    const e1 = errorOf(() => parseGgufFile(v1));
    expect(e1.code).toBe('UNSUPPORTED');
    expect(e1.message).toMatch(/GGUF version 1 is not supported \(supported: 2, 3\)/);
    expect(e1.file).toBe(v1);
    const be = variant('be.gguf', (b) => {
      b.writeUInt32BE(3, 4);
      return b;
    });
    expect(errorOf(() => parseGgufFile(be)).message).toMatch(/big-endian/);
  });

  it('reports a file truncated inside the metadata', () => {
    for (const bytes of [3, 10, 30, 300]) {
      const path = variant(`trunc-${bytes}.gguf`, (b) => b.subarray(0, bytes));
      const e = errorOf(() => parseGgufFile(path));
      expect(e.code, `${bytes} bytes`).toBe('CORRUPT_FILE');
      expect(e.message).toMatch(/truncated|not a GGUF file|ended early/);
      expect(e.file).toBe(path);
    }
  });

  it('reports tensor data beyond the end of the file, naming the tensor', () => {
    const path = join(scratch, 'short-data.gguf');
    copyFileSync(QUANTS, path);
    const size = readFileSync(QUANTS).length;
    truncateSync(path, size - 100);
    const e = errorOf(() => parseGgufFile(path));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/tensor 't\.q6_k' data .* beyond the end of the file/);
    expect(e.field).toBe('t.q6_k');
    expect(e.file).toBe(path);
  });

  it('rejects a missing file with FILE_NOT_FOUND', () => {
    const e = errorOf(() => parseGgufFile(join(scratch, 'nope.gguf')));
    expect(e.code).toBe('FILE_NOT_FOUND');
  });

  it('rejects an array length larger than the file instead of allocating it', () => {
    // the first key of the file is general.architecture (a string); corrupt its length to 2^40
    const path = variant('huge-string.gguf', (b) => {
      const keyLen = Number(b.readBigUInt64LE(24));
      b.writeBigUInt64LE(1n << 40n, 24 + 8 + keyLen + 4);
      return b;
    });
    const e = errorOf(() => parseGgufFile(path));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/general\.architecture/);
  });
});

describe('GGUF unsupported quant types', () => {
  const path = join(FIX, 'unsupported-q2k.gguf');

  it('loading a model with a Q2_K tensor fails naming file, tensor, type and the supported types', async () => {
    const e = await loadGgufModelFiles(path).then(
      () => undefined,
      (err: unknown) => err as MiStudioError,
    );
    expect(e).toBeInstanceOf(MiStudioError);
    expect(e!.code).toBe('UNSUPPORTED');
    expect(e!.file).toBe(path);
    expect(e!.field).toBe('blk.0.attn_q.weight');
    expect(e!.message).toMatch(/stored as Q2_K/);
    expect(e!.message).toMatch(/supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K/);
  });

  it('still parses and inspects, and reading the Q2_K tensor itself fails the same way', () => {
    const file = parseGgufFile(path);
    const info = inspectGguf(path);
    expect(info.tensors.map((t) => [t.name, t.type, t.supported])).toEqual([
      ['output_norm.weight', 'F32', true],
      ['blk.0.attn_q.weight', 'Q2_K', false],
    ]);
    expect(info.problem).toMatch(/Q2_K/);
    expect(readTensorFloat32(path, file.tensors[0]).length).toBe(64);
    const e = errorOf(() => readTensorFloat32(path, file.tensors[1]));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/'blk\.0\.attn_q\.weight' is stored as Q2_K/);
  });
});
