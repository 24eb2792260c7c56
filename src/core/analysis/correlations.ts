/**
 * Relations between features:
 *
 * - Pearson correlation of activations over the analysis' token sample (every counted token of a
 *   hashed subset of dataset rows, zeros included). The sample is sparse, so for feature f only the
 *   tokens where f fires contribute cross terms; with per-feature sums and sums of squares the
 *   correlation with every other feature is then exact over the sample (what numpy's corrcoef gives
 *   on the same dense matrix), and the top lists are taken from all of them.
 * - Decoder-cosine nearest neighbours: cosine similarity of W_dec rows.
 */
import { MiStudioError } from '../errors.js';
import type { SaeModel } from '../sae/sae-model.js';
import type { TokenSample } from './analysis-files.js';

export interface FeatureRelation {
  feature: number;
  value: number;
}

export interface CorrelationResult {
  feature: number;
  /** Tokens in the sample. */
  sampleTokens: number;
  /** Tokens of the sample where the feature fires. */
  sampleFirings: number;
  /** Most positively correlated features, largest first. */
  positive: FeatureRelation[];
  /** Most negatively correlated features, most negative first. */
  negative: FeatureRelation[];
}

/** Column sums and the feature → sampled tokens index, built once per sample. */
export class SampleCorrelations {
  private readonly n: number;
  private readonly sx: Float64Array;
  private readonly sxx: Float64Array;
  /** CSC: the sample entries of feature f are byFeature[colStart[f] .. colStart[f+1]). */
  private readonly colStart: Uint32Array;
  private readonly colToken: Uint32Array;
  private readonly colValue: Float32Array;

  constructor(private readonly sample: TokenSample, readonly dSae: number) {
    this.n = sample.rows.length;
    this.sx = new Float64Array(dSae);
    this.sxx = new Float64Array(dSae);
    const counts = new Uint32Array(dSae + 1);
    for (let i = 0; i < sample.features.length; i++) {
      const f = sample.features[i];
      const v = sample.values[i];
      this.sx[f] += v;
      this.sxx[f] += v * v;
      counts[f + 1]++;
    }
    for (let f = 0; f < dSae; f++) counts[f + 1] += counts[f];
    this.colStart = counts;
    this.colToken = new Uint32Array(sample.features.length);
    this.colValue = new Float32Array(sample.features.length);
    const fill = counts.slice(0, dSae);
    for (let t = 0; t < this.n; t++) {
      for (let i = sample.offsets[t]; i < sample.offsets[t + 1]; i++) {
        const f = sample.features[i];
        this.colToken[fill[f]] = t;
        this.colValue[fill[f]] = sample.values[i];
        fill[f]++;
      }
    }
  }

  /** Pearson correlation of `feature` with every feature over the sample ([d_sae], NaN where a variance is 0). */
  all(feature: number): Float64Array {
    if (!Number.isInteger(feature) || feature < 0 || feature >= this.dSae) throw new MiStudioError('INVALID_ARGUMENT', `feature ${feature} is outside [0, ${this.dSae})`, { field: 'feature' });
    const { n, sx, sxx, sample } = this;
    const sxy = new Float64Array(this.dSae);
    for (let i = this.colStart[feature]; i < this.colStart[feature + 1]; i++) {
      const t = this.colToken[i];
      const a = this.colValue[i];
      for (let j = sample.offsets[t]; j < sample.offsets[t + 1]; j++) sxy[sample.features[j]] += a * sample.values[j];
    }
    const out = new Float64Array(this.dSae);
    const varF = n * sxx[feature] - sx[feature] * sx[feature];
    for (let g = 0; g < this.dSae; g++) {
      const varG = n * sxx[g] - sx[g] * sx[g];
      out[g] = varF > 0 && varG > 0 ? (n * sxy[g] - sx[feature] * sx[g]) / Math.sqrt(varF * varG) : NaN;
    }
    return out;
  }

  correlations(feature: number, top = 10): CorrelationResult {
    const r = this.all(feature);
    return {
      feature,
      sampleTokens: this.n,
      sampleFirings: this.colStart[feature + 1] - this.colStart[feature],
      positive: ranked(r, feature, top, 1),
      negative: ranked(r, feature, top, -1),
    };
  }
}

function ranked(values: Float64Array, self: number, k: number, sign: 1 | -1): FeatureRelation[] {
  const items: FeatureRelation[] = [];
  for (let g = 0; g < values.length; g++) if (g !== self && Number.isFinite(values[g]) && sign * values[g] > 0) items.push({ feature: g, value: values[g] });
  return items.sort((a, b) => sign * (b.value - a.value) || a.feature - b.feature).slice(0, k);
}

/** Features whose decoder rows are most similar in direction (cosine), largest first. */
export function decoderNeighbours(sae: SaeModel, feature: number, top = 10): FeatureRelation[] {
  const { dIn: d, dSae: S } = sae;
  if (!Number.isInteger(feature) || feature < 0 || feature >= S) throw new MiStudioError('INVALID_ARGUMENT', `feature ${feature} is outside [0, ${S})`, { field: 'feature' });
  const W = sae.weights.W_dec;
  const norm = (f: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += W[f * d + j] ** 2;
    return Math.sqrt(s);
  };
  const nf = norm(feature);
  const cos = new Float64Array(S);
  for (let g = 0; g < S; g++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += W[feature * d + j] * W[g * d + j];
    const ng = norm(g);
    cos[g] = nf > 0 && ng > 0 ? dot / (nf * ng) : NaN;
  }
  const items: FeatureRelation[] = [];
  for (let g = 0; g < S; g++) if (g !== feature && Number.isFinite(cos[g])) items.push({ feature: g, value: cos[g] });
  return items.sort((a, b) => b.value - a.value || a.feature - b.feature).slice(0, top);
}
