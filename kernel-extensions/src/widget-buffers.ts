/**
 * Binary buffers of the widget protocol (2.x): a state object travels as JSON with the binary values
 * removed, plus `buffer_paths` saying where each raw buffer frame goes back in.
 */
import { MiStudioError } from '@mistudio/core/errors';
import { isObject } from './comm-manager.js';
import type { JsonObject } from './wire.js';

export type BufferPath = Array<string | number>;

/** A DataView over a received frame, without copying. */
export function viewOf(frame: Buffer): DataView {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
}

/**
 * Puts received buffers back into `state` (mutates it) at `bufferPaths`, as DataViews.
 * Throws when the paths do not match the buffers or point through non-containers.
 */
export function putBuffers(state: JsonObject, bufferPaths: unknown, frames: Buffer[]): void {
  const paths = bufferPaths ?? [];
  if (!Array.isArray(paths) || paths.some((p) => !isBufferPath(p))) {
    throw new MiStudioError('INVALID_ARGUMENT', 'buffer_paths must be a list of paths (lists of strings and integers)', {
      field: 'buffer_paths',
    });
  }
  if (paths.length !== frames.length) {
    throw new MiStudioError(
      'INVALID_ARGUMENT',
      `buffer_paths names ${paths.length} buffers but the message carries ${frames.length}`,
      { field: 'buffer_paths' },
    );
  }
  paths.forEach((path: BufferPath, i) => {
    let container: unknown = state;
    for (const key of path.slice(0, -1)) {
      const next = (container as Record<string | number, unknown>)[key];
      if (typeof next !== 'object' || next === null) {
        throw new MiStudioError('INVALID_ARGUMENT', `buffer path ${JSON.stringify(path)} goes through a non-object`, {
          field: 'buffer_paths',
        });
      }
      container = next;
    }
    (container as Record<string | number, unknown>)[path[path.length - 1]] = viewOf(frames[i]);
  });
}

function isBufferPath(value: unknown): value is BufferPath {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isInteger(k) && k >= 0))
  );
}

/** The state entry `buffers: {}` plus its paths and frames, for a map of named binary values. */
export function encodeNamedBuffers(buffers: ReadonlyMap<string, DataView>): {
  paths: BufferPath[];
  frames: Buffer[];
} {
  const paths: BufferPath[] = [];
  const frames: Buffer[] = [];
  for (const [key, view] of buffers) {
    paths.push(['buffers', key]);
    frames.push(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
  }
  return { paths, frames };
}
