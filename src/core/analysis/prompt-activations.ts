/** Which features fire on a text: the model to the SAE's hook, the SAE, the strongest features. */
import { MiStudioError } from '../errors.js';
import type { Model } from '../models/model.js';
import { runSae, type SaeModel } from '../sae/sae-model.js';
import { saeHookWidth } from './sae-hook.js';

export interface PromptFeature {
  feature: number;
  /** Largest activation over the prompt's tokens. */
  max: number;
  /** Activation at every token. */
  values: number[];
}

export interface PromptActivations {
  tokenIds: number[];
  /** Features that fire anywhere, strongest first (at most `top`). */
  features: PromptFeature[];
}

export async function featuresOnTokens(model: Model, sae: SaeModel, hook: string, tokenIds: readonly number[], options: { top?: number; exclude?: ReadonlySet<number>; intraOpNumThreads?: number } = {}): Promise<PromptActivations> {
  if (tokenIds.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the prompt has no tokens', { field: 'prompt' });
  if (saeHookWidth(model, hook) !== sae.dIn) throw new MiStudioError('SHAPE_MISMATCH', `the SAE reads ${sae.dIn}-wide activations but ${hook} gives ${saeHookWidth(model, hook)}`, { field: 'hook' });
  const T = tokenIds.length;
  const { cache } = await model.run([tokenIds], { cache: [hook], logits: 'none' });
  const { featureActs } = await runSae(sae, cache.get(hook)!.data, { intraOpNumThreads: options.intraOpNumThreads });
  const S = sae.dSae;
  const max = new Float32Array(S);
  for (let t = 0; t < T; t++) {
    if (options.exclude?.has(tokenIds[t])) continue;
    for (let f = 0; f < S; f++) if (featureActs[t * S + f] > max[f]) max[f] = featureActs[t * S + f];
  }
  const firing: number[] = [];
  for (let f = 0; f < S; f++) if (max[f] > 0) firing.push(f);
  firing.sort((a, b) => max[b] - max[a] || a - b);
  const features = firing.slice(0, options.top ?? 20).map((feature) => ({ feature, max: max[feature], values: Array.from({ length: T }, (_, t) => featureActs[t * S + feature]) }));
  return { tokenIds: [...tokenIds], features };
}
