/**
 * Pretrained SAELens SAEs by hub id: `loadPretrainedSae('gpt2-small-res-jb', 'blocks.8.hook_resid_pre')`
 * resolves the release to a repository and folder as SAELens' get_repo_id_and_folder_name does
 * (a release not in the directory is taken as a repository id and the SAE id as the folder), then
 * downloads `<folder>/cfg.json`, `<folder>/sae_weights.safetensors` and, when present,
 * `<folder>/sparsity.safetensors` (SAELens' sae_lens_huggingface_loader) through the models hub
 * downloader — HF_ENDPOINT, the cache, resumable downloads, HF_HUB_OFFLINE — and loads them.
 *
 * The directory below is a vendored subset of sae_lens 6.54.12 `pretrained_saes.yaml`: releases that
 * use the default SAELens loader (conversion_func null) and folders of cfg.json + safetensors.
 */
import path from 'node:path';
import { MiStudioError } from '../errors.js';
import { downloadRepoFiles, type DownloadOptions } from '../models/hub.js';
import { loadSaeLens, SAE_CFG_FILE, SAE_WEIGHTS_FILE, SPARSITY_FILE, type LoadedSae } from './saelens-format.js';

export interface PretrainedRelease {
  repoId: string;
  /** The TransformerLens model name the SAEs were trained on. */
  model: string;
  /** SAE id (usually the hook) → folder in the repository, and its Neuronpedia id. */
  saes: Record<string, { path: string; neuronpedia?: string }>;
}

export const PRETRAINED_RELEASES: Record<string, PretrainedRelease> = {
  'gpt2-small-res-jb': {
    repoId: 'jbloom/GPT2-Small-SAEs-Reformatted',
    model: 'gpt2-small',
    saes: {
      'blocks.0.hook_resid_pre': { path: 'blocks.0.hook_resid_pre', neuronpedia: 'gpt2-small/0-res-jb' },
      'blocks.1.hook_resid_pre': { path: 'blocks.1.hook_resid_pre', neuronpedia: 'gpt2-small/1-res-jb' },
      'blocks.2.hook_resid_pre': { path: 'blocks.2.hook_resid_pre', neuronpedia: 'gpt2-small/2-res-jb' },
      'blocks.3.hook_resid_pre': { path: 'blocks.3.hook_resid_pre', neuronpedia: 'gpt2-small/3-res-jb' },
      'blocks.4.hook_resid_pre': { path: 'blocks.4.hook_resid_pre', neuronpedia: 'gpt2-small/4-res-jb' },
      'blocks.5.hook_resid_pre': { path: 'blocks.5.hook_resid_pre', neuronpedia: 'gpt2-small/5-res-jb' },
      'blocks.6.hook_resid_pre': { path: 'blocks.6.hook_resid_pre', neuronpedia: 'gpt2-small/6-res-jb' },
      'blocks.7.hook_resid_pre': { path: 'blocks.7.hook_resid_pre', neuronpedia: 'gpt2-small/7-res-jb' },
      'blocks.8.hook_resid_pre': { path: 'blocks.8.hook_resid_pre', neuronpedia: 'gpt2-small/8-res-jb' },
      'blocks.9.hook_resid_pre': { path: 'blocks.9.hook_resid_pre', neuronpedia: 'gpt2-small/9-res-jb' },
      'blocks.10.hook_resid_pre': { path: 'blocks.10.hook_resid_pre', neuronpedia: 'gpt2-small/10-res-jb' },
      'blocks.11.hook_resid_pre': { path: 'blocks.11.hook_resid_pre', neuronpedia: 'gpt2-small/11-res-jb' },
      'blocks.11.hook_resid_post': { path: 'blocks.11.hook_resid_post', neuronpedia: 'gpt2-small/12-res-jb' },
    },
  },
  'gpt2-small-res-jb-feature-splitting': {
    repoId: 'jbloom/GPT2-Small-Feature-Splitting-Experiment-Layer-8',
    model: 'gpt2-small',
    saes: {
      'blocks.8.hook_resid_pre_768': { path: 'blocks.8.hook_resid_pre_768', neuronpedia: 'gpt2-small/8-res_fs768-jb' },
      'blocks.8.hook_resid_pre_1536': { path: 'blocks.8.hook_resid_pre_1536', neuronpedia: 'gpt2-small/8-res_fs1536-jb' },
      'blocks.8.hook_resid_pre_3072': { path: 'blocks.8.hook_resid_pre_3072', neuronpedia: 'gpt2-small/8-res_fs3072-jb' },
      'blocks.8.hook_resid_pre_6144': { path: 'blocks.8.hook_resid_pre_6144', neuronpedia: 'gpt2-small/8-res_fs6144-jb' },
      'blocks.8.hook_resid_pre_12288': { path: 'blocks.8.hook_resid_pre_12288', neuronpedia: 'gpt2-small/8-res_fs12288-jb' },
      'blocks.8.hook_resid_pre_24576': { path: 'blocks.8.hook_resid_pre_24576', neuronpedia: 'gpt2-small/8-res_fs24576-jb' },
      'blocks.8.hook_resid_pre_49152': { path: 'blocks.8.hook_resid_pre_49152', neuronpedia: 'gpt2-small/8-res_fs49152-jb' },
      'blocks.8.hook_resid_pre_98304': { path: 'blocks.8.hook_resid_pre_98304', neuronpedia: 'gpt2-small/8-res_fs98304-jb' },
    },
  },
  'pythia-70m-deduped-res-sm': {
    repoId: 'ctigges/pythia-70m-deduped__res-sm_processed',
    model: 'pythia-70m-deduped',
    saes: {
      'blocks.0.hook_resid_pre': { path: 'e-res-sm', neuronpedia: 'pythia-70m-deduped/e-att-sm' },
      'blocks.0.hook_resid_post': { path: '0-res-sm', neuronpedia: 'pythia-70m-deduped/0-res-sm' },
      'blocks.1.hook_resid_post': { path: '1-res-sm', neuronpedia: 'pythia-70m-deduped/1-res-sm' },
      'blocks.2.hook_resid_post': { path: '2-res-sm', neuronpedia: 'pythia-70m-deduped/2-res-sm' },
      'blocks.3.hook_resid_post': { path: '3-res-sm', neuronpedia: 'pythia-70m-deduped/3-res-sm' },
      'blocks.4.hook_resid_post': { path: '4-res-sm', neuronpedia: 'pythia-70m-deduped/4-res-sm' },
      'blocks.5.hook_resid_post': { path: '5-res-sm', neuronpedia: 'pythia-70m-deduped/5-res-sm' },
    },
  },
  'pythia-70m-deduped-mlp-sm': {
    repoId: 'ctigges/pythia-70m-deduped__mlp-sm_processed',
    model: 'pythia-70m-deduped',
    saes: {
      'blocks.0.hook_mlp_out': { path: '0-mlp-sm', neuronpedia: 'pythia-70m-deduped/0-mlp-sm' },
      'blocks.1.hook_mlp_out': { path: '1-mlp-sm', neuronpedia: 'pythia-70m-deduped/1-mlp-sm' },
      'blocks.2.hook_mlp_out': { path: '2-mlp-sm', neuronpedia: 'pythia-70m-deduped/2-mlp-sm' },
      'blocks.3.hook_mlp_out': { path: '3-mlp-sm', neuronpedia: 'pythia-70m-deduped/3-mlp-sm' },
      'blocks.4.hook_mlp_out': { path: '4-mlp-sm', neuronpedia: 'pythia-70m-deduped/4-mlp-sm' },
      'blocks.5.hook_mlp_out': { path: '5-mlp-sm', neuronpedia: 'pythia-70m-deduped/5-mlp-sm' },
    },
  },
  'gemma-2b-res-jb': {
    repoId: 'jbloom/Gemma-2b-Residual-Stream-SAEs',
    model: 'gemma-2b',
    saes: {
      'blocks.0.hook_resid_post': { path: 'gemma_2b_blocks.0.hook_resid_post_16384_anthropic', neuronpedia: 'gemma-2b/0-res-jb' },
      'blocks.6.hook_resid_post': { path: 'gemma_2b_blocks.6.hook_resid_post_16384_anthropic_fast_lr', neuronpedia: 'gemma-2b/6-res-jb' },
      'blocks.10.hook_resid_post': { path: 'gemma_2b_blocks.10.hook_resid_post_16384', neuronpedia: 'gemma-2b/10-res-jb' },
      'blocks.12.hook_resid_post': { path: 'gemma_2b_blocks.12.hook_resid_post_16384', neuronpedia: 'gemma-2b/12-res-jb' },
      'blocks.17.hook_resid_post': { path: 'gemma_2b_blocks.17.hook_resid_post_16384' },
    },
  },
};

