/**
 * Dawn's null backend, from the same npm `webgpu` build that bench/gpu runs on the GPU machine. It
 * executes nothing (every buffer reads back as zeros) but runs Dawn's and Tint's whole validation,
 * and with allow_unsafe_apis it offers `chromium-experimental-subgroup-matrix`, which no adapter on
 * the CPU machines does: the tensor-core kernel's WGSL is checked here before any GPU sees it.
 */
import { describeAdapter, describeCapabilities, type GpuCapabilities } from '../../gpu/capabilities.js';

export interface NullGpu {
  device: GPUDevice;
  /** What the trainer would pick on this adapter with the subgroup-matrix GEMM asked for. */
  capabilities: GpuCapabilities;
  /** Runs `work` and returns the validation errors it raised, in order. */
  validationErrors(work: () => unknown): Promise<string[]>;
}

/**
 * Held for the life of the process: when the instance object is collected, Dawn frees the instance
 * its devices still process events on (see dawn-device.ts).
 */
let instance: GPU | undefined;

export async function openNullGpu(): Promise<NullGpu> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  instance ??= create(['backend=null', 'enable-dawn-features=allow_unsafe_apis']);
  const adapter = await instance.requestAdapter();
  if (!adapter) throw new Error("Dawn's null backend offered no adapter");
  // Default limits on purpose: a kernel that needs more than WebGPU guarantees should fail here.
  const device = await adapter.requestDevice({ requiredFeatures: ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'] as GPUFeatureName[] });
  // The null adapter reports no shapes; it is described as the NVIDIA adapters the kernel targets.
  const capabilities = describeCapabilities(
    { ...describeAdapter(adapter), subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }] },
    { subgroupMatrix: true },
  );
  return {
    device,
    capabilities: { ...capabilities, software: false },
    async validationErrors(work) {
      device.pushErrorScope('validation');
      const errors: string[] = [];
      try {
        await work();
      } catch (cause) {
        errors.push(cause instanceof Error ? cause.message : String(cause));
      }
      const scoped = await device.popErrorScope();
      if (scoped) errors.push(scoped.message);
      return errors;
    },
  };
}
