/**
 * The streaming feature statistics against a brute-force recomputation over the whole activation
 * matrix held in memory: counts, sums, the doubling histogram (equal to binning every activation
 * with the final bin width), the top-k with windows, the interval samples (the R smallest hash keys
 * of each interval), and the token sample.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/random.js';
import { FeatureAccumulator, type AccumulatorSettings, type BatchSegment } from '../analysis/feature-accumulator.js';
import { featureKey, rowInSample, tokenHash } from '../analysis/sample-hash.js';

interface Data {
  S: number;
  T: number;
  rows: number;
  acts: Float32Array; // [rows*T, S]
  ids: Uint32Array;
  include: Uint8Array;
}

function makeData(seed: number, rows: number, T: number, S: number): Data {
  const rng = new Rng(seed);
  const acts = new Float32Array(rows * T * S);
  const ids = new Uint32Array(rows * T);
  const include = new Uint8Array(rows * T).fill(1);
  for (let n = 0; n < rows * T; n++) {
    ids[n] = rng.nextUint32() % 50;
    if (n % T === 0) include[n] = 0; // an excluded BOS
    for (let f = 0; f < S; f++) {
      const p = 0.02 + 0.3 * (f / S) ** 2;
      if (rng.next() < p) {
        // A feature-specific scale, occasional outliers that force the histogram to widen late.
        const v = (1 + f % 7) * rng.next() * (rng.next() < 0.01 ? 40 : 1);
        // Some exact ties, to exercise the tie rule.
        acts[n * S + f] = f % 5 === 0 ? Math.round(v) : v;
      }
    }
  }
  return { S, T, rows, acts, ids, include };
}

const settings = (S: number): AccumulatorSettings => ({
  dSae: S, topK: 7, windowBefore: 3, windowAfter: 2, histogramBins: 16, intervalGroups: 4, samplesPerInterval: 3, seed: 99,
  sampleRowProbability: 0.3, maxSampleNonZeros: 1e9,
});

function run(data: Data, rowsPerBatch: number, s: AccumulatorSettings): FeatureAccumulator {
  const acc = new FeatureAccumulator(s);
  const { T, S } = data;
  for (let r0 = 0; r0 < data.rows; r0 += rowsPerBatch) {
    const r1 = Math.min(data.rows, r0 + rowsPerBatch);
    const segments: BatchSegment[] = [];
    for (let r = r0; r < r1; r++) segments.push({ row: r, firstToken: 0, offset: (r - r0) * T, length: T });
    acc.addBatch({ acts: data.acts.slice(r0 * T * S, r1 * T * S), tokenIds: data.ids.slice(r0 * T, r1 * T), include: data.include.slice(r0 * T, r1 * T), segments });
  }
  return acc;
}

// 37: odd d_sae (int32 block test and the tail loop); 48: even (float64-pair block test).
for (const S of [37, 48])
describe(`FeatureAccumulator vs brute force, d_sae ${S}`, () => {
  const data = makeData(1, 40, 16, S);
  const s = settings(S);
  const acc = run(data, 3, s);
  const N = data.rows * data.T;
  const col = (f: number) => {
    const out: { n: number; v: number }[] = [];
    for (let n = 0; n < N; n++) if (data.include[n] && data.acts[n * S + f] > 0) out.push({ n, v: data.acts[n * S + f] });
    return out;
  };

  it('counts, sums and the histogram equal binning every activation with the final width', () => {
    expect(acc.tokensSeen).toBe(data.rows * (data.T - 1));
    for (let f = 0; f < S; f++) {
      const c = col(f);
      expect(acc.count[f]).toBe(c.length);
      let sum = 0;
      for (const x of c) sum += x.v;
      expect(acc.sum[f]).toBe(sum);
      const max = Math.max(...c.map((x) => x.v));
      const width = 2 ** acc.exponent[f];
      // The range [0, bins·width) holds the max in its upper half.
      expect(max).toBeLessThan(s.histogramBins * width);
      expect(max).toBeGreaterThanOrEqual((s.histogramBins / 2) * width);
      const hist = new Array(s.histogramBins).fill(0);
      for (const x of c) hist[Math.floor(x.v / width)]++;
      expect(Array.from(acc.histogram.subarray(f * s.histogramBins, (f + 1) * s.histogramBins))).toEqual(hist);
    }
  });

  it('top-k: the k largest (ties: earliest token) with their context windows', () => {
    for (let f = 0; f < S; f++) {
      const want = col(f).sort((a, b) => b.v - a.v || a.n - b.n).slice(0, s.topK);
      const got = acc.topExamples(f);
      expect(got.map((e) => [e.row, e.token, e.value])).toEqual(want.map((x) => [Math.floor(x.n / data.T), x.n % data.T, x.v]));
      for (const e of got) {
        const lo = Math.max(0, e.token - s.windowBefore);
        const hi = Math.min(data.T, e.token + s.windowAfter + 1);
        expect(e.windowStart).toBe(lo);
        const base = e.row * data.T;
        expect(e.tokenIds).toEqual(Array.from(data.ids.subarray(base + lo, base + hi)));
        expect(e.values).toEqual(Array.from({ length: hi - lo }, (_, k) => data.acts[(base + lo + k) * S + f]));
      }
    }
  });

  it('interval examples: in each interval, the firings with the smallest hash keys', () => {
    const groupBins = s.histogramBins / s.intervalGroups;
    for (let f = 0; f < S; f++) {
      const width = 2 ** acc.exponent[f];
      const groups: { n: number; v: number; key: number }[][] = Array.from({ length: s.intervalGroups }, () => []);
      for (const x of col(f)) {
        const key = featureKey(tokenHash(s.seed, Math.floor(x.n / data.T), x.n % data.T), f);
        groups[Math.floor(Math.floor(x.v / width) / groupBins)].push({ ...x, key });
      }
      const got = acc.intervalExamples(f);
      groups.forEach((g, gi) => {
        const want = g.sort((a, b) => a.key - b.key).slice(0, s.samplesPerInterval).sort((a, b) => b.v - a.v);
        expect(got[gi].map((e) => [e.row, e.token, e.value])).toEqual(want.map((x) => [Math.floor(x.n / data.T), x.n % data.T, x.v]));
      });
    }
  });

  it('token sample: every counted token of the hashed rows, with its non-zero activations', () => {
    const a = acc.tokenSample.arrays();
    const rows = Array.from(a.tokenSampleRows);
    const wantRows: number[] = [];
    const entries: [number, number][] = [];
    for (let n = 0; n < N; n++) {
      const r = Math.floor(n / data.T);
      if (!data.include[n] || !rowInSample(s.seed, r, s.sampleRowProbability)) continue;
      wantRows.push(r);
      for (let f = 0; f < S; f++) if (data.acts[n * S + f] > 0) entries.push([f, data.acts[n * S + f]]);
    }
    expect(rows).toEqual(wantRows);
    expect(wantRows.length).toBeGreaterThan(0);
    expect(wantRows.length).toBeLessThan(N);
    expect(Array.from(a.tokenSampleFeatures)).toEqual(entries.map((e) => e[0]));
    expect(Array.from(a.tokenSampleValues)).toEqual(entries.map((e) => e[1]));
  });

  it('does not depend on batch boundaries, and a restored state continues exactly', () => {
    const other = run(data, 7, s);
    for (const [name, arr] of Object.entries(acc.arrays())) {
      if (name === 'heap') continue; // the heap's internal order may differ; the examples may not
      expect(Array.from(other.arrays()[name] as ArrayLike<number>), name).toEqual(Array.from(arr as ArrayLike<number>));
    }
    const half = new FeatureAccumulator(s);
    const T = data.T;
    const first = run({ ...data, rows: 20, acts: data.acts.slice(0, 20 * T * S), ids: data.ids.slice(0, 20 * T), include: data.include.slice(0, 20 * T) }, 3, s);
    half.restore(first.arrays(), first.scalars());
    const segments: BatchSegment[] = [];
    for (let r = 20; r < 40; r++) segments.push({ row: r, firstToken: 0, offset: (r - 20) * T, length: T });
    half.addBatch({ acts: data.acts.slice(20 * T * S), tokenIds: data.ids.slice(20 * T), include: data.include.slice(20 * T), segments });
    for (let f = 0; f < S; f++) {
      expect(half.topExamples(f)).toEqual(acc.topExamples(f));
      expect(half.intervalExamples(f)).toEqual(acc.intervalExamples(f));
    }
    expect(Array.from(half.histogram)).toEqual(Array.from(acc.histogram));
  });
});
