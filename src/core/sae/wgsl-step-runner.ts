/**
 * The SAE training step in WGSL kernels on a WebGPU device: parameters, Adam moments and every
 * intermediate stay on the device for the whole run; each step uploads its batch and reads back only
 * the metric block and the per-latent fire counts. The arithmetic is step-graph.ts's (grad-*.ts),
 * kernel by kernel; the CPU graph is the reference it is tested against.
 *
 * Covered: standard, and topk with sparse decode and AuxK. topk's weight gradients come from the
 * B·k selected entries grouped by latent (sparse-weight-grads.ts) when `spec.sparse`, else from dense
 * [B, S] matrices and GEMMs as in SAELens. Other architectures stay on the onnxruntime graph
 * (see `wgslStepSupport`).
 */
import { MiStudioError } from '../errors.js';
import type { GpuCapabilities } from '../gpu/capabilities.js';
import { createArray, readArrays, Readback, writeArray, type GpuArray } from '../gpu/buffers.js';
import { ComputeKernel, uniformBuffer, workgroupGrid } from '../gpu/compute.js';
import { gemmShader, gemmWorkgroups, type Epilogue, type GemmShape } from '../gpu/kernels/gemm.js';
import { subgroupMatrixGemmShader, subgroupMatrixSyntax, subgroupMatrixWorkgroups, type SubgroupMatrixSyntax } from '../gpu/kernels/gemm-subgroup-matrix.js';
import { WG } from '../gpu/kernels/grid.js';
import { columnSumShader, partialSumShader, PARTIAL_GROUPS, SUM_PARTIALS } from '../gpu/kernels/reductions.js';
import { ADAM, B_DEC_GRAD, CENTRE, COLUMN_VARIANCE, FINALIZE, LATENT_TOTALS, RESIDUAL, ROW_NORMS, SLOT, STEP_STRUCT } from '../gpu/kernels/sae-step.js';
import { SparseWeightGradients } from '../gpu/kernels/sparse-weight-grads.js';
import { AUX_ERROR, MAX_TOPK, scatterShader, sparseDecodeShader, sparseGradShader, topkSelectShader, TOPK_TOTALS } from '../gpu/kernels/topk.js';
import { parameterShape, parameterSpecs, type SaeParameters } from './parameters.js';
import type { StepGraphSpec } from './step-graph.js';
import type { AdamMoments, StepInputs, StepMetrics, TrainingStepRunner } from './step-runner.js';

export type WgslStepSpec = Omit<StepGraphSpec, 'withAux'>;

/** Why this spec cannot run on the WGSL kernels, or undefined when it can. */
export function wgslStepSupport(spec: WgslStepSpec): string | undefined {
  if (spec.architecture !== 'standard' && spec.architecture !== 'topk') return `the ${spec.architecture} architecture has no WGSL kernels yet`;
  if (spec.architecture === 'topk') {
    if (spec.k > MAX_TOPK) return `topk with k = ${spec.k} exceeds the selection kernel's ${MAX_TOPK}`;
    if (auxKMax(spec) > MAX_TOPK) return `AuxK keeps up to d/2 = ${auxKMax(spec)} latents a row, more than the selection kernel's ${MAX_TOPK}`;
  }
  return undefined;
}

/** The most latents AuxK keeps a row: k_aux = min(d/2, dead) (trainer.ts). */
function auxKMax(spec: WgslStepSpec): number {
  return Math.min(Math.floor(spec.dIn / 2), spec.dSae);
}

interface Dispatch {
  /** What this dispatch does (kernels are shared between dispatches of the same code). */
  label: string;
  kernel: ComputeKernel;
  group: GPUBindGroup;
  grid: [number, number];
  /** Part of the AuxK pass: dispatched only in steps with dead latents. */
  aux: boolean;
}

/** GPU time of one kernel label within a profiled step. */
export interface KernelTime {
  label: string;
  ms: number;
  dispatches: number;
}

