/**
 * Training checkpoints: one safetensors file holding the parameters, the Adam moments and the
 * per-latent statistics, with everything else (step, tokens, data position, RNG state,
 * normalisation scale, batchtopk threshold) as JSON in its metadata. Written atomically (temp file,
 * fsync, rename), so the file on disk is always a whole checkpoint.
 */
import { existsSync } from 'node:fs';
import { MiStudioError } from '../errors.js';
import { readSafetensorsHeader, readSafetensorsTensor } from '../models/safetensors.js';
import type { FeatureStatisticsState } from './feature-statistics.js';
import type { SaeParameters } from './parameters.js';
import { writeSafetensors, type TensorToWrite } from './safetensors-writer.js';
import type { AdamMoments } from './step-runner.js';
import type { SourcePosition } from './activation-source.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const METADATA_KEY = 'mistudio_checkpoint';
const FORMAT_VERSION = 1;

export interface CheckpointState {
  /** Steps completed. */
  step: number;
  tokensSeen: number;
  sourcePosition: SourcePosition;
  /** Trainer RNG words (xoshiro128**), for anything random after initialisation. */
  rng: number[];
  normScale: number | null;
  /** batchtopk running threshold (float64, as SAELens keeps it). */
  topkThreshold?: number;
  /** Wall-clock seconds trained so far (tokens/s continues across resumes). */
  trainingSeconds: number;
  /**
   * Rows per optimizer step once an out-of-memory error halved the batch (absent: batchSizeTokens).
   * The source still serves batchSizeTokens rows at a time; each is split into equal parts.
   */
  stepBatchRows?: number;
  /** Parts of the source batch at `sourcePosition` already applied (absent: none). */
  partsDone?: number;
}

export interface Checkpoint {
  state: CheckpointState;
  params: SaeParameters;
  moments: AdamMoments;
  statistics: FeatureStatisticsState;
}

export function writeCheckpoint(file: string, c: Checkpoint, shapes: Record<string, number[]>): void {
  const tensors: TensorToWrite[] = [];
  for (const [name, data] of Object.entries(c.params)) {
    tensors.push({ name: `param.${name}`, shape: shapes[name], data });
    tensors.push({ name: `adam_m.${name}`, shape: shapes[name], data: c.moments.m[name] });
    tensors.push({ name: `adam_v.${name}`, shape: shapes[name], data: c.moments.v[name] });
  }
  const S = c.statistics.stepsSinceFired.length;
  tensors.push({ name: 'stats.stepsSinceFired', shape: [S], data: c.statistics.stepsSinceFired });
  tensors.push({ name: 'stats.windowFireCounts', shape: [S], data: c.statistics.windowFireCounts });
  const meta = { version: FORMAT_VERSION, ...c.state, windowTokens: c.statistics.windowTokens, windowSteps: c.statistics.windowSteps };
  writeSafetensors(file, tensors, { [METADATA_KEY]: JSON.stringify(meta) });
}

export function readCheckpoint(file: string): Checkpoint {
  if (!existsSync(file)) throw new MiStudioError('FILE_NOT_FOUND', 'checkpoint not found', { file, hint: 'resume needs a run directory that has written a checkpoint' });
  const header = readSafetensorsHeader(file);
  const rawMeta = header.metadata[METADATA_KEY];
  if (!rawMeta) throw new MiStudioError('CORRUPT_FILE', 'not a miStudio training checkpoint (no checkpoint metadata)', { file });
  const meta = JSON.parse(rawMeta) as CheckpointState & { version: number; windowTokens: number; windowSteps: number };
  if (meta.version !== FORMAT_VERSION) throw new MiStudioError('UNSUPPORTED', `checkpoint format version ${meta.version} is not supported`, { file });
  const params: SaeParameters = {};
  const m: SaeParameters = {};
  const v: SaeParameters = {};
  for (const name of header.entries.keys()) {
    const [kind, pname] = name.split(/\.(.*)/s, 2);
    const data = readSafetensorsTensor(header, name).data as Float32Array;
    if (kind === 'param') params[pname] = data;
    else if (kind === 'adam_m') m[pname] = data;
    else if (kind === 'adam_v') v[pname] = data;
  }
  const stat = (n: string) => readSafetensorsTensor(header, `stats.${n}`).data as Float32Array;
  const { version: _v, windowTokens, windowSteps, ...state } = meta;
  return {
    state,
    params,
    moments: { m, v },
    statistics: { stepsSinceFired: stat('stepsSinceFired'), windowFireCounts: stat('windowFireCounts'), windowTokens, windowSteps },
  };
}
