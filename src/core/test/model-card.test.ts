/**
 * Issue 12, acceptance 2: the architecture viewer's data (`modelCard`) lists the same hook names and
 * shapes as `mistudio models inspect --json` for every supported architecture (one tiny fixture
 * each), and those shapes are the shapes `model.run` actually returns for a [2, 5] batch. Also the
 * parameter count against the sum of the stored tensors and the memory estimates' ordering.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { architectureList, concreteShape, loadModel, modelCard, readSafetensorsHeader } from '../models/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, 'fixtures', 'models');
const MAIN = path.join(here, '..', 'cli', 'main.ts');

const fixtures = readdirSync(FIXTURES)
  .filter((d) => existsSync(path.join(FIXTURES, d, 'config.json')))
  .map((d) => ({ dir: path.join(FIXTURES, d), modelType: (JSON.parse(readFileSync(path.join(FIXTURES, d, 'config.json'), 'utf8')) as { model_type: string }).model_type }));

function inspectJson(dir: string): { hooks: string[]; hookPoints: { name: string; shape: (number | string)[]; layer: number | null }[]; architecture: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'models', 'inspect', dir, '--json'], { encoding: 'utf8', env: { ...process.env, MISTUDIO_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`inspect ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('architecture viewer vs mistudio models inspect --json', () => {
  it('has a tiny fixture for every supported architecture', () => {
    for (const arch of architectureList()) {
      expect(fixtures.some((f) => arch.modelTypes.includes(f.modelType)), `fixture for ${arch.name} (${arch.modelTypes.join('/')})`).toBe(true);
    }
  });

  for (const f of fixtures) {
    it(`${path.basename(f.dir)} (${f.modelType}): same hooks and shapes, and the shapes model.run returns`, async () => {
      const model = await loadModel(f.dir, { threads: 1 });
      try {
        const card = modelCard(model);
        const cli = inspectJson(f.dir);
        expect(card.hooks.map((h) => h.name)).toEqual(cli.hooks);
        expect(card.hooks).toEqual(cli.hookPoints);
        expect(card.architecture).toBe(cli.architecture);

        const B = 2, T = 5;
        const out = await model.run(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (3 + 7 * b + t) % model.config.vocabSize)), { cache: card.hooks.map((h) => h.name), logits: 'none' });
        for (const h of card.hooks) expect(out.cache.get(h.name)!.shape, h.name).toEqual(concreteShape(h.shape, B, T));

        let stored = 0;
        for (const file of readdirSync(f.dir).filter((x) => x.endsWith('.safetensors') && !x.startsWith('reference'))) {
          for (const e of readSafetensorsHeader(path.join(f.dir, file)).entries.values()) stored += e.shape.reduce((a, b) => a * b, 1);
        }
        expect(card.parameters).toBe(stored);
        const bytes = Object.fromEntries(card.memory.map((m) => [m.precision, m.weightBytes]));
        expect(bytes.f32).toBeGreaterThan(bytes.f16);
        expect(bytes.f16).toBeGreaterThan(bytes.int8);
        expect(bytes.int8).toBeGreaterThan(bytes.int4);
      } finally {
        await model.release();
      }
    });
  }
});
