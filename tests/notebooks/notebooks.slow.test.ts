/**
 * Issue 10, acceptance 2: the example notebooks 02–06 execute top to bottom on the `mistudio` kernel
 * (nbclient from the project venv, as `jupyter nbconvert --execute` would run them), and their
 * outputs hold what the notebook says they hold: the widget bundles (live view, data for the MIME
 * renderer, a static HTML snapshot, plain text, and the widget state saved in metadata.widgets), and
 * numbers in range — SmolLM2's top prediction, explained variance and L0 of each SAE architecture,
 * bit-identical resume, CE loss recovered, agreement with SAELens' own outputs. A failure names the
 * notebook, the cell index and the head of the cell's source.
 *
 * 01-quickstart is driven in a real browser instead (quickstart.slow.test.ts). The notebooks share
 * one temporary workspace (MISTUDIO_WORKSPACE) and run in order, as a reader would: 05 reuses the
 * activations 04 extracted, 06 loads the SAE that 05 trained. Budget on two CPU cores: ~4 minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runPython } from '../../kernel-extensions/test/run-python.js';
import { ExecutedNotebook, type ExecutedCell } from './executed-notebook.js';

const NOTEBOOKS = path.join(REPO_ROOT, 'notebooks');
const EXECUTOR = path.join(REPO_ROOT, 'tests', 'notebooks', 'execute_notebook.py');
/** Per notebook: the executor's own limit (480 s) plus reading the result. */
const NOTEBOOK_TIMEOUT_MS = 500_000;

interface ExecutionReport {
  ok: boolean;
  seconds: number;
  cellSeconds: [number, number][];
  failed: { index: number; sourceHead: string; ename: string; evalue: string; traceback: string; stderr: string } | null;
}

