/**
 * `loadModel(source)`: a Hugging Face model directory, a `.gguf` file, or a hub id
 * (`org/name`, optionally `org/name@revision`) downloaded into the cache directory.
 */
import { existsSync, statSync } from 'node:fs';
import { MiStudioError } from '../errors.js';
import { loadHfDirectory } from './hf-directory.js';
import { downloadModel, isHubId, type DownloadOptions } from './hub.js';
import { Model, type ModelOptions } from './model.js';
import type { LoadedModelFiles } from './weights.js';

export interface LoadModelOptions extends ModelOptions, DownloadOptions {}

/** Reads a model's files (config, weights, tokenizer) without building anything. */
export async function loadModelFiles(source: string, options: DownloadOptions = {}): Promise<LoadedModelFiles> {
  if (existsSync(source)) {
    if (statSync(source).isDirectory()) return loadHfDirectory(source);
    if (source.toLowerCase().endsWith('.gguf')) {
      const { loadGgufModelFiles } = await import('./gguf/index.js');
      return loadGgufModelFiles(source);
    }
    throw new MiStudioError('UNSUPPORTED', 'not a model directory or .gguf file', { file: source, hint: 'pass a Hugging Face model directory, a .gguf file or a hub id like HuggingFaceTB/SmolLM2-135M' });
  }
  if (isHubId(source)) return loadHfDirectory(await downloadModel(source, options));
  throw new MiStudioError('FILE_NOT_FOUND', 'no such file or directory, and not a hub id (org/name)', { file: source });
}

/** Loads a model for running: `const model = await loadModel('HuggingFaceTB/SmolLM2-135M', { device: 'cpu' })`. */
export async function loadModel(source: string, options: LoadModelOptions = {}): Promise<Model> {
  return Model.create(await loadModelFiles(source, options), options);
}
