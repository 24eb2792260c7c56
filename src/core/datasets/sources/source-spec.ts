/**
 * What `mistudio datasets add <source>` points at: a local file, a local folder, or a hub dataset id
 * (`owner/name`, `hf://datasets/owner/name`, optionally `@revision`). A path that exists wins over
 * an id that looks the same.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../../errors.js';
import { formatOfFile, type FileFormat } from './document-reader.js';
import { selectDataFiles, splitOfPath } from './hub.js';

export type SourceSpec =
  | { kind: 'file'; path: string; format: FileFormat }
  | { kind: 'folder'; path: string }
  | { kind: 'hub'; repo: string; revision?: string };

const HUB_ID = /^(?:hf:\/\/datasets\/)?([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/;

export function parseSource(source: string): SourceSpec {
  const local = path.resolve(source);
  if (!source.startsWith('hf://') && existsSync(local)) {
    if (statSync(local).isDirectory()) return { kind: 'folder', path: local };
    const format = formatOfFile(local);
    if (!format) {
      throw new MiStudioError('UNSUPPORTED', `unknown file type '${path.extname(local) || '(none)'}'`, { file: local, hint: 'use .parquet, .jsonl/.json/.ndjson, .csv, .tsv or .txt (optionally .gz)' });
    }
    return { kind: 'file', path: local, format };
  }
  const m = HUB_ID.exec(source);
  // `data/train.jsonl` that does not exist is a missing file, not a hub repository named `train.jsonl`.
  if (m && !source.startsWith('hf://') && formatOfFile(source) !== undefined) {
    throw new MiStudioError('FILE_NOT_FOUND', 'no such file', { file: local });
  }
  if (m) return { kind: 'hub', repo: m[1], revision: m[2] };
  throw new MiStudioError('FILE_NOT_FOUND', 'no such file or folder, and not a hub dataset id (owner/name)', { file: local });
}

/** A default dataset name for a source: the file or folder name, or the repository name. */
export function defaultDatasetName(spec: SourceSpec): string {
  const base = spec.kind === 'hub' ? spec.repo.split('/')[1] : path.basename(spec.path).replace(/\.gz$/, '').replace(/\.[^.]+$/, '');
  const clean = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return clean.slice(0, 128) || 'dataset';
}

export interface LocalDataFile {
  path: string;
  format: FileFormat;
  split: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * Files of a local folder: its structured data files (parquet/jsonl/csv) with splits and subsets named
 * as on the hub, or else its text files (one document per file by default).
 */
export function folderFiles(dir: string, subset: string | undefined): LocalDataFile[] {
  const all = walk(dir).map((f) => ({ path: path.relative(dir, f).split(path.sep).join('/'), size: statSync(f).size }));
  const structured = all.filter((f) => {
    const fmt = formatOfFile(f.path);
    return fmt !== undefined && fmt !== 'txt';
  });
  if (structured.length) return selectDataFiles(structured, subset, dir).map((f) => ({ path: path.join(dir, f.path), format: f.format, split: f.split }));
  const texts = all.filter((f) => formatOfFile(f.path) === 'txt');
  if (texts.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the folder holds no data files (parquet, jsonl, csv, txt)', { file: dir });
  return texts.map((f) => ({ path: path.join(dir, f.path), format: 'txt' as const, split: f.path.includes('/') ? splitOfPath(f.path.slice(0, f.path.lastIndexOf('/')) + '/x') : 'train' }));
}
