/**
 * Training runs for the workspace-view tests and bench/views.ts, recorded through the run-history
 * API (TrainingRunsTable.create / recordMetrics / setStatus) exactly as a trainer records them,
 * optionally each with a real run directory (config.json and a checkpoint-sized file) so deleting a
 * run can be checked on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../../catalog/catalog.js';
import { resolveTrainingConfig, type Architecture } from '../../sae/config.js';
import { TrainingRunsTable, type RunStatus } from '../../sae/run-history.js';
import type { TrainingMetrics } from '../../sae/trainer.js';

export interface GeneratedRun {
  name: string;
  status: RunStatus;
  architecture: Architecture;
  runDir: string;
  /** Final metrics recorded (null when the run never logged). */
  mse: number | null;
}

/** A workspace catalog from this source tree or from its build (src/core/dist). */
export type CatalogLike = Pick<Catalog, 'db' | 'root' | 'write'>;

const ARCHS: Architecture[] = ['topk', 'batchtopk', 'standard', 'jumprelu', 'gated'];
const STATUSES: RunStatus[] = ['completed', 'completed', 'completed', 'failed', 'stopped', 'running', 'paused', 'pending'];

/** Metrics row as the trainer emits it (no density histogram content needed for the catalog). */
export function metricsRow(step: number, totalSteps: number, loss: number, l0: number, extra: Partial<TrainingMetrics> = {}): TrainingMetrics {
  return {
    step, tokens: step * 256, totalSteps, lr: 3e-4, sparsityCoefficient: 1, loss, mseLoss: loss * 0.9, sparsityLoss: loss * 0.1, auxLoss: 0, l0, l1: l0 * 0.5,
    explainedVariance: 1 - loss, deadLatents: Math.max(0, 50 - step), latentsBelowThreshold: 0, denseLatents: 0, meanLog10Density: -3,
    densityHistogram: { log10DensityEdges: [], counts: [] }, tokensPerSecond: 5000, batchSizeTokens: 256, ...extra,
  };
}

/**
 * Records `count` runs named `<prefix>-00000`…; statuses cycle deterministically (5 of 8 finished).
 * With `dirsUnder`, each run gets a directory there holding config.json and a 4 KiB weights file.
 */
export function generateRuns(catalog: CatalogLike, count: number, options: { prefix?: string; dirsUnder?: string; metricsPerRun?: number } = {}): GeneratedRun[] {
  // The kernel tests and the bench hold the built (dist) Catalog class of this same code.
  const runs = new TrainingRunsTable(catalog as Catalog);
  const prefix = options.prefix ?? 'run';
  const out: GeneratedRun[] = [];
  const steps = options.metricsPerRun ?? 4;
  catalog.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const architecture = ARCHS[i % ARCHS.length];
      const status = STATUSES[i % STATUSES.length];
      const config = resolveTrainingConfig({ architecture, dIn: 64, dSae: 64 * (1 + (i % 4)), k: 8 + (i % 5) * 8, lr: 1e-4 * (1 + (i % 3)), batchSizeTokens: 256, trainingTokens: 256 * 10 * steps });
      const name = `${prefix}-${String(i).padStart(5, '0')}`;
      const runDir = options.dirsUnder ? path.join(options.dirsUnder, name) : path.join(catalog.root, 'runs', name);
      if (options.dirsUnder) {
        mkdirSync(runDir, { recursive: true });
        writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(config));
        writeFileSync(path.join(runDir, 'checkpoint.safetensors'), Buffer.alloc(4096, i % 251));
      }
      const rec = runs.create({ name, config, hook: `blocks.${i % 6}.hook_resid_post`, model: i % 2 ? 'tiny-gpt2' : 'tiny-llama', runDir, status: 'running' });
      let mse: number | null = null;
      if (status !== 'pending') {
        for (let s = 1; s <= steps; s++) {
          const loss = (0.5 + (i % 7) * 0.05) / Math.sqrt(s);
          const m = metricsRow(s * 10, steps * 10, loss, config.k + (i % 3) - 1, s === steps && i % 2 === 0 ? { eval: { ceLossRecovered: 0.8 + (i % 10) / 100, klDivWithSae: 0.1 } } : {});
          runs.recordMetrics(rec.id, m);
          mse = m.mseLoss;
        }
      }
      runs.setStatus(rec.id, status, status === 'failed' ? 'loss was not finite' : null);
      out.push({ name, status, architecture, runDir, mse });
    }
  })();
  return out;
}
