/** Which hooks an SAE can sit on, and which of them live in the residual stream's basis. */
import { MiStudioError } from '../errors.js';
import { hookShape } from '../models/architectures/index.js';
import { checkHookNames } from '../models/hooks.js';
import type { Model } from '../models/model.js';

/** Width of one token position's activation at `hook` (what the SAE's d_in must be). */
export function saeHookWidth(model: Model, hook: string): number {
  checkHookNames([hook], model.hookNames(), 'hook');
  if (hook.endsWith('hook_pattern')) {
    throw new MiStudioError('UNSUPPORTED', `hook '${hook}' is an attention pattern [B, H, T, T], not one vector per token`, { field: 'hook' });
  }
  return hookShape(model.config, hook, 1, 1).slice(2).reduce((a, b) => a * b, 1);
}

/** The shape of one position's vector at `hook` (e.g. [d] or [heads, d_head]) for broadcasting. */
export function hookVectorShape(model: Model, hook: string): number[] {
  return hookShape(model.config, hook, 1, 1).slice(2);
}

const RESIDUAL_SPACE = /(^hook_embed$|^hook_pos_embed$|hook_resid_pre$|hook_resid_mid$|hook_resid_post$|hook_attn_out$|hook_mlp_out$)/;

/** Throws unless a direction at `hook` is a residual-stream direction (so the unembedding can read it). */
export function assertResidualSpace(hook: string, what: string): void {
  if (!RESIDUAL_SPACE.test(hook)) {
    throw new MiStudioError('UNSUPPORTED', `${what} needs a decoder direction in the residual stream, but the SAE reads ${hook}`, {
      field: 'hook',
      hint: 'SAEs on hook_resid_*, hook_attn_out, hook_mlp_out (or the embeddings) write residual directions',
    });
  }
}
