/**
 * The token sample of feature analysis: every token of a hashed subset of dataset rows with its
 * sparse feature activations (CSR), kept for correlations and for label scoring's negative examples.
 */
import { MiStudioError } from '../errors.js';
import type { StoredArray } from './binary-container.js';

/** The sampled tokens' sparse activations, CSR: token t has entries [offsets[t], offsets[t+1]). */
export class TokenSampleBuilder {
  private rows = new Uint32Array(1024);
  private tokens = new Uint32Array(1024);
  private ids = new Uint32Array(1024);
  private offsets = new Float64Array(1025);
  private features = new Uint32Array(4096);
  private values = new Float32Array(4096);
  tokenCount = 0;
  nonZeros = 0;

  startToken(row: number, token: number, id: number): void {
    if (this.tokenCount === this.rows.length) {
      this.rows = grow(this.rows);
      this.tokens = grow(this.tokens);
      this.ids = grow(this.ids);
      const o = new Float64Array(this.rows.length + 1);
      o.set(this.offsets);
      this.offsets = o;
    }
    this.rows[this.tokenCount] = row;
    this.tokens[this.tokenCount] = token;
    this.ids[this.tokenCount] = id;
    this.tokenCount++;
    this.offsets[this.tokenCount] = this.nonZeros;
  }

  push(feature: number, value: number): void {
    if (this.nonZeros === this.features.length) {
      this.features = grow(this.features);
      this.values = grow(this.values);
    }
    this.features[this.nonZeros] = feature;
    this.values[this.nonZeros] = value;
    this.nonZeros++;
    this.offsets[this.tokenCount] = this.nonZeros;
  }

  arrays(): Record<string, StoredArray> {
    return {
      tokenSampleRows: this.rows.slice(0, this.tokenCount),
      tokenSampleTokens: this.tokens.slice(0, this.tokenCount),
      tokenSampleIds: this.ids.slice(0, this.tokenCount),
      tokenSampleOffsets: this.offsets.slice(0, this.tokenCount + 1),
      tokenSampleFeatures: this.features.slice(0, this.nonZeros),
      tokenSampleValues: this.values.slice(0, this.nonZeros),
    };
  }

  restore(arrays: Record<string, StoredArray>): void {
    const need = ['tokenSampleRows', 'tokenSampleTokens', 'tokenSampleIds', 'tokenSampleOffsets', 'tokenSampleFeatures', 'tokenSampleValues'];
    for (const n of need) if (!arrays[n]) throw new MiStudioError('CORRUPT_FILE', `checkpoint array ${n} is missing`, { field: n });
    this.rows = Uint32Array.from(arrays.tokenSampleRows);
    this.tokens = Uint32Array.from(arrays.tokenSampleTokens);
    this.ids = Uint32Array.from(arrays.tokenSampleIds);
    this.offsets = Float64Array.from(arrays.tokenSampleOffsets);
    this.features = Uint32Array.from(arrays.tokenSampleFeatures);
    this.values = Float32Array.from(arrays.tokenSampleValues);
    this.tokenCount = this.rows.length;
    this.nonZeros = this.features.length;
    if (this.tokenCount === 0) {
      this.rows = new Uint32Array(1024);
      this.tokens = new Uint32Array(1024);
      this.ids = new Uint32Array(1024);
      this.offsets = new Float64Array(1025);
    }
    if (this.nonZeros === 0) {
      this.features = new Uint32Array(4096);
      this.values = new Float32Array(4096);
    }
  }
}

function grow<T extends Uint32Array | Float32Array>(a: T): T {
  const out = new (a.constructor as new (n: number) => T)(a.length * 2);
  out.set(a as never);
  return out;
}
