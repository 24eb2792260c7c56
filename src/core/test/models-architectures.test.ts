/**
 * Every architecture beyond GPT-2 and Llama against PyTorch transformers 4.57.1 on tiny
 * random-init models (fixtures from tests/python/make_tiny_architectures.py): logits and every
 * hook activation for right- and left-padded batches of 3 (fused and plain graphs), fused
 * attention without patterns, interventions, stop-at-layer, and KV-cache decoding.
 * Tolerance 1e-4 max abs (f32); padded positions are excluded (their values carry no meaning).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../models/index.js';
import { loadModelReference, maxAbsDiff } from './helpers/model-reference.js';

const TOL = 1e-4;
const FIXTURES = ['gpt-neo', 'gpt-neox', 'gpt-neox-sequential', 'opt', 'opt-post-ln', 'mistral', 'qwen2', 'qwen3', 'gemma2', 'gemma3', 'phi3'];
const ARCHITECTURE: Record<string, string> = { 'gpt-neo': 'gpt_neo', 'gpt-neox': 'gpt_neox', 'gpt-neox-sequential': 'gpt_neox', 'opt-post-ln': 'opt' };

for (const fixture of FIXTURES) {
  describe(`tiny ${fixture} vs PyTorch`, () => {
    const ref = loadModelReference(`tiny-${fixture}`);
    let model: Model;
    let plain: Model;
    beforeAll(async () => {
      model = await loadModel(ref.dir, { device: 'cpu', threads: 1 });
      plain = await loadModel(ref.dir, { device: 'cpu', threads: 1, fused: false });
    });
    afterAll(async () => {
      await model.release();
      await plain.release();
    });

    it('exposes exactly the hooks the reference recorded', () => {
      expect(model.config.architecture).toBe(ARCHITECTURE[fixture] ?? fixture);
      expect([...model.hookNames()].sort()).toEqual(ref.json.hooks);
    });

    for (const side of ['right', 'left'] as const) {
      it(`matches logits and every hook, ${side}-padded batch`, async () => {
        const { input_ids, attention_mask } = ref.json.inputs[side];
        const hooks = model.hookNames();
        for (const m of [model, plain]) {
          const out = await m.run(input_ids, { attentionMask: attention_mask, cache: hooks });
          const errors: Record<string, number> = { logits: maxAbsDiff(out.logits!, ref.tensor(`${side}/logits`), attention_mask) };
          for (const h of hooks) errors[h] = maxAbsDiff(out.cache.get(h)!, ref.tensor(`${side}/${h}`), attention_mask, h.endsWith('hook_pattern') ? 2 : 1);
          const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0];
          console.log(`${fixture} ${side} ${m === model ? 'fused' : 'plain'}: ${hooks.length} hooks + logits, max abs error ${worst[1].toExponential(2)} (${worst[0]})`);
          for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(TOL);
        }
      });

      it(`matches logits with fused attention (no pattern hook), ${side}-padded batch`, async () => {
        const { input_ids, attention_mask } = ref.json.inputs[side];
        const hooks = model.hookNames().filter((h) => !h.endsWith('hook_pattern'));
        const out = await model.run(input_ids, { attentionMask: attention_mask, cache: hooks });
        for (const h of hooks) expect(maxAbsDiff(out.cache.get(h)!, ref.tensor(`${side}/${h}`), attention_mask), h).toBeLessThan(TOL);
        const bare = await model.run(input_ids, { attentionMask: attention_mask });
        expect(maxAbsDiff(bare.logits!, ref.tensor(`${side}/logits`), attention_mask)).toBeLessThan(TOL);
      });
    }

    it('applies interventions as PyTorch hooks do', async () => {
      const iv = ref.json.interventions;
      const base = await model.run(iv.input_ids);
      expect(maxAbsDiff(base.logits!, ref.tensor('iv/base/logits'))).toBeLessThan(TOL);
      // The replacement comes from our own cache of the other prompts, as a user would do it.
      const resid = `blocks.${iv.layer}.hook_resid_pre`;
      const other = await model.run(iv.other_input_ids, { cache: [resid], logits: 'none' });
      expect(maxAbsDiff(other.cache.get(resid)!, ref.tensor(`iv/other/${resid}`))).toBeLessThan(TOL);
      for (const c of iv.cases) {
        const value = c.value === 'other' ? other.cache.get(resid)! : c.value ? ref.tensor(`iv/${c.value}`) : undefined;
        const intervention = c.op === 'zero' ? { hook: c.hook, op: c.op, positions: c.positions } : { hook: c.hook, op: c.op, value: value!, positions: c.positions };
        for (const m of [model, plain]) {
          const out = await m.run(iv.input_ids, { interventions: [intervention] });
          const want = ref.tensor(`iv/${c.name}/logits`);
          expect(maxAbsDiff(out.logits!, want), c.name).toBeLessThan(TOL);
          // The intervention must matter, or this comparison proves nothing.
          expect(maxAbsDiff(base.logits!, want), `${c.name} changes logits`).toBeGreaterThan(1e-3);
        }
      }
    });

    it('stops at a layer with the hooks of the blocks run', async () => {
      const { input_ids, attention_mask } = ref.json.inputs.left;
      const hooks = ['blocks.0.hook_resid_post', 'blocks.0.attn.hook_pattern', 'blocks.1.hook_resid_pre'];
      const out = await model.run(input_ids, { attentionMask: attention_mask, cache: hooks, stopAtLayer: 1 });
      expect(out.logits).toBeUndefined();
      for (const h of hooks) expect(maxAbsDiff(out.cache.get(h)!, ref.tensor(`left/${h}`), attention_mask, h.endsWith('hook_pattern') ? 2 : 1), h).toBeLessThan(TOL);
    });

    it('decodes incrementally with a KV cache, matching the full forward pass', async () => {
      const { input_ids, attention_mask } = ref.json.inputs.left;
      const want = ref.tensor('left/logits');
      const [B, T, V] = want.shape;
      const split = T - 4;
      let step = await model.decodeStep(input_ids.map((r) => r.slice(0, split)), undefined, attention_mask.map((r) => r.slice(0, split)));
      for (let t = split; ; t++) {
        for (let b = 0; b < B; b++) {
          const got = step.logits.data.subarray(b * V, (b + 1) * V);
          const row = want.data.subarray((b * T + t - 1) * V, (b * T + t) * V);
          let err = 0;
          for (let v = 0; v < V; v++) err = Math.max(err, Math.abs(got[v] - row[v]));
          expect(err, `row ${b} position ${t - 1}`).toBeLessThan(TOL);
        }
        if (t === T) break;
        step = await model.decodeStep(input_ids.map((r) => [r[t]]), step.cache);
      }
    });
  });
}
