/**
 * Data shapes of the feature widgets (`<ms-feature-card>`, `<ms-logit-lens>`, `<ms-correlations>`,
 * `<ms-ablation>`, `<ms-feature-browser>`). Produced from `@mistudio/core` analysis results by
 * `@mistudio/kernel`'s feature glue; plain JSON, no DOM types (imported from Node too).
 */

/** An equal-width histogram: bin i counts values in [lower + i·binWidth, lower + (i+1)·binWidth). */
export interface HistogramData {
  lower: number;
  binWidth: number;
  counts: number[];
}

/** A context window around one activation of a feature. */
export interface FeatureExample {
  /** Decoded token strings of the window. */
  tokens: string[];
  /** The feature's activation at each token. */
  values: number[];
  tokenIds?: number[];
  /** Index in `tokens` of the activating token. */
  peakIndex: number;
  /** Activation at the activating token. */
  value: number;
  /** Dataset row and token index of the activating token. */
  row?: number;
  token?: number;
}

export interface TokenLogit {
  token: string;
  tokenId: number;
  value: number;
}

export type LabelSourceName = 'default' | 'auto' | 'manual';

/** `<ms-logit-lens>`: what a feature's decoder direction does to the next-token logits. */
export interface LogitLensProps {
  feature: number;
  title?: string;
  /** Largest logits, largest first. */
  positive: TokenLogit[];
  /** Smallest logits, smallest first. */
  negative: TokenLogit[];
  /** Histogram of the logits over the whole vocabulary. */
  histogram?: HistogramData;
  /** How the logits were computed (shown as a footnote). */
  convention?: string;
}

/** `<ms-feature-card>`: one feature at a glance. Actions: `favorite` {feature, favorite}, `label` {feature, label}, `open` {feature}. */
export interface FeatureCardProps {
  feature: number;
  /** Analysis name, model, hook: shown in the heading. */
  analysis?: string;
  hook?: string;
  label?: string | null;
  labelSource?: LabelSourceName | null;
  /** Detection score (balanced accuracy) of the auto label. */
  score?: number | null;
  favorite?: boolean;
  /** Fraction of tokens where the feature fires. */
  density: number;
  fired?: number;
  tokens?: number;
  /** Mean activation where it fires. */
  meanActive?: number;
  max: number;
  /** Histogram of the non-zero activations. */
  histogram?: HistogramData;
  topExamples: FeatureExample[];
  /** Examples sampled from equal-width activation intervals. */
  intervals?: { lower: number; upper: number; fired: number; examples: FeatureExample[] }[];
  /** Logit lens summary (top promoted / suppressed tokens). */
  logitLens?: { positive: TokenLogit[]; negative: TokenLogit[] };
}

export interface RelatedFeature {
  feature: number;
  value: number;
  label?: string | null;
}

/** `<ms-correlations>`: related features. Action: `open` {feature}. */
export interface CorrelationsProps {
  feature: number;
  title?: string;
  /** Tokens of the sample the correlations were computed on. */
  sampleTokens?: number;
  /** Pearson correlation, most positive first. */
  positive: RelatedFeature[];
  negative?: RelatedFeature[];
  /** Decoder-cosine nearest neighbours. */
  neighbours?: RelatedFeature[];
}

/** `<ms-ablation>`: the effect of zeroing a feature where it fires. */
export interface AblationProps {
  feature: number;
  title?: string;
  hook?: string;
  meanCeClean: number;
  meanCeAblated: number;
  deltaCe: number;
  perplexityClean: number;
  perplexityAblated: number;
  positionsAblated: number;
  /** Per sequence: tokens, the feature's activation, and the loss change predicting each next token (length T, the last is 0). */
  sequences: { tokens: string[]; activations: number[]; lossDelta: number[] }[];
  /** Mean logit change over the ablated positions. */
  promoted: TokenLogit[];
  suppressed: TokenLogit[];
}

export type FeatureBrowserSort = 'feature' | 'density' | 'max' | 'meanActive' | 'score' | 'label';
export type FeatureSearchBy = 'label' | 'token' | 'prompt';

export interface FeatureBrowserRow {
  feature: number;
  label: string | null;
  labelSource?: LabelSourceName | null;
  density: number;
  max: number | null;
  meanActive?: number | null;
  score?: number | null;
  favorite: boolean;
  /** Prompt search: the feature's largest activation on the prompt. */
  promptMax?: number;
}

/**
 * `<ms-feature-browser>`: search, sort and page through an analysis' features; the opened feature's
 * card below. Actions (the kernel answers each with new props):
 * `search` {query, by}, `page` {offset, sort, descending, favoritesOnly}, `open` {feature}.
 */
export interface FeatureBrowserProps {
  analysis?: string;
  title?: string;
  total: number;
  offset: number;
  limit: number;
  rows: FeatureBrowserRow[];
  query?: string;
  searchBy?: FeatureSearchBy;
  sort: FeatureBrowserSort;
  descending: boolean;
  favoritesOnly?: boolean;
  /** Prompt search: the prompt's tokens. */
  promptTokens?: string[];
  /** The opened feature. */
  selected?: number | null;
  card?: FeatureCardProps | null;
  message?: string;
}

export interface FeatureSearchPayload {
  query: string;
  by: FeatureSearchBy;
}

export interface FeaturePagePayload {
  offset: number;
  sort: FeatureBrowserSort;
  descending: boolean;
  favoritesOnly: boolean;
}

export interface FeatureOpenPayload {
  feature: number;
}

declare module './types.js' {
  interface WidgetPropsByTag {
    'ms-feature-card': FeatureCardProps;
    'ms-logit-lens': LogitLensProps;
    'ms-correlations': CorrelationsProps;
    'ms-ablation': AblationProps;
    'ms-feature-browser': FeatureBrowserProps;
  }
}