export class WgslSaeStepRunner implements TrainingStepRunner {
  private readonly arrays = new Map<string, GpuArray>();
  private readonly plan: Dispatch[] = [];
  private readonly clears: { array: GpuArray; aux: boolean }[] = [];
  private readonly uniforms: GPUBuffer[] = [];
  private sparseGradients: SparseWeightGradients | undefined;
  /** The metric block, the fire counts and (exposeGradients) the gradients, copied back every step. */
  private stepReadback: Readback | undefined;
  private readonly stepUniform: GPUBuffer;
  private readonly auxUniform: GPUBuffer;
  /** Whether dispatches being added belong to the AuxK pass. */
  private building: 'main' | 'aux' = 'main';
  private readonly names: string[];

  private constructor(
    readonly spec: WgslStepSpec,
    private readonly device: GPUDevice,
    private readonly capabilities: GpuCapabilities,
    private readonly syntax: SubgroupMatrixSyntax | undefined,
  ) {
    this.names = parameterSpecs(spec.architecture).map((s) => s.name);
    this.stepUniform = this.uniform('step scalars', new Float32Array(4));
    this.auxUniform = this.uniform('aux sizes', new Uint32Array(4));
  }

  static async create(spec: WgslStepSpec, params: SaeParameters, moments: AdamMoments | undefined, gpu: { device: GPUDevice; capabilities: GpuCapabilities }): Promise<WgslSaeStepRunner> {
    const reason = wgslStepSupport(spec);
    if (reason) throw new MiStudioError('UNSUPPORTED', reason, { field: 'architecture', hint: 'train on device "cpu", or on "webgpu" through the onnxruntime graph' });
    let syntax: SubgroupMatrixSyntax | undefined;
    if (gpu.capabilities.gemm === 'subgroup-matrix-f16') {
      const probe = await subgroupMatrixSyntax(gpu.device);
      if (!probe.syntax) throw new MiStudioError('DEVICE_UNAVAILABLE', `this Dawn compiles no spelling of the subgroup-matrix GEMM (${probe.errors.join('; ')})`, { field: 'MISTUDIO_WEBGPU_GEMM', hint: 'unset MISTUDIO_WEBGPU_GEMM to use the tiled f32 GEMM' });
      syntax = probe.syntax;
    }
    const runner = new WgslSaeStepRunner(spec, gpu.device, gpu.capabilities, syntax);
    gpu.device.pushErrorScope('validation');
    gpu.device.pushErrorScope('out-of-memory');
    let failure: unknown;
    try {
      runner.allocate(params, moments);
      runner.build();
    } catch (cause) {
      failure = cause;
    }
    // The scopes are popped whatever happened, so the device's error handling stays balanced.
    const oom = await gpu.device.popErrorScope();
    const invalid = await gpu.device.popErrorScope();
    failure ??= oom
      ? new MiStudioError('OUT_OF_MEMORY', `the GPU has no room for this SAE: ${oom.message}`, { field: 'dSae', hint: 'reduce dSae or batchSizeTokens' })
      : invalid && new MiStudioError('DEVICE_UNAVAILABLE', `the WGSL step kernels were rejected: ${invalid.message}`, { field: 'device' });
    if (failure) {
      await runner.release();
      throw failure;
    }
    return runner;
  }

  private uniform(label: string, values: ArrayBufferView): GPUBuffer {
    const buffer = uniformBuffer(this.device, label, values);
    this.uniforms.push(buffer);
    return buffer;
  }

  private array(name: string): GpuArray {
    const a = this.arrays.get(name);
    if (!a) throw new Error(`internal: no device array ${name}`);
    return a;
  }

