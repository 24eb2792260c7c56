export { ActivationStore, type OpenOptions } from './store.js';
export { ActivationStoreWriter, type StoreWriterOptions } from './store-writer.js';
export { ShuffledReader, type ShuffledReaderOptions, type ShuffledReaderState, type Batch } from './shuffled-reader.js';
export { readManifest, type ActivationManifest, type ActivationDType, type ShardInfo } from './manifest.js';
