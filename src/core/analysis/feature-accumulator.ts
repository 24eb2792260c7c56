/**
 * The streaming pass of feature analysis: it takes SAE feature activations batch by batch
 * (`[N, d_sae]`, dense, as the SAE graph returns them) and keeps, per feature, in memory bounded by
 * d_sae (never by the number of tokens):
 *
 * - firing count, sum (float64), and an exact activation histogram whose bin width is a power of
 *   two that doubles (merging bin pairs) whenever a larger value arrives, so the bins always cover
 *   [0, max] with max in the upper half of the range — one pass, no prior knowledge of the range;
 * - the top-k activations (min-heap; ties keep the earliest token in processing order), each with
 *   its context window (token ids and this feature's activation at every window token), captured
 *   when it enters the heap because later batches no longer hold those activations;
 * - interval examples: the activations are split into `intervalGroups` equal-width intervals of the
 *   histogram range and each keeps the `samplesPerInterval` firings with the smallest hash keys,
 *   i.e. a uniform sample without replacement that stays uniform when intervals merge;
 * - a token sample: every token of a hashed subset of dataset rows with its sparse activations, for
 *   correlations and for the negative examples of label scoring.
 *
 * The scan touches each activation once and skips zero blocks eight floats at a time; all
 * per-feature work happens only for non-zero activations, grouped by feature.
 */
import { MiStudioError } from '../errors.js';
import { featureKey, rowInSample, tokenHash } from './sample-hash.js';
import type { StoredArray } from './binary-container.js';
import { TokenSampleBuilder } from './token-sample.js';

export interface AccumulatorSettings {
  dSae: number;
  topK: number;
  windowBefore: number;
  windowAfter: number;
  /** Bins of each feature's histogram (a power of two ≥ 4). */
  histogramBins: number;
  /** Equal-width activation intervals for the interval examples (a power of two dividing the bins). */
  intervalGroups: number;
  samplesPerInterval: number;
  seed: number;
  /** Probability that a dataset row joins the token sample. */
  sampleRowProbability: number;
  /** The token sample stops growing past this many non-zero activations. */
  maxSampleNonZeros: number;
}

/** A run of consecutive tokens of one dataset row inside a batch. */
export interface BatchSegment {
  row: number;
  /** Token index (in the dataset row) of the segment's first token. */
  firstToken: number;
  /** Batch index of the segment's first token. */
  offset: number;
  length: number;
}

export interface ActivationBatch {
  /** Feature activations `[N, d_sae]`. */
  acts: Float32Array;
  /** Token id of every batch position `[N]`. */
  tokenIds: Uint32Array;
  /** 1 where the token is counted (not an excluded token such as BOS) `[N]`. */
  include: Uint8Array;
  /** Windows never cross a segment boundary; positions outside every segment are ignored. */
  segments: readonly BatchSegment[];
}

/** One stored example: where it is, its value, and its context window. */
export interface ExampleRecord {
  row: number;
  /** Token index of the activating token in its dataset row. */
  token: number;
  value: number;
  /** Token index in the row of the window's first token. */
  windowStart: number;
  tokenIds: number[];
  /** This feature's activation at each window token. */
  values: number[];
}

const NO_KEY = 0x100000000; // above every uint32 key: "the reservoir is not full"

export class FeatureAccumulator {
  readonly S: number;
  readonly K: number;
  readonly W: number;
  readonly NB: number;
  readonly G: number;
  readonly R: number;
  private readonly groupShift: number;

  tokensSeen = 0;
  /** Order of the next counted token (for tie-breaking in the top-k heap). */
  private seq = 0;

  // Per feature.
  readonly count: Float64Array;
  readonly sum: Float64Array;
  /** Histogram bin width is 2^exponent; `limit` = bins · width (0 until the first firing). */
  readonly exponent: Int16Array;
  private readonly inv: Float64Array;
  private readonly limit: Float64Array;
  readonly histogram: Float64Array; // [S, NB]

  // Top-k: slot j of feature f is f*K + j; heap[f*K + i] holds slot numbers.
  readonly topCount: Uint16Array;
  private readonly topThreshold: Float32Array;
  private readonly heap: Uint16Array;
  readonly topValue: Float32Array;
  private readonly topSeq: Float64Array;
  readonly topRow: Uint32Array;
  readonly topToken: Uint32Array;
  readonly topWindowStart: Uint32Array;
  readonly topWindowLength: Uint16Array;
  readonly topIds: Uint32Array; // [S*K, W]
  readonly topVals: Float32Array; // [S*K, W]

