/**
 * Steering: greedy generation with α · W_dec[f] added to the activation at the SAE's hook at every
 * position (prompt and generated tokens), next to the same generation without it. Each step runs the
 * whole sequence so the intervention reaches every position (the KV-cache decoder has no
 * interventions); steered continuations are short, so the quadratic cost stays small.
 */
import { MiStudioError, throwIfCancelled } from '../errors.js';
import { argmax } from '../models/logits.js';
import type { Intervention } from '../models/hooks.js';
import type { Model } from '../models/model.js';
import type { SaeModel } from '../sae/sae-model.js';
import { hookVectorShape, saeHookWidth } from './sae-hook.js';

export interface SteeringOptions {
  /** Strengths to try (default [-8, 8]); the unsteered continuation is always included. */
  alphas?: readonly number[];
  maxTokens?: number;
  /** Stop at the model's EOS token (default true). */
  stopAtEos?: boolean;
  signal?: AbortSignal;
}

export interface SteeredGeneration {
  alpha: number;
  tokenIds: number[];
  text?: string;
}

export interface SteeringResult {
  feature: number;
  hook: string;
  promptIds: number[];
  /** alpha 0 first (unsteered), then each requested alpha. */
  generations: SteeredGeneration[];
}

/** The intervention that adds α · W_dec[f] at `hook` on every position. */
export function steeringIntervention(model: Model, sae: SaeModel, hook: string, feature: number, alpha: number): Intervention {
  const d = sae.dIn;
  const data = new Float32Array(d);
  const row = sae.weights.W_dec.subarray(feature * d, (feature + 1) * d);
  for (let j = 0; j < d; j++) data[j] = alpha * row[j];
  return { hook, op: 'add', value: { data, shape: hookVectorShape(model, hook) } };
}

/** Greedy continuation of `promptIds` with the given interventions on every step. */
export async function generateWith(model: Model, promptIds: readonly number[], interventions: readonly Intervention[], options: { maxTokens: number; stopAtEos?: boolean; signal?: AbortSignal }): Promise<number[]> {
  const eos = options.stopAtEos === false ? undefined : (model.config.eosTokenId ?? (model.hasTokenizer ? model.tokenizer.eosTokenId : undefined));
  const V = model.config.vocabSize;
  const ids = [...promptIds];
  const generated: number[] = [];
  while (generated.length < options.maxTokens) {
    throwIfCancelled(options.signal, 'steered generation');
    const r = await model.run([ids], { interventions, logits: 'last' });
    const next = argmax(r.logits!.data.subarray(0, V));
    generated.push(next);
    ids.push(next);
    if (next === eos) break;
  }
  return generated;
}

export async function steerFeature(model: Model, sae: SaeModel, hook: string, feature: number, prompt: string | readonly number[], options: SteeringOptions = {}): Promise<SteeringResult> {
  if (!Number.isInteger(feature) || feature < 0 || feature >= sae.dSae) throw new MiStudioError('INVALID_ARGUMENT', `feature ${feature} is outside [0, ${sae.dSae})`, { field: 'feature' });
  if (saeHookWidth(model, hook) !== sae.dIn) throw new MiStudioError('SHAPE_MISMATCH', `the SAE reads ${sae.dIn}-wide activations but ${hook} gives ${saeHookWidth(model, hook)}`, { field: 'hook' });
  const promptIds = typeof prompt === 'string' ? model.tokenizer.encode(prompt) : [...prompt];
  if (promptIds.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the prompt is empty', { field: 'prompt' });
  const maxTokens = options.maxTokens ?? 20;
  const alphas = [0, ...(options.alphas ?? [-8, 8]).filter((a) => a !== 0)];
  const decode = (ids: number[]) => (model.hasTokenizer ? model.tokenizer.decode(ids) : undefined);
  const generations: SteeredGeneration[] = [];
  for (const alpha of alphas) {
    const interventions = alpha === 0 ? [] : [steeringIntervention(model, sae, hook, feature, alpha)];
    const tokenIds = await generateWith(model, promptIds, interventions, { maxTokens, stopAtEos: options.stopAtEos, signal: options.signal });
    const text = decode(tokenIds);
    generations.push({ alpha, tokenIds, ...(text === undefined ? {} : { text }) });
  }
  return { feature, hook, promptIds, generations };
}
