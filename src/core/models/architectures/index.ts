/**
 * The architecture registry: config.json `model_type` → graph builder. Every architecture exposes
 * the same TransformerLens hook names, so the hook helpers here are shared.
 */
import { MiStudioError } from '../../errors.js';
import { ConfigReader, type ModelConfig } from '../config.js';
import { SUPPORTED_ACTIVATIONS, type ForwardGraph } from '../forward-graph.js';
import { gemma2 } from './gemma2.js';
import { gemma3 } from './gemma3.js';
import { gpt2 } from './gpt2.js';
import { gptNeo } from './gpt-neo.js';
import { gptNeox } from './gpt-neox.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { opt } from './opt.js';
import { phi3 } from './phi3.js';
import { qwen2 } from './qwen2.js';
import { qwen3 } from './qwen3.js';

export interface Architecture {
  /** Family name, the normalized config's `architecture`. */
  readonly name: string;
  /** config.json `model_type` values this builder handles. */
  readonly modelTypes: readonly string[];
  /** Validates config.json and returns the normalized config. */
  normalizeConfig(c: ConfigReader): ModelConfig;
  /** Whether the model has a learned position embedding (hook_pos_embed). */
  readonly learnedPositions: boolean;
  /** Whether the MLP is gated (gate, up, down) rather than in/out; for memory estimates. */
  readonly gatedMlp: boolean;
  /** Builds the forward pass into the graph. */
  build(fg: ForwardGraph): void;
}

const ARCHITECTURES: readonly Architecture[] = [gpt2, llama, gptNeo, gptNeox, opt, mistral, qwen2, qwen3, gemma2, gemma3, phi3];

/** The config.json `model_type` values miStudio loads. */
export function supportedArchitectures(): string[] {
  return ARCHITECTURES.flatMap((a) => a.modelTypes);
}

export interface ArchitectureInfo {
  name: string;
  modelTypes: string[];
  positions: 'learned' | 'rotary';
  mlp: 'gated' | 'plain';
}

/** Every supported architecture, for `mistudio models architectures`. */
export function architectureList(): ArchitectureInfo[] {
  return ARCHITECTURES.map((a) => ({ name: a.name, modelTypes: [...a.modelTypes], positions: a.learnedPositions ? 'learned' : 'rotary', mlp: a.gatedMlp ? 'gated' : 'plain' }));
}

/** The architecture for a config.json, with its normalized config; UNSUPPORTED names the model_type. */
export function resolveArchitecture(raw: Record<string, unknown>, origin: string): { arch: Architecture; config: ModelConfig } {
  const c = new ConfigReader(raw, origin);
  const modelType = raw.model_type;
  const arch = ARCHITECTURES.find((a) => a.modelTypes.includes(modelType as string));
  if (!arch) {
    throw new MiStudioError('UNSUPPORTED', `unknown architecture ${JSON.stringify(modelType ?? null)}`, {
      file: origin,
      field: 'model_type',
      hint: `supported architectures: ${supportedArchitectures().join(', ')}`,
    });
  }
  const config = arch.normalizeConfig(c);
  if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(config.activation)) {
    throw new MiStudioError('UNSUPPORTED', `activation '${config.activation}' is not supported`, { file: origin, field: 'hidden_act', hint: `supported: ${SUPPORTED_ACTIVATIONS.join(', ')}` });
  }
  if (config.nHeads % config.nKvHeads !== 0) throw c.invalid('num_key_value_heads', `a divisor of the ${config.nHeads} attention heads`, config.nKvHeads);
  return { arch, config };
}

const BLOCK_HOOKS = [
  'hook_resid_pre', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out',
  'hook_resid_mid', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post',
] as const;

/**
 * Every hook of a model, in forward order. As in TransformerLens, parallel attention/MLP blocks
 * have no hook_resid_mid, and a model without a final norm has no ln_final hook.
 */
export function hookNamesFor(arch: Architecture, cfg: ModelConfig): string[] {
  const names = ['hook_embed', ...(arch.learnedPositions ? ['hook_pos_embed'] : [])];
  const blockHooks = cfg.parallelAttnMlp ? BLOCK_HOOKS.filter((h) => h !== 'hook_resid_mid') : BLOCK_HOOKS;
  for (let l = 0; l < cfg.nLayers; l++) for (const h of blockHooks) names.push(`blocks.${l}.${h}`);
  if (cfg.finalNorm !== false) names.push('ln_final.hook_normalized');
  return names;
}

/**
 * The shape of a hook's tensor for a batch of B sequences of T new tokens with S keys in total.
 * Position axis: 1, except `attn.hook_pattern` [B, H, T, S] whose query axis is 2.
 */
export function hookShape(cfg: ModelConfig, hook: string, B: number, T: number, S = T): number[] {
  const suffix = hook.replace(/^blocks\.\d+\./, '');
  switch (suffix) {
    case 'attn.hook_q':
    case 'attn.hook_z':
      return [B, T, cfg.nHeads, cfg.dHead];
    case 'attn.hook_k':
    case 'attn.hook_v':
      return [B, T, cfg.nKvHeads, cfg.dHead];
    case 'attn.hook_pattern':
      return [B, cfg.nHeads, T, S];
    case 'mlp.hook_pre':
    case 'mlp.hook_post':
      return [B, T, cfg.dMlp];
    default:
      return [B, T, cfg.dModel];
  }
}

export function hookPositionAxis(hook: string): number {
  return hook.endsWith('attn.hook_pattern') ? 2 : 1;
}
