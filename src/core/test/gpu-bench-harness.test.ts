/**
 * The GPU benchmark orchestrator (bench/gpu/run.ts) without a GPU: fake child scripts stand in for
 * the probe, the kernel check, miStudio's WGSL step (both GEMM variants) and the PyTorch twin, to show that JSON lines
 * pass through verbatim, a hanging step is killed with what it started and the run goes on, the
 * ratio lines come from the children's figures, and the run ends within its budget. The real
 * PyTorch twin runs on the CPU at tiny sizes for the shape of its line.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const RUN = path.join(ROOT, 'bench', 'gpu', 'run.ts');
const TWIN = path.join(ROOT, 'bench', 'gpu', 'torch_sae_step.py');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

const dirs: string[] = [];
const grandchildren: number[] = [];
afterAll(() => {
  for (const pid of grandchildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as the tests expect.
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stepsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mistudio-gpu-bench-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

// Spacing that JSON.stringify would not produce, to tell a verbatim pass-through from a re-encoding.
const PROBE = `console.log('probing adapters');\nconsole.log('{"bench": "gpu-probe",  "adapter": "fake"}');\n`;
const HANG = 'setInterval(() => {}, 1000);\n';
// Starts a grandchild that holds the stdout pipe: only killing the whole process group ends the step.
const HANG_WITH_GRANDCHILD = `import { spawn } from 'node:child_process';
const grandchild = spawn(process.execPath, ['-e', ${JSON.stringify(HANG)}], { stdio: 'inherit' });
console.log(JSON.stringify({ bench: 'fake-hang', grandchild: grandchild.pid }));
${HANG}`;
// The tensor-core variant is "offered" for standard only: topk's run fails as on an adapter without it.
const OURS = `const arg = (name) => { const i = process.argv.indexOf('--' + name); return i < 0 ? undefined : process.argv[i + 1]; };
const gemm = arg('gemm') ?? 'tiled-f32';
if (gemm !== 'tiled-f32' && arg('arch') === 'topk') {
  console.log(JSON.stringify({ bench: 'gpu-sae-step', impl: 'mistudio', arch: 'topk', error: 'not available here' }));
  process.exit(1);
}
console.log(JSON.stringify({ bench: 'gpu-sae-step', impl: 'mistudio', arch: arg('arch'), gemm, batch: Number(arg('batch')), dSae: Number(arg('d-sae')),
  tokensPerSecond: (arg('arch') === 'topk' ? 500 : 1000) * (gemm === 'tiled-f32' ? 1 : 2) }));
`;
const FAKE_TWIN = `import argparse, json
ap = argparse.ArgumentParser()
for name in ["--arch", "--precision", "--batch", "--d-in", "--d-sae", "--k", "--device", "--seconds-budget"]:
    ap.add_argument(name)
a = ap.parse_args()
print(json.dumps({"bench": "gpu-sae-step", "impl": "pytorch", "arch": a.arch, "precision": a.precision, "device": a.device,
                  "batch": int(a.batch), "secondsBudget": float(a.seconds_budget),
                  "tokensPerSecond": {"bf16": 4000, "tf32": 3000, "fp32": 2000}[a.precision]}))
`;

interface Run {
  lines: { ms: number; text: string }[];
  stderr: string;
  code: number | null;
  ms: number;
}

function runHarness(args: string[]): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, ...args], { cwd: ROOT, env: { ...process.env, PYTHON }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Run['lines'] = [];
  const stdout = createInterface({ input: child.stdout });
  stdout.on('line', (text) => lines.push({ ms: performance.now() - started, text }));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Not 'close': a step's process that outlived the run would hold the inherited stderr open.
  return Promise.all([once(child, 'exit'), once(stdout, 'close')]).then(([[code]]) => ({ lines, stderr, code: code as number | null, ms: performance.now() - started }));
}

/** Whether the process runs: a killed orphan may stay a zombie until init reaps it. */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

const parsed = (run: Run) => run.lines.map((l) => JSON.parse(l.text) as Record<string, unknown>);

