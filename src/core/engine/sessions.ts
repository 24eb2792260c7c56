import { createHash } from 'node:crypto';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ResolvedDevice } from './devices.js';
import type { ExternalDataFile } from './graph-builder.js';

export interface SessionSettings {
  device: ResolvedDevice;
  /** CPU threads for one operator; default: all cores. */
  intraOpNumThreads?: number;
  /** Keep outputs on the GPU (webgpu/cuda) so the next graph can consume them without a copy. */
  preferredOutputLocation?: ort.InferenceSession.SessionOptions['preferredOutputLocation'];
  graphOptimizationLevel?: ort.InferenceSession.SessionOptions['graphOptimizationLevel'];
}

/** Default CPU thread count: MISTUDIO_THREADS, else every core the process may use. */
export function defaultThreadCount(): number {
  const env = Number(process.env.MISTUDIO_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return os.availableParallelism();
}

export function sessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [settings.device],
    intraOpNumThreads: settings.intraOpNumThreads ?? defaultThreadCount(),
    interOpNumThreads: 1,
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    ...(settings.preferredOutputLocation ? { preferredOutputLocation: settings.preferredOutputLocation } : {}),
    logSeverityLevel: 3,
  };
}

/** A serialized model, optionally with the in-memory external data files its initializers reference. */
export type BuiltModel = Uint8Array | { model: Uint8Array; externalData: ExternalDataFile[] };

/**
 * Sessions keyed by (graph key, settings). A graph is built once per (architecture, hooks, shapes);
 * callers pass a key that names those, plus a builder that is only invoked on a miss.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  async get(key: string, settings: SessionSettings, build: () => BuiltModel | Promise<BuiltModel>): Promise<ort.InferenceSession> {
    const fullKey = `${key}|${JSON.stringify(settings)}`;
    let p = this.sessions.get(fullKey);
    if (!p) {
      p = (async () => {
        const built = await build();
        if (built instanceof Uint8Array) return ort.InferenceSession.create(built, sessionOptions(settings));
        return ort.InferenceSession.create(built.model, { ...sessionOptions(settings), externalData: built.externalData });
      })();
      this.sessions.set(fullKey, p);
      p.catch(() => this.sessions.delete(fullKey));
    }
    return p;
  }

  get size(): number {
    return this.sessions.size;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      const s = await p.catch(() => undefined);
      await s?.release();
    }
  }
}

/** A short stable digest, for graph keys that depend on large option objects. */
export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
