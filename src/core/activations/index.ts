export { ActivationStore, type OpenOptions } from './store.js';
export { ActivationStoreWriter, type StoreWriterOptions } from './store-writer.js';
export { ShuffledReader, type ShuffledReaderOptions, type ShuffledReaderState, type Batch } from './shuffled-reader.js';
export { readManifest, type ActivationManifest, type ActivationDType, type ShardInfo } from './manifest.js';
export { extractActivations, resumeExtraction, validateExtraction, checkVocabulary, EXTRACTION_FILE, type ExtractionConfig, type ExtractionProgress, type ExtractionSummary, type ExtractionRunOptions } from './extract.js';
export { extractToCatalog, resumeCatalogExtraction, type CatalogExtractionOptions, type CatalogExtractionResult } from './catalog-extraction.js';
