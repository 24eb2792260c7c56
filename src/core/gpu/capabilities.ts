/**
 * What a WebGPU adapter offers and which kernel variant each job gets on it. Kept free of Dawn so
 * the choice is unit-tested on the CPU machines with adapters described by hand.
 */

/** One `chromium-experimental-subgroup-matrix` shape the adapter offers (Dawn's GPUSubgroupMatrixConfig). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: readonly string[];
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  subgroupMatrixConfigs: readonly SubgroupMatrixConfig[];
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

import { SUBGROUP_MATRIX_SHAPE, SUBGROUP_MATRIX_TILES, subgroupMatrixTileFits, subgroupMatrixWorkgroupBytes, type SubgroupMatrixTile } from './kernels/gemm-subgroup-matrix.js';

export type GemmVariant = 'tiled-f32' | 'subgroup-matrix-f16';

export interface GpuCapabilities {
  adapter: AdapterDescription;
  /** A CPU implementation of Vulkan (SwiftShader, lavapipe): correct, never fast. */
  software: boolean;
  f16: boolean;
  subgroups: boolean;
  /** The f16 × f16 → f32 subgroup-matrix shape the GEMMs would use, when there is one. */
  subgroupMatrix?: SubgroupMatrixConfig;
  /** The largest tiling of the subgroup-matrix GEMM the adapter's workgroup limits allow. */
  subgroupMatrixTile?: SubgroupMatrixTile;
  gemm: GemmVariant;
  /** Why `gemm` was picked, for the probe's report. */
  reason: string;
}

const SOFTWARE_ADAPTERS = /swiftshader|lavapipe|llvmpipe|software/i;

export interface VariantPreferences {
  /** Use the subgroup-matrix GEMM where it can run (MISTUDIO_WEBGPU_GEMM=subgroup-matrix-f16). */
  subgroupMatrix?: boolean;
}

export function describeCapabilities(adapter: AdapterDescription, prefer: VariantPreferences = {}): GpuCapabilities {
  const has = (f: string) => adapter.features.includes(f);
  const software = SOFTWARE_ADAPTERS.test(`${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`);
  const f16 = has('shader-f16');
  const subgroups = has('subgroups');
  const { M, N, K, subgroupSize } = SUBGROUP_MATRIX_SHAPE;
  // Adapters list several shapes (NVIDIA's cooperative matrices include 16×8×16 and 16×16×16): the
  // kernel's own shape is preferred wherever it appears in the list.
  const f16Configs = has('chromium-experimental-subgroup-matrix') ? adapter.subgroupMatrixConfigs.filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32') : [];
  const subgroupMatrix = f16Configs.find((c) => c.M === M && c.N === N && c.K === K) ?? f16Configs[0];
  const base = { adapter, software, f16, subgroups, subgroupMatrix };
  if (!f16) return { ...base, gemm: 'tiled-f32', reason: 'no shader-f16: workgroup-tiled f32 GEMM' };
  if (!subgroupMatrix) return { ...base, gemm: 'tiled-f32', reason: 'no f16→f32 subgroup-matrix shape: workgroup-tiled f32 GEMM' };
  const shape = `${subgroupMatrix.M}×${subgroupMatrix.N}×${subgroupMatrix.K} f16→f32`;
  const tile = SUBGROUP_MATRIX_TILES.find((t) => subgroupMatrixTileFits(t, adapter));
  const fits =
    subgroupMatrix.M === M && subgroupMatrix.N === N && subgroupMatrix.K === K &&
    adapter.subgroupMinSize === subgroupSize && adapter.subgroupMaxSize === subgroupSize && tile !== undefined;
  if (!fits) {
    const smallest = SUBGROUP_MATRIX_TILES.at(-1)!;
    return { ...base, gemm: 'tiled-f32', reason: `subgroup matrices ${shape} are offered, but the kernel needs ${M}×${N}×${K} with ${subgroupSize}-wide subgroups and ${subgroupMatrixWorkgroupBytes(smallest)} bytes of workgroup memory: workgroup-tiled f32 GEMM` };
  }
  const withTile = { ...base, subgroupMatrixTile: tile };
  // Not yet verified on a GPU (issue 11): until bench/gpu/gemm-check passes there, it is opt-in.
  if (!prefer.subgroupMatrix) return { ...withTile, gemm: 'tiled-f32', reason: `subgroup matrices ${shape} are offered; the subgroup-matrix GEMM is opt-in until verified (MISTUDIO_WEBGPU_GEMM=subgroup-matrix-f16)` };
  return { ...withTile, gemm: 'subgroup-matrix-f16', reason: `subgroup matrices ${shape}: f16 operands, f32 accumulation, ${tile}×${tile} tiles` };
}

/** What `describeCapabilities` needs from a WebGPU adapter (Dawn's in Node, or a browser's). */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number; subgroupMatrixConfigs?: SubgroupMatrixConfig[] };
  const l = adapter.limits;
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    features: [...adapter.features].sort(),
    subgroupMinSize: info.subgroupMinSize,
    subgroupMaxSize: info.subgroupMaxSize,
    subgroupMatrixConfigs: [...(info.subgroupMatrixConfigs ?? [])].map((c) => ({ componentType: c.componentType, resultComponentType: c.resultComponentType, M: c.M, N: c.N, K: c.K })),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
  };
}