  private allocate(params: SaeParameters, moments: AdamMoments | undefined): void {
    const { batch: B, dIn: d, dSae: S, k } = this.spec;
    const limitBytes = this.device.limits.maxStorageBufferBindingSize;
    const make = (name: string, length: number, data?: Float32Array | Uint32Array) => {
      // A [B, S] matrix is the largest; one over the binding limit would fail at validation, less clearly.
      if (length * 4 > limitBytes) {
        throw new MiStudioError('OUT_OF_MEMORY', `the step's ${name} needs ${length * 4} bytes, over this GPU's ${limitBytes}-byte storage binding limit`, { field: 'batchSizeTokens', hint: 'reduce batchSizeTokens or dSae' });
      }
      this.arrays.set(name, createArray(this.device, length, name, data));
    };
    for (const s of parameterSpecs(this.spec.architecture)) {
      const size = parameterShape(s, d, S).reduce((x, y) => x * y, 1);
      const check = (label: string, data: Float32Array | undefined) => {
        if (data && data.length !== size) throw new MiStudioError('SHAPE_MISMATCH', `${label} has ${data.length} values, expected ${size}`, { field: label });
        return data;
      };
      if (!params[s.name]) throw new MiStudioError('INVALID_ARGUMENT', `parameter ${s.name} is missing`, { field: s.name });
      make(s.name, size, check(s.name, params[s.name]));
      make(`adam_m_${s.name}`, size, check(`adam_m_${s.name}`, moments?.m[s.name]));
      make(`adam_v_${s.name}`, size, check(`adam_v_${s.name}`, moments?.v[s.name]));
      make(`grad_${s.name}`, size);
    }
    make('x', B * d);
    make('xc', B * d);
    make('recon', B * d);
    make('dR', B * d);
    make('n', S);
    make('rn', S);
    make('fired', S);
    make('colVariance', d);
    make('scalars', SLOT.count);
    make('partials', PARTIAL_GROUPS * 6);
    if (this.spec.architecture === 'standard') {
      make('z', B * S);
      make('dPre', B * S);
      make('zSum', S);
    } else {
      make('h', B * S);
      make('dPre', B * S);
      // The dense formulation sums a dense [B, S] activation per latent; the sparse one never does.
      if (!this.spec.sparse) {
        make('denseA', B * S);
        make('zSum', S);
      }
      make('idx', B * k);
      make('vals', B * k);
      make('a', B * k);
      make('dPreK', B * k);
      const kAux = auxKMax(this.spec);
      make('dead', S);
      make('auxIdx', B * kAux);
      make('auxVals', B * kAux);
      make('auxCoef', B * kAux);
      make('dA', B * kAux);
      make('auxErr', B * d);
      make('dRa', B * d);
      make('denseAux', B * S);
      this.clears.push({ array: this.array('dPre'), aux: this.spec.sparse }, { array: this.array('denseAux'), aux: true });
      if (!this.spec.sparse) this.clears.push({ array: this.array('denseA'), aux: false });
    }
  }

  private kernels = new Map<string, ComputeKernel>();

  private kernel(label: string, code: string): ComputeKernel {
    let k = this.kernels.get(code);
    if (!k) {
      k = new ComputeKernel(this.device, label, code);
      this.kernels.set(code, k);
    }
    return k;
  }

  private add(label: string, code: string, buffers: (GPUBuffer | string | undefined)[], grid: [number, number]): void {
    const kernel = this.kernel(label, code);
    const group = kernel.bind(buffers.map((b) => (typeof b === 'string' ? this.array(b).buffer : b)));
    this.plan.push({ label, kernel, group, grid, aux: this.building === 'aux' });
  }

  private gemm(label: string, shape: GemmShape, M: number, N: number, K: number, a: string, b: string, c: string, epilogue?: Epilogue, extra: (GPUBuffer | string)[] = []): void {
    const dims = this.uniform(`${label} dims`, new Uint32Array([M, N, K]));
    if (this.syntax) {
      const tile = this.capabilities.subgroupMatrixTile ?? 64;
      this.add(label, subgroupMatrixGemmShader(shape, epilogue, { syntax: this.syntax, tile }), [dims, a, b, c, ...extra], subgroupMatrixWorkgroups(M, N, tile));
      return;
    }
    this.add(label, gemmShader(shape, epilogue), [dims, a, b, c, ...extra], gemmWorkgroups(M, N));
  }

  /** scalars[slot] = scale · Σ (squares ? v² : v) over each array in `sources`. */
  private total(label: string, sources: string[], slot: number, scale: number, squares: boolean): void {
    const partial = partialSumShader(squares);
    sources.forEach((name, i) => {
      const p = this.uniform(`${label} ${name}`, new Uint32Array([this.array(name).length, i * PARTIAL_GROUPS]));
      this.add(`${label} partial`, partial, [p, name, 'partials'], [PARTIAL_GROUPS, 1]);
    });
    this.sum(label, 'partials', sources.length * PARTIAL_GROUPS, slot, scale);
  }

