/**
 * Automatic labels from an LLM, in the style of Bills et al. (2023) and EleutherAI's delphi:
 *
 * 1. Explanation: the model sees the feature's top examples with the activating tokens marked
 *    `<<like this>>` (tokens at ≥ 30% of the example's peak) and the peak tokens with values, and
 *    answers with a short explanation on a line `Explanation: ...`.
 * 2. Detection score: the model gets the explanation and a shuffled mix of held-out examples where
 *    the feature fires (examples not shown in step 1) and examples where it does not fire (windows
 *    of the token sample with zero activation), unmarked, and answers for each whether the feature
 *    fires. The score is the balanced accuracy, (TPR + TNR) / 2: 0.5 is chance, 1 is perfect.
 */
import { MiStudioError } from '../errors.js';
import type { ChatClient, ChatMessage } from './chat-client.js';
import { mix32 } from './sample-hash.js';

/** An example as the prompts show it: token strings and this feature's activation per token. */
export interface PromptExample {
  tokens: string[];
  values: number[];
}

export const EXPLAINER_SYSTEM = [
  'You are a meticulous interpretability researcher. You are shown text examples in which one neuron-like feature',
  'of a language model activates. Tokens where it activates are marked <<like this>>; the strongest activating',
  'tokens are listed after each example with their activation. Find the pattern common to the marked tokens and',
  'their contexts. Answer with a concise explanation (at most 12 words), on its own last line, in the form',
  '"Explanation: <explanation>".',
].join(' ');

export const DETECTION_SYSTEM = [
  'You are a meticulous interpretability researcher. A feature of a language model is described by an explanation.',
  'You are shown numbered text examples. For each example decide whether the feature activates on any token in it.',
  'Answer only with a JSON array of 0 and 1, one entry per example in order (1 = the feature activates).',
].join(' ');

const visible = (t: string) => t.replace(/\n/g, '↵');

/** An example's text with activating tokens (≥ threshold · its peak) marked <<...>>. */
export function markedText(e: PromptExample, threshold = 0.3): string {
  const peak = Math.max(0, ...e.values);
  let out = '';
  let open = false;
  e.tokens.forEach((tok, i) => {
    const on = peak > 0 && e.values[i] >= threshold * peak && e.values[i] > 0;
    if (on && !open) out += '<<';
    if (!on && open) out += '>>';
    open = on;
    out += visible(tok);
  });
  return open ? `${out}>>` : out;
}

export function explainerMessages(examples: readonly PromptExample[]): ChatMessage[] {
  const body = examples
    .map((e, i) => {
      const peaks = e.tokens
        .map((t, j) => ({ t, v: e.values[j] }))
        .filter((x) => x.v > 0)
        .sort((a, b) => b.v - a.v)
        .slice(0, 3)
        .map((x) => `"${visible(x.t)}" (${x.v.toFixed(2)})`)
        .join(', ');
      return `Example ${i + 1}: ${markedText(e)}\nActivating tokens: ${peaks}`;
    })
    .join('\n\n');
  return [
    { role: 'system', content: EXPLAINER_SYSTEM },
    { role: 'user', content: `${body}\n\nWhat does this feature detect?` },
  ];
}

