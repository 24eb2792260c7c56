/**
 * `addDataset`: import a source (hub id, file, folder) into the workspace as a text dataset. Files
 * are read as streams, one document at a time, into a staging folder; only a complete import is
 * renamed into `datasets/` and recorded in the catalog. Any error (bad input, network, cancellation)
 * removes the staging folder, so neither the catalog nor the disk keeps a partial dataset.
 */
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import type { Catalog, DatasetRecord } from '../catalog/index.js';
import { removeDir } from '../catalog/index.js';
import { MiStudioError, throwIfCancelled } from '../errors.js';
import { throttled, type ProgressCallback } from './progress.js';
import { openDocumentReader } from './sources/document-reader.js';
import { HubDataset } from './sources/hub.js';
import { defaultDatasetName, folderFiles, parseSource, type LocalDataFile } from './sources/source-spec.js';
import type { SampleBy } from './sources/txt.js';
import { INDEX_FILE, STATS_FILE, TextStoreWriter } from './text-store.js';

export interface AddDatasetOptions {
  /** Dataset name in the catalog (default: from the source). */
  name?: string;
  /** Only this split (folders and hub datasets); the split's name for a single file (default 'train'). */
  split?: string;
  /** Text column, dotted for nested values (`meta.text`); auto-detected when absent. */
  column?: string;
  /** At most this many documents per split. */
  limit?: number;
  /** How plain text is cut into documents (default: paragraph for a file, document for a folder). */
  sampleBy?: SampleBy;
  /** Hub revision (branch, tag or commit; default main). */
  revision?: string;
  /** Subset (config) of a hub dataset or folder that has several. */
  subset?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

const SPLIT_ORDER = ['train', 'validation', 'test'];

function orderSplits(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => {
    const ia = SPLIT_ORDER.indexOf(a);
    const ib = SPLIT_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

interface PlannedFile {
  split: string;
  format: LocalDataFile['format'];
  /** Shown in messages and recorded in the source. */
  label: string;
  /** Resolves to a local path (downloading hub files on demand). */
  open(): Promise<string>;
}

function validateOptions(o: AddDatasetOptions): void {
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit <= 0)) {
    throw new MiStudioError('INVALID_ARGUMENT', `limit must be a positive integer, got ${o.limit}`, { field: 'limit' });
  }
  if (o.sampleBy !== undefined && !['line', 'paragraph', 'document'].includes(o.sampleBy)) {
    throw new MiStudioError('INVALID_ARGUMENT', `sampleBy must be line, paragraph or document, got ${o.sampleBy}`, { field: 'sampleBy' });
  }
}

/** Imports `source` as a new text dataset and records it in the catalog. */
export async function addDataset(catalog: Catalog, source: string, options: AddDatasetOptions = {}): Promise<DatasetRecord> {
  validateOptions(options);
  const spec = parseSource(source);
  const name = options.name ?? defaultDatasetName(spec);
  catalog.datasets.assertNameFree(name);
  const progress = throttled(options.onProgress);

  let planned: PlannedFile[];
  let sampleBy = options.sampleBy;
  const sourceInfo: Record<string, unknown> = { type: spec.kind };
  if (spec.kind === 'file') {
    planned = [{ split: options.split ?? 'train', format: spec.format, label: spec.path, open: async () => spec.path }];
    sourceInfo.path = spec.path;
  } else if (spec.kind === 'folder') {
    const files = folderFiles(spec.path, options.subset);
    sampleBy ??= 'document';
    planned = files.map((f) => ({ split: f.split, format: f.format, label: f.path, open: async () => f.path }));
    sourceInfo.path = spec.path;
  } else {
    const hub = new HubDataset(spec.repo, catalog.layout.cacheDir, { revision: options.revision ?? spec.revision, subset: options.subset, signal: options.signal });
    options.onProgress?.({ stage: 'list', done: 0, unit: 'documents', file: spec.repo });
    const files = await hub.dataFiles();
    planned = files.map((f) => ({
      split: f.split,
      format: f.format,
      label: f.path,
      open: () => hub.fetchFile(f, (p) => progress.report({ stage: 'download', done: p.bytes, total: p.totalBytes, unit: 'bytes', file: f.path })),
    }));
    Object.assign(sourceInfo, { repo: spec.repo, revision: hub.revision, endpoint: hub.endpoint, subset: options.subset });
  }
  if (options.split !== undefined && spec.kind !== 'file') {
    const available = orderSplits(planned.map((p) => p.split));
    planned = planned.filter((p) => p.split === options.split);
    if (planned.length === 0) {
      throw new MiStudioError('INVALID_ARGUMENT', `no split '${options.split}'`, { file: source, field: 'split', hint: `splits: ${available.join(', ')}` });
    }
  }
  Object.assign(sourceInfo, { split: options.split, limit: options.limit, sampleBy, files: planned.map((p) => p.label) });

  const staging = catalog.createStagingDir(name);
  const writer = new TextStoreWriter(staging);
  let finished = false;
  try {
    let column: string | null = null;
    let rowsRead = 0;
    for (const split of orderSplits(planned.map((p) => p.split))) {
      writer.beginSplit(split);
      for (const file of planned.filter((p) => p.split === split)) {
        if (options.limit !== undefined && writer.currentSplitCount >= options.limit) break;
        const local = await file.open();
        const reader = await openDocumentReader(local, file.format, { column: options.column ?? column ?? undefined, sampleBy, signal: options.signal });
        column ??= reader.column;
        for await (const doc of reader.documents) {
          if (doc === null) writer.skippedRows++;
          else writer.add(doc);
          if (++rowsRead % 1024 === 0) {
            throwIfCancelled(options.signal, `import of ${source}`);
            progress.report({ stage: 'import', done: writer.documentCount, unit: 'documents', file: file.label });
          }
          if (options.limit !== undefined && writer.currentSplitCount >= options.limit) break;
        }
      }
    }
    progress.flush();
    if (writer.documentCount === 0) {
      throw new MiStudioError('INVALID_ARGUMENT', 'the source has no documents (every row was empty or had no text)', {
        file: planned[0]?.label ?? source,
        field: column ?? undefined,
        hint: 'check the file, the split and the text column',
      });
    }
    Object.assign(sourceInfo, { column });
    const { index, stats } = writer.finish({ column, source: sourceInfo });
    finished = true;
    writeJsonAtomic(path.join(staging, INDEX_FILE), index);
    writeJsonAtomic(path.join(staging, STATS_FILE), stats);
    throwIfCancelled(options.signal, `import of ${source}`);
    return catalog.datasets.create({ name, kind: 'text', source: sourceInfo, documents: index.documents, rows: index.documents, bytes: stats.bytes, stats }, staging);
  } catch (err) {
    if (!finished) writer.abandon();
    removeDir(staging);
    throw err;
  }
}
