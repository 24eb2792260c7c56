/**
 * `mistudio train --config cfg.json [--run-dir DIR] [--name NAME]` and `mistudio train --resume DIR`:
 * SAE training headless, with a progress bar on stderr. Ctrl-C stops at the end of the current step
 * with a checkpoint (a second Ctrl-C exits at once; the last checkpoint still resumes). A run paused
 * by a non-finite loss is stopped with its last good state saved and exit code 3. Every run is
 * recorded in the workspace catalog's run history; `mistudio train list|show|rm` read and prune it.
 *
 * The config file is a training config (src/core/sae/config.ts) plus `activations`, which is
 * `{ "store": "<activation store dir>", "bufferRows"?: n, "seed"?: n }`,
 * `{ "extraction": "<extraction dir>", "hooks": [...], "bufferRows"?: n, "seed"?: n }` (one SAE per
 * hook, trained one after the other in one job), or
 * `{ "synthetic": { "d", "features", "activePerRow", "seed", "noise"? } }`; optionally
 * `"evaluation": { "rows"?: n, "maxTokens"?: n }` (CE loss recovered and KL on held-out rows of the
 * dataset the activations came from, with the model named in the store's manifest), `"name"` and
 * `"runDir"`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeJsonAtomic } from '../atomic-file.js';
import { MiStudioError } from '../errors.js';
import { ActivationStore } from '../activations/store.js';
import type { Catalog } from '../catalog/catalog.js';
import { Job } from '../jobs/job.js';
import { SyntheticDictionarySource, type ActivationSource, type SyntheticDictionaryOptions } from '../sae/activation-source.js';
import { resolveTrainingConfig, type TrainingConfigInput } from '../sae/config.js';
import { MULTI_HOOK_FILE, resumeHooks, trainHooks, type MultiHookConfigInput, type MultiHookJob, type MultiHookResult } from '../sae/multi-hook.js';
import { runsDir, TrainingRunsTable, type RunStatus, type TrainingRunRecord } from '../sae/run-history.js';
import { StoreActivationSource } from '../sae/store-activation-source.js';
import { resumeTraining, trainSae, type TrainerOptions, type TrainingJob, type TrainingMetrics, type TrainingResult } from '../sae/trainer.js';
import { mergeTemplateConfig, TrainingTemplates } from '../sae/training-templates.js';
import { readTrainConfigFile } from './train-config-file.js';
import { templatesCommand } from './train-templates-command.js';

/** Where the CLI keeps the activation spec, so `--resume` finds the same data. */
const ACTIVATIONS_FILE = 'activations.json';

type ActivationsSpec =
  | { store: string; bufferRows?: number; seed?: number }
  | { extraction: string; hooks: string[]; bufferRows?: number; seed?: number }
  | { synthetic: SyntheticDictionaryOptions };

interface EvaluationSpec {
  rows?: number;
  maxTokens?: number;
}

const HELP = `usage: mistudio train --config cfg.json [--template NAME] [--run-dir DIR] [--name NAME] [--workspace DIR]
       mistudio train --resume DIR [--workspace DIR]
       mistudio train list [--status S] [--group G] [--json]
       mistudio train show NAME [--json]
       mistudio train rm NAME... | --status S | --group G  [--keep-files] [--force] [--json]
       mistudio train templates list | show NAME | save NAME --config cfg.json | rm NAME

Trains sparse autoencoders headless. cfg.json holds the training config (architecture, dIn,
dSae or expansionFactor, k, lr, batchSizeTokens, trainingTokens, ...) and "activations":
{"store": DIR}, {"extraction": DIR, "hooks": [...]} (one SAE per hook, in one job) or
{"synthetic": {"d", "features", "activePerRow", "seed"}}; "evaluation": {"rows": 8} adds CE loss
recovered on held-out rows. Ctrl-C stops with a checkpoint; resume with --resume DIR. The SAE is
written to DIR/sae (DIR/<hook>/sae per hook) in the SAELens v6 format when training completes.
Runs are recorded in the workspace catalog (default $MISTUDIO_WORKSPACE or ./.mistudio):
list, show and rm (which deletes the run directories too, unless --keep-files) read it.
--template NAME starts from a saved training template; cfg.json's own fields win.`;

