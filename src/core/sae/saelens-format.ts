/**
 * The SAELens v6 directory format: `cfg.json` + `sae_weights.safetensors` (+ `sparsity.safetensors`,
 * log10 feature densities). Saving writes what SAELens' save_inference_model writes (field names,
 * float32 tensors W_enc [d_in, d_sae], W_dec [d_sae, d_in], ...), into a temporary directory renamed
 * into place, so a crash never leaves half an SAE. Loading accepts SAELens v6 directories and the
 * pre-6 configs of older pretrained releases (hook_point, activation_fn "topk").
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { syncDir, writeFileAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';
import { halfToFloat32Array } from '../engine/float16.js';
import { readSafetensorsHeader, readSafetensorsTensor } from '../models/safetensors.js';
import { encodeSafetensors } from './safetensors-writer.js';
import { WEIGHT_LAYOUT, weightShape, type InferenceArchitecture, type SaeModel } from './sae-model.js';

export const SAE_CFG_FILE = 'cfg.json';
export const SAE_WEIGHTS_FILE = 'sae_weights.safetensors';
export const SPARSITY_FILE = 'sparsity.safetensors';
/** The SAELens format version our files follow (≥ 6.0.0: SAELens applies no legacy renaming). */
export const SAELENS_FORMAT_VERSION = '6.0.0';

/** cfg.json as SAELens v6 writes it for an inference SAE. */
export function saeLensConfig(m: SaeModel): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    d_in: m.dIn,
    d_sae: m.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: m.applyBDecToInput,
    normalize_activations: m.normalizeActivations,
    reshape_activations: 'none',
    metadata: { sae_lens_version: SAELENS_FORMAT_VERSION, sae_lens_training_version: SAELENS_FORMAT_VERSION, ...m.metadata },
    architecture: m.architecture,
  };
  if (m.architecture === 'topk') {
    cfg.k = m.k;
    cfg.rescale_acts_by_decoder_norm = m.rescaleActsByDecoderNorm;
  }
  return cfg;
}

export interface SaveOptions {
  /** log10 feature densities [d_sae] (SAELens sparsity.safetensors). */
  log10Sparsity?: Float32Array;
}

/** Writes an SAELens directory at `dir`, replacing any previous one only once the new one is whole. */
export function saveSaeLens(dir: string, m: SaeModel, options: SaveOptions = {}): void {
  const layout = WEIGHT_LAYOUT[m.architecture];
  const tensors = Object.entries(layout).map(([name, kind]) => {
    const data = m.weights[name];
    if (!data) throw new MiStudioError('INVALID_ARGUMENT', `weight ${name} is missing`, { field: name });
    return { name, shape: weightShape(kind, m.dIn, m.dSae), data };
  });
  const parent = path.dirname(path.resolve(dir));
  mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeFileAtomic(path.join(tmp, SAE_WEIGHTS_FILE), encodeSafetensors(tensors));
  writeFileAtomic(path.join(tmp, SAE_CFG_FILE), JSON.stringify(saeLensConfig(m)));
  if (options.log10Sparsity) writeFileAtomic(path.join(tmp, SPARSITY_FILE), encodeSafetensors([{ name: 'sparsity', shape: [m.dSae], data: options.log10Sparsity }]));
  const old = `${tmp}.old`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
  syncDir(parent);
}

export interface LoadedSae {
  model: SaeModel;
  /** log10 feature densities, when the directory has sparsity.safetensors. */
  log10Sparsity?: Float32Array;
}

