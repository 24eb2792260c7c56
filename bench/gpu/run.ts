/**
 * GPU benchmark orchestrator, run on the GPU machine from the bundle that
 * scripts/build-gpu-bundle.sh makes (there it is run.mjs, beside the scripts it starts):
 * capabilities probe, one system-monitor sample (issue 8), kernel check, GEMM check, then miStudio's WGSL SAE
 * step (tiled f32 GEMM, then the tensor-core GEMM where offered) and its PyTorch twin (bf16, tf32,
 * fp32) for each architecture, and a ratio line per architecture and GEMM variant.
 *
 * Every step is a child process with its own timeout, killed with its whole process group: a GPU
 * kernel that hangs must not take the run with it. The run as a whole ends within
 * --budget-seconds, because the device tool gives one command at most 10 minutes.
 * JSON lines the children print on stdout pass through verbatim; the run's own lines have
 * bench "gpu" (errors, skips) or "gpu-sae-step-ratio".
 *
 *   ./node run.mjs [--small] [--batch 4096 --d-in 768 --d-sae 24576 --k 64] [--budget-seconds 450]
 *                  [--steps-dir DIR] [--max-step-seconds N]
 *
 * --small sets the sizes to 64/32/256/8 (the kernel check's too, and small GEMMs) and runs the PyTorch
 * twin on the CPU, for smoke tests: on SwiftShader here the whole run takes under a minute
 * (gpu-bench-smoke.slow.test.ts).
 * --steps-dir looks for the child scripts elsewhere than beside this one and --max-step-seconds caps
 * every step's timeout: both let the tests drive the run with fake children. PYTHON names the
 * interpreter of the PyTorch twin (default python3).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { option } from '../lib/args.js';

type Json = Record<string, unknown>;

interface Step {
  name: string;
  command: string;
  script: string;
  timeoutSeconds: number;
  /** The arguments after the script, given the seconds the step may run. */
  args(seconds: number): string[];
}

/** A step is not worth starting with less time than this. */
const MIN_STEP_SECONDS = 10;
/** Kept back from each step's time so that a killed step's exit still fits in the budget. */
const KILL_GRACE_SECONDS = 2;
const ARCHITECTURES = ['standard', 'topk'] as const;
const PRECISIONS = ['bf16', 'tf32', 'fp32'] as const;

const started = Date.now();
const args = process.argv.slice(2);
const small = args.includes('--small');

function positive(name: string, fallback: number): number {
  const value = Number(option(args, name, String(fallback)));
  if (!(value > 0)) throw new Error(`--${name} must be a positive number`);
  return value;
}

const budgetSeconds = positive('budget-seconds', 450);
const maxStepSeconds = positive('max-step-seconds', Infinity);
const stepsDir = path.resolve(option(args, 'steps-dir', path.dirname(fileURLToPath(import.meta.url))));
const python = process.env.PYTHON ?? 'python3';
const sizes = [
  '--batch', String(positive('batch', small ? 64 : 4096)),
  '--d-in', String(positive('d-in', small ? 32 : 768)),
  '--d-sae', String(positive('d-sae', small ? 256 : 24576)),
  '--k', String(positive('k', small ? 8 : 64)),
];

const node = (name: string, script: string, timeoutSeconds: number, extra: string[] = []): Step =>
  ({ name, command: process.execPath, script, timeoutSeconds, args: () => extra });

const steps: Step[] = [
  node('probe', 'probe.mjs', 60),
  node('monitor', 'monitor-sample.mjs', 30),
  node('kernel-check', 'kernel-check.mjs', 90, small ? sizes : []),
  node('kernel-check subgroup-matrix', 'kernel-check.mjs', 60, ['--gemm', 'subgroup-matrix-f16', ...(small ? sizes : [])]),
  node('gemm-check', 'gemm-check.mjs', 90, small ? ['--m', '150', '--n', '130', '--k', '70', '--speed-size', '256'] : []),
  ...ARCHITECTURES.flatMap((arch) => [
    node(`sae-step-wgsl ${arch}`, 'sae-step-wgsl.mjs', 120, ['--arch', arch, ...sizes]),
    // The tensor-core GEMM where the adapter has one (an error line where it has not).
    node(`sae-step-wgsl ${arch} subgroup-matrix`, 'sae-step-wgsl.mjs', 90, ['--arch', arch, '--gemm', 'subgroup-matrix-f16', ...sizes]),
    ...PRECISIONS.map((precision): Step => ({
      name: `pytorch ${arch} ${precision}`,
      command: python,
      script: 'torch_sae_step.py',
      timeoutSeconds: 60,
      // Half the step's time for timing; the rest covers importing torch and starting CUDA.
      args: (seconds) => ['--arch', arch, '--precision', precision, ...sizes, ...(small ? ['--device', 'cpu'] : []), '--seconds-budget', String(Math.max(1, Math.floor(seconds / 2)))],
    })),
  ]),
];

