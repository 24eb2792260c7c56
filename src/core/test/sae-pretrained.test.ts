/**
 * Pretrained SAELens releases by hub id, downloaded through the models hub downloader from a
 * loopback server speaking the hub's resolve API (HF_ENDPOINT): the release resolves to the
 * repository and folder SAELens' directory names, the folder's files are fetched (sparsity when
 * present), cached, loaded (a pre-6 cfg.json like the jbloom releases), and give SAELens' feature
 * activations; offline or unreachable with an empty cache is a clear OFFLINE error.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { downloadPretrainedSae, loadPretrainedSae, PRETRAINED_RELEASES, resolvePretrainedSae } from '../sae/pretrained.js';
import { runSae } from '../sae/sae-model.js';
import { FIXTURES } from './helpers/dataset-workspace.js';

const STANDARD = path.join(FIXTURES, 'sae', 'saelens', 'standard');
const TOPK = path.join(FIXTURES, 'sae', 'saelens', 'topk');
const REPO = 'jbloom/GPT2-Small-SAEs-Reformatted';
const FOLDER = 'blocks.8.hook_resid_pre';

/** What jbloom's reformatted GPT-2 releases hold: a pre-6 SAELens config (hook_point, activation_fn_str). */
function legacyCfg(): Buffer {
  const v6 = JSON.parse(readFileSync(path.join(STANDARD, 'cfg.json'), 'utf8')) as { d_in: number; d_sae: number };
  return Buffer.from(JSON.stringify({
    model_name: 'gpt2-small', hook_point: FOLDER, hook_point_layer: 8, hook_point_head_index: null, d_in: v6.d_in, d_sae: v6.d_sae,
    dtype: 'torch.float32', device: 'cpu', apply_b_dec_to_input: true, activation_fn_str: 'relu', sae_lens_training_version: null,
  }));
}

