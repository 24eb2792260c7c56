/**
 * Resumable HTTP downloads into a cache: bytes go to `<dest>.incomplete`, a dropped connection or a
 * later run continues with `Range: bytes=<have>-`, the finished file is checked (size, sha256 when
 * known) and renamed into place. Cancellation through an AbortSignal keeps the partial file for the
 * next attempt; no connection at all is an OFFLINE error that names the file.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, MiStudioError } from '../../errors.js';

export interface DownloadProgress {
  file: string;
  bytes: number;
  totalBytes?: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected size; enables resume checks and a completeness check. */
  expectedBytes?: number;
  /** Expected sha256 (hex) of the whole file, checked before the file is renamed into place. */
  sha256?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Attempts after a dropped connection or a server error (default 5). */
  retries?: number;
  /** First back-off delay; doubles per attempt (default 500 ms). */
  retryDelayMs?: number;
  /** An attempt with no bytes for this long is abandoned and retried (default 60 s). */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  dest: string;
  bytes: number;
  /** Bytes that were already on disk from an earlier, interrupted attempt or run. */
  resumedFromBytes: number;
  attempts: number;
  cached: boolean;
}

const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

class RetryableError extends Error {}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, expectedBytes, signal } = options;
  const retries = options.retries ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const what = `download of ${url}`;
  if (existsSync(dest) && (expectedBytes === undefined || sizeOf(dest) === expectedBytes)) {
    return { dest, bytes: sizeOf(dest), resumedFromBytes: 0, attempts: 0, cached: true };
  }
  mkdirSync(path.dirname(dest), { recursive: true });
  const partial = `${dest}.incomplete`;
  const resumedFromBytes = sizeOf(partial);
  let attempts = 0;
  let everConnected = false;

  for (;;) {
    if (signal?.aborted) throw new CancelledError(what);
    let have = sizeOf(partial);
    if (expectedBytes !== undefined && have > expectedBytes) {
      rmSync(partial, { force: true });
      have = 0;
    }
    if (expectedBytes !== undefined && have === expectedBytes) break;
    attempts++;
    const idle = new AbortController();
    const attemptSignal = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
    let timer = setTimeout(() => idle.abort(), idleTimeoutMs);
    const bump = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), idleTimeoutMs);
    };
    try {
      const headers: Record<string, string> = { ...options.headers };
      if (have > 0) headers.Range = `bytes=${have}-`;
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: attemptSignal, redirect: 'follow' });
      } catch (err) {
        if (signal?.aborted) throw new CancelledError(what);
        if (!everConnected && OFFLINE_CODES.has(errorCode(err) ?? '')) {
          throw new MiStudioError('OFFLINE', `cannot reach ${new URL(url).origin} (${errorCode(err)}) to download the file`, {
            file: dest,
            cause: err,
            hint: 'connect to the network, set HF_ENDPOINT to a reachable mirror, or use local files',
          });
        }
        throw new RetryableError((err as Error).message);
      }
      everConnected = true;
      if (res.status === 401 || res.status === 403) {
        throw new MiStudioError('NETWORK', `access denied (HTTP ${res.status}) for ${url}`, { file: dest, hint: 'set HF_TOKEN to a token that can read this repository' });
      }
      if (res.status === 404) throw new MiStudioError('NOT_FOUND', `not found on the server (HTTP 404): ${url}`, { file: dest });
      if (res.status === 416 && have > 0) {
        // The server cannot serve our range: the partial file is not a prefix of this file. Start over.
        await res.body?.cancel();
        rmSync(partial, { force: true });
        throw new RetryableError('range not satisfiable');
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel();
        throw new RetryableError(`HTTP ${res.status}`);
      }
      if (res.status !== 200 && res.status !== 206) throw new MiStudioError('NETWORK', `unexpected HTTP ${res.status} for ${url}`, { file: dest });
      let offset = have;
      if (res.status === 206) {
        const start = /bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
        if (Number(start) !== have) {
          await res.body?.cancel();
          rmSync(partial, { force: true });
          throw new RetryableError(`server resumed at ${start}, expected ${have}`);
        }
      } else {
        offset = 0; // 200: the server ignored Range (or we asked for none): the body is the whole file.
      }
      const length = Number(res.headers.get('content-length') ?? NaN);
      const totalBytes = expectedBytes ?? (Number.isFinite(length) ? offset + length : undefined);
      const fd = openSync(partial, offset === 0 ? 'w' : 'a');
      try {
        if (!res.body) throw new RetryableError('empty response body');
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          bump();
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          offset += chunk.length;
          options.onProgress?.({ file: dest, bytes: offset, totalBytes });
        }
      } catch (err) {
        if (signal?.aborted) throw new CancelledError(what);
        if (err instanceof MiStudioError) throw err;
        throw new RetryableError((err as Error).message);
      } finally {
        closeSync(fd);
      }
      if (expectedBytes === undefined) {
        if (totalBytes !== undefined && offset < totalBytes) throw new RetryableError(`connection closed at ${offset} of ${totalBytes} bytes`);
        break;
      }
      if (offset < expectedBytes) throw new RetryableError(`connection closed at ${offset} of ${expectedBytes} bytes`);
    } catch (err) {
      if (!(err instanceof RetryableError)) throw err;
      if (attempts > retries) {
        throw new MiStudioError('NETWORK', `download failed after ${attempts} attempts (${err.message})`, {
          file: dest,
          hint: 'run the command again: the download resumes where it stopped',
        });
      }
      try {
        await sleep(Math.min(10_000, retryDelayMs * 2 ** (attempts - 1)), undefined, { signal });
      } catch {
        throw new CancelledError(what);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  const bytes = sizeOf(partial);
  if (expectedBytes !== undefined && bytes !== expectedBytes) {
    rmSync(partial, { force: true });
    throw new MiStudioError('CORRUPT_FILE', `downloaded ${bytes} bytes, expected ${expectedBytes}`, { file: dest, hint: 'run the command again' });
  }
  if (options.sha256) {
    const actual = await sha256Of(partial);
    if (actual !== options.sha256.toLowerCase()) {
      rmSync(partial, { force: true });
      throw new MiStudioError('CORRUPT_FILE', `sha256 mismatch after download (got ${actual}, expected ${options.sha256})`, { file: dest, hint: 'run the command again' });
    }
  }
  renameSync(partial, dest);
  return { dest, bytes, resumedFromBytes, attempts, cached: false };
}