export interface ResolvedPretrained {
  repoId: string;
  folder: string;
  /** Release metadata added to the SAE's metadata (model name, Neuronpedia id), when known. */
  metadata: Record<string, unknown>;
}

/** The repository and folder of an SAE (SAELens get_repo_id_and_folder_name). */
export function resolvePretrainedSae(release: string, saeId: string): ResolvedPretrained {
  const info = PRETRAINED_RELEASES[release];
  if (!info) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(release)) {
      throw new MiStudioError('NOT_FOUND', `unknown SAELens release '${release}'`, {
        field: 'release',
        hint: `known releases: ${Object.keys(PRETRAINED_RELEASES).join(', ')}; or give a hub repository id (org/name) and the SAE's folder as the SAE id`,
      });
    }
    return { repoId: release, folder: saeId, metadata: {} };
  }
  const sae = info.saes[saeId];
  if (!sae) {
    throw new MiStudioError('NOT_FOUND', `SAE id '${saeId}' not found in release '${release}'`, { field: 'saeId', hint: `SAE ids: ${Object.keys(info.saes).join(', ')}` });
  }
  return { repoId: info.repoId, folder: sae.path, metadata: { model_name: info.model, ...(sae.neuronpedia ? { neuronpedia_id: sae.neuronpedia } : {}) } };
}

/** Downloads (or finds in the cache) a pretrained SAE's folder; returns its local directory. */
export async function downloadPretrainedSae(release: string, saeId: string, options: DownloadOptions = {}): Promise<string> {
  const { repoId, folder } = resolvePretrainedSae(release, saeId);
  const files = [{ path: `${folder}/${SAE_CFG_FILE}` }, { path: `${folder}/${SAE_WEIGHTS_FILE}` }, { path: `${folder}/${SPARSITY_FILE}`, optional: true }];
  const snapshot = await downloadRepoFiles(repoId, files, options);
  return path.join(snapshot, folder);
}

/** Downloads and loads a pretrained SAE (standard, topk, jumprelu, gated) from a SAELens release. */
export async function loadPretrainedSae(release: string, saeId: string, options: DownloadOptions = {}): Promise<LoadedSae & { dir: string }> {
  const dir = await downloadPretrainedSae(release, saeId, options);
  const loaded = loadSaeLens(dir);
  loaded.model.metadata = { ...resolvePretrainedSae(release, saeId).metadata, ...loaded.model.metadata };
  return { ...loaded, dir };
}
