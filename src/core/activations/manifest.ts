import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';

export type ActivationDType = 'float32' | 'float16';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'mistudio-activations';
const VERSION = 1;

export interface ShardInfo {
  file: string;
  rows: number;
  bytes: number;
  /** sha256 of the shard file, hex. */
  sha256: string;
  /** Sum of the rows' L2 norms (float64), for the normalization constant. */
  normSum: number;
}

/**
 * One hook's activations: `shard-NNNNN.bin` files of row-major `[rows, d]` values plus this manifest.
 * Only shards listed here exist as far as readers are concerned; a shard is listed only after it is
 * completely on disk, so a crash never exposes a partial shard.
 */
export interface ActivationManifest {
  format: typeof FORMAT;
  version: typeof VERSION;
  hook: string;
  d: number;
  dtype: ActivationDType;
  /** Rows in every shard but the last. */
  rowsPerShard: number;
  shards: ShardInfo[];
  /** Total rows over all shards. */
  count: number;
  /** √d / mean‖x‖ over all rows (SAELens' expected_average_only_in scaling); null while empty. */
  normalizationScale: number | null;
  /** True once the producer finished; a store that is not complete can be resumed. */
  complete: boolean;
  /** Where the rows came from: model, dataset, extraction settings. Free-form, recorded for provenance. */
  source: Record<string, unknown>;
  /** Each row's origin as (dataset row, token index) uint32 pairs in `shard-NNNNN.pos`, when recorded. */
  positions: boolean;
}

export function newManifest(init: { hook: string; d: number; dtype: ActivationDType; rowsPerShard: number; source: Record<string, unknown>; positions: boolean }): ActivationManifest {
  return { format: FORMAT, version: VERSION, shards: [], count: 0, normalizationScale: null, complete: false, ...init };
}

export function bytesPerValue(dtype: ActivationDType): number {
  return dtype === 'float32' ? 4 : 2;
}

export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.bin`;
}

/** The companion file of a shard holding its rows' (dataset row, token index) pairs. */
export function positionsFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.pos`;
}

export function normalizationScale(d: number, normSum: number, count: number): number | null {
  return count > 0 && normSum > 0 ? Math.sqrt(d) / (normSum / count) : null;
}

/** Reads and validates a manifest; every problem names the file and the field. */
export function readManifest(dir: string): ActivationManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new MiStudioError('FILE_NOT_FOUND', `no activation store at ${dir}`, { file, hint: 'extract activations first, or check the path' });
  let m: ActivationManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ActivationManifest;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', 'manifest is not valid JSON', { file, cause });
  }
  const bad = (field: string, why: string): never => {
    throw new MiStudioError('CORRUPT_FILE', `manifest ${why}`, { file, field });
  };
  if (m.format !== FORMAT) bad('format', `format is ${JSON.stringify(m.format)}, expected "${FORMAT}"`);
  if (m.version !== VERSION) bad('version', `version ${m.version} is not supported (expected ${VERSION})`);
  if (!Number.isInteger(m.d) || m.d <= 0) bad('d', 'd must be a positive integer');
  if (m.dtype !== 'float32' && m.dtype !== 'float16') bad('dtype', `dtype ${JSON.stringify(m.dtype)} is not float32 or float16`);
  if (typeof m.hook !== 'string' || !m.hook) bad('hook', 'hook is missing');
  if (!Array.isArray(m.shards)) bad('shards', 'shards must be a list');
  let rows = 0;
  m.shards.forEach((s, i) => {
    if (s.file !== shardFileName(i)) bad(`shards[${i}].file`, `lists ${s.file} where ${shardFileName(i)} was expected`);
    if (i < m.shards.length - 1 && s.rows !== m.rowsPerShard) bad(`shards[${i}].rows`, `shard ${i} has ${s.rows} rows; every shard but the last must have ${m.rowsPerShard}`);
    if (s.bytes !== s.rows * m.d * bytesPerValue(m.dtype)) bad(`shards[${i}].bytes`, `says ${s.bytes} bytes for ${s.rows} rows of d=${m.d} ${m.dtype}`);
    rows += s.rows;
  });
  if (rows !== m.count) bad('count', `count ${m.count} disagrees with the shards' ${rows} rows`);
  return m;
}