function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A one-line sparkline of the loss history. */
export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return '';
  const step = Math.max(1, values.length / width);
  const picked: number[] = [];
  for (let i = 0; i < values.length && picked.length < width; i += step) picked.push(values[Math.floor(i)]);
  const lo = Math.min(...picked);
  const hi = Math.max(...picked);
  return picked.map((v) => SPARK[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (SPARK.length - 1)) : 0]).join('');
}

const fmt = (v: number | null, digits = 3) => (v === null || v === undefined ? '-' : Number(v).toFixed(digits));

function describeRun(r: TrainingRunRecord): string {
  return `${r.name}  ${r.status}  ${r.architecture} ${r.config.dIn}×${r.config.dSae}  ${r.hook ?? '-'}  step ${r.step}/${r.totalSteps}  EV ${fmt(r.explainedVariance)}  L0 ${fmt(r.l0, 1)}  CE rec ${fmt(r.ceLossRecovered)}  ${r.updatedAt}`;
}

export const summary = 'train sparse autoencoders headless (--config cfg.json [--template NAME], --resume DIR; list, show, rm; templates)';

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'list' || argv[0] === 'show' || argv[0] === 'rm') return historyCommand(argv[0], argv.slice(1));
  if (argv[0] === 'templates') return templatesCommand(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, template: { type: 'string' }, 'run-dir': { type: 'string' }, resume: { type: 'string' }, name: { type: 'string' }, workspace: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help || (!values.config && !values.resume)) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  if (values.resume && values.template) {
    throw new MiStudioError('INVALID_ARGUMENT', 'a resumed run keeps the config it started with; --template applies only to new runs', { field: 'template', hint: 'drop --template, or start a new run with --config' });
  }
  const { openCatalog } = await import('../catalog/index.js');
  const catalog = await openCatalog({ root: values.workspace });
  try {
    return await train(catalog, values);
  } finally {
    catalog.close();
  }
}

