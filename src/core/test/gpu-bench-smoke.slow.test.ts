/**
 * The GPU run as it will go on the lent machine, minus the GPU: the bench/gpu scripts bundled by
 * esbuild exactly as scripts/build-gpu-bundle.sh does, started through run.mjs --small on
 * SwiftShader (Dawn in Node) with the PyTorch twin on the CPU. Every step must report, the kernel
 * and GEMM checks must pass against their CPU references, the step must be profiled kernel by
 * kernel, and the tensor-core steps must say why they were skipped (SwiftShader has no subgroup
 * matrices) rather than fail.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD } from '../gpu/dawn-device.js';

const ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
// Inside the repository (and ignored by git), so the bundles' external packages resolve from its node_modules.
const STAGE = path.join(ROOT, '.gpu', `smoke-${process.pid}`);
const SCRIPTS = ['run', 'probe', 'monitor-sample', 'kernel-check', 'gemm-check', 'sae-step-wgsl'];

type Line = Record<string, any>;
let lines: Line[] = [];
let exitCode: number | null = null;
let stderr = '';

beforeAll(async () => {
  mkdirSync(STAGE, { recursive: true });
  await build({
    entryPoints: SCRIPTS.map((name) => path.join(ROOT, 'bench', 'gpu', `${name}.ts`)),
    outdir: STAGE,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['webgpu', 'onnxruntime-node'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  copyFileSync(path.join(ROOT, 'bench', 'gpu', 'torch_sae_step.py'), path.join(STAGE, 'torch_sae_step.py'));
  const run = spawnSync(process.execPath, [path.join(STAGE, 'run.mjs'), '--small', '--budget-seconds', '300'], {
    encoding: 'utf8',
    timeout: 360_000,
    env: { ...process.env, VK_DRIVER_FILES: SWIFTSHADER_ICD, PYTHON: path.join(ROOT, '.venv', 'bin', 'python') },
  });
  exitCode = run.status;
  stderr = run.stderr;
  lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}, 400_000);

afterAll(() => rmSync(STAGE, { recursive: true, force: true }));

const find = (bench: string, match: Line = {}) => lines.filter((l) => l.bench === bench && Object.entries(match).every(([k, v]) => l[k] === v));

describe('bench/gpu on SwiftShader (run.mjs --small)', () => {
  it('finishes on its own with every line JSON and no failed step', () => {
    expect(exitCode, stderr.slice(-2000)).toBe(0);
    expect(find('gpu').filter((l) => l.error)).toEqual([]);
  });

  it('probes the software adapter and samples the system monitor', () => {
    expect(find('gpu-probe')[0]).toMatchObject({ adapter: { architecture: 'swiftshader' }, software: true, gemm: 'tiled-f32' });
    expect(find('gpu-monitor')[0].sample.cpu.corePercents.length).toBeGreaterThan(0);
  });

  it('the WGSL step equals the CPU graph for standard and topk; the tensor-core step check is skipped with a reason', () => {
    for (const arch of ['standard', 'topk']) {
      const [check] = find('gpu-kernel-check', { arch });
      expect(check, arch).toMatchObject({ pass: true, gemm: 'tiled-f32', batch: 64, dIn: 32, dSae: 256 });
      expect(Math.max(...(Object.values(check.maxRelErr) as number[])), arch).toBeLessThan(check.tolerance);
    }
    expect(find('gpu-kernel-check', { gemm: 'subgroup-matrix-f16' })[0].skipped).toMatch(/not available here/);
  });

  it('both f32 GEMM blockings pass in all three layouts; the tensor-core GEMM is skipped with a reason', () => {
    const checks = find('gpu-gemm-check').filter((l) => 'pass' in l);
    expect(checks.map((l) => `${l.gemm} ${l.layout}`).sort()).toEqual(
      ['NN', 'NT', 'TN'].flatMap((layout) => [`tiled-f32 ${layout}`, `tiled-f32 8x8 threads of 4x4 ${layout}`]).sort(),
    );
    expect(checks.every((l) => l.pass)).toBe(true);
    expect(find('gpu-gemm-check', { gemm: 'subgroup-matrix-f16' })[0].skipped).toMatch(/shader-f16/);
  });

  it('times our step and the PyTorch twin for both architectures and prints their ratios', () => {
    for (const arch of ['standard', 'topk']) {
      const ours = find('gpu-sae-step', { impl: 'mistudio', arch }).filter((l) => l.tokensPerSecond > 0);
      expect(ours, arch).toHaveLength(1);
      expect(find('gpu-sae-step', { impl: 'mistudio', arch }).find((l) => l.skipped)?.skipped, arch).toMatch(/subgroup-matrix-f16 GEMM is not available/);
      expect(find('gpu-sae-step', { impl: 'pytorch', arch }).map((l) => l.precision).sort(), arch).toEqual(['bf16', 'fp32', 'tf32']);
      const [ratio] = find('gpu-sae-step-ratio', { arch });
      const bf16 = find('gpu-sae-step', { impl: 'pytorch', arch, precision: 'bf16' })[0].tokensPerSecond;
      expect(ratio, arch).toMatchObject({ gemm: 'tiled-f32', ours: ours[0].tokensPerSecond, pytorchBf16: bf16 });
      expect(ratio.ratioToBf16).toBeCloseTo(ours[0].tokensPerSecond / bf16, 3);
    }
  });

  it("profiles one step per architecture, kernel by kernel (SwiftShader has timestamp queries)", () => {
    for (const arch of ['standard', 'topk']) {
      const [profile] = find('gpu-sae-step-profile', { arch });
      expect(profile, arch).toMatchObject({ gemm: 'tiled-f32' });
      const labels = profile.kernels.map((k: Line) => k.label);
      expect(labels, arch).toContain('encode');
      expect(labels.some((l: string) => l.startsWith('adam')), arch).toBe(true);
      expect(profile.totalMs).toBeCloseTo(profile.kernels.reduce((sum: number, k: Line) => sum + k.ms, 0), 1);
    }
  });
});
