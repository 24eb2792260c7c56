/**
 * Runs the training-step graph with the parameters and Adam moments resident between steps.
 *
 * CPU: every state tensor has two preallocated buffers; a step reads the front set and onnxruntime
 * writes the results straight into the back set (preallocated outputs, no copies), which becomes
 * the front only if the step's loss is finite. A NaN step therefore leaves the last good state
 * untouched, and the trainer can checkpoint it and pause.
 * GPU (webgpu/cuda): state outputs are requested as 'gpu-buffer' and fed back as inputs, so they stay
 * on the device; the previous step's tensors are disposed only once a step has been committed.
 */
import type * as ortTypes from 'onnxruntime-node';
import { MiStudioError } from '../errors.js';
import type { ResolvedDevice } from '../engine/devices.js';
import { SessionCache } from '../engine/sessions.js';
import { ort } from '../engine/tensors.js';
import { parameterShape, parameterSpecs, type SaeParameters } from './parameters.js';
import { buildStepGraph, METRIC_OUTPUTS, stepGraphKey, type MetricName, type StepGraphSpec } from './step-graph.js';

export interface StepInputs {
  /** [B, d] */
  x: Float32Array;
  coefficient: number;
  stepSize: number;
  biasCorrection2Sqrt: number;
  /** AuxK over these dead latents (topk/batchtopk); omitted when none are dead. */
  aux?: { deadIndices: readonly number[]; kAux: number; auxScale: number };
}

export type StepMetrics = Record<MetricName, number> & {
  /** [S] rows each latent fired on. */
  firedCount: Float32Array;
  /** batchtopk: smallest positive activation of the batch (Infinity when none). */
  minPositiveAct?: number;
  /** Raw gradients, when the runner was created with exposeGradients. */
  gradients?: SaeParameters;
  /** False when the loss or any gradient was not finite; the state was then left unchanged. */
  committed: boolean;
};

export interface AdamMoments {
  m: SaeParameters;
  v: SaeParameters;
}

export interface StepRunnerOptions {
  device: ResolvedDevice;
  intraOpNumThreads?: number;
  cache?: SessionCache;
}

/** What the trainer drives: one SAE training step at a time, the state kept where the step runs. */
export interface TrainingStepRunner {
  readonly spec: Omit<StepGraphSpec, 'withAux'>;
  /** Runs one step; commits the new state only when the loss and gradient norm are finite. */
  step(inputs: StepInputs): Promise<StepMetrics>;
  /** Copies of the current parameters (training layout). */
  parameters(): Promise<SaeParameters>;
  moments(): Promise<AdamMoments>;
  release(): Promise<void>;
}

type StateName = string;

export class SaeStepRunner implements TrainingStepRunner {
  private front: Map<StateName, ortTypes.Tensor>;
  private back: Map<StateName, ortTypes.Tensor> | undefined;
  private readonly stateNames: StateName[];
  private readonly ownsCache: boolean;

  private constructor(
    readonly spec: Omit<StepGraphSpec, 'withAux'>,
    private readonly options: StepRunnerOptions,
    private readonly cache: SessionCache,
    state: Map<StateName, ortTypes.Tensor>,
    ownsCache: boolean,
  ) {
    this.front = state;
    this.stateNames = [...state.keys()];
    this.ownsCache = ownsCache;
    if (options.device === 'cpu') {
      this.back = new Map([...state].map(([name, t]) => [name, new ort.Tensor('float32', new Float32Array(t.size), t.dims)]));
    }
  }

  static async create(spec: Omit<StepGraphSpec, 'withAux'>, params: SaeParameters, moments: AdamMoments | undefined, options: StepRunnerOptions): Promise<SaeStepRunner> {
    const state = new Map<StateName, ortTypes.Tensor>();
    for (const s of parameterSpecs(spec.architecture)) {
      const shape = parameterShape(s, spec.dIn, spec.dSae);
      const size = shape.reduce((a, b) => a * b, 1);
      const put = (name: string, data: Float32Array | undefined) => {
        if (data && data.length !== size) throw new MiStudioError('SHAPE_MISMATCH', `${name} has ${data.length} values, expected [${shape.join(', ')}]`, { field: name });
        state.set(name, new ort.Tensor('float32', data ? Float32Array.from(data) : new Float32Array(size), shape));
      };
      if (!params[s.name]) throw new MiStudioError('INVALID_ARGUMENT', `parameter ${s.name} is missing`, { field: s.name });
      put(s.name, params[s.name]);
      put(`adam_m_${s.name}`, moments?.m[s.name]);
      put(`adam_v_${s.name}`, moments?.v[s.name]);
    }
    const cache = options.cache ?? new SessionCache();
    const runner = new SaeStepRunner(spec, options, cache, state, !options.cache);
    await runner.session(false);
    return runner;
  }