/** The explanation in a reply: the last `Explanation:` line, else the last non-empty line. */
export function parseExplanation(reply: string): string {
  const lines = reply.split('\n').map((l) => l.trim()).filter(Boolean);
  const tagged = [...lines].reverse().find((l) => /^explanation\s*:/i.test(l));
  const text = (tagged ? tagged.replace(/^explanation\s*:\s*/i, '') : lines[lines.length - 1] ?? '').replace(/^["'“]|["'”]$/g, '').trim();
  return text;
}

export function detectionMessages(explanation: string, examples: readonly PromptExample[]): ChatMessage[] {
  const body = examples.map((e, i) => `Example ${i + 1}: ${e.tokens.map(visible).join('')}`).join('\n');
  return [
    { role: 'system', content: DETECTION_SYSTEM },
    { role: 'user', content: `Explanation: ${explanation}\n\n${body}\n\nAnswer with a JSON array of ${examples.length} entries.` },
  ];
}

/** The 0/1 answers in a reply: the first JSON array, else the digits 0/1 in order. */
export function parsePredictions(reply: string, n: number): number[] | undefined {
  const m = /\[[^\]]*\]/.exec(reply);
  let values: number[] | undefined;
  if (m) {
    try {
      const parsed = JSON.parse(m[0]) as unknown[];
      values = parsed.map((x) => (x === 1 || x === '1' || x === true ? 1 : 0));
    } catch {
      values = undefined;
    }
  }
  values ??= (reply.match(/\b[01]\b/g) ?? []).map(Number);
  return values.length === n ? values : undefined;
}

/** (TPR + TNR) / 2; a class with no examples counts as chance (0.5) for its half. */
export function balancedAccuracy(truth: readonly number[], predicted: readonly number[]): number {
  let tp = 0, p = 0, tn = 0, n = 0;
  truth.forEach((t, i) => {
    if (t) {
      p++;
      if (predicted[i]) tp++;
    } else {
      n++;
      if (!predicted[i]) tn++;
    }
  });
  return ((p ? tp / p : 0.5) + (n ? tn / n : 0.5)) / 2;
}

export interface AutoLabelInput {
  /** Examples for the explainer prompt (the strongest). */
  explain: PromptExample[];
  /** Held-out examples where the feature fires. */
  positives: PromptExample[];
  /** Examples where it does not fire. */
  negatives: PromptExample[];
  seed?: number;
}

export interface AutoLabelOutcome {
  label: string;
  /** Balanced accuracy of detection; null when there were no scoring examples. */
  score: number | null;
  detail: {
    model: string;
    explainerExamples: number;
    positives: number;
    negatives: number;
    truth: number[];
    predictions: number[] | null;
    attempts: number;
    rawExplanation: string;
  };
}

/** Asks for an explanation, then scores it by detection. */
export async function explainAndScore(client: ChatClient, input: AutoLabelInput): Promise<AutoLabelOutcome> {
  if (input.explain.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the feature has no examples to explain (it never fired)', { field: 'feature' });
  const explained = await client.complete(explainerMessages(input.explain));
  const label = parseExplanation(explained.content);
  if (!label) throw new MiStudioError('INVALID_ARGUMENT', 'the labeller replied with an empty explanation', { field: 'model', hint: `reply was: ${explained.content.slice(0, 200)}` });
  // Deterministic shuffle of the scoring examples (positives and negatives interleaved by hash).
  const seed = input.seed ?? 0;
  const items = [...input.positives.map((e, i) => ({ e, truth: 1, key: mix32(seed ^ mix32(2 * i)) })), ...input.negatives.map((e, i) => ({ e, truth: 0, key: mix32(seed ^ mix32(2 * i + 1)) }))];
  items.sort((a, b) => a.key - b.key);
  const truth = items.map((x) => x.truth);
  let predictions: number[] | null = null;
  let score: number | null = null;
  let attempts = explained.attempts;
  if (items.length > 0) {
    const detected = await client.complete(detectionMessages(label, items.map((x) => x.e)));
    attempts += detected.attempts;
    predictions = parsePredictions(detected.content, items.length) ?? null;
    if (!predictions) throw new MiStudioError('INVALID_ARGUMENT', `the labeller's detection reply is not ${items.length} answers of 0/1`, { field: 'model', hint: `reply was: ${detected.content.slice(0, 200)}` });
    score = balancedAccuracy(truth, predictions);
  }
  return {
    label,
    score,
    detail: { model: client.options.model, explainerExamples: input.explain.length, positives: input.positives.length, negatives: input.negatives.length, truth, predictions, attempts, rawExplanation: explained.content },
  };
}
