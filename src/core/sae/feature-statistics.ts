/**
 * Per-latent firing statistics (SAELens semantics): steps since each latent last fired (a latent
 * is dead once that exceeds deadFeatureWindow; AuxK trains exactly those) and firing counts over
 * the feature-sampling window, from which densities, the dead/dense counts and the log10 density
 * histogram are derived.
 */
export interface FeatureStatisticsState {
  stepsSinceFired: Float32Array;
  windowFireCounts: Float32Array;
  windowTokens: number;
  windowSteps: number;
}

export interface DensityHistogram {
  /** Left edges of the log10-density bins; the first bin also holds latents that never fired (log10(1e-10)). */
  log10DensityEdges: number[];
  counts: number[];
}

export interface FeatureDensitySummary {
  /** Latents past the dead-feature window (those AuxK trains). */
  deadLatents: number;
  /** Latents whose window density is at most deadFeatureThreshold. */
  latentsBelowThreshold: number;
  denseLatents: number;
  meanLog10Density: number;
  histogram: DensityHistogram;
}

const HISTOGRAM_MIN = -10;
const HISTOGRAM_BINS = 20;

export class FeatureStatistics {
  readonly stepsSinceFired: Float32Array;
  windowFireCounts: Float32Array;
  windowTokens = 0;
  windowSteps = 0;

  constructor(readonly dSae: number, private readonly deadWindow: number, private readonly samplingWindow: number, state?: FeatureStatisticsState) {
    this.stepsSinceFired = state ? Float32Array.from(state.stepsSinceFired) : new Float32Array(dSae);
    this.windowFireCounts = state ? Float32Array.from(state.windowFireCounts) : new Float32Array(dSae);
    if (state) {
      this.windowTokens = state.windowTokens;
      this.windowSteps = state.windowSteps;
    }
  }

  /** Records one step's per-latent firing counts over `tokens` rows. */
  record(firedCount: Float32Array, tokens: number): void {
    if (this.windowSteps === this.samplingWindow) {
      this.windowFireCounts = new Float32Array(this.dSae);
      this.windowTokens = 0;
      this.windowSteps = 0;
    }
    for (let i = 0; i < this.dSae; i++) {
      const fired = firedCount[i];
      this.stepsSinceFired[i] = fired > 0 ? 0 : this.stepsSinceFired[i] + 1;
      this.windowFireCounts[i] += fired;
    }
    this.windowTokens += tokens;
    this.windowSteps++;
  }

  /** Indices of latents that have not fired for more than the dead-feature window. */
  deadLatents(): number[] {
    const dead: number[] = [];
    for (let i = 0; i < this.dSae; i++) if (this.stepsSinceFired[i] > this.deadWindow) dead.push(i);
    return dead;
  }

  /** Firing frequency of each latent over the current window. */
  densities(): Float64Array {
    const t = Math.max(this.windowTokens, 1);
    return Float64Array.from(this.windowFireCounts, (c) => c / t);
  }

  /** SAELens' sparsity.safetensors content: log10(density + 1e-10). */
  log10Densities(): Float32Array {
    return Float32Array.from(this.densities(), (p) => Math.log10(p + 1e-10));
  }

  summary(deadThreshold: number, denseThreshold: number): FeatureDensitySummary {
    const densities = this.densities();
    const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
    let logSum = 0;
    let below = 0;
    let dense = 0;
    for (const p of densities) {
      const lg = Math.log10(p + 1e-10);
      logSum += lg;
      if (p <= deadThreshold) below++;
      if (p > denseThreshold) dense++;
      const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((lg - HISTOGRAM_MIN) / -HISTOGRAM_MIN) * HISTOGRAM_BINS)));
      counts[bin]++;
    }
    return {
      deadLatents: this.deadLatents().length,
      latentsBelowThreshold: below,
      denseLatents: dense,
      meanLog10Density: logSum / this.dSae,
      histogram: { log10DensityEdges: Array.from({ length: HISTOGRAM_BINS }, (_, i) => HISTOGRAM_MIN + (i * -HISTOGRAM_MIN) / HISTOGRAM_BINS), counts },
    };
  }

  state(): FeatureStatisticsState {
    return { stepsSinceFired: this.stepsSinceFired, windowFireCounts: this.windowFireCounts, windowTokens: this.windowTokens, windowSteps: this.windowSteps };
  }
}