  // Interval samples: slot j of (f, g) is (f*G + g)*R + j.
  readonly sampleCount: Uint8Array; // [S*G]
  private readonly sampleThreshold: Float64Array; // [S*G] max key when full, else NO_KEY
  readonly sampleKey: Uint32Array;
  readonly sampleValue: Float32Array;
  readonly sampleRow: Uint32Array;
  readonly sampleToken: Uint32Array;
  readonly sampleWindowStart: Uint32Array;
  readonly sampleWindowLength: Uint16Array;
  readonly sampleIds: Uint32Array;
  readonly sampleVals: Float32Array;

  // Token sample (CSR over sampled tokens).
  readonly tokenSample = new TokenSampleBuilder();

  constructor(readonly settings: AccumulatorSettings) {
    const s = settings;
    checkSettings(s);
    this.S = s.dSae;
    this.K = s.topK;
    this.W = s.windowBefore + 1 + s.windowAfter;
    this.NB = s.histogramBins;
    this.G = s.intervalGroups;
    this.R = s.samplesPerInterval;
    this.groupShift = Math.log2(this.NB / this.G);
    const { S, K, W, NB, G, R } = this;
    this.count = new Float64Array(S);
    this.sum = new Float64Array(S);
    this.exponent = new Int16Array(S);
    this.inv = new Float64Array(S);
    this.limit = new Float64Array(S);
    this.histogram = new Float64Array(S * NB);
    this.topCount = new Uint16Array(S);
    this.topThreshold = new Float32Array(S);
    this.heap = new Uint16Array(S * K);
    this.topValue = new Float32Array(S * K);
    this.topSeq = new Float64Array(S * K);
    this.topRow = new Uint32Array(S * K);
    this.topToken = new Uint32Array(S * K);
    this.topWindowStart = new Uint32Array(S * K);
    this.topWindowLength = new Uint16Array(S * K);
    this.topIds = new Uint32Array(S * K * W);
    this.topVals = new Float32Array(S * K * W);
    const slots = S * G * R;
    this.sampleCount = new Uint8Array(S * G);
    this.sampleThreshold = new Float64Array(S * G).fill(NO_KEY);
    this.sampleKey = new Uint32Array(slots);
    this.sampleValue = new Float32Array(slots);
    this.sampleRow = new Uint32Array(slots);
    this.sampleToken = new Uint32Array(slots);
    this.sampleWindowStart = new Uint32Array(slots);
    this.sampleWindowLength = new Uint16Array(slots);
    this.sampleIds = new Uint32Array(slots * W);
    this.sampleVals = new Float32Array(slots * W);
  }

  /** Bytes held by the per-feature state (for memory estimates). */
  get stateBytes(): number {
    return Object.values(this.arrays()).reduce((a, x) => a + x.byteLength, 0);
  }

  // Scratch of one batch: the non-zero activations in token order, then grouped by feature.
  private nzToken = new Int32Array(0);
  private nzFeature = new Int32Array(0);
  private nzValue = new Float32Array(0);
  private byToken = new Int32Array(0);
  private byValue = new Float32Array(0);
  private featureStart = new Int32Array(0);

