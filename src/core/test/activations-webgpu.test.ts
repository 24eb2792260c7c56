/**
 * Extraction on device 'webgpu': the model's hooked forward graph on onnxruntime's WebGPU provider,
 * here on SwiftShader (Vulkan on the CPU), must store what the CPU provider stores.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { SWIFTSHADER_ICD } from '../gpu/dawn-device.js';
import { ActivationStore, extractActivations } from '../index.js';
import { loadModel } from '../models/index.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';
import { maxRelativeError } from './helpers/sae-fixtures.js';

const LLAMA = path.join(FIXTURES, 'models', 'tiny-llama');
const HOOKS = ['blocks.1.hook_resid_post', 'blocks.0.hook_mlp_out', 'blocks.0.attn.hook_z'];

let ws: TempWorkspace;
let datasetDir: string;

beforeAll(async () => {
  // onnxruntime's Dawn reads this when its WebGPU provider first starts, in the test below.
  vi.stubEnv('VK_DRIVER_FILES', SWIFTSHADER_ICD);
  ws = await tempWorkspace();
  const file = path.join(ws.scratch, 'emma.txt');
  writeFileSync(file, readFileSync(path.join(GUTENBERG, 'austen-emma.txt'), 'utf8').slice(0, 6000));
  await addDataset(ws.catalog, file, { name: 'emma' });
  datasetDir = (await tokenizeDataset(ws.catalog, 'emma', { tokenizer: LLAMA, contextSize: 16, name: 'emma-llama' })).dir;
});
afterAll(() => {
  vi.unstubAllEnvs();
  return ws?.dispose();
});

describe("extraction on device 'webgpu' (onnxruntime's WebGPU provider on SwiftShader)", () => {
  it('stores the activations the CPU provider stores, at every hook', async () => {
    const stores: Record<string, Record<string, Float32Array>> = {};
    for (const device of ['cpu', 'webgpu'] as const) {
      const model = await loadModel(LLAMA, { threads: 1, device });
      expect(model.device).toBe(device);
      const out = path.join(ws.root, `ex-${device}`);
      const summary = await extractActivations(model, datasetDir, out, { hooks: HOOKS, batchSize: 3, rowsPerShard: 40, tokens: 150 });
      expect(summary.status).toBe('completed');
      stores[device] = Object.fromEntries(HOOKS.map((hook) => [hook, ActivationStore.open(path.join(out, hook)).readRows(0, 150)]));
    }
    for (const hook of HOOKS) {
      expect(stores.webgpu[hook].length, hook).toBe(stores.cpu[hook].length);
      expect(maxRelativeError(stores.webgpu[hook], stores.cpu[hook]), hook).toBeLessThan(1e-5);
    }
  });
});
