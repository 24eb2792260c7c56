/**
 * Datasets: import sources (hub, parquet, jsonl, csv, txt, folders) into the workspace, tokenize and
 * pack them, their statistics, and server-side paging for `<ms-dataset-browser>`.
 */
export { addDataset, type AddDatasetOptions } from './add-dataset.js';
export { tokenizeDataset, resolveTokenizeOptions, type TokenizeOptions, type TokenChoice } from './tokenize-dataset.js';
export { datasetStats } from './dataset-stats.js';
export { DatasetReader, openDataset, type DatasetSample, type OpenDatasetOptions, type SampleLimits } from './dataset-reader.js';
export { pageSamples, DEFAULT_PAGE_SIZE, type PageRequest, type DatasetSamplePage } from './paging.js';
export { tokenizationPreview, previewTokenization, type TokenizationPreview, type PreviewOptions } from './preview.js';
export { resolveTokenizer, TokenStrings, type TokenizerSpec, type DatasetTokenizer } from './tokenizer-source.js';
export { ConcatPacker, DocumentRows, type ConcatTokens, type DocumentRowOptions, type RowSink } from './packing.js';
export { readDatasetIndex, type DatasetIndex } from './dataset-files.js';
export { TextStoreReader, TextStoreWriter, type TextIndex, type SplitRange as DatasetSplitRange } from './text-store.js';
export {
  TokenStoreReader,
  TokenStoreWriter,
  type TokenIndex,
  type ResolvedTokenizeOptions,
  type Packing as TokenizePacking,
  type Padding as TokenizePadding,
  type Truncation as TokenizeTruncation,
  type StoredRow as StoredTokenRow,
} from './token-store.js';
export type {
  DatasetStats,
  TextDatasetStats,
  TokenizedDatasetStats,
  LengthSummary as DatasetLengthSummary,
  Histogram as DatasetHistogram,
  SplitSize as DatasetSplitSize,
  TopToken as DatasetTopToken,
} from './stats.js';
export type { DatasetProgress, ProgressCallback as DatasetProgressCallback } from './progress.js';
export { parseSource as parseDatasetSource, defaultDatasetName, type SourceSpec as DatasetSourceSpec } from './sources/source-spec.js';
export { openDocumentReader, formatOfFile as datasetFileFormat, type FileFormat as DatasetFileFormat, type DocumentReader } from './sources/document-reader.js';
export type { SampleBy } from './sources/txt.js';
export { HubDataset, splitOfPath, type HubDataFile } from './sources/hub.js';
