/**
 * Data shapes of the miStudio widgets. Producers (`core/analysis`, `@mistudio/kernel`) build these
 * plain JSON objects; the Lit elements take them as properties (`Object.assign(el, props)`) and the
 * static snapshot renderer turns them into HTML. No DOM types here: this file is imported from Node.
 */

/** `<ms-token-highlight>`: a run of tokens, each with one activation value. */
export interface TokenHighlightProps {
  /** Decoded token strings, in order. */
  tokens: string[];
  /**
   * One activation per token, same length as `tokens`. Sent as a binary buffer it arrives as a
   * Float32Array (the widget view sets `el.values` to a Float32Array view of the buffer).
   */
  values: ArrayLike<number>;
  /** Vocabulary ids of the tokens (shown in the tooltip), same length as `tokens`; as a binary buffer, an Int32Array. */
  tokenIds?: ArrayLike<number>;
  /** Heading, e.g. "feature 1234 · layer 6 resid_post". */
  title?: string;
  /**
   * The activation that maps to the strongest colour. Defaults to the largest |value| in `values`;
   * set it to compare several examples on one scale (e.g. the feature's max activation).
   */
  maxValue?: number;
  /** Index of a token to outline (e.g. the max-activating token). */
  selected?: number;
}

/** One logged row of SAE training metrics. */
export interface TrainingMetricsRow {
  step: number;
  loss: number;
  /** Mean number of active latents per token. */
  l0: number;
  /** Latents that have not fired within the dead-latent window. */
  deadLatents: number;
  tokensPerSecond?: number;
}

export type TrainingStatus = 'running' | 'paused' | 'stopped' | 'finished' | 'error';

/** `<ms-training-monitor>`: live charts and controls of one training run. */
export interface TrainingMonitorProps {
  title?: string;
  status: TrainingStatus;
  /** Last completed step; the status line shows max(step, last metrics row's step). */
  step: number;
  totalSteps: number;
  /** Throughput; when absent, the last metrics row's `tokensPerSecond` is shown. */
  tokensPerSecond?: number;
  /** Number of latents of the SAE, so dead latents can also be shown as a fraction. */
  dLatents?: number;
  /** Metrics history. Streamed with `append('metrics', rows)` so it is not resent on each update. */
  metrics: TrainingMetricsRow[];
  /** Free text under the status line (e.g. an error or "checkpoint saved"). */
  message?: string;
}

/** Props of every widget, keyed by custom element name. */
export interface WidgetPropsByTag {
  'ms-token-highlight': TokenHighlightProps;
  'ms-training-monitor': TrainingMonitorProps;
  'ms-dataset-browser': DatasetBrowserProps;
  'ms-job-progress': JobProgressProps;
}

export type WidgetTag = keyof WidgetPropsByTag;

/** `detail` of the `ms-action` CustomEvent every widget dispatches (bubbles, composed). */
export interface MsActionDetail<P = unknown> {
  action: string;
  payload: P;
}

/** Payload of the `token-click` action of `<ms-token-highlight>`. */
export interface TokenClickPayload {
  index: number;
  token: string;
  tokenId?: number;
  value: number;
}

/** Actions of `<ms-training-monitor>` (payload `{}`). */
export type TrainingAction = 'pause' | 'resume' | 'stop';

/** One sample row of `<ms-dataset-browser>`. */
export interface DatasetBrowserSample {
  /** Row index in the dataset (document index of a text dataset). */
  index: number;
  split: string;
  text: string;
  /** Token view: each token decoded alone, and its vocabulary id (same length). */
  tokens?: string[];
  tokenIds?: number[];
  /** The sample's full length in characters when `text` was cut by the kernel. */
  fullChars?: number;
  /** The sample's full token count when `tokens` were cut by the kernel. */
  fullTokens?: number;
}

/**
 * `<ms-dataset-browser>`: one page of a dataset's samples. Produced on the kernel by
 * `pageSamples(reader, request)` of `@mistudio/core` (its DatasetSamplePage has this shape); the
 * element asks for other pages with the `page` action (payload DatasetPageRequest) and the kernel
 * answers with new props.
 */
export interface DatasetBrowserProps {
  name: string;
  kind: 'text' | 'tokenized';
  /** Zero-based page shown. */
  page: number;
  pageSize: number;
  totalRows: number;
  /** The search the page was filtered by ('' for none). */
  query: string;
  /** Rows matching the query (all rows without one); a lower bound while `matchCountExact` is false. */
  matchingRows: number;
  matchCountExact: boolean;
  /** Rows the search has looked at so far. */
  scannedRows: number;
  pages: number;
  samples: DatasetBrowserSample[];
  /** Samples carry tokens. */
  tokenView: boolean;
  /** The kernel can produce tokens (a tokenized dataset, or a tokenizer was given). */
  hasTokens: boolean;
  /** Server time of the page, shown in the footer. */
  elapsedMs?: number;
  title?: string;
  /** Shown instead of the samples, e.g. a failed page request. */
  error?: string;
}

/** Payload of the `page` action of `<ms-dataset-browser>`: the page the user wants. */
export interface DatasetPageRequest {
  page: number;
  pageSize: number;
  query: string;
  tokens: boolean;
}


/** Status of a long job shown by `<ms-job-progress>` (extraction, analysis, tokenization). */
export type JobProgressStatus = 'pending' | 'running' | 'paused' | 'stopping' | 'stopped' | 'completed' | 'failed';

/** `<ms-job-progress>`: one long job's progress with pause/resume/stop. */
export interface JobProgressProps {
  title: string;
  status: JobProgressStatus;
  done: number;
  /** 0 or absent when the total is unknown. */
  total?: number;
  /** What done/total count: 'tokens', 'rows', 'steps'. */
  unit: string;
  /** Units per second. */
  rate?: number;
  etaSeconds?: number | null;
  /** A last message (error text when failed). */
  message?: string;
  /** Show pause/resume/stop buttons (the job is cooperative). */
  controls?: boolean;
  /** Extra facts shown under the bar, e.g. {"store": "1.2 GB"}. */
  details?: Record<string, string | number>;
}
