import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';
import { float32ToHalfArray } from '../engine/float16.js';
import {
  MANIFEST_FILE,
  bytesPerValue,
  newManifest,
  normalizationScale,
  positionsFileName,
  readManifest,
  shardFileName,
  type ActivationDType,
  type ActivationManifest,
} from './manifest.js';

export interface StoreWriterOptions {
  hook: string;
  d: number;
  dtype: ActivationDType;
  /** Rows per shard file; default: about 64 MiB per shard. */
  rowsPerShard?: number;
  /** Record each row's (dataset row, token index). */
  positions?: boolean;
  source?: Record<string, unknown>;
}

/**
 * Appends rows to an activation store. A shard becomes visible only when it is complete: it is
 * written to a temp file, fsynced and renamed, and then the manifest (itself written atomically)
 * lists it. After a crash, `resume` drops whatever the manifest does not list; rows that were
 * pending in memory are recomputed by the producer (shards always hold `rowsPerShard` rows, so a
 * resumed store is byte-identical to one written without interruption).
 */
export class ActivationStoreWriter {
  private readonly manifest: ActivationManifest;
  private readonly pending: Float32Array;
  private readonly pendingPositions: Uint32Array | undefined;
  private pendingRows = 0;
  private normSum = 0;

  private constructor(private readonly dir: string, manifest: ActivationManifest) {
    this.manifest = manifest;
    this.pending = new Float32Array(manifest.rowsPerShard * manifest.d);
    this.pendingPositions = manifest.positions ? new Uint32Array(manifest.rowsPerShard * 2) : undefined;
    this.normSum = manifest.shards.reduce((a, s) => a + s.normSum, 0);
  }

  /** Starts a new, empty store in `dir` (which must not hold a store already). */
  static create(dir: string, options: StoreWriterOptions): ActivationStoreWriter {
    if (existsSync(path.join(dir, MANIFEST_FILE))) {
      throw new MiStudioError('ALREADY_EXISTS', `an activation store already exists at ${dir}`, { hint: 'resume it, or remove it first' });
    }
    if (!Number.isInteger(options.d) || options.d <= 0) throw new MiStudioError('INVALID_ARGUMENT', `d must be a positive integer, got ${options.d}`, { field: 'd' });
    const rowsPerShard = options.rowsPerShard ?? Math.max(1, Math.floor((64 << 20) / (options.d * bytesPerValue(options.dtype))));
    if (!Number.isInteger(rowsPerShard) || rowsPerShard <= 0) throw new MiStudioError('INVALID_ARGUMENT', `rowsPerShard must be a positive integer, got ${rowsPerShard}`, { field: 'rowsPerShard' });
    mkdirSync(dir, { recursive: true });
    const manifest = newManifest({ hook: options.hook, d: options.d, dtype: options.dtype, rowsPerShard, source: options.source ?? {}, positions: options.positions ?? false });
    writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
    return new ActivationStoreWriter(dir, manifest);
  }

  /** Reopens an incomplete store after a crash or a stop: unlisted files are removed. */
  static resume(dir: string): ActivationStoreWriter {
    const manifest = readManifest(dir);
    if (manifest.complete) throw new MiStudioError('INVALID_ARGUMENT', `the activation store at ${dir} is already complete`, { hint: 'nothing to resume' });
    const listed = new Set(manifest.shards.flatMap((s, i) => [s.file, positionsFileName(i)]));
    for (const f of readdirSync(dir)) {
      if (f !== MANIFEST_FILE && !listed.has(f) && (/^shard-\d+\.(bin|pos)$/.test(f) || f.endsWith('.tmp'))) rmSync(path.join(dir, f), { force: true });
    }
    return new ActivationStoreWriter(dir, manifest);
  }

  /** Rows durably stored (in listed shards). */
  get storedRows(): number {
    return this.manifest.count;
  }

  /** Rows accepted so far, stored or pending. */
  get rows(): number {
    return this.manifest.count + this.pendingRows;
  }

  get d(): number {
    return this.manifest.d;
  }

  /**
   * Appends `n` rows. `rows` is `[n, d]` row-major; `positions` is `[n, 2]` (dataset row, token index)
   * when the store records positions.
   */
  append(rows: Float32Array, positions?: Uint32Array): void {
    const { d } = this.manifest;
    if (rows.length % d !== 0) throw new MiStudioError('SHAPE_MISMATCH', `appended ${rows.length} values, not a multiple of d=${d}`, { field: 'rows' });
    const n = rows.length / d;
    if (this.manifest.positions && (!positions || positions.length !== n * 2)) {
      throw new MiStudioError('SHAPE_MISMATCH', `this store records positions: expected ${n * 2} position values, got ${positions?.length ?? 0}`, { field: 'positions' });
    }
    let done = 0;
    while (done < n) {
      const take = Math.min(n - done, this.manifest.rowsPerShard - this.pendingRows);
      this.pending.set(rows.subarray(done * d, (done + take) * d), this.pendingRows * d);
      if (this.pendingPositions && positions) this.pendingPositions.set(positions.subarray(done * 2, (done + take) * 2), this.pendingRows * 2);
      this.pendingRows += take;
      done += take;
      if (this.pendingRows === this.manifest.rowsPerShard) this.flushShard();
    }
  }

  /** Writes the last partial shard and marks the store complete. */
  finish(): ActivationManifest {
    if (this.pendingRows > 0) this.flushShard();
    this.manifest.complete = true;
    this.saveManifest();
    return structuredClone(this.manifest);
  }

  private flushShard(): void {
    const { d, dtype } = this.manifest;
    const index = this.manifest.shards.length;
    const rows = this.pendingRows;
    const values = this.pending.subarray(0, rows * d);
    let norms = 0;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = r * d; j < (r + 1) * d; j++) s += values[j] * values[j];
      norms += Math.sqrt(s);
    }
    const encoded = dtype === 'float32' ? values : float32ToHalfArray(values);
    const bytes = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (this.pendingPositions) {
      const pos = this.pendingPositions.subarray(0, rows * 2);
      writeFileAtomic(path.join(this.dir, positionsFileName(index)), new Uint8Array(pos.buffer, pos.byteOffset, pos.byteLength));
    }
    writeFileAtomic(path.join(this.dir, shardFileName(index)), bytes);
    this.normSum += norms;
    this.manifest.shards.push({ file: shardFileName(index), rows, bytes: bytes.byteLength, sha256, normSum: norms });
    this.manifest.count += rows;
    this.manifest.normalizationScale = normalizationScale(d, this.normSum, this.manifest.count);
    this.pendingRows = 0;
    this.saveManifest();
  }

  private saveManifest(): void {
    writeJsonAtomic(path.join(this.dir, MANIFEST_FILE), this.manifest);
  }
}
