/**
 * Loads a Hugging Face model directory: `config.json`, weights in `model.safetensors` or a sharded
 * checkpoint (`model.safetensors.index.json` + shards), and the tokenizer files. Every safetensors
 * header is validated up front; tensor data is read lazily when an architecture asks for it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { readSafetensorsHeader, SafetensorsWeights, storedPrecisionOf } from './safetensors.js';
import type { LoadedModelFiles, TokenizerFiles } from './weights.js';

export const SINGLE_WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

export function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MiStudioError('FILE_NOT_FOUND', 'cannot read file', { file, cause });
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', `invalid JSON (${(cause as Error).message})`, { file, cause });
  }
}

/** Shard file names of a sharded checkpoint, in first-use order, from its index. */
export function shardFilesOf(indexFile: string): string[] {
  const index = readJsonFile(indexFile);
  const map = index.weight_map;
  if (!map || typeof map !== 'object') throw new MiStudioError('CORRUPT_FILE', 'index has no weight_map object', { file: indexFile, field: 'weight_map' });
  const files = new Set<string>();
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\') || file.startsWith('.')) {
      throw new MiStudioError('CORRUPT_FILE', `weight_map entry names an invalid shard ${JSON.stringify(file)}`, { file: indexFile, field: name });
    }
    files.add(file);
  }
  return [...files];
}

/** Reads the tokenizer files of a directory; undefined when tokenizer.json is absent. */
export function readTokenizerFiles(dir: string): TokenizerFiles | undefined {
  const jsonFile = path.join(dir, 'tokenizer.json');
  if (!existsSync(jsonFile)) return undefined;
  const configFile = path.join(dir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(configFile) ? readJsonFile(configFile) : {};
  // Older checkpoints keep bos/eos/pad only in special_tokens_map.json; fold them in when missing.
  const specialFile = path.join(dir, 'special_tokens_map.json');
  if (existsSync(specialFile)) {
    for (const [k, v] of Object.entries(readJsonFile(specialFile))) if (!(k in tokenizerConfig)) tokenizerConfig[k] = v;
  }
  return { tokenizerJson: readJsonFile(jsonFile), tokenizerConfig };
}

/** Loads config, validated weights and tokenizer files from a Hugging Face model directory. */
export function loadHfDirectory(dir: string): LoadedModelFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new MiStudioError('FILE_NOT_FOUND', 'model directory does not exist', { file: dir });
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile)) {
    throw new MiStudioError('FILE_NOT_FOUND', 'config.json is missing from the model directory', { file: configFile, hint: 'a Hugging Face model directory needs config.json next to its safetensors files' });
  }
  const config = readJsonFile(configFile);
  const indexFile = path.join(dir, WEIGHTS_INDEX_FILE);
  const singleFile = path.join(dir, SINGLE_WEIGHTS_FILE);
  let files: string[];
  if (existsSync(indexFile)) {
    files = shardFilesOf(indexFile).map((f) => path.join(dir, f));
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length) throw new MiStudioError('FILE_NOT_FOUND', `${missing.length} shard(s) listed in ${WEIGHTS_INDEX_FILE} are missing: ${missing.map((f) => path.basename(f)).join(', ')}`, { file: indexFile });
  } else if (existsSync(singleFile)) {
    files = [singleFile];
  } else {
    const others = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    if (others.length === 0) {
      const hint = readdirSync(dir).some((f) => f.endsWith('.bin')) ? 'only PyTorch .bin weights were found; convert them to safetensors' : `expected ${SINGLE_WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}`;
      throw new MiStudioError('FILE_NOT_FOUND', 'no safetensors weights in the model directory', { file: dir, hint });
    }
    files = others.sort().map((f) => path.join(dir, f));
  }
  const headers = files.map((f) => readSafetensorsHeader(f));
  const weights = new SafetensorsWeights(headers, dir);
  if (existsSync(indexFile)) {
    // Every tensor the index promises must be in the shard it names.
    const map = readJsonFile(indexFile).weight_map as Record<string, string>;
    for (const [name, shard] of Object.entries(map)) {
      const h = headers.find((x) => path.basename(x.file) === shard);
      if (!h?.entries.has(name)) throw new MiStudioError('CORRUPT_FILE', `tensor '${name}' is listed in the index but not present in shard ${shard}`, { file: path.join(dir, shard), field: name });
    }
  }
  return { config, weights, tokenizer: readTokenizerFiles(dir), source: dir, format: 'safetensors', storedPrecision: storedPrecisionOf(headers) };
}
