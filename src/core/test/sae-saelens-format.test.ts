/**
 * SAELens v6 interchange: SAEs saved by SAELens itself (fixtures from
 * tests/python/make_sae_fixtures.py) load here and encode like SAELens does; SAEs saved here load in
 * Python SAELens (SAE.load_from_disk) and give the same feature activations; folding the
 * activation-normalisation scale and decoder norms at save time keeps the SAE's function.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { SessionCache } from '../engine/sessions.js';
import { resolveTrainingConfig, type Architecture } from '../sae/config.js';
import { initialParameters } from '../sae/init.js';
import { modelFromTraining, runSae } from '../sae/sae-model.js';
import { loadSaeLens, saveSaeLens } from '../sae/saelens-format.js';
import { relativeError } from './helpers/sae-fixtures.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/sae/saelens/', import.meta.url));
const PYTHON = path.resolve(fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url)));
const cache = new SessionCache();
const dirs: string[] = [];
afterAll(async () => {
  await cache.release();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A trained-looking model: random parameters (seeded) with uneven decoder norms. */
function trainedModel(architecture: Architecture, normScale: number | null) {
  const cfg = resolveTrainingConfig({ architecture, dIn: 12, dSae: 40, k: 5, metadata: { model_name: 'tiny', hook_name: 'blocks.1.hook_resid_post' } });
  const rng = new Rng(architecture.length);
  const params = initialParameters(cfg, rng);
  for (const [name, data] of Object.entries(params)) for (let i = 0; i < data.length; i++) data[i] = name === 'threshold' ? rng.next() * 0.3 : rng.normal() * (name.startsWith('W') ? 0.4 : 0.1);
  return { cfg, params, model: modelFromTraining(cfg, params, { normScale, topkThreshold: architecture === 'batchtopk' ? 0.2 : undefined }) };
}

describe('SAELens v6 format', () => {
  for (const arch of ['standard', 'topk', 'jumprelu', 'gated', 'batchtopk']) {
    it(`loads an SAELens-saved ${arch} SAE and encodes as SAELens does`, async () => {
      const dir = path.join(FIXTURES, arch);
      const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { architecture: string; x: number[]; featureActs: number[]; reconstruction: number[] };
      const { model, log10Sparsity } = loadSaeLens(dir);
      expect(model.architecture).toBe(expected.architecture);
      expect(model.metadata.hook_name).toBe('blocks.0.hook_resid_post');
      const out = await runSae(model, Float32Array.from(expected.x), { cache, intraOpNumThreads: 1 });
      expect(relativeError(out.featureActs, expected.featureActs)).toBeLessThan(1e-5);
      expect(relativeError(out.reconstruction, expected.reconstruction)).toBeLessThan(1e-5);
      if (arch === 'topk') expect(log10Sparsity!.length).toBe(model.dSae);
    });
  }

  it('saves SAEs that Python SAELens loads (SAE.load_from_disk) with the same feature activations', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mistudio-saelens-'));
    dirs.push(root);
    const rng = new Rng(99);
    const x = Float32Array.from({ length: 7 * 12 }, () => rng.normal());
    writeFileSync(path.join(root, 'x.json'), JSON.stringify(Array.from(x)));
    const ours: Record<string, { acts: Float32Array; architecture: string }> = {};
    for (const arch of ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated'] as const) {
      const { model } = trainedModel(arch, 1.7);
      saveSaeLens(path.join(root, arch), model, { log10Sparsity: new Float32Array(model.dSae).fill(-2) });
      ours[arch] = { acts: (await runSae(model, x, { cache, intraOpNumThreads: 1 })).featureActs, architecture: model.architecture };
    }
    const script = [
      'import json, sys, torch',
      'from sae_lens import SAE',
      'root = sys.argv[1]',
      'x = torch.tensor(json.load(open(root + "/x.json")), dtype=torch.float32).reshape(7, 12)',
      'out = {}',
      'for arch in ["standard", "topk", "batchtopk", "jumprelu", "gated"]:',
      '    sae = SAE.load_from_disk(root + "/" + arch)',
      '    out[arch] = {"architecture": sae.cfg.architecture(), "acts": sae.encode(x).detach().reshape(-1).tolist()}',
      'print(json.dumps(out))',
    ].join('\n');
    const stdout = execFileSync(PYTHON, ['-W', 'ignore', '-c', script, root], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const theirs = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, { architecture: string; acts: number[] }>;
    for (const [arch, mine] of Object.entries(ours)) {
      expect(theirs[arch].architecture, arch).toBe(mine.architecture);
      const err = relativeError(mine.acts, theirs[arch].acts);
      expect(err, arch).toBeLessThan(1e-5);
      expect(mine.acts.some((v) => v > 0), arch).toBe(true);
    }
  });

  it('folding the normalisation scale and decoder norms keeps the reconstruction (in raw units)', async () => {
    const s = 1.7;
    const rng = new Rng(5);
    const raw = Float32Array.from({ length: 9 * 12 }, () => rng.normal());
    const scaled = raw.map((v) => v * s);
    for (const arch of ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated'] as const) {
      const { cfg, params } = trainedModel(arch, null);
      const unscaled = await runSae(modelFromTraining(cfg, params, { normScale: null, topkThreshold: 0.2 }), scaled, { cache, intraOpNumThreads: 1 });
      const folded = await runSae(modelFromTraining(cfg, params, { normScale: s, topkThreshold: 0.2 }), raw, { cache, intraOpNumThreads: 1 });
      expect(relativeError(folded.reconstruction.map((v) => v * s), unscaled.reconstruction), arch).toBeLessThan(1e-5);
    }
  });

  it('names the file and tensor when a directory is broken', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-saelens-bad-'));
    dirs.push(dir);
    const { model } = trainedModel('standard', null);
    saveSaeLens(path.join(dir, 'sae'), model);
    const cfgFile = path.join(dir, 'sae', 'cfg.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, d_sae: 41 }));
    expect(() => loadSaeLens(path.join(dir, 'sae'))).toThrow(MiStudioError);
    expect(() => loadSaeLens(path.join(dir, 'sae'))).toThrow(/W_enc.*shape \[12, 40\].*sae_weights\.safetensors/s);
    expect(() => loadSaeLens(path.join(dir, 'missing'))).toThrow(/cfg\.json/);
  });
});
