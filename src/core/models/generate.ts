/**
 * Greedy generation with a KV cache: one forward pass over the prompt, then one single-token pass
 * per new token over the cached keys/values (linear, not quadratic, in the number of tokens).
 */
import { throwIfCancelled } from '../errors.js';
import { argmax } from './logits.js';
import type { Model } from './model.js';

export interface GenerateOptions {
  maxTokens: number;
  /** Stop after the end-of-sequence token (default true when the model knows its EOS id). */
  stopAtEos?: boolean;
  /** Called with each new token id as soon as it is chosen (for streaming output). */
  onToken?: (id: number) => void;
  signal?: AbortSignal;
}

/** Greedily continues one prompt; returns the new token ids. */
export async function greedyGenerate(model: Model, promptIds: readonly number[], options: GenerateOptions): Promise<number[]> {
  const eos = options.stopAtEos === false ? undefined : (model.config.eosTokenId ?? (model.hasTokenizer ? model.tokenizer.eosTokenId : undefined));
  const V = model.config.vocabSize;
  const generated: number[] = [];
  let step = await model.decodeStep([promptIds]);
  while (generated.length < options.maxTokens) {
    throwIfCancelled(options.signal, 'generation');
    const next = argmax(step.logits.data.subarray(0, V));
    generated.push(next);
    options.onToken?.(next);
    if (next === eos || generated.length === options.maxTokens) break;
    step = await model.decodeStep([[next]], step.cache);
  }
  return generated;
}
