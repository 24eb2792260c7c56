import { MiStudioError } from '../errors.js';
import { Rng } from '../engine/random.js';
import type { ActivationStore } from './store.js';

export interface ShuffledReaderOptions {
  /** Rows held in memory for mixing; memory used is about bufferRows × d × 4 bytes. */
  bufferRows: number;
  /** Rows per batch. */
  batchRows: number;
  seed: number;
  /**
   * When true, batches are always full and run on into the next epoch (training); when false,
   * `nextBatch` returns a short last batch and then null at the end of the epoch.
   */
  loop?: boolean;
}

/** Everything needed to continue the exact same row sequence (checkpoints save it as JSON). */
export interface ShuffledReaderState {
  epoch: number;
  /** Rows of the current epoch's sequence already taken into the buffer. */
  cursor: number;
  /** Row indices held in the buffer, in mixing order. */
  held: number[];
  servePos: number;
  serveEnd: number;
  rng: number[];
  /** Rows served since the start (all epochs). */
  served: number;
}

export interface Batch {
  /** `[rows, d]` float32. */
  data: Float32Array;
  /** Store row index of each batch row. */
  rows: Uint32Array;
  epoch: number;
}

/**
 * Serves a store's rows shuffled through a mixing buffer, the SAELens way: fill the buffer, permute
 * it, serve half, refill the served half from the stream, permute again. Shards are streamed in a
 * seeded order per epoch. Every row is served exactly once per epoch, memory is bounded by the buffer,
 * and the sequence is a pure function of the seed — `state()` + `restore` resume it exactly.
 */
export class ShuffledReader {
  private readonly d: number;
  private readonly slots: Float32Array;
  private readonly free: number[] = [];
  /** slot number of each held row, parallel to `heldRows`. */
  private heldSlots: number[] = [];
  private heldRows: number[] = [];
  private servePos = 0;
  private serveEnd = 0;
  private cursor = 0;
  private epoch = 0;
  private served = 0;
  private sequence: Uint32Array | undefined;
  private sequenceEpoch = -1;
  private rng: Rng;

  constructor(private readonly store: ActivationStore, private readonly options: ShuffledReaderOptions, state?: ShuffledReaderState) {
    const { bufferRows, batchRows } = options;
    if (!Number.isInteger(bufferRows) || bufferRows < 2) throw new MiStudioError('INVALID_ARGUMENT', `bufferRows must be an integer ≥ 2, got ${bufferRows}`, { field: 'bufferRows' });
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new MiStudioError('INVALID_ARGUMENT', `batchRows must be a positive integer, got ${batchRows}`, { field: 'batchRows' });
    if (store.count === 0) throw new MiStudioError('INVALID_ARGUMENT', `the activation store at ${store.dir} is empty`, { file: store.dir });
    this.d = store.d;
    this.slots = new Float32Array(bufferRows * this.d);
    for (let s = bufferRows - 1; s >= 0; s--) this.free.push(s);
    this.rng = new Rng(options.seed);
    if (state) this.restore(state);
    else this.startEpoch(0);
  }

  state(): ShuffledReaderState {
    return { epoch: this.epoch, cursor: this.cursor, held: [...this.heldRows], servePos: this.servePos, serveEnd: this.serveEnd, rng: this.rng.state(), served: this.served };
  }

  get epochNumber(): number {
    return this.epoch;
  }

  /** The next batch, or null once a non-looping reader has served the whole epoch. */
  nextBatch(): Batch | null {
    const { batchRows, loop } = this.options;
    const data = new Float32Array(batchRows * this.d);
    const rows = new Uint32Array(batchRows);
    const epoch = this.epoch;
    let n = 0;
    while (n < batchRows) {
      if (this.servePos === this.serveEnd && !this.refill()) {
        if (!loop) break;
        this.startEpoch(this.epoch + 1);
        continue;
      }
      const slot = this.heldSlots[this.servePos];
      data.set(this.slots.subarray(slot * this.d, (slot + 1) * this.d), n * this.d);
      rows[n] = this.heldRows[this.servePos];
      this.free.push(slot);
      this.servePos++;
      n++;
    }
    if (n === 0) return null;
    this.served += n;
    return n === batchRows ? { data, rows, epoch } : { data: data.slice(0, n * this.d), rows: rows.slice(0, n), epoch };
  }

