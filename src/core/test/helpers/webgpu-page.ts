/**
 * Bundled into a page of headless chromium, whose WebGPU runs on SwiftShader: it exposes the WGSL
 * kernels and the step runner to the tests, which compare them with the CPU path in Node.
 */
import { describeAdapter, describeCapabilities, type GpuCapabilities } from '../../gpu/capabilities.js';
import { createArray, readArrays, readFloats, writeArray } from '../../gpu/buffers.js';
import { ComputeKernel, uniformBuffer } from '../../gpu/compute.js';
import { DEFAULT_GEMM, gemmShader, gemmWorkgroups, type GemmConfig } from '../../gpu/kernels/gemm.js';
import { LatentSegments } from '../../gpu/kernels/latent-segments.js';
import { SparseWeightGradients } from '../../gpu/kernels/sparse-weight-grads.js';
import { WgslSaeStepRunner, type WgslStepSpec } from '../../sae/wgsl-step-runner.js';
import type { StepInputs } from '../../sae/step-runner.js';

let context: Promise<{ device: GPUDevice; capabilities: GpuCapabilities }> | undefined;

async function gpu() {
  context ??= (async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter in this browser');
    const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [] });
    const capabilities = describeCapabilities(describeAdapter(adapter));
    return { device, capabilities };
  })();
  return context;
}

export interface GemmCase { M: number; N: number; K: number; transA: boolean; transB: boolean; a: number[]; b: number[]; config?: GemmConfig }

async function gemm(c: GemmCase): Promise<number[]> {
  const { device } = await gpu();
  const config = c.config ?? DEFAULT_GEMM;
  const kernel = new ComputeKernel(device, 'gemm', gemmShader({ transA: c.transA, transB: c.transB }, undefined, config));
  const out = createArray(device, c.M * c.N, 'c');
  const group = kernel.bind([
    uniformBuffer(device, 'dims', new Uint32Array([c.M, c.N, c.K])),
    createArray(device, c.a.length, 'a', Float32Array.from(c.a)).buffer,
    createArray(device, c.b.length, 'b', Float32Array.from(c.b)).buffer,
    out.buffer,
  ]);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, group, ...gemmWorkgroups(c.M, c.N, config));
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

export interface SparseGradsInput { idx: number[]; a: number[]; dPreK: number[]; dR: number[]; xc: number[] }
export interface SparseGradsCase { B: number; k: number; S: number; d: number; runs: SparseGradsInput[] }

/**
 * SparseWeightGradients on one set of buffers, run once per entry of `runs` (inputs rewritten in
 * between): each run's segments, gradients, and milliseconds from submission to readback.
 */
async function sparseGrads(c: SparseGradsCase) {
  const { device } = await gpu();
  const { B, k, S, d } = c;
  const array = (n: number, label: string) => createArray(device, n, label);
  const inputs = { idx: array(B * k, 'idx'), a: array(B * k, 'a'), dPreK: array(B * k, 'dPreK'), dR: array(B * d, 'dR'), xc: array(B * d, 'xc') };
  const outputs = { gradWdec: array(S * d, 'gradWdec'), gradWencT: array(S * d, 'gradWencT'), gradBenc: array(S, 'gradBenc'), fired: array(S, 'fired') };
  const sparse = new SparseWeightGradients(device, { B, k, S, d }, {
    idx: inputs.idx.buffer, a: inputs.a.buffer, dPreK: inputs.dPreK.buffer, dR: inputs.dR.buffer, xc: inputs.xc.buffer,
    gradWdec: outputs.gradWdec.buffer, gradWencT: outputs.gradWencT.buffer, gradBenc: outputs.gradBenc.buffer, fired: outputs.fired.buffer,
  });
  const results = [];
  for (const run of c.runs) {
    writeArray(device, inputs.idx, Uint32Array.from(run.idx));
    for (const name of ['a', 'dPreK', 'dR', 'xc'] as const) writeArray(device, inputs[name], Float32Array.from(run[name]));
    const started = performance.now();
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    sparse.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const [segmentStart, entryOrder, gradWdec, gradWencT, gradBenc, fired] = await readArrays(device, [sparse.segmentStart, sparse.entryOrder, outputs.gradWdec, outputs.gradWencT, outputs.gradBenc, outputs.fired]);
    const ms = performance.now() - started;
    const u32 = (b: ArrayBuffer) => Array.from(new Uint32Array(b));
    const f32 = (b: ArrayBuffer) => Array.from(new Float32Array(b));
    results.push({ segmentStart: u32(segmentStart), entryOrder: u32(entryOrder), gradWdec: f32(gradWdec), gradWencT: f32(gradWencT), gradBenc: f32(gradBenc), fired: f32(fired), ms });
  }
  sparse.destroy();
  for (const a of [...Object.values(inputs), ...Object.values(outputs)]) a.buffer.destroy();
  return results;
}

/** LatentSegments' counting dispatches alone (zero, count, scan): segmentStart [S+1] of idx [B, k]. */
async function segmentStarts(c: { B: number; k: number; S: number; idx: number[] }): Promise<number[]> {
  const { device } = await gpu();
  const idx = createArray(device, c.B * c.k, 'idx', Uint32Array.from(c.idx));
  const segments = new LatentSegments(device, c, idx.buffer);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const d of segments.counting) d.kernel.dispatch(pass, d.group, d.grid[0], d.grid[1]);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const [starts] = await readArrays(device, [segments.segmentStart]);
  segments.destroy();
  idx.buffer.destroy();
  return Array.from(new Uint32Array(starts));
}

Object.assign(globalThis, { mistudioGpu: { gemm, train, sparseGrads, segmentStarts } });