let scratch: string;
let workspace: string;
const seconds: Record<string, number> = {};

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'ms-notebooks-'));
  workspace = path.join(scratch, 'workspace');
});
afterAll(() => {
  console.log(`notebook run times (s): ${JSON.stringify(seconds)}`);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Executes notebooks/<name>.ipynb; throws with the failing cell named. */
async function execute(name: string): Promise<ExecutedNotebook> {
  const executed = path.join(scratch, `${name}.ipynb`);
  const env: Record<string, string> = { MISTUDIO_WORKSPACE: workspace, MISTUDIO_LABELER_URL: '' };
  const report = await runPython<ExecutionReport>({
    args: [EXECUTOR, path.join(NOTEBOOKS, `${name}.ipynb`), executed, '--workdir', scratch, '--cell-timeout', '400'],
    env,
    cwd: scratch,
    timeoutMs: 480_000,
  });
  seconds[name] = report.seconds;
  if (!report.ok) {
    const f = report.failed!;
    // tslab reports a cell's error on stderr (then nbclient's evalue quotes it); kernels with error outputs fill traceback.
    const detail = f.evalue.includes(f.stderr) ? f.evalue : `${f.evalue}\n${f.stderr}`;
    throw new Error(`${name}.ipynb cell ${f.index} (“${f.sourceHead}”) failed: ${f.ename}: ${detail}\n${f.traceback}`);
  }
  const nb = new ExecutedNotebook(executed);
  checkEveryWidget(nb);
  for (const c of nb.codeCells()) {
    c.check((cell) => expect(cell.outputs.filter((o) => o.output_type === 'stream' && o.name === 'stderr').map((o) => o.text)).toEqual([]));
  }
  return nb;
}

/**
 * Every widget output carries the four representations, its snapshot is the element's static
 * rendering, and metadata.widgets holds its model (tag and props) for live re-rendering.
 */
function checkEveryWidget(nb: ExecutedNotebook): void {
  const state = nb.widgetState();
  for (const w of nb.allWidgets()) {
    w.cell.check(() => {
      expect(w.modelId, `<${w.tag}> has no widget-view model id`).toBeTruthy();
      expect(w.html).toContain(`data-ms-snapshot="${w.tag}"`);
      expect(w.html).not.toMatch(/<script/i);
      expect(w.plain).toContain(w.tag);
      const model = state[w.modelId!];
      expect(model, `metadata.widgets has no state for <${w.tag}> ${w.modelId}`).toBeDefined();
      expect(model.state).toMatchObject({ _model_name: 'MiStudioModel', _view_name: 'MiStudioView', tag: w.tag });
      expect(Object.keys(model.state.props as object).sort()).toEqual(Object.keys(w.props).sort());
    });
  }
}

/** Rows of a console.table printed to stdout, as arrays of cell strings (quotes removed). */
function tableRows(cell: ExecutedCell): string[][] {
  return cell
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('│') && !l.includes('(index)'))
    .map((l) => l.split('│').slice(2, -1).map((s) => s.trim().replace(/^'(.*)'$/, '$1')));
}

describe('example notebooks on the mistudio kernel', () => {
  it('02-models-and-hooks: predictions, hook points, cache, interventions, patching, steering', async () => {
    const nb = await execute('02-models-and-hooks');
    nb.cell('const model = await loadModel').check((c) => {
      expect((c.widget('ms-model-card').props.hooks as unknown[]).length).toBe(12 * 30 + 2);
    });
    nb.cell('const tok = model.tokenizer').check((c) => {
      const [first] = tableRows(c);
      expect(first[0]).toBe('" Paris"');
      expect(Number(first[2])).toBeGreaterThan(0.5);
    });
    nb.cell('const points = hookPoints').check((c) => {
      expect(c.number(/(\d+) hook points/)).toBe(12 * 30 + 2);
      expect(c.stdout()).toContain('cached 31 hooks, each [1, 16, 576]');
    });
    nb.cell('const perToken').check((c) => {
      const w = c.widget('ms-token-highlight');
      expect((w.props.tokens as string[]).length).toBe(16);
      expect((w.props.values as number[]).length).toBe(16);
      const mean = c.number(/mean next-token loss ([\d.]+) nats/);
      expect(mean).toBeGreaterThan(1);
      expect(mean).toBeLessThan(8);
    });
    nb.cell('const answer = predictions[0].id').check((c) => {
      const clean = c.number(/clean p\(" Paris"\) = ([\d.]+)/);
      const rows = tableRows(c);
      expect(rows.map((r) => r[0])).toEqual([0, 4, 8, 12, 16, 20, 24, 29].map((L) => `blocks.${L}.hook_attn_out`));
      expect(Number(rows[0][1])).toBeLessThan(clean / 2); // block 0's attention matters
      for (const r of rows) expect(Number(r[1]) - clean).toBeCloseTo(Number(r[2]), 2);
    });
    nb.cell("const CORRUPT = 'The capital of Italy is'").check((c) => {
      expect(c.stdout()).toContain('corrupted prompt predicts " Rome"');
      const rows = tableRows(c);
      expect(rows[0].slice(0, 2)).toEqual(['0', '" Rome"']);
      expect(rows[rows.length - 1].slice(0, 2)).toEqual(['24', '" Paris"']);
    });
    nb.cell("const STORY = 'Once upon a time").check((c) => {
      const plain = /plain: {3}(.*)/.exec(c.stdout())![1];
      const steered = /steered: (.*)/.exec(c.stdout())![1];
      expect(steered).not.toBe(plain);
      expect(steered).toMatch(/sea|ocean|water|ship|island|wave|fish|shore/i);
    });
    nb.cell('model.memoryEstimates()').check((c) => {
      const mb = Object.fromEntries(tableRows(c).map((r) => [r[0], Number(r[1])]));
      expect(mb.f32).toBeGreaterThan(mb.f16);
      expect(mb.f16).toBeGreaterThan(mb.int8);
      expect(mb.int8).toBeGreaterThan(mb.int4);
    });
  }, NOTEBOOK_TIMEOUT_MS);

  it('03-datasets: folder and jsonl sources, preview, concat and document packing, browser', async () => {
    const nb = await execute('03-datasets');
    const paragraphs = nb.cell('const books = mkdtempSync').number(/: (\d+) paragraphs/);
    expect(paragraphs).toBeGreaterThan(2000);
    nb.cell("column: 'meta.text'").check((c) => expect(c.stdout()).toMatch(/4 documents in split \["validation"\]/));
    nb.cell('previewTokenization(').check((c) => {
      const w = c.widget('ms-token-highlight');
      expect((w.props.tokens as string[]).length).toBe(c.number(/^(\d+) tokens:/));
      expect((w.props.tokens as string[]).join('')).toBe('Alice’s Adventures in Wonderland — “Curiouser and curiouser!” cried Alice.');
    });
    nb.cell('const PACKED =').check((c) => {
      const m = /(\d+) rows × 128 = (\d+) tokens; padding (\d+), dropped (\d+)/.exec(c.stdout())!;
      expect(Number(m[1]) * 128).toBe(Number(m[2]));
      expect(Number(m[3])).toBe(0);
      expect(Number(m[4])).toBeLessThan(128);
    });
    nb.cell('const DOCS =').check((c) => {
      expect(c.number(/: (\d+) rows \(one per paragraph\)/)).toBe(paragraphs);
      expect(c.number(/padding (\d+) \(/)).toBeGreaterThan(0);
    });
    nb.cell('await browseDataset(').check((c) => {
      const samples = c.widget('ms-dataset-browser').props.samples as { tokens?: string[]; tokenIds?: number[] }[];
      expect(samples).toHaveLength(8);
      for (const s of samples) expect(s.tokens?.length).toBe(s.tokenIds?.length);
    });
    nb.cell('console.table(catalog.datasets.list()').check((c) => expect(tableRows(c).map((r) => r[1])).toEqual(['text', 'text', 'tokenized', 'tokenized']));
  }, NOTEBOOK_TIMEOUT_MS);

  it('04-training-saes: five architectures, runs view, template, bit-identical resume, CE loss recovered', async () => {
    const nb = await execute('04-training-saes');
    nb.cell("const EXTRACTION = 'training-resid6-16k'").check((c) => {
      expect(c.stdout()).toMatch(/^16384 vectors of width 576/);
      expect(c.widget('ms-job-progress').props.status).toBe('completed');
    });
    const archs = nb.cell('const variants: TrainingConfigInput[]');
    archs.check((c) => {
      const rows = Object.fromEntries(tableRows(c).map((r) => [r[0], { ev: Number(r[2]), l0: Number(r[3]), dead: Number(r[4]) }]));
      expect(Object.keys(rows)).toEqual(['topk', 'batchtopk', 'standard', 'jumprelu', 'gated']);
      for (const a of ['topk', 'batchtopk']) {
        expect(rows[a].ev).toBeGreaterThan(0.8);
        expect(rows[a].l0).toBeCloseTo(32, 0);
      }
      for (const a of ['standard', 'jumprelu', 'gated']) {
        expect(rows[a].ev).toBeGreaterThan(0.6);
        expect(rows[a].l0).toBeGreaterThan(5);
        expect(rows[a].l0).toBeLessThan(120);
      }
      for (const r of Object.values(rows)) {
        expect(r.ev).toBeLessThan(1);
        expect(r.dead).toBeLessThan(1152 / 10);
      }
    });
    nb.cell('showRuns(catalog)').check((c) => {
      const props = c.widget('ms-runs').props as { rows: { name: string; status: string }[] };
      expect(props.rows.filter((r) => r.name.startsWith('compare-')).map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    });
    nb.cell('new TrainingTemplates(catalog)').check((c) => expect(c.stdout()).toContain('applied: topk d_sae 2304, k 32, lr 0.003 (cosineannealing, warm-up 8 steps), 32768 tokens'));
    nb.cell("runs.freeName('template-straight')").check((c) => {
      expect(c.stdout()).toContain('first part: stopped at step 32 of 64; checkpoint on disk: true; catalog status: stopped');
      expect(c.stdout()).toContain('resumed: completed, 64 steps; max |Δ weight| vs the uninterrupted run: 0\n');
      const [stopped, resumed] = c.widgets('ms-training-monitor').map((w) => w.props as { status: string; step: number; metrics: { step: number; explainedVariance?: number }[] });
      expect([stopped.status, stopped.step, stopped.metrics.map((m) => m.step)]).toEqual(['stopped', 32, [16, 32]]);
      expect([resumed.status, resumed.step, resumed.metrics.map((m) => m.step)]).toEqual(['finished', 64, [48, 64]]);
      expect(resumed.metrics[1].explainedVariance).toBeGreaterThan(0.7);
    });
    nb.cell('heldOutTokenRows(storeDir').check((c) => {
      const rows = Object.fromEntries(tableRows(c).map((r) => [r[0], { clean: Number(r[3]), sae: Number(r[4]), zero: Number(r[5]), recovered: Number(r[6]) }]));
      expect(rows.topk.recovered).toBeGreaterThan(0.8);
      for (const r of Object.values(rows)) {
        expect(r.recovered).toBeGreaterThan(0.5);
        expect(r.recovered).toBeLessThanOrEqual(1.05);
        expect(r.recovered).toBeCloseTo((r.zero - r.sae) / (r.zero - r.clean), 2);
      }
    });
    nb.cell("results.find((r) => r.architecture === 'topk')").check((c) => expect(c.stdout()).toContain('architecture topk, d_in 576, d_sae 1152, k 32, hook blocks.6.hook_resid_post'));
  }, NOTEBOOK_TIMEOUT_MS);

  it('05-feature-analysis: analysis job, browser, card, logit lens, correlations, ablation, steering, labels', async () => {
    const nb = await execute('05-feature-analysis');
    nb.cell('const RUN = ').check((c) => {
      expect(c.number(/explained variance ([\d.]+)/)).toBeGreaterThan(0.8);
      expect(c.number(/L0 ([\d.]+)/)).toBeCloseTo(32, 0);
    });
    nb.cell('const tables = new FeatureTables').check((c) => {
      expect(c.number(/^(\d+) of 2304 latents fired/)).toBeGreaterThan(1500);
      expect(c.widget('ms-job-progress').props.status).toBe('completed');
    });
    nb.cell('await featureBrowser(').check((c) => expect((c.widget('ms-feature-browser').props.rows as unknown[]).length).toBeGreaterThan(0));
    const f = nb.cell("searchByToken(' Alice'").number(/^\s*│ 0\s+│ (\d+)/m);
    nb.cell('const report = analysis.feature(f)').check((c) => {
      const props = c.widget('ms-feature-card').props as { feature: number; topExamples: { tokens: string[]; values: number[] }[]; logitLens?: unknown };
      expect(props.feature).toBe(f);
      expect(props.topExamples).toHaveLength(12);
      expect(props.topExamples.some((e) => e.tokens.join('').includes('Alice'))).toBe(true);
      expect(props.logitLens).toBeDefined();
    });
    nb.cell('analysis.logitLens(model, f').check((c) => {
      const props = c.widget('ms-logit-lens').props as { feature: number };
      expect(props.feature).toBe(f);
      expect(c.stdout()).toMatch(/promotes: {3}(".*" ){7}".*"/);
    });
    nb.cell('analysis.correlations(f, 5)').check((c) => {
      const values = [...c.stdout().matchAll(/\d+ \((-?[\d.]+)\)/g)].map((m) => Number(m[1]));
      expect(values).toHaveLength(10);
      for (const v of values) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      expect(c.widget('ms-correlations').props.feature).toBe(f);
    });
    nb.cell('analysis.ablate(model, f').check((c) => {
      expect(c.number(/^(\d+) positions ablated/)).toBeGreaterThan(0);
      const props = c.widget('ms-ablation').props as { sequences: unknown[]; positionsAblated: number };
      expect(props.sequences.length).toBeGreaterThan(0);
      expect(props.positionsAblated).toBe(c.number(/^(\d+) positions ablated/));
    });
    nb.cell('analysis.steer(model, f').check((c) => {
      const lines = [...c.stdout().matchAll(/α = +(-?\d+): (".*")/g)].map((m) => [Number(m[1]), JSON.parse(m[2]) as string] as const);
      expect(lines.map((l) => l[0])).toEqual([0, -20, 20, 40]);
      expect(new Set(lines.map((l) => l[1])).size).toBeGreaterThan(1);
    });
    nb.cell("analysis.setLabel(f, 'Alice, the heroine')").check((c) => {
      expect(c.stdout()).toContain(`search “heroine” among favourites: ${f} “Alice, the heroine” (manual)`);
      expect(c.stdout()).toContain('MISTUDIO_LABELER_URL is not set');
      expect(c.stdout()).toMatch(/labels of \d+: manual: “Alice, the heroine” · default: “on /);
    });
  }, NOTEBOOK_TIMEOUT_MS);

  it('06-pretrained-saes: SAELens outputs reproduced, the saved SAE on new text, the release directory', async () => {
    const nb = await execute('06-pretrained-saes');
    nb.cell('const agreement').check((c) => {
      const rows = tableRows(c);
      expect(rows.map((r) => r[0])).toEqual(['batchtopk', 'gated', 'jumprelu', 'standard', 'topk']);
      for (const r of rows) {
        expect(Number(r[4])).toBeLessThan(1e-5);
        expect(Number(r[5])).toBeLessThan(1e-5);
      }
    });
    nb.cell('new TrainingRunsTable(catalog).list').check((c) => expect(c.stdout()).toMatch(/^loaded .*features-topk\/sae: topk 576→2304, k 32, hook blocks\.6\.hook_resid_post/));
    nb.cell('// Eight 64-token windows from Hamlet').check((c) => {
      const ev = c.number(/Hamlet, 504 tokens: explained variance ([\d.]+)/);
      expect(ev).toBeGreaterThan(0.5);
      expect(ev).toBeLessThan(0.99);
      expect(c.number(/L0 ([\d.]+)/)).toBeCloseTo(32, 0);
      const recovered = c.number(/CE loss recovered ([\d.]+)/);
      expect(recovered).toBeGreaterThan(0.6);
      expect(recovered).toBeLessThanOrEqual(1.05);
    });
    nb.cell('featuresOnTokens(model, sae').check((c) => {
      const w = c.widget('ms-token-highlight');
      expect((w.props.values as number[]).length).toBe((w.props.tokens as string[]).length);
      expect(tableRows(c)).toHaveLength(5);
    });
    nb.cell('console.table(Object.entries(PRETRAINED_RELEASES)').check((c) => expect(c.stdout()).toContain('gpt2-small-res-jb / blocks.8.hook_resid_pre → jbloom/GPT2-Small-SAEs-Reformatted, folder blocks.8.hook_resid_pre'));
  }, NOTEBOOK_TIMEOUT_MS);
});