  /**
   * Two phases, for cache locality: a scan collects the non-zero activations (token order), then
   * a counting sort groups them by feature (stable, so each feature still sees its tokens in order
   * and results equal a token-by-token pass) and each feature's statistics are updated in one go.
   */
  addBatch(batch: ActivationBatch): void {
    const { S } = this;
    const { acts, include, tokenIds } = batch;
    const N = tokenIds.length;
    if (acts.length !== N * S) throw new MiStudioError('SHAPE_MISMATCH', `feature activations have ${acts.length} values; expected ${N} tokens × d_sae ${S}`, { field: 'acts' });
    if (include.length !== N) throw new MiStudioError('SHAPE_MISMATCH', `include has ${include.length} entries for ${N} tokens`, { field: 'include' });
    const bits = new Int32Array(acts.buffer, acts.byteOffset, acts.length);
    // Rows start on 8-byte boundaries when d_sae is even and the array is aligned.
    const pairs = S % 2 === 0 && acts.byteOffset % 8 === 0 ? new Float64Array(acts.buffer, acts.byteOffset, acts.length / 2) : undefined;
    const { seed, sampleRowProbability } = this.settings;
    const blocked = S - (S % 8);
    const segOf = new Int32Array(N).fill(-1);
    const hashOf = new Uint32Array(N);
    const seqOf = new Float64Array(N);
    let nz = 0;
    const push = (n: number, f: number, v: number): void => {
      if (nz === this.nzToken.length) this.growScratch();
      this.nzToken[nz] = n;
      this.nzFeature[nz] = f;
      this.nzValue[nz] = v;
      nz++;
    };
    batch.segments.forEach((seg, si) => {
      if (seg.offset < 0 || seg.length < 0 || seg.offset + seg.length > N) throw new MiStudioError('INVALID_ARGUMENT', `segment [${seg.offset}, ${seg.offset + seg.length}) is outside the batch of ${N} tokens`, { field: 'segments' });
      const sampled = rowInSample(seed, seg.row, sampleRowProbability) && this.tokenSample.nonZeros < this.settings.maxSampleNonZeros;
      for (let n = seg.offset; n < seg.offset + seg.length; n++) {
        if (!include[n]) continue;
        const token = seg.firstToken + (n - seg.offset);
        segOf[n] = si;
        hashOf[n] = tokenHash(seed, seg.row, token);
        seqOf[n] = this.seq++;
        this.tokensSeen++;
        const start = nz;
        const base = n * S;
        let f = 0;
        if (pairs) {
          // Four float64 loads test eight float32s: a pair of +0/-0 floats reads as ±0.
          const half = base >> 1;
          for (; f < blocked; f += 8) {
            const j = half + (f >> 1);
            if (pairs[j] === 0 && pairs[j + 1] === 0 && pairs[j + 2] === 0 && pairs[j + 3] === 0) continue;
            const i = base + f;
            for (let k = 0; k < 8; k++) {
              const v = acts[i + k];
              if (v > 0) push(n, f + k, v);
            }
          }
        } else {
          for (; f < blocked; f += 8) {
            const i = base + f;
            if ((bits[i] | bits[i + 1] | bits[i + 2] | bits[i + 3] | bits[i + 4] | bits[i + 5] | bits[i + 6] | bits[i + 7]) === 0) continue;
            for (let k = 0; k < 8; k++) {
              const v = acts[i + k];
              if (v > 0) push(n, f + k, v);
            }
          }
        }
        for (; f < S; f++) {
          const v = acts[base + f];
          if (v > 0) push(n, f, v);
        }
        if (sampled) {
          this.tokenSample.startToken(seg.row, token, tokenIds[n]);
          for (let i = start; i < nz; i++) this.tokenSample.push(this.nzFeature[i], this.nzValue[i]);
        }
      }
    });
    // Counting sort by feature (stable).
    if (this.featureStart.length !== S + 1) this.featureStart = new Int32Array(S + 1);
    const startOf = this.featureStart.fill(0);
    for (let i = 0; i < nz; i++) startOf[this.nzFeature[i] + 1]++;
    for (let f = 0; f < S; f++) startOf[f + 1] += startOf[f];
    if (this.byToken.length < nz) {
      this.byToken = new Int32Array(this.nzToken.length);
      this.byValue = new Float32Array(this.nzToken.length);
    }
    const fill = startOf.slice(0, S);
    for (let i = 0; i < nz; i++) {
      const at = fill[this.nzFeature[i]]++;
      this.byToken[at] = this.nzToken[i];
      this.byValue[at] = this.nzValue[i];
    }
    const { count, sum, limit, inv, histogram, topThreshold, sampleThreshold, NB, G, groupShift, byToken, byValue } = this;
    for (let f = 0; f < S; f++) {
      const a = startOf[f];
      const b = startOf[f + 1];
      if (a === b) continue;
      let c = count[f];
      let total = sum[f];
      const hBase = f * NB;
      const gBase = f * G;
      for (let i = a; i < b; i++) {
        const n = byToken[i];
        const v = byValue[i];
        c++;
        total += v;
        if (v >= limit[f]) this.grow(f, v);
        const bin = (v * inv[f]) | 0;
        histogram[hBase + bin]++;
        if (v > topThreshold[f]) this.insertTop(f, v, n, seqOf[n], batch.segments[segOf[n]], batch);
        const key = featureKey(hashOf[n], f);
        const gi = gBase + (bin >> groupShift);
        if (key < sampleThreshold[gi]) this.insertSample(f, gi, key, v, n, batch.segments[segOf[n]], batch);
      }
      count[f] = c;
      sum[f] = total;
    }
  }