describe('GPU bench orchestrator', () => {
  it('forwards JSON lines verbatim, kills a hanging step with its process group, goes on and computes the ratios', async () => {
    const dir = stepsDir({ 'probe.mjs': PROBE, 'kernel-check.mjs': HANG_WITH_GRANDCHILD, 'sae-step-wgsl.mjs': OURS, 'torch_sae_step.py': FAKE_TWIN });
    const run = await runHarness(['--steps-dir', dir, '--small', '--d-sae', '512', '--max-step-seconds', '3']);
    const lines = parsed(run);

    expect(run.lines[0].text).toBe('{"bench": "gpu-probe",  "adapter": "fake"}');
    expect(run.stderr).toContain('probing adapters');

    const hang = run.lines.findIndex((l) => l.text.includes('fake-hang'));
    const grandchild = lines[hang].grandchild as number;
    grandchildren.push(grandchild);
    const timeout = run.lines[hang + 1];
    expect(JSON.parse(timeout.text)).toEqual({ bench: 'gpu', step: 'kernel-check', error: 'timeout after 3s' });
    expect(timeout.ms - run.lines[hang].ms).toBeGreaterThan(2500);
    expect(timeout.ms - run.lines[hang].ms).toBeLessThan(4500);
    expect(running(grandchild)).toBe(false);

    const steps = lines.filter((l) => l.bench === 'gpu-sae-step' && !l.error);
    expect(steps.map((l) => `${l.impl} ${l.arch} ${l.precision ?? l.gemm}`)).toEqual([
      'mistudio standard tiled-f32', 'mistudio standard subgroup-matrix-f16', 'pytorch standard bf16', 'pytorch standard tf32', 'pytorch standard fp32',
      'mistudio topk tiled-f32', 'pytorch topk bf16', 'pytorch topk tf32', 'pytorch topk fp32',
    ]);
    expect(lines.filter((l) => l.bench === 'gpu' && l.step === 'sae-step-wgsl topk subgroup-matrix')).toEqual([{ bench: 'gpu', step: 'sae-step-wgsl topk subgroup-matrix', error: 'exit code 1' }]);
    // --small sets the sizes and the CPU for the twin; an explicit size flag still wins.
    expect(steps.every((l) => l.batch === 64 && (l.impl === 'mistudio' ? l.dSae === 512 : l.device === 'cpu'))).toBe(true);
    expect(steps.filter((l) => l.impl === 'pytorch').every((l) => l.secondsBudget === 1)).toBe(true);

    // One line per architecture and GEMM variant that produced a figure.
    expect(lines.filter((l) => l.bench === 'gpu-sae-step-ratio')).toEqual([
      { bench: 'gpu-sae-step-ratio', arch: 'standard', gemm: 'tiled-f32', ours: 1000, pytorchBf16: 4000, ratioToBf16: 0.25, ratioToFp32: 0.5 },
      { bench: 'gpu-sae-step-ratio', arch: 'standard', gemm: 'subgroup-matrix-f16', ours: 2000, pytorchBf16: 4000, ratioToBf16: 0.5, ratioToFp32: 1 },
      { bench: 'gpu-sae-step-ratio', arch: 'topk', gemm: 'tiled-f32', ours: 500, pytorchBf16: 4000, ratioToBf16: 0.125, ratioToFp32: 0.25 },
    ]);
    expect(run.code).toBe(1);
  });

  it('ends within its budget, skipping the steps that no longer fit', async () => {
    const dir = stepsDir({ 'probe.mjs': HANG });
    const run = await runHarness(['--steps-dir', dir, '--budget-seconds', '12']);
    const lines = parsed(run);
    // The budget, less the 2 s kept back for the kill and the script's start, bounds the first step's 60 s.
    expect(lines[0]).toMatchObject({ bench: 'gpu', step: 'probe', error: expect.stringMatching(/^timeout after (9|10)s$/) });
    expect(lines.slice(1, -2).map((l) => [l.step, typeof l.skipped])).toEqual(
      ['monitor', 'kernel-check', 'kernel-check subgroup-matrix', 'gemm-check', ...['standard', 'topk'].flatMap((a) => [`sae-step-wgsl ${a}`, `sae-step-wgsl ${a} subgroup-matrix`, ...['bf16', 'tf32', 'fp32'].map((p) => `pytorch ${a} ${p}`)])].map((s) => [s, 'string']),
    );
    expect(lines.slice(-2).map((l) => [l.arch, l.ours, l.ratioToBf16])).toEqual([['standard', null, null], ['topk', null, null]]);
    // Node's and tsx's start-up come on top of the budget, which counts from the script's start.
    expect(run.ms).toBeLessThan(13_000);
  });

  it('reports a missing child script as that step\'s error and carries on', async () => {
    const dir = stepsDir({ 'sae-step-wgsl.mjs': OURS });
    const run = await runHarness(['--steps-dir', dir, '--small']);
    const lines = parsed(run);
    expect(lines[0]).toEqual({ bench: 'gpu', step: 'probe', error: `missing ${path.join(dir, 'probe.mjs')}` });
    // probe, monitor, both kernel checks, gemm-check and the six PyTorch runs.
    expect(lines.filter((l) => typeof l.error === 'string' && l.error.startsWith('missing '))).toHaveLength(11);
    expect(lines.filter((l) => l.impl === 'mistudio' && !l.error)).toHaveLength(3);
    expect(lines.at(-1)).toEqual({ bench: 'gpu-sae-step-ratio', arch: 'topk', gemm: 'tiled-f32', ours: 500, pytorchBf16: null, ratioToBf16: null, ratioToFp32: null });
  });
});

describe('PyTorch twin of the SAE step', () => {
  it.each([
    ['standard', 'fp32'],
    ['topk', 'bf16'],
  ])('prints one JSON line for %s %s on the CPU', (arch, precision) => {
    const out = execFileSync(PYTHON, [TWIN, '--device', 'cpu', '--batch', '64', '--d-in', '32', '--d-sae', '256', '--k', '8', '--arch', arch, '--precision', precision, '--warmup', '1', '--steps', '3'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toEqual({
      bench: 'gpu-sae-step', impl: 'pytorch', arch, precision, device: 'cpu', batch: 64, dIn: 32, dSae: 256, k: 8,
      msPerStep: expect.any(Number), tokensPerSecond: expect.any(Number),
    });
    expect(line.msPerStep).toBeGreaterThan(0);
    expect(line.tokensPerSecond).toBeCloseTo(64 / ((line.msPerStep as number) / 1000), -1);
  });
});