  private sum(label: string, source: string, count: number, slot: number, scale: number): void {
    const p = new ArrayBuffer(16);
    new Uint32Array(p, 0, 2).set([count, slot]);
    new Float32Array(p, 8, 1)[0] = scale;
    this.add(`${label} sum`, SUM_PARTIALS, [this.uniform(`${label} sum`, new Uint8Array(p)), source, 'scalars'], [1, 1]);
  }

  private build(): void {
    const { batch: B, dIn: d, dSae: S, k, adamBeta1, adamBeta2, adamEpsilon, gradientClipNorm } = this.spec;
    const gradients = this.spec.exposeGradients ? this.names.map((n) => this.array(`grad_${n}`)) : [];
    this.stepReadback = new Readback(this.device, [this.array('scalars'), this.array('fired'), ...gradients], 'step readback');
    const sizesData = new ArrayBuffer(32);
    new Uint32Array(sizesData, 0, 4).set([B, d, S, this.spec.architecture === 'topk' ? k : 0]);
    new Float32Array(sizesData, 16, 4).set([adamBeta1, adamBeta2, adamEpsilon, gradientClipNorm]);
    const sizes = this.uniform('sizes', new Uint8Array(sizesData));
    const perElement = (n: number) => workgroupGrid(n, WG);
    const perRow = workgroupGrid(B, 1);

    this.add('centre', CENTRE, [sizes, 'x', 'b_dec', 'xc'], perElement(B * d));
    this.add('row norms', ROW_NORMS, [sizes, 'W_dec', 'n', 'rn'], perElement(S));
    const bias = `@group(0) @binding(4) var<storage, read> bias: array<f32>;`;
    if (this.spec.architecture === 'standard') {
      this.gemm('encode', { transA: false, transB: true }, B, S, d, 'xc', 'W_encT', 'z', { bindings: bias, body: 'return max(acc + bias[col], 0.0);' }, ['b_enc']);
      this.gemm('decode', { transA: false, transB: false }, B, d, S, 'z', 'W_dec', 'recon', { bindings: bias, body: 'return acc + bias[col];' }, ['b_dec']);
      this.add('residual', RESIDUAL, [sizes, 'x', 'recon', 'dR'], perElement(B * d));
      this.total('mse', ['recon'], SLOT.mse, 1 / B, true);
      this.add('latent sums', columnSumShader(true), [this.uniform('z cols', new Uint32Array([B, S])), 'z', 'zSum', 'fired'], perElement(S));
      this.add('latent totals', LATENT_TOTALS, [sizes, 'zSum', 'fired', 'n', 'scalars'], [1, 1]);
      const dPreEpilogue: Epilogue = {
        bindings: `${STEP_STRUCT}\n@group(0) @binding(4) var<storage, read> z: array<f32>;\n@group(0) @binding(5) var<storage, read> n: array<f32>;\n@group(0) @binding(6) var<uniform> st: Step;`,
        body: 'if (z[row * dims.N + col] > 0.0) { return acc + n[col] * (st.coefficient / f32(dims.M)); }\n  return 0.0;',
      };
      this.gemm('dpre', { transA: false, transB: true }, B, S, d, 'dR', 'W_dec', 'dPre', dPreEpilogue, ['z', 'n', this.stepUniform]);
      const normGrad: Epilogue = {
        bindings: `${STEP_STRUCT}\n@group(0) @binding(4) var<storage, read> zSum: array<f32>;\n@group(0) @binding(5) var<storage, read> n: array<f32>;\n@group(0) @binding(6) var<storage, read> w: array<f32>;\n@group(0) @binding(7) var<uniform> st: Step;`,
        body: 'return acc + zSum[row] / n[row] * (st.coefficient / f32(dims.K)) * w[row * dims.N + col];',
      };
      this.gemm('grad W_dec', { transA: true, transB: false }, S, d, B, 'z', 'dR', 'grad_W_dec', normGrad, ['zSum', 'n', 'W_dec', this.stepUniform]);
    } else {
      const encode: Epilogue = this.spec.rescaleActsByDecoderNorm
        ? { bindings: `${bias}\n@group(0) @binding(5) var<storage, read> n: array<f32>;`, body: 'return (acc + bias[col]) * n[col];' }
        : { bindings: bias, body: 'return acc + bias[col];' };
      this.gemm('encode', { transA: false, transB: true }, B, S, d, 'xc', 'W_encT', 'h', encode, this.spec.rescaleActsByDecoderNorm ? ['b_enc', 'n'] : ['b_enc']);
      const rn = this.spec.rescaleActsByDecoderNorm ? 'rn' : undefined;
      this.add('topk select', topkSelectShader({ rescale: !!rn, mode: 'main', maxK: k }), [sizes, 'h', rn, 'idx', 'vals', 'a'], perRow);
      this.add('sparse decode', sparseDecodeShader('main'), [sizes, 'idx', 'a', 'W_dec', 'b_dec', 'recon'], perRow);
      this.add('residual', RESIDUAL, [sizes, 'x', 'recon', 'dR'], perElement(B * d));
      this.total('mse', ['recon'], SLOT.mse, 1 / B, true);
      this.add('sparse grad', sparseGradShader('main'), [sizes, 'idx', 'vals', 'W_dec', 'dR', 'dPreK'], perRow);
      this.add('topk totals', TOPK_TOTALS, [sizes, 'vals', 'scalars'], [1, 1]);
      if (this.spec.sparse) {
        const buffer = (name: string) => this.array(name).buffer;
        this.sparseGradients = new SparseWeightGradients(this.device, { B, k, S, d }, {
          idx: buffer('idx'), a: buffer('a'), dPreK: buffer('dPreK'), dR: buffer('dR'), xc: buffer('xc'),
          gradWdec: buffer('grad_W_dec'), gradWencT: buffer('grad_W_encT'), gradBenc: buffer('grad_b_enc'), fired: buffer('fired'),
        });
        for (const dispatch of this.sparseGradients.dispatches) this.plan.push({ ...dispatch, label: dispatch.kernel.label, aux: false });
      } else {
        this.add('scatter', scatterShader('main'), [sizes, 'idx', 'a', 'dPreK', 'denseA', 'dPre'], perElement(B * k));
        this.add('fired', columnSumShader(true), [this.uniform('A cols', new Uint32Array([B, S])), 'denseA', 'zSum', 'fired'], perElement(S));
        this.gemm('grad W_dec', { transA: true, transB: false }, S, d, B, 'denseA', 'dR', 'grad_W_dec');
      }
      // AuxK (grad-topk.ts addAuxK): the dead latents' top k_aux scores reconstruct the detached
      // residual; its gradients land in the dead rows of W_dec, W_encT and b_enc.
      this.building = 'aux';
      const kAux = auxKMax(this.spec);
      const aux = this.auxUniform;
      this.add('aux select', topkSelectShader({ rescale: !!rn, mode: 'aux', maxK: kAux }), [sizes, 'h', rn, 'auxIdx', 'auxVals', 'auxCoef', aux, 'dead'], perRow);
      this.add('aux decode', sparseDecodeShader('aux'), [sizes, 'auxIdx', 'auxCoef', 'W_dec', undefined, 'auxErr', aux], perRow);
      this.add('aux error', AUX_ERROR, [sizes, aux, 'recon', 'auxErr', 'dRa'], perElement(B * d));
      this.total('aux', ['auxErr'], SLOT.aux, 1 / B, true);
      this.add('aux grad', sparseGradShader('aux'), [sizes, 'auxIdx', undefined, 'W_dec', 'dRa', 'dA', aux], perRow);
      this.add('aux scatter', scatterShader('aux'), [sizes, 'auxIdx', 'auxCoef', 'dA', 'denseAux', 'dPre', aux], perElement(B * kAux));
      const accumulate: Epilogue = { body: 'return acc + c[row * dims.N + col];' };
      this.gemm('aux grad W_dec', { transA: true, transB: false }, S, d, B, 'denseAux', 'dRa', 'grad_W_dec', accumulate);
      if (this.spec.sparse) {
        // The main gradients are complete; AuxK's dense D (just its own entries) adds to them.
        this.gemm('aux grad W_encT', { transA: true, transB: false }, S, d, B, 'dPre', 'xc', 'grad_W_encT', accumulate);
        this.add('aux grad b_enc', columnSumShader(false, true), [this.uniform('aux dPre cols', new Uint32Array([B, S])), 'dPre', 'grad_b_enc'], perElement(S));
      }
      this.building = 'main';
    }
    if (this.spec.architecture === 'standard' || !this.spec.sparse) {
      this.gemm('grad W_encT', { transA: true, transB: false }, S, d, B, 'dPre', 'xc', 'grad_W_encT');
      this.add('grad b_enc', columnSumShader(false), [this.uniform('dPre cols', new Uint32Array([B, S])), 'dPre', 'grad_b_enc'], perElement(S));
    }
    this.add('grad b_dec', B_DEC_GRAD, [sizes, 'dR', 'grad_b_enc', 'W_encT', 'grad_b_dec'], perElement(d));
    this.add('variance', COLUMN_VARIANCE, [sizes, 'x', 'colVariance'], perElement(d));
    this.sum('variance', 'colVariance', d, SLOT.totalVariance, 1 / B);
    this.total('grad norm', this.names.map((n) => `grad_${n}`), SLOT.gradNormSquared, 1, true);
    this.add('finalize', FINALIZE, [sizes, this.stepUniform, 'scalars', this.auxUniform], [1, 1]);
    for (const name of this.names) {
      const n = this.array(name).length;
      this.add(`adam ${name}`, ADAM, [sizes, this.stepUniform, this.uniform(`adam ${name}`, new Uint32Array([n])), 'scalars', `grad_${name}`, name, `adam_m_${name}`, `adam_v_${name}`], perElement(n));
    }
  }

