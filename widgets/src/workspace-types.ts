/**
 * Data shapes of the workspace views: `<ms-model-card>`, `<ms-models>`, `<ms-extractions>`,
 * `<ms-runs>`. The list views show one page at a time: the element asks for another page with the
 * `page` action (payload ListPageRequest) and the kernel answers with new props (the page's rows,
 * totals and counts) — the element never holds more than one page.
 */

/** A hook point and its shape: batch/sequence axes by name, widths as numbers. */
export interface ModelCardHook {
  name: string;
  shape: (number | string)[];
  layer: number | null;
}

/** `<ms-model-card>`: the architecture viewer of one model. */
export interface ModelCardProps {
  title?: string;
  source: string;
  architecture: string;
  format: string;
  storedPrecision: string;
  tokenizer: boolean;
  nLayers: number;
  dModel: number;
  nHeads: number;
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  vocabSize: number;
  maxPositions: number;
  activation: string;
  positions: 'learned' | 'rotary';
  tiedEmbeddings: boolean;
  parameters: number;
  fileBytes: number;
  /** Weight memory per runtime precision. */
  memory: { precision: string; weightBytes: number; estimatedBytes?: number }[];
  hooks: ModelCardHook[];
}

/** Payload of the `page` action of every list view. */
export interface ListPageRequest {
  page: number;
  pageSize: number;
  sort: string;
  order: 'asc' | 'desc';
  /** Status (origin for models) filter; '' for all. */
  status: string;
  query: string;
}

/** The paging part of a list view's props (as the kernel's page query returns it). */
export interface ListPageProps<Row> {
  rows: Row[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
  sort: string;
  order: 'asc' | 'desc';
  status: string;
  query: string;
  /** Rows per status among those matching the query. */
  counts: Record<string, number>;
  title?: string;
  /** A failed action or page request. */
  error?: string;
  /** The outcome of the last action ("deleted 3 runs"). */
  message?: string;
  /** Kernel time of the last page, ms. */
  elapsedMs?: number;
  /** A template the kernel prefilled (from an extraction's or run's configuration) for the template form. */
  templateDraft?: { name: string; description?: string | null; config: Record<string, unknown> } | null;
}

export interface ModelListRow {
  name: string;
  origin: 'local' | 'cache';
  path: string;
  architecture: string | null;
  format: string;
  precision: string | null;
  parameters: number | null;
  bytes: number;
  status: 'ready' | 'incomplete' | 'missing';
  error: string | null;
}

/** A hub download in progress (or its end), shown above the model list. */
export interface ModelDownloadState {
  id: string;
  status: 'downloading' | 'completed' | 'cancelled' | 'failed';
  /** File being fetched now. */
  file?: string;
  /** Bytes of all files fetched so far in this download. */
  bytesDone: number;
  /** Bytes of the current file / its size when known. */
  fileBytes?: number;
  fileTotal?: number;
  filesDone: number;
  message?: string;
}

/** `<ms-models>`: actions page, download {id}, cancel-download {}, delete {names}, card {name}, refresh {}. */
export interface ModelsViewProps extends ListPageProps<ModelListRow> {
  download?: ModelDownloadState | null;
}

export interface ExtractionListRowProps {
  name: string;
  model: string;
  dataset: string | null;
  hooks: string[];
  status: string;
  tokens: number;
  bytes: number;
  durationSeconds: number;
  createdAt: string;
}

export interface TemplateRow {
  name: string;
  description?: string | null;
  config: Record<string, unknown>;
  updatedAt: string;
}

/**
 * `<ms-extractions>`: actions page, delete {names}, save-template {name, config, description?},
 * delete-template {name}, apply-template {name}, template-from {extraction, name}.
 */
export interface ExtractionsViewProps extends ListPageProps<ExtractionListRowProps> {
  templates: TemplateRow[];
  /** The result of applying a template: the configuration and how to run it. */
  applied?: { template: string; config: Record<string, unknown>; code: string } | null;
}

export interface RunListRowProps {
  id: string;
  name: string;
  group: string | null;
  status: string;
  architecture: string;
  hook: string | null;
  model: string | null;
  dIn: number;
  dSae: number;
  /** Key hyperparameters, e.g. {k: 32, lr: 3e-4, batch: 4096, tokens: 2e6}. */
  hyper: Record<string, number | string>;
  step: number;
  totalSteps: number;
  targetL0: number | null;
  l0: number | null;
  mse: number | null;
  explainedVariance: number | null;
  ceLossRecovered: number | null;
  deadLatents: number | null;
  /** Loss history for the sparkline (downsampled by the kernel). */
  loss: number[];
  createdAt: string;
}

/**
 * `<ms-runs>`: actions page, delete {ids}, open-monitor {id}, open-features {id},
 * save-template {name, config, description?}, delete-template {name}, apply-template {name},
 * template-from {run, name}.
 */
export interface RunsViewProps extends ListPageProps<RunListRowProps> {
  templates: TemplateRow[];
  applied?: { template: string; config: Record<string, unknown>; code: string } | null;
}
