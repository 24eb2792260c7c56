/**
 * Offline default labels, written when an analysis completes so every live feature has a name
 * before any LLM is asked: the tokens its top examples fire on most often, and (for residual-stream
 * SAEs) the tokens its decoder direction promotes most through the logit lens, e.g.
 * `on “ the”, “ a” → “ cat”, “ dog”`.
 */
import type { Catalog } from '../catalog/index.js';
import type { Model } from '../models/model.js';
import type { SaeModel } from '../sae/sae-model.js';
import { analysisTokenizerDir, FeaturesFile, readManifestFile } from './analysis-files.js';
import type { ExampleRecord } from './feature-accumulator.js';
import { FeatureTables, type FeatureAnalysisRecord } from './feature-tables.js';
import { extremes, directionLogits, decoderRows } from './logit-lens.js';
import { assertResidualSpace } from './sae-hook.js';
import { TokenText } from './token-text.js';

/** The most frequent activating tokens of a feature's top examples (ties: the higher-ranked first). */
export function topActivatingTokens(examples: readonly ExampleRecord[], n: number): number[] {
  const counts = new Map<number, { count: number; first: number }>();
  examples.forEach((e, rank) => {
    const id = e.tokenIds[e.token - e.windowStart];
    const c = counts.get(id);
    if (c) c.count++;
    else counts.set(id, { count: 1, first: rank });
  });
  return [...counts.entries()].sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first).slice(0, n).map(([id]) => id);
}

export function formatDefaultLabel(fires: readonly string[], promotes: readonly string[]): string {
  const q = (s: string) => `“${s.replace(/\n/g, '↵')}”`;
  const parts = [`on ${fires.map(q).join(', ')}`];
  if (promotes.length) parts.push(`→ ${promotes.map(q).join(', ')}`);
  return parts.join(' ');
}

function isResidual(hook: string): boolean {
  try {
    assertResidualSpace(hook, 'default labels');
    return true;
  } catch {
    return false;
  }
}

/** Default labels of every feature that fired (top 3 activating tokens, top 3 logit-lens tokens). */
export async function writeDefaultLabels(catalog: Catalog, record: FeatureAnalysisRecord, model: Model, sae: SaeModel): Promise<void> {
  const manifest = readManifestFile(record.dir);
  const text = TokenText.fromDir(analysisTokenizerDir(record.dir, manifest));
  const file = new FeaturesFile(record.dir);
  try {
    const alive: number[] = [];
    const fired = file.firedCounts();
    for (let f = 0; f < file.S; f++) if (fired[f] > 0) alive.push(f);
    const promotes = new Map<number, string[]>();
    if (isResidual(manifest.hook) && sae.dIn === model.config.dModel) {
      const V = model.config.vocabSize;
      const chunk = 256;
      for (let i = 0; i < alive.length; i += chunk) {
        const features = alive.slice(i, i + chunk);
        const logits = await directionLogits(model, decoderRows(sae, features));
        features.forEach((f, j) => promotes.set(f, extremes(logits.subarray(j * V, (j + 1) * V), 3, 1).map((t) => text.of(t.tokenId))));
      }
    }
    const labels = alive.map((f) => ({ feature: f, label: formatDefaultLabel(topActivatingTokens(file.topExamples(f), 3).map((id) => text.of(id)), promotes.get(f) ?? []) }));
    new FeatureTables(catalog).setLabels(record.id, 'default', labels);
  } finally {
    file.close();
  }
}

