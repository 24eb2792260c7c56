/**
 * The on-disk activation store as a training source: batches come from its shuffled mixing-buffer
 * reader, and the reader's state is the source position saved in checkpoints.
 */
import { MiStudioError } from '../errors.js';
import type { ActivationStore } from '../activations/store.js';
import type { ActivationManifest } from '../activations/manifest.js';
import { ShuffledReader, type ShuffledReaderState } from '../activations/shuffled-reader.js';
import type { ActivationSource, SourcePosition } from './activation-source.js';

export interface StoreSourceOptions {
  /** Rows per batch; the trainer's batchSizeTokens. */
  batchRows: number;
  /** Rows in the mixing buffer (memory ≈ bufferRows × d × 4 bytes). */
  bufferRows: number;
  seed: number;
}

export class StoreActivationSource implements ActivationSource {
  private reader: ShuffledReader;

  constructor(private readonly store: ActivationStore, private readonly options: StoreSourceOptions) {
    this.reader = new ShuffledReader(store, { ...options, loop: true });
  }

  get d(): number {
    return this.store.d;
  }

  /** The store's manifest (hook, model and dataset it came from). */
  get manifest(): ActivationManifest {
    return this.store.manifest;
  }

  /** The store's directory. */
  get dir(): string {
    return this.store.dir;
  }

  async nextBatch(rows: number): Promise<Float32Array> {
    if (rows !== this.options.batchRows) {
      throw new MiStudioError('INVALID_ARGUMENT', `the store source serves batches of ${this.options.batchRows} rows, asked for ${rows}`, { field: 'batchSizeTokens' });
    }
    return this.reader.nextBatch()!.data;
  }

  position(): SourcePosition {
    return { ...this.reader.state() };
  }

  restore(position: SourcePosition): void {
    this.reader = new ShuffledReader(this.store, { ...this.options, loop: true }, position as unknown as ShuffledReaderState);
  }
}
