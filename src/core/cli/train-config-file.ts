/**
 * A `mistudio train` config file: a JSON object whose run fields (the data, the evaluation, the run's
 * name and directory) are split from its training fields, for `mistudio train` and for saving its
 * training fields as a template.
 */
import { readFileSync } from 'node:fs';
import { MiStudioError } from '../errors.js';

const RUN_FIELDS = ['activations', 'evaluation', 'name', 'runDir'] as const;

export interface TrainConfigFile {
  run: Partial<Record<(typeof RUN_FIELDS)[number], unknown>>;
  training: Record<string, unknown>;
}

export function readTrainConfigFile(file: string): TrainConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new MiStudioError('INVALID_CONFIG', 'cannot read the config as JSON', { file, cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new MiStudioError('INVALID_CONFIG', 'the config must be a JSON object', { file });
  const training: Record<string, unknown> = { ...raw };
  const run: TrainConfigFile['run'] = {};
  for (const key of RUN_FIELDS) {
    if (key in training) run[key] = training[key];
    delete training[key];
  }
  return { run, training };
}
