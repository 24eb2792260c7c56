"""Tiny random-init models of every architecture beyond GPT-2 and Llama, with PyTorch reference
logits and hook activations, for src/core/test/models-architectures.test.ts
(run: .venv/bin/python tests/python/make_tiny_architectures.py; transformers 4.57.1).

Writes src/core/test/fixtures/models/tiny-<name>/ with config.json, model.safetensors (float32),
reference.safetensors and reference.json, for: gpt-neo (global + local layers), gpt-neox (Pythia:
parallel residual, partial rotary), gpt-neox-sequential, opt (pre-LN), opt-post-ln (post-LN with
project_in/out, like opt-350m), mistral (sliding window), qwen2 (q/k/v biases, sliding layer),
qwen3 (q/k norms), gemma2 (soft-capping, sandwich norms, local/global), gemma3 (q/k norms, local
rope base, linear rope scaling on global layers) and phi3 (fused qkv and gate_up, partial rotary,
sliding window). Sliding windows are 3 tokens so that the prompts (up to 8 tokens) cross them.

No tokenizers: the prompts are random token ids. Hook semantics are those of make_tiny_models.py
(TransformerLens names), plus: parallel-residual blocks have no hook_resid_mid; Gemma's
hook_embed includes the sqrt(d) scale and hook_attn_out/hook_mlp_out come after the post-norms;
q/k hooks are taken before q/k norms; OPT post-LN's hook_resid_mid/post are the normalized streams.
Every bias is randomized (transformers initializes them to zero, which would hide a missing one).
"""
import json
import pathlib
import sys

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from transformers import (Gemma2Config, Gemma2ForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig, GPTNeoConfig,
                          GPTNeoForCausalLM, GPTNeoXConfig, GPTNeoXForCausalLM, MistralConfig, MistralForCausalLM,
                          OPTConfig, OPTForCausalLM, Phi3Config, Phi3ForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          Qwen3Config, Qwen3ForCausalLM)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_tiny_models import OUT, Recorder, position_ids_for, randomize_norms, record_interventions  # noqa: E402

VOCAB = 96
LENGTHS = [8, 5, 7]  # a batch of three prompts, padded to 8
COMMON = dict(vocab_size=VOCAB, max_position_embeddings=32, attn_implementation='eager', bos_token_id=1, eos_token_id=2,
              pad_token_id=0)
LLAMA_LIKE = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  initializer_range=0.1, **COMMON)


def models():
    """name -> (constructor, config)"""
    return {
        'gpt-neo': (GPTNeoForCausalLM, GPTNeoConfig(
            hidden_size=32, num_layers=2, num_heads=4, intermediate_size=48, attention_types=[[['global', 'local'], 1]],
            window_size=3, activation_function='gelu_new', resid_dropout=0.0, embed_dropout=0.0, attention_dropout=0.0,
            initializer_range=0.1, **COMMON)),
        'gpt-neox': (GPTNeoXForCausalLM, GPTNeoXConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48, hidden_act='gelu',
            rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True, tie_word_embeddings=False,
            initializer_range=0.1, **COMMON)),
        'gpt-neox-sequential': (GPTNeoXForCausalLM, GPTNeoXConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, hidden_act='gelu',
            rotary_pct=0.5, rotary_emb_base=500, use_parallel_residual=False, tie_word_embeddings=False,
            initializer_range=0.1, **COMMON)),
        'opt': (OPTForCausalLM, OPTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=48, do_layer_norm_before=True,
            word_embed_proj_dim=32, activation_function='relu', dropout=0.0, attention_dropout=0.0, init_std=0.1,
            **{**COMMON, 'pad_token_id': 1, 'bos_token_id': 2})),
        'opt-post-ln': (OPTForCausalLM, OPTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=48, do_layer_norm_before=False,
            word_embed_proj_dim=24, activation_function='relu', dropout=0.0, attention_dropout=0.0, init_std=0.1,
            **{**COMMON, 'pad_token_id': 1, 'bos_token_id': 2})),
        'mistral': (MistralForCausalLM, MistralConfig(head_dim=8, sliding_window=3, tie_word_embeddings=False, **LLAMA_LIKE)),
        'qwen2': (Qwen2ForCausalLM, Qwen2Config(use_sliding_window=True, sliding_window=3, max_window_layers=1,
                                                 tie_word_embeddings=True, **LLAMA_LIKE)),
        'qwen3': (Qwen3ForCausalLM, Qwen3Config(head_dim=16, tie_word_embeddings=False, **LLAMA_LIKE)),
        'gemma2': (Gemma2ForCausalLM, Gemma2Config(
            head_dim=16, query_pre_attn_scalar=12, sliding_window=3, attn_logit_softcapping=2.0,
            final_logit_softcapping=1.5, hidden_activation='gelu_pytorch_tanh', **LLAMA_LIKE)),
        'gemma3': (Gemma3ForCausalLM, Gemma3TextConfig(
            head_dim=16, query_pre_attn_scalar=16, sliding_window=3, layer_types=['sliding_attention', 'full_attention'],
            rope_theta=1_000_000.0, rope_local_base_freq=10_000.0, rope_scaling={'rope_type': 'linear', 'factor': 2.0},
            hidden_activation='gelu_pytorch_tanh', **LLAMA_LIKE)),
        'phi3': (Phi3ForCausalLM, Phi3Config(partial_rotary_factor=0.5, sliding_window=4, tie_word_embeddings=False,
                                             resid_pdrop=0.0, embd_pdrop=0.0, **LLAMA_LIKE)),
    }


