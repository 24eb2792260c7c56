/**
 * Hugging Face hub downloads into a local cache: `<cache>/models--<org>--<name>/snapshots/<rev>/`.
 * Files come from the hub's resolve endpoint (`<endpoint>/<repo>/resolve/<rev>/<file>`), stream
 * into `<file>.part` and are renamed when complete, so a file in the snapshot is always whole. An
 * interrupted download resumes from its .part with an HTTP Range request. Files already cached are
 * not fetched again. Offline (HF_HUB_OFFLINE=1, or the hub unreachable) the cache is used as is,
 * and a missing file is an OFFLINE error naming it.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledError, MiStudioError } from '../errors.js';
import { shardFilesOf, SINGLE_WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from './hf-directory.js';

export interface DownloadProgress {
  repo: string;
  file: string;
  /** Bytes of this file on disk so far (a resumed file starts above 0). */
  bytesDownloaded: number;
  /** Size of the file when the server says it. */
  bytesTotal?: number;
  /** 'start' before the first byte, 'progress' per chunk, 'done' once renamed into place, 'cached' when already present. */
  phase: 'start' | 'progress' | 'done' | 'cached';
}

export interface DownloadOptions {
  /** Branch, tag or commit (default 'main', or the `@rev` suffix of the id). */
  revision?: string;
  /** Cache root (default MISTUDIO_CACHE, else ~/.cache/mistudio/hub). */
  cacheDir?: string;
  /** Hub URL (default HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** Use only the cache (default: HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Access token for gated/private repos (default HF_TOKEN). */
  token?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** `org/name` or `org/name@revision` (and not a path). */
export function isHubId(source: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9_./-]+)?$/.test(source) && !source.includes('..');
}

export function defaultCacheDir(): string {
  return process.env.MISTUDIO_CACHE || path.join(os.homedir(), '.cache', 'mistudio', 'hub');
}

function envOffline(): boolean {
  const v = process.env.HF_HUB_OFFLINE;
  return v === '1' || v?.toLowerCase() === 'true';
}

