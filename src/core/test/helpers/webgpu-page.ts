/**
 * Bundled into a page of headless chromium, whose WebGPU runs on SwiftShader: it exposes the WGSL
 * kernels and the step runner to the tests, which compare them with the CPU path in Node.
 */
import { describeCapabilities, type GpuCapabilities } from '../../gpu/capabilities.js';
import { createArray, readFloats } from '../../gpu/buffers.js';
import { ComputeKernel, uniformBuffer } from '../../gpu/compute.js';
import { gemmShader, gemmThreads, gemmWorkgroups } from '../../gpu/kernels/gemm.js';
import { WgslSaeStepRunner, type WgslStepSpec } from '../../sae/wgsl-step-runner.js';
import type { StepInputs } from '../../sae/step-runner.js';

let context: Promise<{ device: GPUDevice; capabilities: GpuCapabilities }> | undefined;

async function gpu() {
  context ??= (async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter in this browser');
    const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [] });
    const info = adapter.info;
    const capabilities = describeCapabilities({
      vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
      features: [...adapter.features], subgroupMatrixConfigs: [],
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    });
    return { device, capabilities };
  })();
  return context;
}

export interface GemmCase { M: number; N: number; K: number; transA: boolean; transB: boolean; a: number[]; b: number[] }

async function gemm(c: GemmCase): Promise<number[]> {
  const { device, capabilities } = await gpu();
  const threads = gemmThreads(capabilities.software);
  const kernel = new ComputeKernel(device, 'gemm', gemmShader({ transA: c.transA, transB: c.transB }, undefined, threads));
  const out = createArray(device, c.M * c.N, 'c');
  const group = kernel.bind([
    uniformBuffer(device, 'dims', new Uint32Array([c.M, c.N, c.K])),
    createArray(device, c.a.length, 'a', Float32Array.from(c.a)).buffer,
    createArray(device, c.b.length, 'b', Float32Array.from(c.b)).buffer,
    out.buffer,
  ]);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, group, ...gemmWorkgroups(c.M, c.N, threads));
  pass.end();
  device.queue.submit([encoder.finish()]);
  return Array.from(await readFloats(device, out));
}

export interface TrainCase {
  spec: WgslStepSpec;
  params: Record<string, number[]>;
  steps: (Omit<StepInputs, 'x'> & { x: number[] })[];
}

async function train(c: TrainCase) {
  const g = await gpu();
  const params = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, Float32Array.from(v)]));
  const runner = await WgslSaeStepRunner.create(c.spec, params, undefined, g);
  const metrics = [];
  for (const s of c.steps) {
    const m = await runner.step({ ...s, x: Float32Array.from(s.x) });
    metrics.push({ ...m, firedCount: Array.from(m.firedCount), gradients: m.gradients && Object.fromEntries(Object.entries(m.gradients).map(([k, v]) => [k, Array.from(v)])) });
  }
  const list = (r: Record<string, Float32Array>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v)]));
  const result = { metrics, params: list(await runner.parameters()), moments: list((await runner.moments()).m), software: g.capabilities.software };
  await runner.release();
  return result;
}

Object.assign(globalThis, { mistudioGpu: { gemm, train } });