def randomize_biases(model):
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.bias') and 'norm' not in name and 'ln' not in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


class ArchRecorder(Recorder):
    """Recorder (make_tiny_models.py) with the hook points of each architecture. OPT runs its MLP
    on [B*T, D]: 2-D tensors are viewed as [B, T, ...] for hooks and restored after."""

    def run(self, input_ids, mask, interventions=None):
        self.bt = tuple(input_ids.shape)
        return super().run(input_ids, mask, interventions)

    def shaped(self, t, reshape):
        if t.dim() == 2:
            t = t.reshape(*self.bt, -1)
        return t.reshape(*t.shape[:2], *reshape) if reshape else t

    def hook_output(self, module, name, reshape=None):
        def fn(_m, _args, out):
            t = out[0] if isinstance(out, tuple) else out
            shaped = self.shaped(t, reshape)
            new = self.apply(name, shaped)
            self.record(name, new)
            if new is shaped:
                return None
            new = new.reshape(t.shape)
            return (new, *out[1:]) if isinstance(out, tuple) else new
        self.handles.append(module.register_forward_hook(fn))

    def hook_input(self, module, name, reshape=None):
        def fn(_m, args, kwargs):
            t = args[0] if args else kwargs['hidden_states']
            shaped = self.shaped(t, reshape)
            new = self.apply(name, shaped)
            self.record(name, new)
            if new is shaped:
                return None
            new = new.reshape(t.shape)
            if args:
                return (new, *args[1:]), kwargs
            return args, {**kwargs, 'hidden_states': new}
        self.handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))

    def split_output(self, module, names, sizes, heads, dh, interleaved=False):
        """Hooks on parts of one projection's output: fused qkv ([q; k; v] or GPT-NeoX's per-head
        [q|k|v]) or Phi-3's gate_up; `heads[i]` None keeps that part [B, T, n]."""
        def fn(_m, _args, out):
            B, T, _ = out.shape
            if interleaved:
                parts = list(out.view(B, T, heads[0], 3 * dh).chunk(3, dim=-1))
            else:
                parts = list(out.split(sizes, dim=-1))
            new_parts = []
            for name, t, h in zip(names, parts, heads):
                shaped = t if interleaved or h is None else t.reshape(B, T, h, dh)
                new = self.apply(name, shaped) if name else shaped
                if name:
                    self.record(name, new)
                new_parts.append(new if interleaved or h is None else new.reshape(t.shape))
            if interleaved:
                return torch.cat(new_parts, dim=-1).reshape(B, T, -1)
            return torch.cat(new_parts, dim=-1)
        self.handles.append(module.register_forward_hook(fn))

    def install(self):
        m, cfg, arch = self.model, self.model.config, self.arch
        if arch == 'gpt-neo':
            H, dh = cfg.num_heads, cfg.hidden_size // cfg.num_heads
            tr = m.transformer
            self.hook_output(tr.wte, 'hook_embed')
            self.hook_output(tr.wpe, 'hook_pos_embed')
            for L, blk in enumerate(tr.h):
                p, a = f'blocks.{L}', blk.attn.attention
                self.hook_input(blk, f'{p}.hook_resid_pre')
                for x in 'qkv':
                    self.hook_output(getattr(a, f'{x}_proj'), f'{p}.attn.hook_{x}', (H, dh))
                self.hook_input(a.out_proj, f'{p}.attn.hook_z', (H, dh))
                self.hook_output(a.out_proj, f'{p}.hook_attn_out')
                self.hook_input(blk.ln_2, f'{p}.hook_resid_mid')
                self.hook_output(blk.mlp.c_fc, f'{p}.mlp.hook_pre')
                self.hook_input(blk.mlp.c_proj, f'{p}.mlp.hook_post')
                self.hook_output(blk.mlp, f'{p}.hook_mlp_out')
                self.hook_output(blk, f'{p}.hook_resid_post')
            self.final_norm(tr.ln_f, centered=True, eps=cfg.layer_norm_epsilon)
        elif arch.startswith('gpt-neox'):
            H = cfg.num_attention_heads
            dh = cfg.hidden_size // H
            nx = m.gpt_neox
            self.hook_output(nx.embed_in, 'hook_embed')
            for L, layer in enumerate(nx.layers):
                p = f'blocks.{L}'
                self.hook_input(layer, f'{p}.hook_resid_pre')
                self.split_output(layer.attention.query_key_value, [f'{p}.attn.hook_{x}' for x in 'qkv'], None, [H, H, H], dh, interleaved=True)
                self.hook_input(layer.attention.dense, f'{p}.attn.hook_z', (H, dh))
                self.hook_output(layer.attention.dense, f'{p}.hook_attn_out')
                if not cfg.use_parallel_residual:
                    self.hook_input(layer.post_attention_layernorm, f'{p}.hook_resid_mid')
                self.hook_output(layer.mlp.dense_h_to_4h, f'{p}.mlp.hook_pre')
                self.hook_input(layer.mlp.dense_4h_to_h, f'{p}.mlp.hook_post')
                self.hook_output(layer.mlp, f'{p}.hook_mlp_out')
                self.hook_output(layer, f'{p}.hook_resid_post')
            self.final_norm(nx.final_layer_norm, centered=True, eps=cfg.layer_norm_eps)
        elif arch.startswith('opt'):
            H, dh = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
            dec = m.model.decoder
            self.hook_output(dec.project_in if dec.project_in is not None else dec.embed_tokens, 'hook_embed')
            self.hook_output(dec.embed_positions, 'hook_pos_embed')
            for L, layer in enumerate(dec.layers):
                p, a = f'blocks.{L}', layer.self_attn
                self.hook_input(layer, f'{p}.hook_resid_pre')
                for x in 'qkv':
                    self.hook_output(getattr(a, f'{x}_proj'), f'{p}.attn.hook_{x}', (H, dh))
                self.hook_input(a.out_proj, f'{p}.attn.hook_z', (H, dh))
                self.hook_output(a.out_proj, f'{p}.hook_attn_out')
                if cfg.do_layer_norm_before:
                    self.hook_input(layer.final_layer_norm, f'{p}.hook_resid_mid')
                else:
                    self.hook_output(layer.self_attn_layer_norm, f'{p}.hook_resid_mid')
                self.hook_output(layer.fc1, f'{p}.mlp.hook_pre')
                self.hook_input(layer.fc2, f'{p}.mlp.hook_post')
                self.hook_output(layer.fc2, f'{p}.hook_mlp_out')
                self.hook_output(layer, f'{p}.hook_resid_post')
            if dec.final_layer_norm is not None:
                self.final_norm(dec.final_layer_norm, centered=True, eps=1e-5)
        else:
            H, Hkv, M = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.intermediate_size
            dh = getattr(cfg, 'head_dim', None) or cfg.hidden_size // H
            gemma = arch.startswith('gemma')
            mm = m.model
            if arch == 'gemma2':
                # Gemma2Model scales the embedding after embed_tokens: take it where block 0 reads it.
                self.hook_input(mm.layers[0], 'hook_embed')
            else:
                self.hook_output(mm.embed_tokens, 'hook_embed')
            for L, layer in enumerate(mm.layers):
                p, a = f'blocks.{L}', layer.self_attn
                self.hook_input(layer, f'{p}.hook_resid_pre')
                if arch == 'phi3':
                    self.split_output(a.qkv_proj, [f'{p}.attn.hook_{x}' for x in 'qkv'], [H * dh, Hkv * dh, Hkv * dh], [H, Hkv, Hkv], dh)
                    self.split_output(layer.mlp.gate_up_proj, [f'{p}.mlp.hook_pre', None], [M, M], [None, None], dh)
                else:
                    self.hook_output(a.q_proj, f'{p}.attn.hook_q', (H, dh))
                    self.hook_output(a.k_proj, f'{p}.attn.hook_k', (Hkv, dh))
                    self.hook_output(a.v_proj, f'{p}.attn.hook_v', (Hkv, dh))
                    self.hook_output(layer.mlp.gate_proj, f'{p}.mlp.hook_pre')
                self.hook_input(a.o_proj, f'{p}.attn.hook_z', (H, dh))
                self.hook_output(layer.post_attention_layernorm if gemma else a.o_proj, f'{p}.hook_attn_out')
                self.hook_input(layer.pre_feedforward_layernorm if gemma else layer.post_attention_layernorm, f'{p}.hook_resid_mid')
                self.hook_input(layer.mlp.down_proj, f'{p}.mlp.hook_post')
                self.hook_output(layer.post_feedforward_layernorm if gemma else layer.mlp, f'{p}.hook_mlp_out')
                self.hook_output(layer, f'{p}.hook_resid_post')
            self.final_norm(mm.norm, centered=False, eps=cfg.rms_norm_eps)
        return self