/** The snapshot directory a hub id resolves to in the cache. */
export function snapshotDir(id: string, options: DownloadOptions = {}): string {
  const { repo, revision } = parseId(id, options.revision);
  return path.join(options.cacheDir ?? defaultCacheDir(), `models--${repo.replace('/', '--')}`, 'snapshots', revision.replace(/\//g, '--'));
}

function parseId(id: string, revision?: string): { repo: string; revision: string } {
  const [repo, rev] = id.split('@');
  return { repo, revision: revision ?? rev ?? 'main' };
}

/**
 * Makes sure config.json, the safetensors weights (single or sharded) and the tokenizer files of a
 * hub model are in the cache; returns the snapshot directory.
 */
export async function downloadModel(id: string, options: DownloadOptions = {}): Promise<string> {
  const { repo, revision } = parseId(id, options.revision);
  const dir = snapshotDir(id, options);
  const offline = options.offline ?? envOffline();
  if (offline) return requireCached(dir, repo, 'HF_HUB_OFFLINE is set');
  mkdirSync(dir, { recursive: true });
  const fetcher = new HubFetcher(repo, revision, dir, options);
  try {
    if ((await fetcher.file('config.json')) === 'missing') {
      throw new MiStudioError('NOT_FOUND', `config.json not found in ${repo}@${revision}`, { file: fetcher.url('config.json'), hint: 'check the model id and revision' });
    }
    const index = await fetcher.file(WEIGHTS_INDEX_FILE);
    if (index === 'missing') {
      if ((await fetcher.file(SINGLE_WEIGHTS_FILE)) === 'missing') {
        throw new MiStudioError('NOT_FOUND', `${repo}@${revision} has neither ${SINGLE_WEIGHTS_FILE} nor ${WEIGHTS_INDEX_FILE}`, { file: fetcher.url(SINGLE_WEIGHTS_FILE), hint: 'only safetensors checkpoints are supported' });
      }
    } else {
      for (const shard of shardFilesOf(path.join(dir, WEIGHTS_INDEX_FILE))) {
        if ((await fetcher.file(shard)) === 'missing') throw new MiStudioError('NOT_FOUND', `shard ${shard} listed in ${WEIGHTS_INDEX_FILE} is missing on the hub`, { file: fetcher.url(shard) });
      }
    }
    for (const f of TOKENIZER_FILES) await fetcher.file(f);
  } catch (err) {
    if (err instanceof UnreachableError) return requireCached(dir, repo, `cannot reach ${fetcher.endpoint} (${err.message})`);
    throw err;
  }
  return dir;
}

export interface RepoFile {
  /** Path inside the repository, e.g. `blocks.8.hook_resid_pre/cfg.json`. */
  path: string;
  /** A file the repository may lack (a 404 is not an error, and offline its absence is fine). */
  optional?: boolean;
}

/**
 * Makes sure the named files of a hub repository (any layout, e.g. an SAE folder) are in the cache;
 * returns the snapshot directory. Offline, or with the hub unreachable, the cache is used as is and
 * a missing required file is an OFFLINE error naming it.
 */
export async function downloadRepoFiles(id: string, files: readonly RepoFile[], options: DownloadOptions = {}): Promise<string> {
  const { repo, revision } = parseId(id, options.revision);
  const dir = snapshotDir(id, options);
  const requireFiles = (why: string): string => {
    const missing = files.filter((f) => !f.optional && !existsSync(path.join(dir, f.path))).map((f) => f.path);
    if (missing.length) {
      throw new MiStudioError('OFFLINE', `${why}, and the cache lacks ${missing.join(', ')} for ${repo}`, {
        file: dir,
        hint: 'download it once with network access (unset HF_HUB_OFFLINE), or copy the files into that directory',
      });
    }
    return dir;
  };
  if (options.offline ?? envOffline()) return requireFiles('HF_HUB_OFFLINE is set');
  const fetcher = new HubFetcher(repo, revision, dir, options);
  try {
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      if ((await fetcher.file(f.path)) === 'missing' && !f.optional) {
        throw new MiStudioError('NOT_FOUND', `${f.path} not found in ${repo}@${revision}`, { file: fetcher.url(f.path), hint: 'check the repository id, the folder and the revision' });
      }
    }
  } catch (err) {
    if (err instanceof UnreachableError) return requireFiles(`cannot reach ${fetcher.endpoint} (${err.message})`);
    throw err;
  }
  return dir;
}

/** The snapshot when every required file is cached; otherwise OFFLINE naming the missing ones. */
function requireCached(dir: string, repo: string, why: string): string {
  const missing = missingFiles(dir);
  if (missing.length) {
    throw new MiStudioError('OFFLINE', `${why}, and the cache lacks ${missing.join(', ')} for ${repo}`, {
      file: dir,
      hint: 'download the model once with network access (unset HF_HUB_OFFLINE), or copy the files into that directory',
    });
  }
  return dir;
}

/** Required files absent from a snapshot directory (tokenizer files are optional). */
export function missingFiles(dir: string): string[] {
  const has = (f: string) => existsSync(path.join(dir, f));
  const missing = has('config.json') ? [] : ['config.json'];
  if (has(WEIGHTS_INDEX_FILE)) missing.push(...shardFilesOf(path.join(dir, WEIGHTS_INDEX_FILE)).filter((f) => !has(f)));
  else if (!has(SINGLE_WEIGHTS_FILE)) missing.push(`${SINGLE_WEIGHTS_FILE} (or ${WEIGHTS_INDEX_FILE} and its shards)`);
  return missing;
}

/** The hub could not be reached at all (as opposed to an HTTP error). */
class UnreachableError extends Error {}

class HubFetcher {
  readonly endpoint: string;
  private readonly token?: string;

  constructor(private readonly repo: string, private readonly revision: string, private readonly dir: string, private readonly options: DownloadOptions) {
    this.endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
    this.token = options.token ?? process.env.HF_TOKEN;
  }

  url(file: string): string {
    return `${this.endpoint}/${this.repo}/resolve/${encodeURIComponent(this.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** Ensures one file is cached: 'ok', or 'missing' when the hub has no such file (404). */
  async file(name: string): Promise<'ok' | 'missing'> {
    const dest = path.join(this.dir, name);
    const report = (p: Omit<DownloadProgress, 'repo' | 'file'>) => this.options.onProgress?.({ repo: this.repo, file: name, ...p });
    if (existsSync(dest)) {
      report({ bytesDownloaded: statSync(dest).size, bytesTotal: statSync(dest).size, phase: 'cached' });
      return 'ok';
    }
    const part = `${dest}.part`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const start = existsSync(part) ? statSync(part).size : 0;
      const res = await this.request(name, start);
      if (res.status === 404) return 'missing';
      if (res.status === 416 && start > 0) {
        // The partial file does not fit the server's file (it changed, or the .part is bad): start over.
        rmSync(part, { force: true });
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new MiStudioError('NETWORK', `access denied (HTTP ${res.status})`, { file: this.url(name), hint: 'gated or private repositories need a token in HF_TOKEN' });
      }
      if (res.status !== 200 && res.status !== 206) throw new MiStudioError('NETWORK', `download failed with HTTP ${res.status}`, { file: this.url(name) });
      let offset = 0;
      let total: number | undefined;
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
        if (!m || Number(m[1]) !== start) throw new MiStudioError('NETWORK', `server resumed at the wrong offset (${res.headers.get('content-range')})`, { file: this.url(name) });
        offset = start;
        total = m[3] === '*' ? undefined : Number(m[3]);
      } else {
        const len = res.headers.get('content-length');
        total = len ? Number(len) : undefined;
      }
      await this.stream(res, part, offset, total, report);
      renameSync(part, dest);
      report({ bytesDownloaded: statSync(dest).size, bytesTotal: total, phase: 'done' });
      return 'ok';
    }
    throw new MiStudioError('NETWORK', 'the server rejected the resumed download twice', { file: this.url(name) });
  }

  private async request(name: string, start: number): Promise<Response> {
    const headers: Record<string, string> = {};
    if (start > 0) headers.Range = `bytes=${start}-`;
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    try {
      return await fetch(this.url(name), { headers, signal: this.options.signal, redirect: 'follow' });
    } catch (cause) {
      if (this.options.signal?.aborted) throw new CancelledError(`download of ${name}`);
      throw new UnreachableError(describeFetchError(cause));
    }
  }

  private async stream(res: Response, part: string, offset: number, total: number | undefined, report: (p: Omit<DownloadProgress, 'repo' | 'file'>) => void): Promise<void> {
    const fd = openSync(part, offset > 0 ? 'a' : 'w');
    let done = offset;
    report({ bytesDownloaded: done, bytesTotal: total, phase: 'start' });
    try {
      if (!res.body) throw new MiStudioError('NETWORK', 'empty response body', { file: res.url });
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        done += chunk.length;
        report({ bytesDownloaded: done, bytesTotal: total, phase: 'progress' });
      }
    } catch (cause) {
      // The .part stays: the next attempt resumes from it.
      if (this.options.signal?.aborted) throw new CancelledError(`download of ${path.basename(part, '.part')}`);
      if (cause instanceof MiStudioError) throw cause;
      throw new MiStudioError('NETWORK', `connection lost after ${done} bytes (${describeFetchError(cause)}); run again to resume`, { file: res.url, cause });
    } finally {
      closeSync(fd);
    }
    if (total !== undefined && done !== total) {
      throw new MiStudioError('NETWORK', `download ended after ${done} of ${total} bytes; run again to resume`, { file: res.url });
    }
  }
}

function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
