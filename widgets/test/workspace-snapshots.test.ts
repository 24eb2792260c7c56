/**
 * Static snapshots of the workspace views (the `text/html` of saved notebooks): script-free HTML
 * that still carries the page of rows, counts per status with the active filter, sparklines as
 * inline SVG, templates, downloads, and the model card's facts, memory table and hook shapes;
 * untrusted text (names, hooks) escaped. Parsed with htmlparser2 to check structure, not strings.
 */
import { parseDocument, DomUtils } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { renderSnapshot } from '../src/static/index.js';
import type { ModelCardProps, RunListRowProps } from '../src/workspace-types.js';

const text = (html: string) => DomUtils.textContent(parseDocument(html));
const cells = (html: string) => DomUtils.findAll((n) => n.name === 'tr', parseDocument(html).children).map((tr) => DomUtils.findAll((n) => n.name === 'td', tr.children).map((td) => DomUtils.textContent(td)));

const run = (over: Partial<RunListRowProps>): RunListRowProps => ({
  id: 'r1', name: 'run-a', group: null, status: 'completed', architecture: 'topk', hook: 'blocks.3.hook_resid_post', model: 'gpt2', dIn: 768, dSae: 24576,
  hyper: { k: 32, lr: 3e-4, batch: 4096, tokens: 2_000_000 }, step: 488, totalSteps: 488, targetL0: 32, l0: 31.5, mse: 0.0123, explainedVariance: 0.91, ceLossRecovered: 0.95,
  deadLatents: 12, loss: [1, 0.5, 0.3, 0.25], createdAt: '2025-05-01T10:20:30.000Z', ...over,
});

describe('workspace view snapshots', () => {
  it('<ms-runs>: counts with the active filter, one row per run, sparkline SVG, templates', () => {
    const html = renderSnapshot('ms-runs', {
      rows: [run({}), run({ id: 'r2', name: 'run-<b>', status: 'failed', l0: null, mse: null, explainedVariance: null, ceLossRecovered: null, loss: [] })],
      total: 2, page: 0, pageSize: 25, pages: 1, sort: 'mse', order: 'asc', status: '', query: '', counts: { completed: 1, failed: 1 },
      templates: [{ name: 'k32', description: 'topk k=32', config: { architecture: 'topk', k: 32 }, updatedAt: '' }],
    });
    expect(html).not.toMatch(/<script/i);
    expect(text(html)).toContain('all 2 · running 0 · paused 0 · pending 0 · stopping 0 · stopped 0 · completed 1 · failed 1');
    const rows = cells(html).filter((r) => r.length === 8);
    expect(rows).toHaveLength(2);
    expect(rows[0][0]).toBe('run-a2025-05-01 10:20');
    expect(rows[0][2]).toBe('topk 768→24.6kblocks.3.hook_resid_postk 32 · lr 3.00e-4 · batch 4096 · tokens 2.0M');
    expect(rows[0].slice(3, 7)).toEqual(['31.5 / 32', '0.0123', '0.91', '0.95']);
    expect(rows[1][0]).toContain('run-<b>'); // escaped text, not markup
    expect(DomUtils.findAll((n) => n.name === 'polyline', parseDocument(html).children)).toHaveLength(1);
    expect(text(html)).toContain('sorted by mse ↑');
    expect(text(html)).toContain('Templates (1)');
  });

  it('<ms-models> with a download line, <ms-extractions> with its status filter', () => {
    const models = renderSnapshot('ms-models', {
      rows: [{ name: 'org/m', origin: 'cache', path: '/c/m', architecture: 'llama', format: 'safetensors', precision: 'bfloat16', parameters: 134_515_008, bytes: 269_060_000, status: 'ready', error: null }],
      total: 1, page: 0, pageSize: 25, pages: 1, sort: 'name', order: 'asc', status: 'cache', query: '', counts: { local: 0, cache: 1 },
      download: { id: 'org/n', status: 'downloading', file: 'model.safetensors', fileBytes: 5e6, fileTotal: 2e7, bytesDone: 5.1e6, filesDone: 1 },
    });
    expect(text(models)).toContain('org/n downloading · model.safetensors 5.0 MB / 20.0 MB · 1 file done · 5.1 MB downloaded');
    expect(cells(models)[1].slice(2, 6)).toEqual(['llama', '134.5M', 'bfloat16 safetensors', '269.1 MB']);
    expect(parseDocument(models).children.length).toBe(1);
    const ex = renderSnapshot('ms-extractions', {
      rows: [{ name: 'e1', model: 'gpt2', dataset: null, hooks: ['blocks.1.hook_resid_post', 'blocks.2.hook_mlp_out'], status: 'completed', tokens: 1_000_000, bytes: 3.1e9, durationSeconds: 125, createdAt: '2025-05-01T00:00:00Z' }],
      total: 1, page: 0, pageSize: 25, pages: 1, sort: 'created', order: 'desc', status: 'completed', query: 'blocks', counts: { completed: 1, failed: 3 }, templates: [],
    });
    expect(text(ex)).toContain('completed 1');
    expect(cells(ex)[1]).toEqual(['e12025-05-01 00:00', 'gpt2', '(deleted)', 'blocks.1.hook_resid_postblocks.2.hook_mlp_out', '1.0M', '3.10 GB', '2 min 5 s', 'completed']);
    expect(text(ex)).toContain('1 extractions · matching “blocks”');
  });

  it('<ms-model-card>: facts, memory per precision and every hook with its shape', () => {
    const hooks = ['hook_embed', 'blocks.0.hook_resid_pre', 'blocks.0.attn.hook_pattern', 'blocks.1.hook_resid_pre', 'ln_final.hook_normalized'];
    const props: ModelCardProps = {
      source: '/m', architecture: 'llama', format: 'safetensors', storedPrecision: 'bfloat16', tokenizer: true, nLayers: 2, dModel: 64, nHeads: 4, nKvHeads: 2, dHead: 16, dMlp: 128,
      vocabSize: 320, maxPositions: 256, activation: 'silu', positions: 'rotary', tiedEmbeddings: true, parameters: 98_000, fileBytes: 400_000,
      memory: [{ precision: 'f32', weightBytes: 392_000, estimatedBytes: 784_000 }, { precision: 'int4', weightBytes: 70_000, estimatedBytes: 140_000 }],
      hooks: hooks.map((name) => ({ name, shape: name.includes('pattern') ? ['batch', 4, 'pos', 'key_pos'] : ['batch', 'pos', 64], layer: /blocks\.(\d)/.exec(name) ? Number(/blocks\.(\d)/.exec(name)![1]) : null })),
    };
    const html = renderSnapshot('ms-model-card', props);
    const rows = cells(html);
    expect(rows).toContainEqual(['heads', '4 (2 key/value)']);
    expect(rows).toContainEqual(['int4', '70 kB', '140 kB']);
    // block 0 table, then the full list (in <details>) in forward order
    const all = rows.filter((r) => r.length === 2 && r[0].includes('hook')).slice(-5);
    expect(all).toEqual([['hook_embed', '[batch, pos, 64]'], ['blocks.0.hook_resid_pre', '[batch, pos, 64]'], ['blocks.0.attn.hook_pattern', '[batch, 4, pos, key_pos]'], ['blocks.1.hook_resid_pre', '[batch, pos, 64]'], ['ln_final.hook_normalized', '[batch, pos, 64]']]);
  });
});
