/**
 * The data of the architecture viewer (`<ms-model-card>`, `showModel(model)`): sizes, every hook
 * point with its shape, parameter count, stored precision and a memory estimate per precision.
 * Plain JSON, computed from the config and file headers without touching the weights; memory
 * estimates are precision.ts's (int8/int4 with the default quantization block of 32).
 */
import { hookPoints, type HookPoint } from './hook-points.js';
import type { Model } from './model.js';
import { summarizeModelFiles } from './model-files-summary.js';
import { estimateMemory, PRECISIONS, weightShapes, type MemoryEstimate } from './precision.js';

export interface ModelCardData {
  source: string;
  /** Normalized architecture family ('gpt2', 'llama', ...). */
  architecture: string;
  format: 'safetensors' | 'gguf';
  storedPrecision: string;
  tokenizer: boolean;
  nLayers: number;
  dModel: number;
  nHeads: number;
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  vocabSize: number;
  maxPositions: number;
  activation: string;
  positions: 'learned' | 'rotary';
  tiedEmbeddings: boolean;
  /** Stored tensor elements (from the file headers). */
  parameters: number;
  /** Bytes of the model's files on disk. */
  fileBytes: number;
  /** Per runtime precision (precision.ts): weight bytes and the resident estimate after the first forward pass. */
  memory: MemoryEstimate[];
  hooks: HookPoint[];
}

export function modelCard(model: Model): ModelCardData {
  const c = model.config;
  const hooks = hookPoints(c, model.hookNames());
  const { learnedPositions, gatedMlp } = model.architecture;
  const shapes = weightShapes(c, gatedMlp, learnedPositions);
  const files = summarizeModelFiles(model.source);
  return {
    source: model.source,
    architecture: c.architecture,
    format: model.format,
    storedPrecision: model.storedPrecision,
    tokenizer: model.hasTokenizer,
    nLayers: c.nLayers,
    dModel: c.dModel,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dHead: c.dHead,
    dMlp: c.dMlp,
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositions,
    activation: c.activation,
    positions: learnedPositions ? 'learned' : 'rotary',
    tiedEmbeddings: c.tiedEmbeddings,
    parameters: files.parameters,
    fileBytes: files.bytes,
    memory: PRECISIONS.map((p) => estimateMemory(shapes, p, 32)),
    hooks,
  };
}
