/**
 * The process's WebGPU device, through Dawn (npm `webgpu`). Loaded lazily: machines without a Vulkan
 * adapter never pay for it, and every WGSL path is chosen only when `acquireGpu` returns a context.
 *
 * `software: true` (or MISTUDIO_WEBGPU_SOFTWARE=1) points the Vulkan loader at Chromium's SwiftShader
 * ICD, a CPU implementation of Vulkan: the kernels' tests run on it in CI, where no GPU exists.
 */
import fs from 'node:fs';
import { MiStudioError } from '../errors.js';
import { withTimeout } from './timeout.js';
import { describeAdapter, describeCapabilities, type GpuCapabilities } from './capabilities.js';

export interface GpuContext {
  device: GPUDevice;
  capabilities: GpuCapabilities;
}

export interface AcquireOptions {
  software?: boolean;
  /** How long adapter and device creation may take before the GPU counts as unavailable. */
  timeoutMs?: number;
}

/** Chromium's software Vulkan driver (Debian `chromium`), the adapter of every GPU test on CPU machines. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** Features the kernels use when present; requesting one the adapter lacks would fail the device. */
const WANTED_FEATURES = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'];

let current: Promise<GpuContext | undefined> | undefined;
/**
 * Dawn's instance, held for the life of the process. The object `create()` returns owns the native
 * instance: once nothing refers to it, the garbage collector frees the instance while its devices
 * still process events on it, and the process aborts at a random later point (futex or mutex errors,
 * segfaults, hangs). Every Node crash seen with Dawn here, on SwiftShader and on the null backend,
 * was this.
 */
let instance: GPU | undefined;

/** The shared context, or undefined when no WebGPU adapter exists here. */
export function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext | undefined> {
  current ??= createContext(options).catch((cause) => {
    current = undefined;
    throw cause;
  });
  return current;
}

/** Like acquireGpu, but a missing adapter is an error naming the fix. */
export async function requireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = await acquireGpu(options);
  if (!gpu) {
    throw new MiStudioError('DEVICE_UNAVAILABLE', 'no WebGPU adapter was found', {
      field: 'device',
      hint: 'WebGPU needs the Vulkan loader (Debian libvulkan1) and a Vulkan driver (VK_DRIVER_FILES); use device "cpu"',
    });
  }
  return gpu;
}

function softwareRequested(options: AcquireOptions): boolean {
  return options.software ?? process.env.MISTUDIO_WEBGPU_SOFTWARE === '1';
}

async function createContext(options: AcquireOptions): Promise<GpuContext | undefined> {
  if (softwareRequested(options)) {
    if (!fs.existsSync(SWIFTSHADER_ICD)) throw new MiStudioError('DEVICE_UNAVAILABLE', `the software Vulkan driver ${SWIFTSHADER_ICD} is missing`, { file: SWIFTSHADER_ICD, hint: 'install Debian chromium (it ships SwiftShader), or unset MISTUDIO_WEBGPU_SOFTWARE' });
    // The loader reads this when Dawn creates its Vulkan instance, which happens below.
    process.env.VK_DRIVER_FILES = SWIFTSHADER_ICD;
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { create, globals } = await import('webgpu');
  // Dawn's GPU* constants (GPUBufferUsage, GPUMapMode, ...) are what the kernels' code refers to.
  Object.assign(globalThis, globals);
  instance ??= create(['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia']);
  const adapter = await withTimeout(instance.requestAdapter({ powerPreference: 'high-performance' }), timeoutMs, 'requestAdapter');
  if (!adapter) return undefined;
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const limits = adapter.limits;
  const device = await withTimeout(
    adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    }),
    timeoutMs,
    'requestDevice',
  );
  device.lost.then(() => {
    current = undefined;
  });
  return { device, capabilities: describeCapabilities(describeAdapter(adapter), { subgroupMatrix: process.env.MISTUDIO_WEBGPU_GEMM === 'subgroup-matrix-f16' }) };
}