  private session(withAux: boolean): Promise<ortTypes.InferenceSession> {
    const spec: StepGraphSpec = { ...this.spec, withAux };
    const settings = {
      device: this.options.device,
      intraOpNumThreads: this.options.intraOpNumThreads,
      ...(this.options.device === 'cpu' ? {} : { preferredOutputLocation: Object.fromEntries(this.stateNames.map((n) => [`${n}_next`, 'gpu-buffer' as const])) }),
    };
    return this.cache.get(stepGraphKey(spec), settings, () => buildStepGraph(spec));
  }

  /** Runs one step; commits the new state only when the loss and gradient norm are finite. */
  async step(inputs: StepInputs): Promise<StepMetrics> {
    const { batch, dIn } = this.spec;
    if (inputs.x.length !== batch * dIn) throw new MiStudioError('SHAPE_MISMATCH', `batch has ${inputs.x.length} values, expected [${batch}, ${dIn}]`, { field: 'x' });
    const withAux = !!inputs.aux && inputs.aux.deadIndices.length > 0;
    const session = await this.session(withAux);
    const feeds: Record<string, ortTypes.Tensor> = {
      x: new ort.Tensor('float32', inputs.x, [batch, dIn]),
      coefficient: new ort.Tensor('float32', new Float32Array([inputs.coefficient]), []),
      stepSize: new ort.Tensor('float32', new Float32Array([inputs.stepSize]), []),
      biasCorrection2Sqrt: new ort.Tensor('float32', new Float32Array([inputs.biasCorrection2Sqrt]), []),
    };
    if (withAux) {
      const aux = inputs.aux!;
      feeds.deadIndices = new ort.Tensor('int64', BigInt64Array.from(aux.deadIndices, (i) => BigInt(i)), [aux.deadIndices.length]);
      feeds.kAux = new ort.Tensor('int64', new BigInt64Array([BigInt(aux.kAux)]), [1]);
      feeds.auxScale = new ort.Tensor('float32', new Float32Array([aux.auxScale]), []);
    }
    for (const [name, t] of this.front) feeds[name] = t;
    const fetches: Record<string, ortTypes.Tensor | null> = {};
    for (const name of session.outputNames) fetches[name] = null;
    if (this.back) for (const [name, t] of this.back) fetches[`${name}_next`] = t;
    const out = await session.run(feeds, fetches);

    const metrics = {} as StepMetrics;
    for (const name of METRIC_OUTPUTS) metrics[name] = (out[name].data as Float32Array)[0];
    metrics.firedCount = out.firedCount.data as Float32Array;
    if (out.minPositiveAct) metrics.minPositiveAct = (out.minPositiveAct.data as Float32Array)[0];
    if (this.spec.exposeGradients) {
      metrics.gradients = {};
      for (const s of parameterSpecs(this.spec.architecture)) metrics.gradients[s.name] = out[`grad_${s.name}`].data as Float32Array;
    }
    metrics.committed = Number.isFinite(metrics.loss) && Number.isFinite(metrics.gradNorm);
    if (metrics.committed) {
      if (this.back) {
        const previous = this.front;
        this.front = this.back;
        this.back = previous;
      } else {
        const next = new Map(this.stateNames.map((n) => [n, out[`${n}_next`]]));
        for (const t of this.front.values()) t.dispose();
        this.front = next;
      }
    } else if (!this.back) {
      for (const n of this.stateNames) out[`${n}_next`].dispose();
    }
    return metrics;
  }

  /** Copies of the current parameters (training layout). */
  async parameters(): Promise<SaeParameters> {
    return this.read(parameterSpecs(this.spec.architecture).map((s) => s.name));
  }

  async moments(): Promise<AdamMoments> {
    const names = parameterSpecs(this.spec.architecture).map((s) => s.name);
    const m = await this.read(names.map((n) => `adam_m_${n}`));
    const v = await this.read(names.map((n) => `adam_v_${n}`));
    const strip = (rec: SaeParameters, prefix: string) => Object.fromEntries(Object.entries(rec).map(([k, val]) => [k.slice(prefix.length), val]));
    return { m: strip(m, 'adam_m_'), v: strip(v, 'adam_v_') };
  }

  private async read(names: string[]): Promise<SaeParameters> {
    const result: SaeParameters = {};
    for (const name of names) {
      const t = this.front.get(name)!;
      const data = t.location === 'cpu' ? (t.data as Float32Array) : ((await t.getData()) as Float32Array);
      result[name] = Float32Array.from(data);
    }
    return result;
  }

  async release(): Promise<void> {
    if (this.ownsCache) await this.cache.release();
  }
}