async function historyCommand(command: 'list' | 'show' | 'rm', argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, workspace: { type: 'string' }, status: { type: 'string', multiple: true }, group: { type: 'string' }, 'keep-files': { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { openCatalog } = await import('../catalog/index.js');
  const catalog = await openCatalog({ root: values.workspace });
  const out = (json: unknown, text: string) => console.log(values.json ? JSON.stringify(json, null, 2) : text);
  try {
    const runs = new TrainingRunsTable(catalog);
    const filter = { ...(values.status ? { status: values.status as RunStatus[] } : {}), ...(values.group ? { group: values.group } : {}) };
    if (command === 'list') {
      const all = runs.list(filter);
      out(all, all.length ? all.map(describeRun).join('\n') : '(no training runs)');
    } else if (command === 'show') {
      if (positionals.length !== 1) throw new MiStudioError('INVALID_ARGUMENT', 'usage: mistudio train show NAME', { hint: 'see mistudio train --help' });
      const r = runs.get(positionals[0]);
      const text = [
        describeRun(r),
        `run dir   ${r.runDir}`,
        `SAE       ${r.saeDir ?? '-'}`,
        `model     ${r.model ?? '-'}   activations ${r.activations ?? '-'}`,
        `metrics   MSE ${fmt(r.mse, 5)}  EV ${fmt(r.explainedVariance)}  L0 ${fmt(r.l0, 1)}  dead ${r.deadLatents ?? '-'}  CE loss recovered ${fmt(r.ceLossRecovered)}  KL ${fmt(r.klDiv, 4)}`,
        `loss      ${sparkline(r.lossHistory.map(([, l]) => l))}`,
        ...(r.statusReason ? [`reason    ${r.statusReason}`] : []),
      ].join('\n');
      out(r, text);
    } else {
      if (positionals.length === 0 && !values.status && !values.group) {
        throw new MiStudioError('INVALID_ARGUMENT', 'rm needs run names, --status or --group', { hint: 'e.g. mistudio train rm --status failed' });
      }
      const options = { keepFiles: values['keep-files'], force: values.force };
      const removed = positionals.length ? runs.delete(positionals, options) : runs.deleteWhere(filter, options);
      out({ removed: removed.map((r) => ({ name: r.name, runDir: r.runDir, filesRemoved: !values['keep-files'] })) }, removed.length ? removed.map((r) => `removed ${r.name}${values['keep-files'] ? '' : ` and ${r.runDir}`}`).join('\n') : '(nothing matched)');
    }
    return 0;
  } finally {
    catalog.close();
  }
}

function openSource(spec: ActivationsSpec, batchRows: number, baseDir: string): ActivationSource {
  if ('synthetic' in spec) return new SyntheticDictionarySource(spec.synthetic);
  if ('store' in spec) {
    const store = ActivationStore.open(path.resolve(baseDir, spec.store));
    return new StoreActivationSource(store, { batchRows, bufferRows: spec.bufferRows ?? Math.max(batchRows * 16, 65_536), seed: spec.seed ?? 0 });
  }
  throw new MiStudioError('INVALID_CONFIG', 'activations must be {"store": DIR}, {"extraction": DIR, "hooks": [...]} or {"synthetic": {...}}', { field: 'activations' });
}

/** A CE-loss evaluator per activation store (the model named in its manifest is loaded once). */
function evaluatorFactory(evaluation: EvaluationSpec | undefined): ((storeDir: string) => Promise<TrainerOptions['evaluate']>) | undefined {
  if (!evaluation) return undefined;
  let model: Promise<import('../models/model.js').Model> | undefined;
  return async (storeDir: string) => {
    const { heldOutTokenRows, createCeLossEvaluator } = await import('../sae/ce-loss-eval.js');
    const held = heldOutTokenRows(storeDir, { rows: evaluation.rows ?? 8, maxTokens: evaluation.maxTokens });
    if (!model) {
      const { loadModel } = await import('../models/load.js');
      model = loadModel(held.model);
    }
    const hook = ActivationStore.open(storeDir).manifest.hook;
    process.stderr.write(`evaluating CE loss recovered on ${held.rows.length} held-out rows from row ${held.firstRow} of ${held.datasetDir}\n`);
    return createCeLossEvaluator(await model, hook, held.rows, { ignoreTokenIds: held.ignoreTokenIds });
  };
}

async function train(catalog: Catalog, args: { config?: string; template?: string; 'run-dir'?: string; resume?: string; name?: string }): Promise<number> {
  let runDir: string;
  let spec: ActivationsSpec;
  let evaluation: EvaluationSpec | undefined;
  let name: string | undefined = args.name;
  let training: TrainingConfigInput | undefined;
  if (args.resume) {
    runDir = path.resolve(args.resume);
    const specFile = path.join(runDir, ACTIVATIONS_FILE);
    if (!existsSync(specFile)) throw new MiStudioError('FILE_NOT_FOUND', 'this run directory was not started by mistudio train', { file: specFile });
    ({ evaluation, ...spec } = JSON.parse(readFileSync(specFile, 'utf8')) as ActivationsSpec & { evaluation?: EvaluationSpec });
  } else {
    const file = path.resolve(args.config!);
    const {
      run: { activations, runDir: cfgRunDir, name: cfgName, evaluation: cfgEvaluation },
      training: rest,
    } = readTrainConfigFile(file);
    if (!activations) throw new MiStudioError('INVALID_CONFIG', 'the config has no "activations"', { file, field: 'activations' });
    const base = path.dirname(file);
    spec = activations as ActivationsSpec;
    if ('store' in spec) spec = { ...spec, store: path.resolve(base, spec.store) };
    if ('extraction' in spec) spec = { ...spec, extraction: path.resolve(base, spec.extraction) };
    evaluation = cfgEvaluation as EvaluationSpec | undefined;
    if (evaluation && 'synthetic' in spec) throw new MiStudioError('INVALID_CONFIG', 'evaluation needs activations of a model (a store or an extraction), not synthetic ones', { file, field: 'evaluation' });
    training = (args.template ? mergeTemplateConfig(new TrainingTemplates(catalog).get(args.template).config, rest as Partial<TrainingConfigInput>) : rest) as TrainingConfigInput;
    name ??= typeof cfgName === 'string' ? cfgName : undefined;
    const runs = new TrainingRunsTable(catalog);
    if (!name) {
      const hook = 'store' in spec ? ActivationStore.open(spec.store).manifest.hook : 'extraction' in spec ? `${spec.hooks.length}-hooks` : 'synthetic';
      name = runs.freeName(`${String(training.architecture)}-${hook}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`);
    }
    runDir = path.resolve(args['run-dir'] ?? (typeof cfgRunDir === 'string' ? path.resolve(base, cfgRunDir) : path.join(runsDir(catalog), name.replace(/[^A-Za-z0-9._-]/g, '_'))));
    if (existsSync(path.join(runDir, 'config.json')) || existsSync(path.join(runDir, MULTI_HOOK_FILE))) {
      throw new MiStudioError('ALREADY_EXISTS', 'the run directory already holds a training run', { file: runDir, hint: `resume it with --resume ${runDir} or pass another --run-dir` });
    }
    if (!('extraction' in spec)) resolveTrainingConfig(training); // invalid configs fail before anything is written
    mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(path.join(runDir, ACTIVATIONS_FILE), { ...spec, ...(evaluation ? { evaluation } : {}) });
  }

  const multi = 'extraction' in spec || existsSync(path.join(runDir, MULTI_HOOK_FILE));
  const job: Job<unknown, TrainingMetrics> = multi
    ? new Job<MultiHookResult, TrainingMetrics>(`train ${path.basename(runDir)}`, { kind: 'sae-training' })
    : new Job<TrainingResult, TrainingMetrics>(`train ${path.basename(runDir)}`, { kind: 'sae-training' });
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
    const ce = last?.eval?.ceLossRecovered;
    const m = last ? ` mse ${last.mseLoss.toPrecision(4)} L0 ${last.l0.toFixed(1)} EV ${last.explainedVariance.toFixed(3)} dead ${last.deadLatents}${ce !== undefined ? ` CE rec ${ce.toFixed(3)}` : ''} ${Math.round(last.tokensPerSecond)} tok/s` : '';
    process.stderr.write(`${tty ? '\r' : ''}${bar(p.done / p.total)} ${((100 * p.done) / p.total).toFixed(1)}% ${p.done}/${p.total} tokens${m}${tty ? '\x1b[K' : '\n'}`);
  };
  job.on((e) => {
    if (e.type === 'metrics') last = e.metrics;
    if (e.type === 'progress') draw();
    if (e.type === 'log') process.stderr.write(`${tty ? '\r\x1b[K' : ''}${e.message}\n`);
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
    const evaluator = evaluatorFactory(evaluation);
    let outcome: { status: 'completed' | 'stopped' | 'failed'; error?: unknown };
    let done: string;
    if (multi) {
      const hooksSpec = spec as { extraction: string; hooks: string[]; bufferRows?: number; seed?: number };
      // The evaluators are built before the job starts (they read held-out rows and load the model).
      const evaluators = new Map<string, TrainerOptions['evaluate']>();
      if (evaluator) for (const hook of hooksSpec.hooks) evaluators.set(hook, await evaluator(path.join(hooksSpec.extraction, hook)));
      const evaluate = evaluator ? (hook: string) => evaluators.get(hook) : undefined;
      outcome = args.resume
        ? await resumeHooks(runDir, { job: job as MultiHookJob, catalog, evaluate })
        : await trainHooks(training as MultiHookConfigInput, { extractionDir: hooksSpec.extraction, hooks: hooksSpec.hooks, runsDir: runDir, job: job as MultiHookJob, bufferRows: hooksSpec.bufferRows, sourceSeed: hooksSpec.seed, evaluate, history: { catalog, name: name! } });
      done = `done: SAEs saved to ${hooksSpec.hooks.map((h) => path.join(runDir, h.replace(/[^A-Za-z0-9._-]/g, '_'), 'sae')).join(', ')}`;
    } else {
      const batchRows = args.resume ? (JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { batchSizeTokens: number }).batchSizeTokens : resolveTrainingConfig(training!).batchSizeTokens;
      const source = openSource(spec, batchRows, runDir);
      const evaluate = evaluator && 'store' in spec ? await evaluator(spec.store) : undefined;
      const options: TrainerOptions = { runDir, source, job: job as TrainingJob, evaluate, history: { catalog, ...(name ? { name } : {}) } };
      outcome = args.resume ? await resumeTraining(options) : await trainSae(training!, options);
      done = `done: SAE saved to ${path.join(runDir, 'sae')}`;
    }
    draw(true);
    process.stderr.write('\n');
    if (outcome.status === 'failed') throw outcome.error;
    if (pausedReason) {
      process.stderr.write(`paused: ${pausedReason}\ncheckpoint saved in ${runDir}; resume with: mistudio train --resume ${runDir}\n`);
      return 3;
    }
    if (outcome.status === 'stopped') {
      process.stderr.write(`stopped at ${job.progressValue?.done ?? 0} tokens; resume with: mistudio train --resume ${runDir}\n`);
      return 130;
    }
    process.stderr.write(`${done}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
