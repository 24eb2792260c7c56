/**
 * Buffered, synchronous file IO for the dataset files: appends go through one reusable buffer (few
 * syscalls, no per-chunk allocations), reads are positional so a page of a 1M-row dataset touches
 * only the bytes it shows.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

const DEFAULT_BUFFER_BYTES = 1 << 20;

export class BufferedFileWriter {
  private readonly fd: number;
  private readonly buf: Buffer;
  private used = 0;
  /** Bytes appended so far (flushed or not). */
  bytesWritten = 0;

  constructor(readonly file: string, bufferBytes = DEFAULT_BUFFER_BYTES) {
    this.fd = openSync(file, 'w');
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  write(bytes: Uint8Array): void {
    this.bytesWritten += bytes.length;
    if (bytes.length > this.buf.length - this.used) {
      this.flush();
      if (bytes.length > this.buf.length) {
        writeFully(this.fd, bytes);
        return;
      }
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Appends a UTF-8 string without an intermediate Buffer when it fits the buffer. */
  writeString(text: string): number {
    const maxBytes = text.length * 3;
    if (maxBytes <= this.buf.length) {
      if (maxBytes > this.buf.length - this.used) this.flush();
      const n = this.buf.write(text, this.used, 'utf8');
      this.used += n;
      this.bytesWritten += n;
      return n;
    }
    const bytes = Buffer.from(text, 'utf8');
    this.write(bytes);
    return bytes.length;
  }

  /** Little-endian uint32 values (x86 and ARM are little-endian, so this is a view, not a copy). */
  writeUint32(values: Uint32Array): void {
    this.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  writeUint64(value: number): void {
    if (this.buf.length - this.used < 8) this.flush();
    this.buf.writeBigUInt64LE(BigInt(value), this.used);
    this.used += 8;
    this.bytesWritten += 8;
  }

  flush(): void {
    if (this.used > 0) writeFully(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }

  /** Flushes, fsyncs and closes: after `close` the bytes are on disk (the folder rename comes later). */
  close(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  /** Closes without syncing, for error paths (the file is about to be deleted). */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Reads exactly `length` bytes at `position` (throws CORRUPT-style RangeError when the file is shorter). */
export function readExactly(fd: number, position: number, length: number, into?: Buffer): Buffer {
  const out = into ?? Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, position + got);
    if (n === 0) throw new RangeError(`file ends at byte ${position + got}, expected ${length - got} more bytes`);
    got += n;
  }
  return out;
}

/** `count` little-endian uint64 offsets starting at entry `first` of an offsets file. */
export function readOffsets(fd: number, first: number, count: number): number[] {
  const buf = readExactly(fd, first * 8, count * 8);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = Number(buf.readBigUInt64LE(i * 8));
  return out;
}
