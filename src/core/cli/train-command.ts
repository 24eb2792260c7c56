/**
 * `mistudio train --config cfg.json [--run-dir DIR]` and `mistudio train --resume DIR`: SAE training
 * headless, with a progress bar on stderr. Ctrl-C stops at the end of the current step with a
 * checkpoint (a second Ctrl-C exits at once; the last checkpoint still resumes). A run paused by a
 * non-finite loss is stopped with its last good state saved and exit code 3.
 *
 * The config file is a training config (src/core/sae/config.ts) plus `activations`, which is either
 * `{ "store": "<activation store dir>", "bufferRows"?: n, "seed"?: n }` or
 * `{ "synthetic": { "d", "features", "activePerRow", "seed", "noise"? } }`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';
import { ActivationStore } from '../activations/store.js';
import { Job } from '../jobs/job.js';
import { SyntheticDictionarySource, type ActivationSource, type SyntheticDictionaryOptions } from '../sae/activation-source.js';
import { resolveTrainingConfig, type TrainingConfigInput } from '../sae/config.js';
import { StoreActivationSource } from '../sae/store-activation-source.js';
import { resumeTraining, trainSae, type TrainingMetrics, type TrainingResult } from '../sae/trainer.js';

/** Where the CLI keeps the activation spec, so `--resume` finds the same data. */
const ACTIVATIONS_FILE = 'activations.json';

type ActivationsSpec = { store: string; bufferRows?: number; seed?: number } | { synthetic: SyntheticDictionaryOptions };

const HELP = `usage: mistudio train --config cfg.json [--run-dir DIR]
       mistudio train --resume DIR

Trains a sparse autoencoder headless. cfg.json holds the training config (architecture, dIn,
dSae or expansionFactor, k, lr, batchSizeTokens, trainingTokens, ...) and "activations":
{"store": DIR} or {"synthetic": {"d", "features", "activePerRow", "seed"}}.
Ctrl-C stops with a checkpoint; resume with --resume DIR. The SAE is written to DIR/sae in the
SAELens v6 format when training completes.`;

function parseArgs(argv: string[]): { config?: string; runDir?: string; resume?: string; help: boolean } {
  const out: { config?: string; runDir?: string; resume?: string; help: boolean } = { help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new MiStudioError('INVALID_ARGUMENT', `${a} needs a value`, { field: a });
      return v;
    };
    if (a === '--config') out.config = value();
    else if (a === '--run-dir') out.runDir = value();
    else if (a === '--resume') out.resume = value();
    else if (a === '--help' || a === '-h') out.help = true;
    else throw new MiStudioError('INVALID_ARGUMENT', `unknown option '${a}'`, { hint: 'see mistudio train --help' });
  }
  return out;
}

function openSource(spec: ActivationsSpec, batchRows: number, baseDir: string): ActivationSource {
  if ('synthetic' in spec) return new SyntheticDictionarySource(spec.synthetic);
  if ('store' in spec) {
    const store = ActivationStore.open(path.resolve(baseDir, spec.store));
    return new StoreActivationSource(store, { batchRows, bufferRows: spec.bufferRows ?? Math.max(batchRows * 16, 65_536), seed: spec.seed ?? 0 });
  }
  throw new MiStudioError('INVALID_CONFIG', 'activations must be {"store": DIR} or {"synthetic": {...}}', { field: 'activations' });
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export const summary = 'train sparse autoencoders headless (--config cfg.json, --resume DIR)';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help || (!args.config && !args.resume)) {
    console.log(HELP);
    return args.help ? 0 : 2;
  }
  let runDir: string;
  let spec: ActivationsSpec;
  let batchRows: number;
  let start: (job: Job<TrainingResult, TrainingMetrics>, source: ActivationSource) => ReturnType<typeof trainSae>;
  if (args.resume) {
    runDir = path.resolve(args.resume);
    const specFile = path.join(runDir, ACTIVATIONS_FILE);
    if (!existsSync(specFile)) throw new MiStudioError('FILE_NOT_FOUND', 'this run directory was not started by mistudio train', { file: specFile });
    spec = JSON.parse(readFileSync(specFile, 'utf8')) as ActivationsSpec;
    batchRows = (JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { batchSizeTokens: number }).batchSizeTokens;
    start = (job, source) => resumeTraining({ runDir, source, job });
  } else {
    const file = path.resolve(args.config!);
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new MiStudioError('INVALID_CONFIG', 'cannot read the config as JSON', { file, cause });
    }
    const { activations, runDir: cfgRunDir, ...training } = raw;
    if (!activations) throw new MiStudioError('INVALID_CONFIG', 'the config has no "activations"', { file, field: 'activations' });
    const base = path.dirname(file);
    spec = activations as ActivationsSpec;
    if ('store' in spec) spec = { ...spec, store: path.resolve(base, spec.store) };
    const cfg = resolveTrainingConfig(training as TrainingConfigInput);
    batchRows = cfg.batchSizeTokens;
    runDir = path.resolve(args.runDir ?? (typeof cfgRunDir === 'string' ? path.resolve(base, cfgRunDir) : `runs/${cfg.architecture}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    if (existsSync(path.join(runDir, 'config.json'))) {
      throw new MiStudioError('ALREADY_EXISTS', 'the run directory already holds a training run', { file: runDir, hint: `resume it with --resume ${runDir} or pass another --run-dir` });
    }
    mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(path.join(runDir, ACTIVATIONS_FILE), spec);
    start = (job, source) => trainSae(cfg, { runDir, source, job });
  }
  const source = openSource(spec, batchRows, runDir);
  const job = new Job<TrainingResult, TrainingMetrics>(`train ${path.basename(runDir)}`, { kind: 'sae-training' });
  let last: TrainingMetrics | undefined;
  let lastDraw = 0;
  let pausedReason: string | undefined;
  const tty = process.stderr.isTTY;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < (tty ? 200 : 5000)) return;
    lastDraw = now;
    const p = job.progressValue;
    if (!p) return;
    const m = last ? ` mse ${last.mseLoss.toPrecision(4)} L0 ${last.l0.toFixed(1)} EV ${last.explainedVariance.toFixed(3)} dead ${last.deadLatents} ${Math.round(last.tokensPerSecond)} tok/s` : '';
    process.stderr.write(`${tty ? '\r' : ''}${bar(p.done / p.total)} ${((100 * p.done) / p.total).toFixed(1)}% ${p.done}/${p.total} tokens${m}${tty ? '\x1b[K' : '\n'}`);
  };
  job.on((e) => {
    if (e.type === 'metrics') last = e.metrics;
    if (e.type === 'progress') draw();
    if (e.type === 'log') process.stderr.write(`${e.message}\n`);
    if (e.type === 'status' && e.status === 'paused') {
      pausedReason = e.reason;
      job.stop();
    }
  });
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping after this step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    job.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    const outcome = await start(job, source);
    draw(true);
    process.stderr.write('\n');
    if (outcome.status === 'failed') throw outcome.error;
    if (pausedReason) {
      process.stderr.write(`paused: ${pausedReason}\ncheckpoint saved in ${runDir}; resume with: mistudio train --resume ${runDir}\n`);
      return 3;
    }
    if (outcome.status === 'stopped') {
      process.stderr.write(`stopped at ${outcome.result!.tokens} tokens; resume with: mistudio train --resume ${runDir}\n`);
      return 130;
    }
    process.stderr.write(`done: SAE saved to ${outcome.result!.saeDir}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
