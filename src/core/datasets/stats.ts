/**
 * Dataset statistics, accumulated in the same single pass that writes the dataset (documents,
 * bytes, tokens, lengths, token frequencies) and cached in stats.json and the catalog.
 */

export interface Histogram {
  /** Bin edges, `counts.length + 1` of them; bin i holds values in [edges[i], edges[i+1]). */
  edges: number[];
  counts: number[];
}

export interface LengthSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  histogram: Histogram;
}

export interface SplitSize {
  name: string;
  documents: number;
  /** Documents for text datasets; rows (context windows) for tokenized ones. */
  rows: number;
  /** UTF-8 bytes of the split's text. */
  textBytes: number;
  tokens?: number;
}

export interface TextDatasetStats {
  kind: 'text';
  documents: number;
  /** UTF-8 bytes of all documents. */
  textBytes: number;
  /** Bytes of the dataset's files on disk. */
  bytes: number;
  splits: SplitSize[];
  bytesPerDocument: LengthSummary;
  /** Rows of the source that were skipped: empty text, or no value in the text column. */
  skippedRows: number;
}

export interface TopToken {
  id: number;
  /** The token decoded alone, as the token view shows it. */
  token: string;
  count: number;
}

export interface TokenizedDatasetStats {
  kind: 'tokenized';
  documents: number;
  rows: number;
  /** Tokens stored, padding included. */
  tokens: number;
  paddingTokens: number;
  /** Tokens the tokenizer produced that are not stored (truncated, or the last partial window). */
  droppedTokens: number;
  textBytes: number;
  bytes: number;
  contextSize: number;
  vocabSize: number;
  uniqueTokens: number;
  topTokens: TopToken[];
  /** Tokens per source document, as the tokenizer produced them (before packing/truncation). */
  tokensPerDocument: LengthSummary;
  splits: SplitSize[];
}

export type DatasetStats = TextDatasetStats | TokenizedDatasetStats;

const DEFAULT_BINS = 20;

/** Exact distribution of integer lengths (a map from length to count: distinct lengths are few). */
export class LengthAccumulator {
  private readonly counts = new Map<number, number>();
  private n = 0;
  private sum = 0;

  add(length: number): void {
    this.counts.set(length, (this.counts.get(length) ?? 0) + 1);
    this.n++;
    this.sum += length;
  }

  summary(bins = DEFAULT_BINS): LengthSummary {
    if (this.n === 0) return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, histogram: { edges: [0, 1], counts: [0] } };
    const keys = [...this.counts.keys()].sort((a, b) => a - b);
    const min = keys[0];
    const max = keys[keys.length - 1];
    const quantile = (q: number): number => {
      const target = Math.ceil(q * this.n);
      let seen = 0;
      for (const k of keys) {
        seen += this.counts.get(k)!;
        if (seen >= target) return k;
      }
      return max;
    };
    const width = Math.max(1, Math.ceil((max - min + 1) / bins));
    const nBins = Math.max(1, Math.ceil((max - min + 1) / width));
    const edges = Array.from({ length: nBins + 1 }, (_, i) => min + i * width);
    const counts = new Array<number>(nBins).fill(0);
    for (const k of keys) counts[Math.min(nBins - 1, Math.floor((k - min) / width))] += this.counts.get(k)!;
    return { count: this.n, min, max, mean: this.sum / this.n, p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), histogram: { edges, counts } };
  }
}

/** Occurrences of every token id; grows past the declared vocabulary if ids exceed it. */
export class TokenFrequency {
  private counts: Float64Array;

  constructor(vocabSize: number) {
    this.counts = new Float64Array(Math.max(1, vocabSize));
  }

  add(ids: ArrayLike<number>, start = 0, end = ids.length): void {
    for (let i = start; i < end; i++) {
      const id = ids[i];
      if (id >= this.counts.length) {
        const grown = new Float64Array(Math.max(id + 1, this.counts.length * 2));
        grown.set(this.counts);
        this.counts = grown;
      }
      this.counts[id]++;
    }
  }

  unique(): number {
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] > 0) n++;
    return n;
  }

  /** The `k` most frequent ids, most frequent first (ties: smaller id first). */
  top(k: number): Array<{ id: number; count: number }> {
    const ids: number[] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] > 0) ids.push(i);
    ids.sort((a, b) => this.counts[b] - this.counts[a] || a - b);
    return ids.slice(0, k).map((id) => ({ id, count: this.counts[id] }));
  }
}
