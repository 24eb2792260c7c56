/**
 * Where a dataset's tokenizer comes from: a model (its LoadedModelFiles, or a model directory / .gguf
 * file / hub id string), a folder holding tokenizer.json, a tokenizer.json file, or TokenizerFiles in
 * memory. The tokenizer itself is `models/tokenizer` (transformers.js, AutoTokenizer class choice);
 * its files are copied into each tokenized dataset so the dataset decodes on its own later.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { readTokenizerFiles } from '../models/hf-directory.js';
import { createTokenizer, type Tokenizer } from '../models/tokenizer.js';
import type { TokenizerFiles } from '../models/weights.js';
export { TokenStrings } from '../models/token-strings.js';
import { parseGgufFile } from '../models/gguf/gguf-file.js';
import { GgufMetadata } from '../models/gguf/metadata.js';
import { convertGgufTokenizer } from '../models/gguf/tokenizer.js';

/**
 * A tokenizer for `tokenizeDataset`: a path or hub id, tokenizer files, or a model — its
 * LoadedModelFiles (tokenizer files in memory) or a loaded Model (its files are read again from `source`).
 */
export type TokenizerSpec = string | TokenizerFiles | { source: string; tokenizer?: unknown };

export interface DatasetTokenizer {
  tokenizer: Tokenizer;
  files: TokenizerFiles;
  /** What the tokenizer was loaded from, recorded in the dataset. */
  origin: string;
}

function isTokenizerFiles(x: unknown): x is TokenizerFiles {
  return typeof x === 'object' && x !== null && 'tokenizerJson' in x && 'tokenizerConfig' in x;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', `not valid JSON (${(cause as Error).message})`, { file, cause });
  }
}

function ggufTokenizerFiles(file: string): TokenizerFiles | undefined {
  const meta = new GgufMetadata(parseGgufFile(file));
  return convertGgufTokenizer(meta, meta.string('general.architecture'));
}

async function filesOf(spec: TokenizerSpec): Promise<{ files: TokenizerFiles | undefined; origin: string; lookedFor?: string[] }> {
  if (isTokenizerFiles(spec)) return { files: spec, origin: '(tokenizer files in memory)' };
  if (typeof spec !== 'string') {
    if (isTokenizerFiles(spec.tokenizer)) return { files: spec.tokenizer, origin: spec.source };
    if (spec.tokenizer === undefined && !existsSync(spec.source)) return { files: undefined, origin: spec.source };
    return filesOf(spec.source);
  }
  if (existsSync(spec)) {
    const abs = path.resolve(spec);
    if (statSync(abs).isDirectory()) return { files: readTokenizerFiles(abs), origin: abs };
    if (abs.toLowerCase().endsWith('.gguf')) return { files: ggufTokenizerFiles(abs), origin: abs, lookedFor: ['tokenizer.ggml.* metadata'] };
    if (abs.toLowerCase().endsWith('.json')) {
      const configFile = path.join(path.dirname(abs), 'tokenizer_config.json');
      return { files: { tokenizerJson: readJson(abs), tokenizerConfig: existsSync(configFile) ? readJson(configFile) : {} }, origin: abs };
    }
    throw new MiStudioError('UNSUPPORTED', 'not a tokenizer: expected a folder with tokenizer.json, a tokenizer.json file or a .gguf file', { file: abs });
  }
  // A hub model id: the models loader downloads it (with its progress, cache and offline handling).
  const { loadModelFiles } = await import('../models/load.js');
  const model = await loadModelFiles(spec);
  return { files: model.tokenizer, origin: spec };
}

export async function resolveTokenizer(spec: TokenizerSpec): Promise<DatasetTokenizer> {
  const { files, origin, lookedFor } = await filesOf(spec);
  const tokenizer = createTokenizer(files, origin, lookedFor);
  return { tokenizer, files: files!, origin };
}
