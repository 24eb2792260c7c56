import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { halfToFloat32Array } from '../engine/float16.js';
import { bytesPerValue, positionsFileName, readManifest, type ActivationManifest } from './manifest.js';

export interface OpenOptions {
  /** 'sizes' (default) checks every shard's size; 'checksum' also verifies sha256 (reads everything). */
  verify?: 'sizes' | 'checksum';
}

/**
 * Read access to one hook's activations. Rows are read from disk on demand (positioned reads), so
 * a store far larger than memory can be streamed.
 */
export class ActivationStore {
  readonly manifest: ActivationManifest;
  private readonly fds: number[] = [];
  private readonly shardStart: number[] = [];

  private constructor(readonly dir: string, manifest: ActivationManifest) {
    this.manifest = manifest;
    let start = 0;
    for (const s of manifest.shards) {
      this.shardStart.push(start);
      start += s.rows;
    }
  }

  static open(dir: string, options: OpenOptions = {}): ActivationStore {
    const manifest = readManifest(dir);
    const store = new ActivationStore(dir, manifest);
    for (const [i, s] of manifest.shards.entries()) {
      const file = path.join(dir, s.file);
      let size: number;
      try {
        size = statSync(file).size;
      } catch (cause) {
        throw new MiStudioError('FILE_NOT_FOUND', `shard ${s.file} listed in the manifest is missing`, { file, cause, hint: 'the store is damaged; re-run the extraction' });
      }
      if (size !== s.bytes) {
        throw new MiStudioError('CORRUPT_FILE', `shard has ${size} bytes but the manifest says ${s.bytes} (${s.rows} rows × d=${manifest.d} ${manifest.dtype})`, { file, hint: 'the shard is truncated or was overwritten; re-run the extraction' });
      }
      if (manifest.positions) {
        const pos = path.join(dir, positionsFileName(i));
        const posSize = statSync(pos, { throwIfNoEntry: false })?.size;
        if (posSize !== s.rows * 8) throw new MiStudioError('CORRUPT_FILE', `positions file has ${posSize ?? 'no'} bytes, expected ${s.rows * 8}`, { file: pos });
      }
      if (options.verify === 'checksum') store.verifyChecksum(i);
    }
    return store;
  }

  get count(): number {
    return this.manifest.count;
  }

  get d(): number {
    return this.manifest.d;
  }

  /** Reads rows [start, start + n) as float32 `[n, d]`. */
  readRows(start: number, n: number, out = new Float32Array(n * this.manifest.d)): Float32Array {
    this.checkRange(start, n);
    const { d } = this.manifest;
    let row = start;
    while (row < start + n) {
      const shard = this.shardOf(row);
      const inShard = row - this.shardStart[shard];
      const take = Math.min(start + n - row, this.manifest.shards[shard].rows - inShard);
      this.readShardRows(shard, inShard, take, out.subarray((row - start) * d, (row - start + take) * d));
      row += take;
    }
    return out;
  }

  /** Reads the rows at arbitrary indices into `[indices.length, d]` (one read per contiguous run). */
  gatherRows(indices: ArrayLike<number>, out = new Float32Array(indices.length * this.manifest.d)): Float32Array {
    const { d } = this.manifest;
    let i = 0;
    while (i < indices.length) {
      let j = i + 1;
      while (j < indices.length && indices[j] === indices[j - 1] + 1 && this.shardOf(indices[j]) === this.shardOf(indices[i])) j++;
      this.readRows(indices[i], j - i, out.subarray(i * d, j * d));
      i = j;
    }
    return out;
  }

  /** (dataset row, token index) pairs of rows [start, start + n), `[n, 2]`. */
  readPositions(start: number, n: number): Uint32Array {
    if (!this.manifest.positions) throw new MiStudioError('NOT_FOUND', 'this activation store does not record token positions', { file: this.dir });
    this.checkRange(start, n);
    const out = new Uint32Array(n * 2);
    let row = start;
    while (row < start + n) {
      const shard = this.shardOf(row);
      const inShard = row - this.shardStart[shard];
      const take = Math.min(start + n - row, this.manifest.shards[shard].rows - inShard);
      const dst = new Uint8Array(out.buffer, (row - start) * 8, take * 8);
      readExactly(path.join(this.dir, positionsFileName(shard)), dst, inShard * 8);
      row += take;
    }
    return out;
  }

  close(): void {
    for (const fd of this.fds) if (fd !== undefined) closeSync(fd);
    this.fds.length = 0;
  }

  private verifyChecksum(shard: number): void {
    const s = this.manifest.shards[shard];
    const file = path.join(this.dir, s.file);
    const bytes = new Uint8Array(s.bytes);
    readExactly(file, bytes, 0);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== s.sha256) throw new MiStudioError('CORRUPT_FILE', `shard checksum ${sha.slice(0, 12)}… does not match the manifest's ${s.sha256.slice(0, 12)}…`, { file, hint: 'the shard was modified or damaged; re-run the extraction' });
  }

  private readShardRows(shard: number, firstRow: number, rows: number, out: Float32Array): void {
    const { d, dtype } = this.manifest;
    const bpv = bytesPerValue(dtype);
    const fd = (this.fds[shard] ??= openSync(path.join(this.dir, this.manifest.shards[shard].file), 'r'));
    if (dtype === 'float32') {
      readFd(fd, new Uint8Array(out.buffer, out.byteOffset, rows * d * 4), firstRow * d * bpv, this.manifest.shards[shard].file);
    } else {
      const half = new Uint16Array(rows * d);
      readFd(fd, new Uint8Array(half.buffer), firstRow * d * bpv, this.manifest.shards[shard].file);
      halfToFloat32Array(half, out);
    }
  }

  private shardOf(row: number): number {
    let lo = 0;
    let hi = this.shardStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.shardStart[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private checkRange(start: number, n: number): void {
    if (!Number.isInteger(start) || !Number.isInteger(n) || start < 0 || n < 0 || start + n > this.manifest.count) {
      throw new MiStudioError('INVALID_ARGUMENT', `rows [${start}, ${start + n}) are outside the store's ${this.manifest.count} rows`, { file: this.dir });
    }
  }
}

function readFd(fd: number, dst: Uint8Array, position: number, file: string): void {
  let off = 0;
  while (off < dst.byteLength) {
    const n = readSync(fd, dst, off, dst.byteLength - off, position + off);
    if (n === 0) throw new MiStudioError('CORRUPT_FILE', `unexpected end of file at byte ${position + off}`, { file });
    off += n;
  }
}

function readExactly(file: string, dst: Uint8Array, position: number): void {
  const fd = openSync(file, 'r');
  try {
    readFd(fd, dst, position, file);
  } finally {
    closeSync(fd);
  }
}
