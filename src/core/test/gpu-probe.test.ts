/**
 * The capability probe: the variant choice on adapters described by hand (an H200 as Dawn reports
 * it, SwiftShader), and `mistudio gpu probe` against the real Dawn on this machine — SwiftShader
 * when asked for, nothing when the Vulkan loader finds no driver.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeCapabilities, type AdapterDescription } from '../gpu/capabilities.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.ts');

const limits = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 32, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024 };

const h200: AdapterDescription = {
  vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200',
  features: ['chromium-experimental-subgroup-matrix', 'shader-f16', 'subgroups', 'timestamp-query'],
  subgroupMinSize: 32, subgroupMaxSize: 32,
  subgroupMatrixConfigs: [
    { componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 },
    { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 },
  ],
  ...limits,
};

describe('describeCapabilities', () => {
  it('finds the f16→f32 subgroup-matrix shape on an NVIDIA adapter and keeps the verified f32 GEMM unless asked', () => {
    const c = describeCapabilities(h200);
    expect(c).toMatchObject({ software: false, f16: true, subgroups: true, gemm: 'tiled-f32' });
    expect(c.subgroupMatrix).toEqual({ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 });
    expect(c.reason).toMatch(/16×16×16 f16→f32.*opt-in/);
    expect(describeCapabilities(h200, { subgroupMatrix: true }).gemm).toBe('subgroup-matrix-f16');
  });

  it('keeps the f32 GEMM where the subgroup-matrix kernel cannot run: other subgroup widths, small workgroup memory', () => {
    const amd = { ...h200, subgroupMinSize: 32, subgroupMaxSize: 64 };
    expect(describeCapabilities(amd, { subgroupMatrix: true })).toMatchObject({ gemm: 'tiled-f32', reason: expect.stringMatching(/32-wide subgroups/) });
    expect(describeCapabilities(h200, { subgroupMatrix: true })).toMatchObject({ gemm: 'subgroup-matrix-f16', subgroupMatrixTile: 128 });
    expect(describeCapabilities({ ...h200, maxComputeWorkgroupStorageSize: 16384 }, { subgroupMatrix: true })).toMatchObject({ gemm: 'subgroup-matrix-f16', subgroupMatrixTile: 64 });
    expect(describeCapabilities({ ...h200, maxComputeInvocationsPerWorkgroup: 128 }, { subgroupMatrix: true }).subgroupMatrixTile).toBe(64);
    expect(describeCapabilities({ ...h200, maxComputeWorkgroupStorageSize: 8192 }, { subgroupMatrix: true }).gemm).toBe('tiled-f32');
  });

  it("picks the kernel's 16×16×16 shape wherever the adapter lists it, and names the shape it cannot use", () => {
    const other = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 8, K: 16 };
    const listed = { ...h200, subgroupMatrixConfigs: [other, ...h200.subgroupMatrixConfigs] };
    expect(describeCapabilities(listed, { subgroupMatrix: true })).toMatchObject({ gemm: 'subgroup-matrix-f16', subgroupMatrix: { M: 16, N: 16, K: 16 } });
    const only = describeCapabilities({ ...h200, subgroupMatrixConfigs: [other] }, { subgroupMatrix: true });
    expect(only).toMatchObject({ gemm: 'tiled-f32', reason: expect.stringMatching(/16×8×16 f16→f32 are offered, but the kernel needs 16×16×16/) });
  });

  it('ignores subgroup-matrix shapes when the feature itself is missing', () => {
    const c = describeCapabilities({ ...h200, features: ['shader-f16', 'subgroups'] });
    expect(c.subgroupMatrix).toBeUndefined();
    expect(c.reason).toMatch(/no f16→f32 subgroup-matrix shape/);
  });

  it('marks SwiftShader and lavapipe as software', () => {
    const sw = { ...h200, vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', features: ['subgroups'], subgroupMatrixConfigs: [] };
    expect(describeCapabilities(sw)).toMatchObject({ software: true, f16: false, gemm: 'tiled-f32' });
    expect(describeCapabilities({ ...sw, architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software).toBe(true);
  });
});

function probe(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'gpu', 'probe', '--json', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, report: r.status === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

describe('mistudio gpu probe', () => {
  it('--software reports SwiftShader through Dawn, with subgroups and the tiled f32 GEMM', () => {
    const r = probe({}, '--software');
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.adapter).toMatchObject({ software: true, subgroups: true, gemm: 'tiled-f32' });
    expect(r.report.adapter.adapter.architecture).toBe('swiftshader');
  });

  it('reports no adapter, and exits 0, when the Vulkan loader finds no driver', () => {
    const r = probe({ VK_DRIVER_FILES: '/nonexistent/icd.json' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.report).toEqual({ adapter: null, onnxruntimeWebgpu: false });
  });
});