  private growScratch(): void {
    const size = Math.max(1 << 16, this.nzToken.length * 2);
    const t = new Int32Array(size);
    t.set(this.nzToken);
    const f = new Int32Array(size);
    f.set(this.nzFeature);
    const v = new Float32Array(size);
    v.set(this.nzValue);
    this.nzToken = t;
    this.nzFeature = f;
    this.nzValue = v;
  }

  /** The smallest e with v < NB · 2^e. */
  private exponentFor(v: number): number {
    let e = Math.floor(Math.log2(v)) - Math.log2(this.NB) + 1;
    while (v >= this.NB * 2 ** e) e++;
    while (v < this.NB * 2 ** (e - 1)) e--;
    return e;
  }

  /** Widens feature f's histogram (and interval groups) until `v` fits. */
  private grow(f: number, v: number): void {
    const e = this.exponentFor(v);
    if (this.limit[f] === 0) {
      this.setExponent(f, e);
      return;
    }
    const steps = e - this.exponent[f];
    const factor = 2 ** Math.min(steps, Math.log2(this.NB));
    const { NB, G, R } = this;
    const h = this.histogram.subarray(f * NB, (f + 1) * NB);
    const merged = new Float64Array(NB);
    for (let i = 0; i < NB; i++) merged[Math.floor(i / factor)] += h[i];
    h.set(merged);
    // Interval groups: new group g is the union of old groups [g·factor, (g+1)·factor) ∩ [0, G).
    const groupFactor = Math.min(factor, G);
    const first = f * G * R;
    const old = this.copySampleSlots(f);
    for (let g = 0; g < G; g++) {
      const candidates: number[] = [];
      for (let og = g * groupFactor; og < Math.min(G, (g + 1) * groupFactor); og++) {
        for (let j = 0; j < old.count[og]; j++) candidates.push(og * R + j);
      }
      candidates.sort((a, b) => old.key[a] - old.key[b]);
      const keep = candidates.slice(0, R);
      const gi = f * G + g;
      this.sampleCount[gi] = keep.length;
      keep.forEach((src, j) => this.restoreSampleSlot(first + g * R + j, old, src));
      this.sampleThreshold[gi] = keep.length === R ? Math.max(...keep.map((s) => old.key[s])) : NO_KEY;
    }
    this.setExponent(f, e);
  }

  private setExponent(f: number, e: number): void {
    this.exponent[f] = e;
    this.inv[f] = 2 ** -e;
    this.limit[f] = this.NB * 2 ** e;
  }

  private copySampleSlots(f: number) {
    const { W, G, R } = this;
    const first = f * G * R;
    const n = G * R;
    return {
      count: this.sampleCount.slice(f * G, (f + 1) * G),
      key: this.sampleKey.slice(first, first + n),
      value: this.sampleValue.slice(first, first + n),
      row: this.sampleRow.slice(first, first + n),
      token: this.sampleToken.slice(first, first + n),
      windowStart: this.sampleWindowStart.slice(first, first + n),
      windowLength: this.sampleWindowLength.slice(first, first + n),
      ids: this.sampleIds.slice(first * W, (first + n) * W),
      vals: this.sampleVals.slice(first * W, (first + n) * W),
    };
  }

  private restoreSampleSlot(slot: number, old: ReturnType<FeatureAccumulator['copySampleSlots']>, src: number): void {
    const { W } = this;
    this.sampleKey[slot] = old.key[src];
    this.sampleValue[slot] = old.value[src];
    this.sampleRow[slot] = old.row[src];
    this.sampleToken[slot] = old.token[src];
    this.sampleWindowStart[slot] = old.windowStart[src];
    this.sampleWindowLength[slot] = old.windowLength[src];
    this.sampleIds.set(old.ids.subarray(src * W, (src + 1) * W), slot * W);
    this.sampleVals.set(old.vals.subarray(src * W, (src + 1) * W), slot * W);
  }

  /** Copies the window around batch position n (within its segment) into a slot's window arrays. */
  private captureWindow(f: number, n: number, seg: BatchSegment, batch: ActivationBatch, ids: Uint32Array, vals: Float32Array, slot: number): { start: number; length: number } {
    const { W, S } = this;
    const lo = Math.max(seg.offset, n - this.settings.windowBefore);
    const hi = Math.min(seg.offset + seg.length, n + this.settings.windowAfter + 1);
    const at = slot * W;
    for (let m = lo; m < hi; m++) {
      ids[at + m - lo] = batch.tokenIds[m];
      vals[at + m - lo] = batch.acts[m * S + f];
    }
    return { start: seg.firstToken + (lo - seg.offset), length: hi - lo };
  }

