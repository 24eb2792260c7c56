/**
 * Tiny random-init GPT-2 and Llama models against PyTorch (fixtures from
 * tests/python/make_tiny_models.py): logits and every hook activation for right- and left-padded
 * batches, interventions, stop-at-layer and KV-cache decoding. Tolerance 1e-4 max abs (f32).
 * Padded positions carry no meaning (their queries see no real key under left padding), so they
 * are excluded; for hook_pattern the padded query rows are excluded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../models/index.js';
import { loadModelReference, maxAbsDiff } from './helpers/model-reference.js';

const TOL = 1e-4;

for (const arch of ['gpt2', 'llama'] as const) {
  describe(`tiny ${arch} vs PyTorch`, () => {
    const ref = loadModelReference(`tiny-${arch}`);
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

    for (const side of ['right', 'left'] as const) {
      it(`matches logits and every hook, ${side}-padded batch`, async () => {
        const { input_ids, attention_mask } = ref.json.inputs[side];
        const hooks = model.hookNames();
        for (const m of [model, plain]) {
          const out = await m.run(input_ids, { attentionMask: attention_mask, cache: hooks });
          const errors: Record<string, number> = { logits: maxAbsDiff(out.logits!, ref.tensor(`${side}/logits`), attention_mask) };
          for (const h of hooks) errors[h] = maxAbsDiff(out.cache.get(h)!, ref.tensor(`${side}/${h}`), attention_mask, h.endsWith('hook_pattern') ? 2 : 1);
          const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0];
          console.log(`${arch} ${side} ${m === model ? 'fused' : 'plain'}: ${hooks.length} hooks + logits, max abs error ${worst[1].toExponential(2)} (${worst[0]})`);
          for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(TOL);
        }
      });

      it(`matches logits with fused attention (no pattern hook), ${side}-padded batch`, async () => {
        const { input_ids, attention_mask } = ref.json.inputs[side];
        const hooks = model.hookNames().filter((h) => !h.endsWith('hook_pattern'));
        const out = await model.run(input_ids, { attentionMask: attention_mask, cache: hooks });
        expect(maxAbsDiff(out.logits!, ref.tensor(`${side}/logits`), attention_mask)).toBeLessThan(TOL);
        for (const h of hooks) expect(maxAbsDiff(out.cache.get(h)!, ref.tensor(`${side}/${h}`), attention_mask), h).toBeLessThan(TOL);
        const bare = await model.run(input_ids, { attentionMask: attention_mask });
        expect(maxAbsDiff(bare.logits!, ref.tensor(`${side}/logits`), attention_mask)).toBeLessThan(TOL);
      });
    }

    it('applies interventions as PyTorch hooks do (acceptance 4)', async () => {
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
          const err = maxAbsDiff(out.logits!, want);
          expect(err, c.name).toBeLessThan(TOL);
          // The intervention must matter, or this comparison proves nothing.
          expect(maxAbsDiff(base.logits!, want), `${c.name} changes logits`).toBeGreaterThan(1e-2);
        }
      }
    });

    it('accepts flat Int32Array tokens with a shape', async () => {
      const { input_ids, attention_mask } = ref.json.inputs.right;
      const [B, T] = [input_ids.length, input_ids[0].length];
      const out = await model.run({ data: Int32Array.from(input_ids.flat()), shape: [B, T] }, { attentionMask: { data: Int32Array.from(attention_mask.flat()), shape: [B, T] } });
      expect(maxAbsDiff(out.logits!, ref.tensor('right/logits'), attention_mask)).toBeLessThan(TOL);
    });

    it('stops at a layer and returns only the hooks computed', async () => {
      const { input_ids, attention_mask } = ref.json.inputs.right;
      const out = await model.run(input_ids, { attentionMask: attention_mask, cache: ['blocks.0.hook_resid_post', 'blocks.0.attn.hook_pattern'], stopAtLayer: 1 });
      expect(out.logits).toBeUndefined();
      expect(maxAbsDiff(out.cache.get('blocks.0.hook_resid_post')!, ref.tensor('right/blocks.0.hook_resid_post'), attention_mask)).toBeLessThan(TOL);
      // logits 'none' stops after the deepest hook by default.
      const auto = await model.run(input_ids, { attentionMask: attention_mask, cache: ['blocks.0.mlp.hook_post'], logits: 'none' });
      expect(maxAbsDiff(auto.cache.get('blocks.0.mlp.hook_post')!, ref.tensor('right/blocks.0.mlp.hook_post'), attention_mask)).toBeLessThan(TOL);
      // TransformerLens semantics: stopping at layer 1 still yields blocks.1.hook_resid_pre (block 0's output).
      const pre = await model.run(input_ids, { attentionMask: attention_mask, cache: ['blocks.1.hook_resid_pre'], stopAtLayer: 1 });
      expect(maxAbsDiff(pre.cache.get('blocks.1.hook_resid_pre')!, ref.tensor('right/blocks.1.hook_resid_pre'), attention_mask)).toBeLessThan(TOL);
      const embed = await model.run(input_ids, { attentionMask: attention_mask, cache: ['blocks.0.hook_resid_pre'], logits: 'none' });
      expect(maxAbsDiff(embed.cache.get('blocks.0.hook_resid_pre')!, ref.tensor('right/blocks.0.hook_resid_pre'), attention_mask)).toBeLessThan(TOL);
      await expect(model.run(input_ids, { cache: ['blocks.1.hook_mlp_out'], stopAtLayer: 1 })).rejects.toThrow(/not computed when stopping at layer 1/);
      await expect(model.run(input_ids, { cache: ['ln_final.hook_normalized'], stopAtLayer: 1 })).rejects.toThrow(/whole model/);
    });

    it('decodes incrementally with a KV cache, matching the full forward pass', async () => {
      const { input_ids, attention_mask } = ref.json.inputs.left;
      const want = ref.tensor('left/logits');
      const [B, T, V] = want.shape;
      const split = T - 3;
      let step = await model.decodeStep(input_ids.map((r) => r.slice(0, split)), undefined, attention_mask.map((r) => r.slice(0, split)));
      for (let t = split; ; t++) {
        for (let b = 0; b < B; b++) {
          const got = step.logits.data.subarray(b * V, (b + 1) * V);
          const ref = want.data.subarray((b * T + t - 1) * V, (b * T + t) * V);
          let err = 0;
          for (let v = 0; v < V; v++) err = Math.max(err, Math.abs(got[v] - ref[v]));
          expect(err, `row ${b} position ${t - 1}`).toBeLessThan(TOL);
        }
        if (t === T) break;
        step = await model.decodeStep(input_ids.map((r) => [r[t]]), step.cache);
      }
    });
  });
}