  /** Drops the served window, tops the buffer up from the stream and re-mixes; false at epoch end. */
  private refill(): boolean {
    this.heldSlots = this.heldSlots.slice(this.serveEnd);
    this.heldRows = this.heldRows.slice(this.serveEnd);
    const seq = this.sequenceOf(this.epoch);
    const take = Math.min(this.free.length, seq.length - this.cursor);
    const newRows = seq.subarray(this.cursor, this.cursor + take);
    this.cursor += take;
    this.load(newRows);
    if (this.heldRows.length === 0) return false;
    const order = Uint32Array.from(this.heldRows.keys());
    this.rng.shuffle(order);
    this.heldSlots = Array.from(order, (i) => this.heldSlots[i]);
    this.heldRows = Array.from(order, (i) => this.heldRows[i]);
    const exhausted = this.cursor === seq.length;
    this.servePos = 0;
    this.serveEnd = exhausted ? this.heldRows.length : Math.max(1, this.heldRows.length >> 1);
    return true;
  }

  /** Reads `rows` (store indices) into free slots, appending them to the held list. */
  private load(rows: ArrayLike<number>): void {
    if (rows.length === 0) return;
    const sorted = Array.from(rows).sort((a, b) => a - b);
    const data = this.store.gatherRows(sorted);
    const slotOf = new Map<number, number>();
    sorted.forEach((row, i) => {
      const slot = this.free.pop();
      if (slot === undefined) throw new Error('mixing buffer overflow');
      this.slots.set(data.subarray(i * this.d, (i + 1) * this.d), slot * this.d);
      slotOf.set(row, slot);
    });
    for (let i = 0; i < rows.length; i++) {
      this.heldRows.push(rows[i]);
      this.heldSlots.push(slotOf.get(rows[i]) as number);
    }
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.cursor = 0;
    this.heldSlots = [];
    this.heldRows = [];
    this.servePos = 0;
    this.serveEnd = 0;
  }

  /** The epoch's streaming order: whole shards in a seeded order, rows in order within a shard. */
  private sequenceOf(epoch: number): Uint32Array {
    if (this.sequence && this.sequenceEpoch === epoch) return this.sequence;
    const shards = this.store.manifest.shards;
    const starts: number[] = [];
    let s = 0;
    for (const sh of shards) {
      starts.push(s);
      s += sh.rows;
    }
    const order = Uint32Array.from(shards.keys());
    new Rng([this.options.seed >>> 0, epoch >>> 0, 0x6d697374, 0x75646f31]).shuffle(order);
    const seq = new Uint32Array(this.store.count);
    let k = 0;
    for (const i of order) for (let r = 0; r < shards[i].rows; r++) seq[k++] = starts[i] + r;
    this.sequence = seq;
    this.sequenceEpoch = epoch;
    return seq;
  }

  private restore(state: ShuffledReaderState): void {
    this.epoch = state.epoch;
    this.cursor = state.cursor;
    this.servePos = state.servePos;
    this.serveEnd = state.serveEnd;
    this.served = state.served;
    this.rng = new Rng(state.rng);
    this.heldRows = [];
    this.heldSlots = [];
    // Served rows' slots are free; only the unserved part of the held list needs its data back.
    const unserved = state.held.slice(state.servePos);
    this.load(unserved);
    this.heldRows = [...state.held.slice(0, state.servePos), ...this.heldRows];
    this.heldSlots = [...new Array<number>(state.servePos).fill(-1), ...this.heldSlots];
  }
}
