/**
 * Facts about a model's files read from headers only (config.json, safetensors headers, the GGUF
 * tensor table), never the weights: architecture, parameter count, stored precision and bytes on
 * disk. Cheap enough to run for every model in a workspace listing.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { parseGgufFile } from './gguf/gguf-file.js';
import { readJsonFile, shardFilesOf, SINGLE_WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from './hf-directory.js';
import { readSafetensorsHeader, storedPrecisionOf } from './safetensors.js';

export interface ModelFilesSummary {
  /** Absolute model directory or .gguf file. */
  path: string;
  format: 'safetensors' | 'gguf';
  /** config.json `model_type`, or GGUF `general.architecture`. */
  architecture: string | null;
  /** Elements of every stored tensor (a tied unembedding is stored, and counted, once). */
  parameters: number;
  /** Weight precision on disk ('float32', 'bfloat16', 'Q4_1', 'float16+float32', ...). */
  storedPrecision: string;
  /** Bytes of the model's files (config, weights, tokenizer), not of anything else in the folder. */
  bytes: number;
}

/** Files of a Hugging Face model directory that belong to the model besides its weights. */
const SIDE_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'tokenizer.model', WEIGHTS_INDEX_FILE];

function fileBytes(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

function summarizeDirectory(dir: string): ModelFilesSummary {
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile)) throw new MiStudioError('FILE_NOT_FOUND', 'config.json is missing from the model directory', { file: configFile });
  const config = readJsonFile(configFile);
  const indexFile = path.join(dir, WEIGHTS_INDEX_FILE);
  let weightFiles: string[];
  if (existsSync(indexFile)) weightFiles = shardFilesOf(indexFile);
  else if (existsSync(path.join(dir, SINGLE_WEIGHTS_FILE))) weightFiles = [SINGLE_WEIGHTS_FILE];
  else weightFiles = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  if (weightFiles.length === 0) throw new MiStudioError('FILE_NOT_FOUND', 'no safetensors weights in the model directory', { file: dir });
  const headers = weightFiles.map((f) => readSafetensorsHeader(path.join(dir, f)));
  let parameters = 0;
  for (const h of headers) for (const e of h.entries.values()) parameters += e.shape.reduce((a, b) => a * b, 1);
  const bytes = headers.reduce((a, h) => a + h.fileBytes, 0) + SIDE_FILES.reduce((a, f) => a + fileBytes(path.join(dir, f)), 0);
  return {
    path: dir,
    format: 'safetensors',
    architecture: typeof config.model_type === 'string' ? config.model_type : null,
    parameters,
    storedPrecision: storedPrecisionOf(headers),
    bytes,
  };
}

function summarizeGguf(file: string): ModelFilesSummary {
  const gguf = parseGgufFile(file);
  const arch = gguf.metadata.get('general.architecture');
  // The precision of most matrix elements, as the GGUF loader reports it (norms stay F32 in every file).
  const matrixElements = new Map<string, number>();
  let parameters = 0;
  for (const t of gguf.tensors) {
    parameters += t.elementCount;
    if (t.shape.length > 1) matrixElements.set(t.type.name, (matrixElements.get(t.type.name) ?? 0) + t.elementCount);
  }
  const storedPrecision = [...matrixElements].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  return { path: file, format: 'gguf', architecture: typeof arch === 'string' ? arch : null, parameters, storedPrecision, bytes: gguf.fileBytes };
}

/** Summary of a model directory or .gguf file; typed errors name the file that is missing or corrupt. */
export function summarizeModelFiles(source: string): ModelFilesSummary {
  const abs = path.resolve(source);
  if (!existsSync(abs)) throw new MiStudioError('FILE_NOT_FOUND', 'no such model directory or file', { file: abs });
  if (statSync(abs).isDirectory()) return summarizeDirectory(abs);
  if (abs.toLowerCase().endsWith('.gguf')) return summarizeGguf(abs);
  throw new MiStudioError('UNSUPPORTED', 'not a model directory or .gguf file', { file: abs, hint: 'pass a Hugging Face model directory or a .gguf file' });
}