const files: Record<string, Buffer> = {
  [`/${REPO}/resolve/main/${FOLDER}/cfg.json`]: legacyCfg(),
  [`/${REPO}/resolve/main/${FOLDER}/sae_weights.safetensors`]: readFileSync(path.join(STANDARD, 'sae_weights.safetensors')),
  // A repository given directly (not a known release), with a sparsity file.
  ['/someone/my-saes/resolve/main/layer3/cfg.json']: readFileSync(path.join(TOPK, 'cfg.json')),
  ['/someone/my-saes/resolve/main/layer3/sae_weights.safetensors']: readFileSync(path.join(TOPK, 'sae_weights.safetensors')),
  ['/someone/my-saes/resolve/main/layer3/sparsity.safetensors']: readFileSync(path.join(TOPK, 'sparsity.safetensors')),
};
const requests: string[] = [];
const server = http.createServer((req, res) => {
  requests.push(req.url!);
  const data = files[decodeURIComponent(req.url!)];
  if (!data) return void res.writeHead(404).end('Entry not found');
  res.writeHead(200, { 'Content-Length': data.length }).end(data);
});
let endpoint = '';
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-pretrained-'));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('pretrained SAELens SAEs by hub id', () => {
  it('resolves releases like SAELens get_repo_id_and_folder_name', () => {
    expect(resolvePretrainedSae('gpt2-small-res-jb', 'blocks.8.hook_resid_pre')).toEqual({ repoId: REPO, folder: FOLDER, metadata: { model_name: 'gpt2-small', neuronpedia_id: 'gpt2-small/8-res-jb' } });
    expect(resolvePretrainedSae('pythia-70m-deduped-res-sm', 'blocks.0.hook_resid_pre').folder).toBe('e-res-sm');
    expect(resolvePretrainedSae('someone/my-saes', 'layer3')).toEqual({ repoId: 'someone/my-saes', folder: 'layer3', metadata: {} });
    expect(() => resolvePretrainedSae('gpt2-small-res-jb', 'blocks.99.hook_resid_pre')).toThrow(/not found in release 'gpt2-small-res-jb'.*blocks\.0\.hook_resid_pre/);
    expect(() => resolvePretrainedSae('no-such-release', 'x')).toThrow(/unknown SAELens release 'no-such-release'/);
    expect(Object.keys(PRETRAINED_RELEASES['gpt2-small-res-jb'].saes)).toHaveLength(13);
  });

  it('downloads gpt2-small-res-jb into the cache and loads it with SAELens\' activations; a second load is served from the cache', async () => {
    const loaded = await loadPretrainedSae('gpt2-small-res-jb', FOLDER, { endpoint, cacheDir });
    expect(requests.filter((u) => u.startsWith(`/${REPO}/`)).sort()).toEqual([
      `/${REPO}/resolve/main/${FOLDER}/cfg.json`,
      `/${REPO}/resolve/main/${FOLDER}/sae_weights.safetensors`,
      `/${REPO}/resolve/main/${FOLDER}/sparsity.safetensors`, // asked for, 404: optional
    ]);
    expect(loaded.dir.startsWith(cacheDir)).toBe(true);
    expect(loaded.model.architecture).toBe('standard');
    expect(loaded.model.metadata).toMatchObject({ hook_name: FOLDER, model_name: 'gpt2-small', neuronpedia_id: 'gpt2-small/8-res-jb' });
    expect(loaded.log10Sparsity).toBeUndefined();
    const expected = JSON.parse(readFileSync(path.join(STANDARD, 'expected.json'), 'utf8')) as { x: number[]; featureActs: number[] };
    const out = await runSae(loaded.model, Float32Array.from(expected.x), { intraOpNumThreads: 1 });
    let err = 0;
    out.featureActs.forEach((v, i) => (err = Math.max(err, Math.abs(v - expected.featureActs[i]))));
    expect(err).toBeLessThan(1e-5);

    const before = requests.length;
    const again = await loadPretrainedSae('gpt2-small-res-jb', FOLDER, { endpoint, cacheDir });
    expect(requests.slice(before).filter((u) => !u.endsWith('sparsity.safetensors'))).toEqual([]);
    expect(again.model.weights.W_enc).toEqual(loaded.model.weights.W_enc);
  });

  it('loads a folder of any repository, with its sparsity file', async () => {
    const loaded = await loadPretrainedSae('someone/my-saes', 'layer3', { endpoint, cacheDir });
    expect(loaded.model.architecture).toBe('topk');
    expect(loaded.log10Sparsity!.length).toBe(loaded.model.dSae);
  });

  it('offline: the cache is used; a missing SAE is an OFFLINE error naming the files; a missing folder online is NOT_FOUND', async () => {
    expect(existsSync(await downloadPretrainedSae('gpt2-small-res-jb', FOLDER, { endpoint, cacheDir, offline: true }))).toBe(true);
    const err = await downloadPretrainedSae('gpt2-small-res-jb', 'blocks.2.hook_resid_pre', { endpoint, cacheDir, offline: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MiStudioError);
    expect((err as MiStudioError).code).toBe('OFFLINE');
    expect((err as Error).message).toMatch(/HF_HUB_OFFLINE is set, and the cache lacks blocks\.2\.hook_resid_pre\/cfg\.json, blocks\.2\.hook_resid_pre\/sae_weights\.safetensors for jbloom\/GPT2-Small-SAEs-Reformatted/);
    // An unreachable hub (nothing listens on port 9 of loopback) falls back to the cache the same way.
    const unreachable = await downloadPretrainedSae('gpt2-small-res-jb', 'blocks.2.hook_resid_pre', { endpoint: 'http://127.0.0.1:9', cacheDir }).catch((e: unknown) => e);
    expect((unreachable as MiStudioError).code).toBe('OFFLINE');
    expect((unreachable as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    const missing = await downloadPretrainedSae('gpt2-small-res-jb', 'blocks.2.hook_resid_pre', { endpoint, cacheDir }).catch((e: unknown) => e);
    expect((missing as MiStudioError).code).toBe('NOT_FOUND');
    expect((missing as Error).message).toMatch(/blocks\.2\.hook_resid_pre\/cfg\.json not found in jbloom\/GPT2-Small-SAEs-Reformatted@main/);
  });

  it('HF_ENDPOINT picks the hub when no endpoint is given', async () => {
    const prev = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = endpoint;
    try {
      const other = mkdtempSync(path.join(os.tmpdir(), 'mistudio-pretrained-env-'));
      const dir = await downloadPretrainedSae('gpt2-small-res-jb', FOLDER, { cacheDir: other });
      expect(existsSync(path.join(dir, 'sae_weights.safetensors'))).toBe(true);
      rmSync(other, { recursive: true, force: true });
    } finally {
      if (prev === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = prev;
    }
  });
});
