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

export type GemmVariant = 'tiled-f32' | 'subgroup-matrix-f16';

export interface GpuCapabilities {
  adapter: AdapterDescription;
  /** A CPU implementation of Vulkan (SwiftShader, lavapipe): correct, never fast. */
  software: boolean;
  f16: boolean;
  subgroups: boolean;
  /** The f16 × f16 → f32 subgroup-matrix shape the GEMMs would use, when there is one. */
  subgroupMatrix?: SubgroupMatrixConfig;
  gemm: GemmVariant;
  /** Why `gemm` was picked, for the probe's report. */
  reason: string;
}

const SOFTWARE_ADAPTERS = /swiftshader|lavapipe|llvmpipe|software/i;

export function describeCapabilities(adapter: AdapterDescription): GpuCapabilities {
  const has = (f: string) => adapter.features.includes(f);
  const software = SOFTWARE_ADAPTERS.test(`${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`);
  const f16 = has('shader-f16');
  const subgroups = has('subgroups');
  const subgroupMatrix = has('chromium-experimental-subgroup-matrix')
    ? adapter.subgroupMatrixConfigs.find((c) => c.componentType === 'f16' && c.resultComponentType === 'f32')
    : undefined;
  const base = { adapter, software, f16, subgroups, subgroupMatrix };
  // The subgroup-matrix GEMM is compiled in but has not yet been checked against the tiled f32 GEMM
  // on a GPU (issue 11); until bench/gpu/kernel-check has passed there, it is only reported.
  if (subgroupMatrix && f16) {
    return { ...base, gemm: 'tiled-f32', reason: `subgroup matrices ${subgroupMatrix.M}×${subgroupMatrix.N}×${subgroupMatrix.K} f16→f32 are offered; the tiled f32 GEMM is used until the subgroup-matrix kernel is verified` };
  }
  return { ...base, gemm: 'tiled-f32', reason: f16 ? 'no f16→f32 subgroup-matrix shape: workgroup-tiled f32 GEMM' : 'no shader-f16: workgroup-tiled f32 GEMM' };
}
