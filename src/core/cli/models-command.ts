/**
 * `mistudio models inspect|predict|generate` — look at a model from the shell:
 *   inspect <dir|file.gguf|hub-id> [--json]
 *   predict <model> --prompt "<text>" [--top K] [--json]      next-token log-probabilities
 *   generate <model> --prompt "<text>" [--max-tokens N]        greedy, streamed to stdout
 *   architectures [--json]                                       the architectures miStudio loads
 * Common options: --device cpu|webgpu|cuda|auto, --threads N, --revision REV (hub ids),
 * --precision f32|f16|int8|int4 and --block-size 32|128 (weights at load; inspect prints the estimate).
 */
import { parseArgs } from 'node:util';
import { parseDevice } from '../engine/devices.js';
import { MiStudioError } from '../errors.js';
import { architectureList, greedyGenerate, loadModel, logSoftmax, parsePrecision, topK, type DownloadProgress, type LoadModelOptions, type Model, type QuantBlockSize } from '../models/index.js';
import { hookPoints } from '../models/hook-points.js';
import { CATALOG_COMMANDS, CATALOG_USAGE, runCatalogCommand } from './models-catalog-command.js';
import { ProgressBar } from './progress-bar.js';

const USAGE = `usage: mistudio models <command> <model> [options]

commands:
  inspect <dir|file.gguf|hub-id> [--json]             architecture, sizes and hook names
  predict <model> --prompt TEXT [--top K] [--json]     top-K next tokens with log-probabilities
  generate <model> --prompt TEXT [--max-tokens N]      greedy continuation, streamed
  architectures [--json]                               supported architectures (config.json model_type)
${CATALOG_USAGE}

options: --device cpu|webgpu|cuda|auto  --threads N  --revision REV  --json
         --precision f32|f16|int8|int4  --block-size 32|128   weight precision (inspect: memory estimate)`;

