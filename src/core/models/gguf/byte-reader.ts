import { readSync } from 'node:fs';
import { MiStudioError } from '../../errors.js';

const WINDOW_BYTES = 1 << 20;

/**
 * Sequential little-endian reads from an open file through a 1 MiB window, so the GGUF header and
 * metadata (which can be tens of MB of vocabulary) are parsed without reading the tensor data.
 * Reading past the end of the file raises CORRUPT_FILE naming the file and what was being read.
 */
export class ByteReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  /** Absolute position of the next byte to read. */
  position = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly fd: number,
    readonly fileBytes: number,
    private readonly file: string,
  ) {}

  /** Bytes left between the read position and the end of the file. */
  get remaining(): number {
    return this.fileBytes - this.position;
  }

  private ensure(n: number, what: string): number {
    if (n > this.remaining) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF file is truncated: ${what} at byte ${this.position} needs ${n} bytes but only ${this.remaining} remain`, {
        file: this.file,
        hint: 'The download or conversion was probably cut short; fetch or convert the file again',
      });
    }
    const offset = this.position - this.windowStart;
    if (offset + n <= this.window.length) return offset;
    const size = Math.min(Math.max(n, WINDOW_BYTES), this.remaining);
    const buf = Buffer.allocUnsafeSlow(size);
    let got = 0;
    while (got < size) {
      const r = readSync(this.fd, buf, got, size - got, this.position + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF file ended early while reading ${what} at byte ${this.position}`, { file: this.file });
    }
    this.window = buf.subarray(0, got);
    this.windowStart = this.position;
    return 0;
  }

  u8(what: string): number {
    const o = this.ensure(1, what);
    this.position += 1;
    return this.window.readUInt8(o);
  }
  i8(what: string): number {
    const o = this.ensure(1, what);
    this.position += 1;
    return this.window.readInt8(o);
  }
  u16(what: string): number {
    const o = this.ensure(2, what);
    this.position += 2;
    return this.window.readUInt16LE(o);
  }
  i16(what: string): number {
    const o = this.ensure(2, what);
    this.position += 2;
    return this.window.readInt16LE(o);
  }
  u32(what: string): number {
    const o = this.ensure(4, what);
    this.position += 4;
    return this.window.readUInt32LE(o);
  }
  i32(what: string): number {
    const o = this.ensure(4, what);
    this.position += 4;
    return this.window.readInt32LE(o);
  }
  f32(what: string): number {
    const o = this.ensure(4, what);
    this.position += 4;
    return this.window.readFloatLE(o);
  }
  f64(what: string): number {
    const o = this.ensure(8, what);
    this.position += 8;
    return this.window.readDoubleLE(o);
  }
  u64(what: string): bigint {
    const o = this.ensure(8, what);
    this.position += 8;
    return this.window.readBigUInt64LE(o);
  }
  i64(what: string): bigint {
    const o = this.ensure(8, what);
    this.position += 8;
    return this.window.readBigInt64LE(o);
  }

  /** A u64 that must fit a JS number (counts, lengths, offsets); larger values mean a corrupt file. */
  count(what: string): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF ${what} is ${v}, which no valid file has`, { file: this.file });
    }
    return Number(v);
  }

  /** A GGUF string: u64 byte length, then UTF-8 bytes. */
  string(what: string): string {
    const n = this.count(`${what} length`);
    const o = this.ensure(n, what);
    this.position += n;
    try {
      return this.decoder.decode(this.window.subarray(o, o + n));
    } catch (cause) {
      throw new MiStudioError('CORRUPT_FILE', `GGUF ${what} at byte ${this.position - n} is not valid UTF-8`, { file: this.file, cause });
    }
  }
}