/** Loads an SAELens SAE directory (standard, topk, jumprelu, gated; batchtopk is saved as jumprelu). */
export function loadSaeLens(dir: string): LoadedSae {
  const cfgFile = path.join(dir, SAE_CFG_FILE);
  if (!existsSync(cfgFile)) throw new MiStudioError('FILE_NOT_FOUND', `no ${SAE_CFG_FILE} in the SAE directory`, { file: cfgFile, hint: 'an SAELens SAE directory holds cfg.json and sae_weights.safetensors' });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new MiStudioError('CORRUPT_FILE', `${SAE_CFG_FILE} is not valid JSON`, { file: cfgFile, cause });
  }
  const cfg = upgradeLegacyConfig(raw);
  const architecture = cfg.architecture as InferenceArchitecture;
  if (!(architecture in WEIGHT_LAYOUT)) {
    throw new MiStudioError('UNSUPPORTED', `SAE architecture '${String(cfg.architecture)}' is not supported`, { file: cfgFile, field: 'architecture', hint: `supported: ${Object.keys(WEIGHT_LAYOUT).join(', ')}` });
  }
  const dIn = cfg.d_in;
  const dSae = cfg.d_sae;
  for (const [field, v] of [['d_in', dIn], ['d_sae', dSae]] as const) {
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new MiStudioError('CORRUPT_FILE', `${field} must be a positive integer, got ${JSON.stringify(v)}`, { file: cfgFile, field });
  }
  const normalize = (cfg.normalize_activations ?? 'none') as string;
  if (normalize !== 'none' && normalize !== 'expected_average_only_in') {
    throw new MiStudioError('UNSUPPORTED', `normalize_activations '${normalize}' is not supported`, { file: cfgFile, field: 'normalize_activations', hint: 'supported: none, expected_average_only_in' });
  }
  const weightsFile = path.join(dir, SAE_WEIGHTS_FILE);
  const header = readSafetensorsHeader(weightsFile);
  const weights: Record<string, Float32Array> = {};
  for (const [name, kind] of Object.entries(WEIGHT_LAYOUT[architecture])) {
    let tensorName = name;
    if (name === 'threshold' && !header.entries.has('threshold') && header.entries.has('log_threshold')) tensorName = 'log_threshold';
    if (!header.entries.has(tensorName)) throw new MiStudioError('CORRUPT_FILE', `tensor ${name} is missing for a ${architecture} SAE`, { file: weightsFile, field: name });
    const t = readSafetensorsTensor(header, tensorName);
    const want = weightShape(kind, dIn as number, dSae as number);
    if (t.shape.length !== want.length || t.shape.some((v, i) => v !== want[i])) {
      throw new MiStudioError('SHAPE_MISMATCH', `tensor ${tensorName} has shape [${t.shape.join(', ')}], expected [${want.join(', ')}] from cfg.json`, { file: weightsFile, field: tensorName });
    }
    let data = t.dtype === 'float16' ? halfToFloat32Array(t.data as Uint16Array) : (t.data as Float32Array);
    if (tensorName === 'log_threshold') data = data.map(Math.exp);
    weights[name] = data;
  }
  const model: SaeModel = {
    architecture,
    dIn: dIn as number,
    dSae: dSae as number,
    ...(architecture === 'topk' ? { k: cfg.k as number } : {}),
    rescaleActsByDecoderNorm: architecture === 'topk' && cfg.rescale_acts_by_decoder_norm === true,
    applyBDecToInput: cfg.apply_b_dec_to_input !== false,
    normalizeActivations: normalize,
    weights,
    metadata: (cfg.metadata as Record<string, unknown>) ?? {},
  };
  if (architecture === 'topk' && (!Number.isSafeInteger(model.k) || model.k! < 1 || model.k! > model.dSae)) {
    throw new MiStudioError('CORRUPT_FILE', `topk SAE has k = ${JSON.stringify(cfg.k)}`, { file: cfgFile, field: 'k' });
  }
  const sparsityFile = path.join(dir, SPARSITY_FILE);
  if (!existsSync(sparsityFile)) return { model };
  const sh = readSafetensorsHeader(sparsityFile);
  const name = sh.entries.has('sparsity') ? 'sparsity' : [...sh.entries.keys()][0];
  const t = readSafetensorsTensor(sh, name);
  return { model, log10Sparsity: t.dtype === 'float16' ? halfToFloat32Array(t.data as Uint16Array) : (t.data as Float32Array) };
}

/** SAELens handle_pre_6_0_config, for the parts that matter for inference. */
function upgradeLegacyConfig(cfg: Record<string, unknown>): Record<string, unknown> {
  const version = String(cfg.sae_lens_version ?? (cfg.metadata as Record<string, unknown> | undefined)?.sae_lens_version ?? '0');
  if (Number.parseInt(version, 10) >= 6) return cfg;
  const out: Record<string, unknown> = { ...cfg };
  const metadata: Record<string, unknown> = { ...((cfg.metadata as Record<string, unknown>) ?? {}) };
  for (const [from, to] of [['hook_point', 'hook_name'], ['hook_point_head_index', 'hook_head_index'], ['model_name', 'model_name'], ['hook_name', 'hook_name']]) {
    if (cfg[from] !== undefined) metadata[to] = cfg[from];
  }
  out.metadata = metadata;
  out.architecture ??= 'standard';
  const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  if ((cfg.activation_fn ?? cfg.activation_fn_str) === 'topk' && kwargs.k !== undefined) {
    out.architecture = 'topk';
    out.k = kwargs.k;
  }
  return out;
}