def random_batch(rng, lengths, side):
    t = max(lengths)
    ids = np.zeros((len(lengths), t), dtype=np.int64)
    mask = np.zeros((len(lengths), t), dtype=np.int64)
    for b, n in enumerate(lengths):
        sl = slice(0, n) if side == 'right' else slice(t - n, t)
        ids[b, sl] = rng.integers(3, VOCAB, n)
        mask[b, sl] = 1
    return ids, mask


def kv_shape(cfg, arch):
    if arch == 'gpt-neo':
        return cfg.num_heads, cfg.hidden_size // cfg.num_heads
    if arch.startswith('gpt-neox') or arch.startswith('opt'):
        return cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
    return cfg.num_key_value_heads, getattr(cfg, 'head_dim', None) or cfg.hidden_size // cfg.num_attention_heads


def make(name, ctor, config):
    torch.manual_seed(0)
    model = ctor(config).eval()
    randomize_norms(model)
    randomize_biases(model)
    d = OUT / f'tiny-{name}'
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob('*'):
        f.unlink()
    model.save_pretrained(d, safe_serialization=True)
    (d / 'generation_config.json').unlink(missing_ok=True)

    rec = ArchRecorder(model, name).install()
    rng = np.random.default_rng(1)
    tensors, inputs = {}, {}
    right_ids, _ = random_batch(rng, LENGTHS, 'right')
    for side in ('right', 'left'):
        # the same prompts both ways
        ids, mask = random_batch(np.random.default_rng(1), LENGTHS, side)
        assert sorted(ids[mask == 1].tolist()) == sorted(right_ids[right_ids != 0].tolist())
        inputs[side] = {'input_ids': ids.tolist(), 'attention_mask': mask.tolist()}
        for key, t in rec.run(ids, mask).items():
            tensors[f'{side}/{key}'] = t.float().numpy()

    base = rng.integers(3, VOCAB, (2, 6))
    other = rng.integers(3, VOCAB, (2, 6))
    L, iv_meta = record_interventions(rec, base, other, config.hidden_size, kv_shape(config, name), tensors)

    save_numpy({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(d / 'reference.safetensors'))
    reference = {
        'architecture': name,
        'model_type': config.model_type,
        'inputs': inputs,
        'interventions': {'input_ids': base.tolist(), 'other_input_ids': other.tolist(), 'layer': L, 'cases': iv_meta},
        'hooks': sorted(k.split('/', 1)[1] for k in tensors if k.startswith('right/') and k != 'right/logits'),
        'vocab_size': VOCAB,
    }
    (d / 'reference.json').write_text(json.dumps(reference, indent=1) + '\n')
    size = sum(f.stat().st_size for f in d.iterdir())
    print(f'wrote {d} ({size / 1024:.0f} KiB)')


if __name__ == '__main__':
    only = sys.argv[1:]
    for name, (ctor, config) in models().items():
        if not only or name in only:
            make(name, ctor, config)
