/**
 * Hugging Face hub datasets: list the repository's files (`@huggingface/hub` listFiles against
 * $HF_ENDPOINT), pick the data files of the wanted subset and splits, and download them one at a
 * time into the workspace cache only as they are read (a row limit stops early). The listing is cached
 * so that a later offline run can reuse complete downloads; HF_HUB_OFFLINE=1 forbids the network.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listFiles } from '@huggingface/hub';
import { writeJsonAtomic } from '../../atomic-file.js';
import { CancelledError, MiStudioError } from '../../errors.js';
import { downloadFile, type DownloadProgress } from './download.js';
import { formatOfFile, type FileFormat } from './document-reader.js';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubDataFile {
  /** Path inside the repository. */
  path: string;
  size: number;
  /** sha256 of LFS files, checked after download. */
  sha256?: string;
  format: FileFormat;
  split: string;
  /** First folder of the path when the repository holds several subsets (configs). */
  subset?: string;
}

export interface HubOptions {
  revision?: string;
  /** Subset (config) folder to read when the repository has several. */
  subset?: string;
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default $HF_TOKEN. */
  token?: string;
  signal?: AbortSignal;
}

export function hubEndpoint(explicit?: string): string {
  return (explicit ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

export function hubOffline(): boolean {
  return ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
}

const SPLIT_ALIASES: Record<string, string> = {
  train: 'train',
  training: 'train',
  validation: 'validation',
  valid: 'validation',
  val: 'validation',
  dev: 'validation',
  test: 'test',
  testing: 'test',
  eval: 'test',
};

/** The split a data file belongs to by Hugging Face naming conventions (default 'train'). */
export function splitOfPath(filePath: string): string {
  const parts = filePath.split('/');
  const name = parts.pop()!.replace(/\.gz$/, '').replace(/\.[^.]+$/, '');
  for (const segment of [name, ...parts.reverse()]) {
    for (const word of segment.toLowerCase().split(/[-_.\s]+/)) {
      if (word in SPLIT_ALIASES) return SPLIT_ALIASES[word];
    }
  }
  return 'train';
}

/** Data files of a listing, grouped into subsets; throws when the subset choice is ambiguous. */
export function selectDataFiles(entries: ReadonlyArray<{ path: string; size: number; sha256?: string }>, subset: string | undefined, origin: string): HubDataFile[] {
  const files: HubDataFile[] = [];
  for (const e of entries) {
    const format = formatOfFile(e.path);
    if (!format || e.path.split('/').some((s) => s.startsWith('.'))) continue;
    if (format === 'txt' && /(^|\/)(readme|license|licence|changelog)[^/]*$/i.test(e.path)) continue;
    if (format === 'jsonl' && /(^|\/)(dataset_infos?|dataset_dict|state|config|tokenizer[^/]*)\.json$/i.test(e.path)) continue;
    const parts = e.path.split('/');
    const first = parts.length > 1 ? parts[0] : undefined;
    const isSubsetDir = first !== undefined && first !== 'data' && !(first.toLowerCase() in SPLIT_ALIASES);
    files.push({ path: e.path, size: e.size, sha256: e.sha256, format, split: splitOfPath(parts.slice(isSubsetDir ? 1 : 0).join('/')), subset: isSubsetDir ? first : undefined });
  }
  if (files.length === 0) throw new MiStudioError('NOT_FOUND', 'no data files (parquet, jsonl, csv, txt) in the dataset', { file: origin });
  const subsets = [...new Set(files.map((f) => f.subset).filter((s): s is string => s !== undefined))].sort();
  if (subset !== undefined) {
    const chosen = files.filter((f) => f.subset === subset);
    if (chosen.length === 0) throw new MiStudioError('INVALID_ARGUMENT', `no subset '${subset}'`, { file: origin, field: 'subset', hint: `subsets: ${subsets.join(', ') || '(none)'}` });
    return chosen;
  }
  if (subsets.length > 1) {
    throw new MiStudioError('INVALID_ARGUMENT', `the dataset has ${subsets.length} subsets; choose one`, { file: origin, field: 'subset', hint: `pass --subset with one of: ${subsets.join(', ')}` });
  }
  // Prefer parquet when a repository carries the same data in several formats.
  const formats = new Set(files.map((f) => f.format));
  const preferred = (['parquet', 'jsonl', 'csv', 'tsv', 'txt'] as const).find((f) => formats.has(f))!;
  return files.filter((f) => f.format === preferred);
}

export class HubDataset {
  readonly endpoint: string;
  readonly revision: string;
  private readonly token?: string;
  readonly cacheDir: string;

  constructor(
    readonly repo: string,
    cacheRoot: string,
    private readonly options: HubOptions = {},
  ) {
    this.endpoint = hubEndpoint(options.endpoint);
    this.revision = options.revision ?? 'main';
    this.token = options.token ?? process.env.HF_TOKEN ?? undefined;
    this.cacheDir = path.join(cacheRoot, 'hub', 'datasets', ...repo.split('/'), this.revision.replace(/[^\w.-]/g, '_'));
  }

  private get listingFile(): string {
    return path.join(this.cacheDir, '.listing.json');
  }

  localPath(file: HubDataFile): string {
    return path.join(this.cacheDir, ...file.path.split('/'));
  }

  /** Data files of the repository (from the hub, or from the cached listing when offline). */
  async dataFiles(): Promise<HubDataFile[]> {
    return selectDataFiles(await this.listing(), this.options.subset, `${this.endpoint}/datasets/${this.repo}`);
  }

  private cachedListing(): Array<{ path: string; size: number; sha256?: string }> | undefined {
    return existsSync(this.listingFile) ? (JSON.parse(readFileSync(this.listingFile, 'utf8')) as Array<{ path: string; size: number; sha256?: string }>) : undefined;
  }

  private async listing(): Promise<Array<{ path: string; size: number; sha256?: string }>> {
    const origin = `${this.endpoint}/datasets/${this.repo}`;
    if (hubOffline()) {
      const cached = this.cachedListing();
      if (cached) return cached;
      throw new MiStudioError('OFFLINE', `HF_HUB_OFFLINE is set and dataset ${this.repo}@${this.revision} is not in the cache`, { file: this.cacheDir, hint: 'unset HF_HUB_OFFLINE and run once with network access, or use local files' });
    }
    const signal = this.options.signal;
    const fetchWithSignal: typeof fetch = (input, init) => fetch(input, { ...init, signal });
    const entries: Array<{ path: string; size: number; sha256?: string }> = [];
    try {
      for await (const e of listFiles({ repo: { type: 'dataset', name: this.repo }, recursive: true, revision: this.revision, hubUrl: this.endpoint, accessToken: this.token, fetch: fetchWithSignal })) {
        if (e.type === 'file') entries.push({ path: e.path, size: e.lfs?.size ?? e.size, sha256: e.lfs?.oid });
      }
    } catch (err) {
      if (signal?.aborted) throw new CancelledError(`listing ${origin}`);
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 401) {
        throw new MiStudioError('NOT_FOUND', `dataset ${this.repo}@${this.revision} not found on ${this.endpoint} (HTTP ${status})`, { file: origin, cause: err, hint: 'check the id, the revision, and HF_TOKEN for private datasets' });
      }
      if (status === undefined) {
        const cached = this.cachedListing();
        if (cached) return cached;
        throw new MiStudioError('OFFLINE', `cannot reach ${this.endpoint} to list dataset ${this.repo} (${(err as Error).message})`, {
          file: origin,
          cause: err,
          hint: 'connect to the network, set HF_ENDPOINT to a reachable mirror, or use local files',
        });
      }
      throw new MiStudioError('NETWORK', `listing dataset ${this.repo} failed (HTTP ${status})`, { file: origin, cause: err });
    }
    mkdirSync(this.cacheDir, { recursive: true });
    writeJsonAtomic(this.listingFile, entries);
    return entries;
  }

  /** Downloads (or finds in the cache) one data file and returns its local path. */
  async fetchFile(file: HubDataFile, onProgress?: (p: DownloadProgress) => void): Promise<string> {
    const dest = this.localPath(file);
    if (hubOffline()) {
      if (existsSync(dest)) return dest;
      throw new MiStudioError('OFFLINE', `HF_HUB_OFFLINE is set and ${file.path} is not downloaded`, { file: dest, hint: 'unset HF_HUB_OFFLINE to download it' });
    }
    // A cached file of the listed size is reused (downloadFile checks); another size means the branch moved.
    const url = `${this.endpoint}/datasets/${this.repo}/resolve/${encodeURIComponent(this.revision)}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    await downloadFile({
      url,
      dest,
      expectedBytes: file.size,
      sha256: file.sha256,
      headers: this.token ? { Authorization: `Bearer ${this.token}` } : undefined,
      signal: this.options.signal,
      onProgress,
    });
    return dest;
  }
}
