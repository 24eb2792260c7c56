/** Reading a dataset folder's index.json (text or tokenized) with a typed error when it is damaged. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { DATASET_FORMAT, INDEX_FILE, type TextIndex } from './text-store.js';
import type { TokenIndex } from './token-store.js';

export type DatasetIndex = TextIndex | TokenIndex;

export function readDatasetIndex(dir: string): DatasetIndex {
  const file = path.join(dir, INDEX_FILE);
  let index: DatasetIndex;
  try {
    index = JSON.parse(readFileSync(file, 'utf8')) as DatasetIndex;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', `cannot read the dataset index (${(cause as Error).message})`, { file, cause, hint: 'delete the dataset and create it again' });
  }
  if (index.format !== DATASET_FORMAT || index.version !== 1) {
    throw new MiStudioError('UNSUPPORTED', `not a miStudio dataset index (format ${String(index.format)} v${String(index.version)})`, { file });
  }
  return index;
}
