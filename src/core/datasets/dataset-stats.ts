/**
 * `datasetStats`: the statistics of a dataset, computed once (while the dataset was written) and
 * cached in the catalog. A catalog without the cache (an older workspace) takes stats.json; a text
 * dataset missing both is re-scanned.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';
import { readDatasetIndex } from './dataset-files.js';
import { LengthAccumulator, type DatasetStats, type TextDatasetStats } from './stats.js';
import { STATS_FILE, TextStoreReader, type TextIndex } from './text-store.js';

function rescanText(dir: string, index: TextIndex, fileBytes: number): TextDatasetStats {
  const reader = TextStoreReader.open(dir, index);
  try {
    const lengths = new LengthAccumulator();
    const splitBytes = new Map<string, number>();
    for (const batch of reader.batches()) {
      for (const d of batch) {
        const n = Buffer.byteLength(d.text);
        lengths.add(n);
        splitBytes.set(d.split, (splitBytes.get(d.split) ?? 0) + n);
      }
    }
    return {
      kind: 'text',
      documents: index.documents,
      textBytes: index.textBytes,
      bytes: fileBytes,
      splits: index.splits.map((s) => ({ name: s.name, documents: s.count, rows: s.count, textBytes: splitBytes.get(s.name) ?? 0 })),
      bytesPerDocument: lengths.summary(),
      skippedRows: 0,
    };
  } finally {
    reader.close();
  }
}

export function datasetStats(catalog: Catalog, name: string): DatasetStats {
  const record = catalog.datasets.get(name);
  if (record.stats) return record.stats as DatasetStats;
  const file = path.join(record.dir, STATS_FILE);
  let stats: DatasetStats;
  if (existsSync(file)) {
    stats = JSON.parse(readFileSync(file, 'utf8')) as DatasetStats;
  } else {
    const index = readDatasetIndex(record.dir);
    if (index.kind !== 'text') {
      throw new MiStudioError('CORRUPT_FILE', 'stats.json is missing from the tokenized dataset', { file, hint: 'tokenize the text dataset again' });
    }
    stats = rescanText(record.dir, index, record.bytes);
  }
  catalog.datasets.setStats(record.id, stats);
  return stats;
}