  /** Heap order: smaller value first; equal values: the later token first (it is evicted first). */
  private less(a: number, b: number): boolean {
    const va = this.topValue[a];
    const vb = this.topValue[b];
    return va < vb || (va === vb && this.topSeq[a] > this.topSeq[b]);
  }

  private insertTop(f: number, v: number, n: number, seq: number, seg: BatchSegment, batch: ActivationBatch): void {
    const { K } = this;
    const base = f * K;
    const heap = this.heap;
    const c = this.topCount[f];
    let slot: number;
    if (c < K) {
      slot = base + c;
      this.writeTop(slot, f, v, n, seq, seg, batch);
      // Sift up.
      let i = c;
      heap[base + i] = slot - base;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.less(base + heap[base + i], base + heap[base + parent])) break;
        [heap[base + i], heap[base + parent]] = [heap[base + parent], heap[base + i]];
        i = parent;
      }
      this.topCount[f] = c + 1;
    } else {
      slot = base + heap[base];
      this.writeTop(slot, f, v, n, seq, seg, batch);
      // Sift down from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= K) break;
        const r = l + 1;
        let m = l;
        if (r < K && this.less(base + heap[base + r], base + heap[base + l])) m = r;
        if (!this.less(base + heap[base + m], base + heap[base + i])) break;
        [heap[base + i], heap[base + m]] = [heap[base + m], heap[base + i]];
        i = m;
      }
    }
    if (this.topCount[f] === K) this.topThreshold[f] = this.topValue[base + heap[base]];
  }

  private writeTop(slot: number, f: number, v: number, n: number, seq: number, seg: BatchSegment, batch: ActivationBatch): void {
    this.topValue[slot] = v;
    this.topSeq[slot] = seq;
    this.topRow[slot] = seg.row;
    this.topToken[slot] = seg.firstToken + (n - seg.offset);
    const w = this.captureWindow(f, n, seg, batch, this.topIds, this.topVals, slot);
    this.topWindowStart[slot] = w.start;
    this.topWindowLength[slot] = w.length;
  }

  private insertSample(f: number, gi: number, key: number, v: number, n: number, seg: BatchSegment, batch: ActivationBatch): void {
    const { R } = this;
    const first = gi * R;
    let slot: number;
    const c = this.sampleCount[gi];
    if (c < R) {
      slot = first + c;
      this.sampleCount[gi] = c + 1;
    } else {
      slot = first;
      for (let j = 1; j < R; j++) if (this.sampleKey[first + j] > this.sampleKey[slot]) slot = first + j;
    }
    this.sampleKey[slot] = key;
    this.sampleValue[slot] = v;
    this.sampleRow[slot] = seg.row;
    this.sampleToken[slot] = seg.firstToken + (n - seg.offset);
    const w = this.captureWindow(f, n, seg, batch, this.sampleIds, this.sampleVals, slot);
    this.sampleWindowStart[slot] = w.start;
    this.sampleWindowLength[slot] = w.length;
    if (this.sampleCount[gi] === R) {
      let max = 0;
      for (let j = 0; j < R; j++) max = Math.max(max, this.sampleKey[first + j]);
      this.sampleThreshold[gi] = max;
    }
  }

  /** Feature f's top examples, largest first (ties: earliest first). */
  topExamples(f: number): ExampleRecord[] {
    const { K } = this;
    const slots = Array.from({ length: this.topCount[f] }, (_, j) => f * K + j);
    slots.sort((a, b) => (this.less(a, b) ? 1 : this.less(b, a) ? -1 : 0));
    return slots.map((s) => this.example(s, this.topRow, this.topToken, this.topValue, this.topWindowStart, this.topWindowLength, this.topIds, this.topVals));
  }

  /** Feature f's interval examples: per interval group (lowest first), sorted by value, largest first. */
  intervalExamples(f: number): ExampleRecord[][] {
    const { G, R } = this;
    return Array.from({ length: G }, (_, g) => {
      const gi = f * G + g;
      const slots = Array.from({ length: this.sampleCount[gi] }, (_, j) => gi * R + j);
      slots.sort((a, b) => this.sampleValue[b] - this.sampleValue[a] || this.sampleKey[a] - this.sampleKey[b]);
      return slots.map((s) => this.example(s, this.sampleRow, this.sampleToken, this.sampleValue, this.sampleWindowStart, this.sampleWindowLength, this.sampleIds, this.sampleVals));
    });
  }

  private example(slot: number, row: Uint32Array, token: Uint32Array, value: Float32Array, start: Uint32Array, length: Uint16Array, ids: Uint32Array, vals: Float32Array): ExampleRecord {
    const at = slot * this.W;
    const len = length[slot];
    return {
      row: row[slot],
      token: token[slot],
      value: value[slot],
      windowStart: start[slot],
      tokenIds: Array.from(ids.subarray(at, at + len)),
      values: Array.from(vals.subarray(at, at + len)),
    };
  }

  /** Every array of the state, by name (for checkpoints and the side files). */
  arrays(): Record<string, StoredArray> {
    return {
      count: this.count,
      sum: this.sum,
      exponent: this.exponent,
      histogram: this.histogram,
      topCount: this.topCount,
      topThreshold: this.topThreshold,
      heap: this.heap,
      topValue: this.topValue,
      topSeq: this.topSeq,
      topRow: this.topRow,
      topToken: this.topToken,
      topWindowStart: this.topWindowStart,
      topWindowLength: this.topWindowLength,
      topIds: this.topIds,
      topVals: this.topVals,
      sampleCount: this.sampleCount,
      sampleThreshold: this.sampleThreshold,
      sampleKey: this.sampleKey,
      sampleValue: this.sampleValue,
      sampleRow: this.sampleRow,
      sampleToken: this.sampleToken,
      sampleWindowStart: this.sampleWindowStart,
      sampleWindowLength: this.sampleWindowLength,
      sampleIds: this.sampleIds,
      sampleVals: this.sampleVals,
      ...this.tokenSample.arrays(),
    };
  }

  /** Counters that are not arrays. */
  scalars(): { tokensSeen: number; seq: number } {
    return { tokensSeen: this.tokensSeen, seq: this.seq };
  }

  /** Restores a state saved by `arrays()` and `scalars()` (same settings). */
  restore(arrays: Record<string, StoredArray>, scalars: { tokensSeen: number; seq: number }): void {
    const own = this.arrays();
    for (const [name, a] of Object.entries(own)) {
      if (name.startsWith('tokenSample')) continue;
      const src = arrays[name];
      if (!src || src.length !== a.length || src.constructor !== a.constructor) {
        throw new MiStudioError('CORRUPT_FILE', `checkpoint array ${name} does not match the analysis settings`, { field: name });
      }
      a.set(src as never);
    }
    this.tokenSample.restore(arrays);
    for (let f = 0; f < this.S; f++) {
      if (this.count[f] > 0) this.setExponent(f, this.exponent[f]);
    }
    this.tokensSeen = scalars.tokensSeen;
    this.seq = scalars.seq;
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function checkSettings(s: AccumulatorSettings): void {
  const bad = (field: string, why: string): never => {
    throw new MiStudioError('INVALID_ARGUMENT', `${field} ${why}`, { field });
  };
  if (!Number.isInteger(s.dSae) || s.dSae <= 0) bad('dSae', 'must be a positive integer');
  if (!Number.isInteger(s.topK) || s.topK < 1 || s.topK > 65535) bad('topK', 'must be an integer in [1, 65535]');
  if (!Number.isInteger(s.windowBefore) || s.windowBefore < 0) bad('windowBefore', 'must be a non-negative integer');
  if (!Number.isInteger(s.windowAfter) || s.windowAfter < 0) bad('windowAfter', 'must be a non-negative integer');
  if (s.windowBefore + 1 + s.windowAfter > 65535) bad('windowBefore', 'makes the window too long');
  if (!isPowerOfTwo(s.histogramBins) || s.histogramBins < 4 || s.histogramBins > 4096) bad('histogramBins', 'must be a power of two in [4, 4096]');
  if (!isPowerOfTwo(s.intervalGroups) || s.intervalGroups < 2 || s.intervalGroups > s.histogramBins) bad('intervalGroups', 'must be a power of two in [2, histogramBins]');
  if (!Number.isInteger(s.samplesPerInterval) || s.samplesPerInterval < 1 || s.samplesPerInterval > 255) bad('samplesPerInterval', 'must be an integer in [1, 255]');
  if (!(s.sampleRowProbability >= 0 && s.sampleRowProbability <= 1)) bad('sampleRowProbability', 'must be in [0, 1]');
}
