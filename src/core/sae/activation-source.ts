/**
 * Where training batches come from. The on-disk activation store implements this; the in-memory
 * and synthetic sources here serve tests, benchmarks and notebooks with data already in hand.
 * A source's position is plain JSON, saved in checkpoints, so a resumed run sees the exact rows an
 * uninterrupted one would have.
 */
import { MiStudioError } from '../errors.js';
import { Rng } from '../engine/random.js';

export type SourcePosition = Record<string, unknown>;

export interface ActivationSource {
  /** Width of each row. */
  readonly d: number;
  /** The next `rows` rows, [rows, d] row-major float32; sources loop rather than run dry. */
  nextBatch(rows: number): Promise<Float32Array>;
  position(): SourcePosition;
  restore(position: SourcePosition): void;
}

/**
 * Rows held in memory, served in a seeded random order that is reshuffled every epoch (or in
 * storage order when `shuffleSeed` is undefined).
 */
export class InMemoryActivationSource implements ActivationSource {
  private readonly count: number;
  private order: Uint32Array | undefined;
  private epoch = 0;
  private cursor = 0;

  constructor(private readonly data: Float32Array, readonly d: number, private readonly shuffleSeed?: number) {
    if (!Number.isInteger(d) || d <= 0 || data.length % d !== 0 || data.length === 0) {
      throw new MiStudioError('SHAPE_MISMATCH', `activation data of ${data.length} values is not a non-empty whole number of rows of width ${d}`, { field: 'activations' });
    }
    this.count = data.length / d;
    this.startEpoch(0);
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.cursor = 0;
    if (this.shuffleSeed === undefined) return;
    const order = Uint32Array.from({ length: this.count }, (_, i) => i);
    new Rng(this.shuffleSeed * 1_000_003 + epoch).shuffle(order);
    this.order = order;
  }

  async nextBatch(rows: number): Promise<Float32Array> {
    const { d } = this;
    const out = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) {
      if (this.cursor === this.count) this.startEpoch(this.epoch + 1);
      const src = this.order ? this.order[this.cursor] : this.cursor;
      out.set(this.data.subarray(src * d, (src + 1) * d), r * d);
      this.cursor++;
    }
    return out;
  }

  position(): SourcePosition {
    return { epoch: this.epoch, cursor: this.cursor };
  }

  restore(position: SourcePosition): void {
    const { epoch, cursor } = position as { epoch: number; cursor: number };
    if (!Number.isInteger(epoch) || !Number.isInteger(cursor) || cursor < 0 || cursor > this.count) {
      throw new MiStudioError('INVALID_ARGUMENT', `source position ${JSON.stringify(position)} does not fit ${this.count} rows`, { field: 'sourcePosition' });
    }
    this.startEpoch(epoch);
    this.cursor = cursor;
  }
}

export interface SyntheticDictionaryOptions {
  d: number;
  /** Number of ground-truth feature directions (unit vectors). */
  features: number;
  /** Features active per row. */
  activePerRow: number;
  seed: number;
  /** Standard deviation of isotropic Gaussian noise added to each row. */
  noise?: number;
}

/**
 * Rows that are sparse non-negative combinations of known unit directions plus a little noise — the
 * standard test that an SAE recovers a dictionary. `features` [features, d] holds the ground truth.
 */
export class SyntheticDictionarySource implements ActivationSource {
  readonly d: number;
  readonly features: Float32Array;
  private rng: Rng;

  constructor(private readonly options: SyntheticDictionaryOptions) {
    const { d, features, activePerRow } = options;
    if (activePerRow > features) throw new MiStudioError('INVALID_ARGUMENT', `activePerRow ${activePerRow} exceeds features ${features}`, { field: 'activePerRow' });
    this.d = d;
    const init = new Rng(options.seed);
    this.features = new Float32Array(features * d);
    for (let f = 0; f < features; f++) {
      let sq = 0;
      const row = Float64Array.from({ length: d }, () => init.normal());
      for (const v of row) sq += v * v;
      for (let j = 0; j < d; j++) this.features[f * d + j] = row[j] / Math.sqrt(sq);
    }
    this.rng = new Rng(init.state());
  }

  async nextBatch(rows: number): Promise<Float32Array> {
    const { d, features, activePerRow, noise = 0 } = { ...this.options };
    const out = new Float32Array(rows * d);
    const picked = new Set<number>();
    for (let r = 0; r < rows; r++) {
      picked.clear();
      while (picked.size < activePerRow) picked.add(this.rng.int(features));
      for (const f of picked) {
        const magnitude = 0.5 + this.rng.next();
        for (let j = 0; j < d; j++) out[r * d + j] += magnitude * this.features[f * d + j];
      }
      if (noise > 0) for (let j = 0; j < d; j++) out[r * d + j] += noise * this.rng.normal();
    }
    return out;
  }

  position(): SourcePosition {
    return { rng: this.rng.state() };
  }

  restore(position: SourcePosition): void {
    this.rng = new Rng(position.rng as number[]);
  }
}