  async step(inputs: StepInputs): Promise<StepMetrics> {
    return this.run(inputs);
  }

  /**
   * One training step (it updates the parameters like `step`) with every dispatch in its own compute
   * pass between GPU timestamps: the milliseconds each kernel label took, summed over its dispatches,
   * slowest first. Needs the device's `timestamp-query` feature.
   */
  async profile(inputs: StepInputs): Promise<KernelTime[]> {
    if (!this.device.features.has('timestamp-query')) {
      throw new MiStudioError('UNSUPPORTED', 'this WebGPU device has no timestamp-query feature', { field: 'device', hint: 'time whole steps instead' });
    }
    const dispatches = this.activeDispatches(this.withAux(inputs));
    const querySet = this.device.createQuerySet({ label: 'step profile', type: 'timestamp', count: 2 * dispatches.length });
    const resolved = this.device.createBuffer({ label: 'step profile', size: 16 * dispatches.length, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readback = this.device.createBuffer({ label: 'step profile readback', size: 16 * dispatches.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      await this.run(inputs, { querySet, resolved, readback });
      await readback.mapAsync(GPUMapMode.READ);
      const ns = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      const byLabel = new Map<string, KernelTime>();
      dispatches.forEach((d, i) => {
        const entry = byLabel.get(d.label) ?? { label: d.label, ms: 0, dispatches: 0 };
        entry.ms += Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
        entry.dispatches++;
        byLabel.set(d.label, entry);
      });
      return [...byLabel.values()].sort((a, b) => b.ms - a.ms);
    } finally {
      querySet.destroy();
      resolved.destroy();
      readback.destroy();
    }
  }

  /** The plan in order, less the AuxK pass in steps without dead latents. */
  private activeDispatches(withAux: boolean): Dispatch[] {
    return this.plan.filter((d) => withAux || !d.aux);
  }

  private withAux(inputs: StepInputs): boolean {
    return this.spec.architecture === 'topk' && !!inputs.aux && inputs.aux.deadIndices.length > 0;
  }

  private async run(inputs: StepInputs, timing?: { querySet: GPUQuerySet; resolved: GPUBuffer; readback: GPUBuffer }): Promise<StepMetrics> {
    const { batch, dIn } = this.spec;
    if (inputs.x.length !== batch * dIn) throw new MiStudioError('SHAPE_MISMATCH', `batch has ${inputs.x.length} values, expected [${batch}, ${dIn}]`, { field: 'x' });
    const withAux = this.withAux(inputs);
    const auxBlock = new ArrayBuffer(16);
    if (withAux) {
      const { deadIndices, kAux, auxScale } = inputs.aux!;
      if (kAux < 1 || kAux > Math.min(deadIndices.length, auxKMax(this.spec))) throw new MiStudioError('INVALID_ARGUMENT', `kAux ${kAux} must be in [1, min(${deadIndices.length} dead, ${auxKMax(this.spec)})]`, { field: 'kAux' });
      writeArray(this.device, this.array('dead'), Uint32Array.from(deadIndices));
      new Uint32Array(auxBlock, 0, 2).set([deadIndices.length, kAux]);
      new Float32Array(auxBlock, 8, 1)[0] = auxScale;
    }
    this.device.queue.writeBuffer(this.auxUniform, 0, auxBlock);
    writeArray(this.device, this.array('x'), inputs.x);
    this.device.queue.writeBuffer(this.stepUniform, 0, new Float32Array([inputs.coefficient, inputs.stepSize, inputs.biasCorrection2Sqrt, 0]));
    const encoder = this.device.createCommandEncoder({ label: 'sae step' });
    for (const c of this.clears) if (withAux || !c.aux) encoder.clearBuffer(c.array.buffer);
    const dispatches = this.activeDispatches(withAux);
    if (timing) {
      dispatches.forEach((d, i) => {
        const pass = encoder.beginComputePass({ label: d.label, timestampWrites: { querySet: timing.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        d.kernel.dispatch(pass, d.group, d.grid[0], d.grid[1]);
        pass.end();
      });
      encoder.resolveQuerySet(timing.querySet, 0, 2 * dispatches.length, timing.resolved, 0);
      encoder.copyBufferToBuffer(timing.resolved, 0, timing.readback, 0, 16 * dispatches.length);
    } else {
      const pass = encoder.beginComputePass({ label: 'sae step' });
      for (const d of dispatches) d.kernel.dispatch(pass, d.group, d.grid[0], d.grid[1]);
      pass.end();
    }
    this.stepReadback!.encode(encoder);
    this.device.queue.submit([encoder.finish()]);
    const [scalarBytes, firedBytes, ...gradBytes] = await this.stepReadback!.read();
    const s = new Float32Array(scalarBytes);
    const metrics = {
      loss: s[SLOT.loss], mseLoss: s[SLOT.mse], sparsityLoss: s[SLOT.sparsity], auxLoss: s[SLOT.aux], l0: s[SLOT.l0], l1: s[SLOT.l1],
      totalVariance: s[SLOT.totalVariance], gradNorm: s[SLOT.gradNorm],
      firedCount: new Float32Array(firedBytes),
      committed: s[SLOT.committed] === 1,
    } as StepMetrics;
    if (gradBytes.length) metrics.gradients = Object.fromEntries(this.names.map((n, i) => [n, new Float32Array(gradBytes[i])]));
    return metrics;
  }

  async parameters(): Promise<SaeParameters> {
    return this.read(this.names, '');
  }

  async moments(): Promise<AdamMoments> {
    return { m: await this.read(this.names, 'adam_m_'), v: await this.read(this.names, 'adam_v_') };
  }

  private async read(names: string[], prefix: string): Promise<SaeParameters> {
    const bytes = await readArrays(this.device, names.map((n) => this.array(prefix + n)));
    return Object.fromEntries(names.map((n, i) => [n, new Float32Array(bytes[i])]));
  }

  async release(): Promise<void> {
    for (const a of this.arrays.values()) a.buffer.destroy();
    this.arrays.clear();
    for (const u of this.uniforms) u.destroy();
    this.uniforms.length = 0;
    this.sparseGradients?.destroy();
    this.sparseGradients = undefined;
    this.stepReadback?.destroy();
    this.stepReadback = undefined;
  }
}