const OPTIONS = {
  json: { type: 'boolean' },
  prompt: { type: 'string' },
  top: { type: 'string' },
  'max-tokens': { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  revision: { type: 'string' },
  precision: { type: 'string' },
  'block-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInt(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new MiStudioError('INVALID_ARGUMENT', `--${field} must be a positive integer, got '${value}'`, { field });
  return n;
}

/** Download progress on stderr: a bar per file on a terminal, a line per finished file otherwise. */
function progressReporter(): (p: DownloadProgress) => void {
  let bar: ProgressBar | undefined;
  return (p) => {
    if (p.phase === 'cached') return;
    const label = `${p.repo}/${p.file}`;
    if (p.phase === 'start') bar = new ProgressBar();
    bar?.update({ label, done: p.bytesDownloaded, total: p.bytesTotal, unit: 'bytes' });
    if (p.phase === 'done') {
      bar?.done();
      if (!process.stderr.isTTY) process.stderr.write(`downloaded ${label} (${p.bytesDownloaded} bytes)\n`);
    }
  };
}

async function open(source: string, values: Record<string, unknown>): Promise<Model> {
  const options: LoadModelOptions = { onProgress: progressReporter() };
  if (values.device) options.device = parseDevice(values.device as string, '--device');
  if (values.threads) options.threads = positiveInt(values.threads as string, 'threads', 1);
  if (values.revision) options.revision = values.revision as string;
  if (values.precision) options.precision = parsePrecision(values.precision as string, '--precision');
  if (values['block-size']) {
    const size = Number(values['block-size']);
    if (size !== 32 && size !== 128) throw new MiStudioError('INVALID_ARGUMENT', `--block-size must be 32 or 128, got '${values['block-size']}'`, { field: 'block-size' });
    options.quantBlockSize = size as QuantBlockSize;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  options.signal = controller.signal;
  try {
    return await loadModel(source, options);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function requirePrompt(values: Record<string, unknown>): string {
  const prompt = values.prompt as string | undefined;
  if (prompt === undefined) throw new MiStudioError('INVALID_ARGUMENT', '--prompt is required', { field: 'prompt' });
  return prompt;
}

async function inspect(model: Model, json: boolean): Promise<void> {
  const c = model.config;
  const info = {
    architecture: c.architecture,
    nLayers: c.nLayers,
    dModel: c.dModel,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dHead: c.dHead,
    dMlp: c.dMlp,
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositions,
    format: model.format,
    storedPrecision: model.storedPrecision,
    tokenizer: model.hasTokenizer,
    source: model.source,
    hooks: model.hookNames(),
    /** Every hook with its shape (batch/sequence axes by name), as the architecture viewer shows it. */
    hookPoints: hookPoints(c, model.hookNames()),
    /** Weight precision loaded (after any fall-back) and its resident-memory estimate. */
    precision: model.precision.used,
    memoryEstimateBytes: model.precision.estimate.estimatedBytes,
    weightBytes: model.precision.estimate.weightBytes,
    ...(model.precision.used !== 'f32' && model.precision.used !== 'f16' ? { quantBlockSize: model.precision.blockSize } : {}),
    ...(model.precision.fellBackFrom.length ? { requestedPrecision: model.precision.requested, budgetBytes: model.precision.budgetBytes } : {}),
  };
  if (json) {
    console.log(JSON.stringify(info));
    return;
  }
  const { hooks, hookPoints: _shapes, ...rest } = info;
  for (const [k, v] of Object.entries(rest)) console.log(`${k.padEnd(16)} ${v}`);
  console.log(`hooks (${hooks.length}): ${hooks.slice(0, 14).join(', ')}${hooks.length > 14 ? ', …' : ''}`);
}

async function predict(model: Model, prompt: string, k: number, json: boolean): Promise<void> {
  const tok = model.tokenizer;
  const ids = tok.encode(prompt);
  if (ids.length === 0) throw new MiStudioError('INVALID_ARGUMENT', 'the prompt encodes to no tokens', { field: 'prompt' });
  const out = await model.run([ids], { logits: 'last' });
  const logprobs = logSoftmax(out.logits!.data.subarray(0, model.config.vocabSize));
  const tokens = topK(logprobs, k).map(({ id, value }) => ({ id, text: tok.decode([id]), logprob: value }));
  if (json) console.log(JSON.stringify({ prompt, promptTokens: ids.length, tokens }));
  else for (const t of tokens) console.log(`${t.logprob.toFixed(4).padStart(9)}  ${String(t.id).padStart(6)}  ${JSON.stringify(t.text)}`);
}

async function generate(model: Model, prompt: string, maxTokens: number): Promise<void> {
  const tok = model.tokenizer;
  const ids = tok.encode(prompt);
  const generated: number[] = [];
  let printed = '';
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    process.stdout.write(prompt);
    await greedyGenerate(model, ids, {
      maxTokens,
      signal: controller.signal,
      onToken: (id) => {
        generated.push(id);
        // Decode the whole continuation and print what is new, so multi-token characters come out whole.
        const text = tok.decode(generated, { skipSpecialTokens: true });
        if (text.startsWith(printed) && !text.endsWith('\uFFFD')) {
          process.stdout.write(text.slice(printed.length));
          printed = text;
        }
      },
    });
    process.stdout.write('\n');
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function architectures(argv: string[]): number {
  const json = argv.includes('--json');
  const unknown = argv.filter((a) => a !== '--json');
  if (unknown.length) {
    console.error(`mistudio models architectures: unexpected ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  const list = architectureList();
  if (json) console.log(JSON.stringify(list));
  else for (const a of list) console.log(`${a.name.padEnd(10)} model_type ${a.modelTypes.join(', ').padEnd(12)} ${a.positions} positions, ${a.mlp} MLP`);
  return 0;
}

export const summary = 'models: list, add, rm workspace models; inspect a model, predict the next token, generate text';

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return sub ? 0 : 2;
  }
  if ((CATALOG_COMMANDS as readonly string[]).includes(sub)) return runCatalogCommand(sub as (typeof CATALOG_COMMANDS)[number], rest);
  if (sub === 'architectures') return architectures(rest);
  if (!['inspect', 'predict', 'generate'].includes(sub)) {
    console.error(`mistudio models: unknown command '${sub}'\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    console.error(`mistudio models ${sub}: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`mistudio models ${sub}: expected one model (directory, .gguf file or hub id)\n${USAGE}`);
    return 2;
  }
  const model = await open(positionals[0], values);
  try {
    if (sub === 'inspect') await inspect(model, Boolean(values.json));
    else if (sub === 'predict') await predict(model, requirePrompt(values), positiveInt(values.top, 'top', 5), Boolean(values.json));
    else await generate(model, requirePrompt(values), positiveInt(values['max-tokens'], 'max-tokens', 20));
  } finally {
    await model.release();
  }
  return 0;
}