const emit = (line: Json) => console.log(JSON.stringify(line));

function parseObject(line: string): Json | null {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

function killGroup(child: ChildProcess) {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** Runs one step, forwarding its JSON lines; returns them and the error that ended it, if any. */
async function runStep(step: Step, seconds: number): Promise<{ lines: Json[]; error: string | null }> {
  const script = path.join(stepsDir, step.script);
  if (!existsSync(script)) return { lines: [], error: `missing ${script}` };
  // Its own process group, so that the timeout also ends whatever the step started.
  const child = spawn(step.command, [script, ...step.args(seconds)], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Json[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = parseObject(line);
    if (parsed) {
      lines.push(parsed);
      process.stdout.write(`${line}\n`);
    } else {
      // Keeps stdout pure JSON lines.
      process.stderr.write(`${line}\n`);
    }
  });
  let timedOut = false;
  let grace: NodeJS.Timeout | undefined;
  const error = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
      // A process stuck in the GPU driver can outlive SIGKILL for a while; the run goes on without it.
      grace = setTimeout(() => {
        child.stdout!.destroy();
        resolve(null);
      }, KILL_GRACE_SECONDS * 1000);
    }, seconds * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(e.message);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(grace);
      resolve(code === 0 ? null : signal ? `killed by ${signal}` : `exit code ${code}`);
    });
  });
  return { lines, error: timedOut ? `timeout after ${seconds}s` : error };
}

const results = new Map<string, Json[]>();
let failed = false;
for (const step of steps) {
  const remaining = budgetSeconds - (Date.now() - started) / 1000;
  if (remaining < MIN_STEP_SECONDS) {
    emit({ bench: 'gpu', step: step.name, skipped: `${Math.max(0, Math.floor(remaining))}s of the ${budgetSeconds}s budget left` });
    failed = true;
    continue;
  }
  const seconds = Math.floor(Math.min(step.timeoutSeconds, maxStepSeconds, remaining - KILL_GRACE_SECONDS));
  const { lines, error } = await runStep(step, seconds);
  results.set(step.name, lines);
  if (error) {
    emit({ bench: 'gpu', step: step.name, error });
    failed = true;
  }
}

function tokensPerSecond(stepName: string): number | null {
  const line = results.get(stepName)?.find((l) => l.bench === 'gpu-sae-step');
  return typeof line?.tokensPerSecond === 'number' ? line.tokensPerSecond : null;
}

const ratio = (ours: number | null, theirs: number | null) => (ours !== null && theirs ? Number((ours / theirs).toFixed(4)) : null);

for (const arch of ARCHITECTURES) {
  const pytorchBf16 = tokensPerSecond(`pytorch ${arch} bf16`);
  const pytorchFp32 = tokensPerSecond(`pytorch ${arch} fp32`);
  for (const [gemm, suffix] of [['tiled-f32', ''], ['subgroup-matrix-f16', ' subgroup-matrix']] as const) {
    const ours = tokensPerSecond(`sae-step-wgsl ${arch}${suffix}`);
    if (ours === null && suffix) continue;
    emit({ bench: 'gpu-sae-step-ratio', arch, gemm, ours, pytorchBf16, ratioToBf16: ratio(ours, pytorchBf16), ratioToFp32: ratio(ours, pytorchFp32) });
  }
}
// A child that survived SIGKILL still holds handles; the budget matters more than waiting for it.
process.exit(failed ? 1 : 0);
