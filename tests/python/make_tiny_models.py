"""Tiny random-init GPT-2 and Llama models with PyTorch reference activations, for
src/core/test/models-parity.test.ts (run: .venv/bin/python tests/python/make_tiny_models.py).

Writes under src/core/test/fixtures/models/:
  tiny-gpt2/   config.json, model.safetensors (f32, tied embeddings), tokenizer.json (byte-level BPE),
               tokenizer_config.json, reference.safetensors, reference.json
  tiny-llama/  config.json, 2 bf16 shards + model.safetensors.index.json (GQA 4/2 heads, tied
               embeddings, llama3 rope_scaling), Llama-2-style tokenizer (Metaspace + byte fallback),
               reference.safetensors, reference.json
  dtypes.safetensors  one tensor stored as F32, F16 and BF16 plus torch's float32 widening of each

reference.safetensors holds, for a right-padded and a left-padded batch, the logits and every hook
activation (names as in TransformerLens), captured with PyTorch forward hooks on the Hugging Face
model, plus the logits under interventions done by PyTorch hooks. Hook semantics reproduced here:
  hook_embed / hook_pos_embed   embedding outputs [B,T,D]
  blocks.L.hook_resid_pre|mid|post  residual stream before the block / after attention / after MLP
  attn.hook_q|k|v  projection outputs incl. bias, before rotary, [B,T,heads,dh] (k, v: KV heads)
  attn.hook_pattern  softmax probabilities [B,H,Tq,Tk]; attn.hook_z  head outputs before o_proj
  hook_attn_out / hook_mlp_out  the sublayer outputs added to the residual stream
  mlp.hook_pre  first MLP projection before the activation (the gate projection for gated MLPs);
  mlp.hook_post  the input of the down projection (act(gate) * up for gated MLPs)
  ln_final.hook_normalized  the final norm before its weight and bias
Position ids follow `generate`: cumsum(attention_mask) - 1, with 1 at padded positions.
"""
import copy
import json
import pathlib

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / 'src/core/test/fixtures/models'

CORPUS = [
    'The quick brown fox jumps over the lazy dog.',
    'A small model is easy to test, and a tested model is easy to trust.',
    'Sparse autoencoders find features in the residual stream of a transformer.',
    'Once upon a time there was a little language model that wanted to predict the next token.',
    'The cat sat on the mat; the dog sat on the log.',
    'Numbers like 12345 and 67890 are split into pieces.',
    'Interpretability research looks inside neural networks to see how they compute.',
    'She sells sea shells by the sea shore, and the shells she sells are sea shells.',
    'Attention heads move information between token positions.',
    'Hello, world! How are you today? I am fine, thank you.',
] * 3

PROMPTS = [
    'The quick brown fox jumps',
    'Hello, world!',
    'Attention heads move information',
]
OTHER_PROMPTS = ['The cat sat on the mat', 'Sparse autoencoders find']


def gpt2_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=['<|endoftext|>'], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    config = {
        'tokenizer_class': 'GPT2Tokenizer',
        'bos_token': '<|endoftext|>', 'eos_token': '<|endoftext|>', 'unk_token': '<|endoftext|>',
        'add_bos_token': False, 'model_max_length': 64, 'clean_up_tokenization_spaces': False,
    }
    return tok, config


def llama_tokenizer():
    """Llama-2 style: Metaspace normalization, BPE with byte fallback, <s> prepended."""
    tok = Tokenizer(models.BPE(unk_token='<unk>', byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend('▁'), normalizers.Replace(' ', '▁')])
    byte_tokens = [f'<0x{i:02X}>' for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=300 + 256, special_tokens=['<unk>', '<s>', '</s>'] + byte_tokens, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    # Byte tokens are ordinary vocabulary entries in Llama tokenizers, not added special tokens.
    data = json.loads(tok.to_str())
    data['added_tokens'] = [t for t in data['added_tokens'] if t['content'] in ('<unk>', '<s>', '</s>')]
    data['decoder'] = {'type': 'Sequence', 'decoders': [
        {'type': 'Replace', 'pattern': {'String': '▁'}, 'content': ' '},
        {'type': 'ByteFallback'}, {'type': 'Fuse'},
        {'type': 'Strip', 'content': ' ', 'start': 1, 'stop': 0}]}
    data['post_processor'] = {
        'type': 'TemplateProcessing',
        'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
        'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                 {'SpecialToken': {'id': '<s>', 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
        'special_tokens': {'<s>': {'id': '<s>', 'ids': [data['model']['vocab']['<s>']], 'tokens': ['<s>']}},
    }
    tok = Tokenizer.from_str(json.dumps(data))
    config = {
        'tokenizer_class': 'LlamaTokenizer', 'bos_token': '<s>', 'eos_token': '</s>', 'unk_token': '<unk>',
        'add_bos_token': True, 'add_eos_token': False, 'legacy': False, 'model_max_length': 64,
        'clean_up_tokenization_spaces': False,
    }
    return tok, config


def randomize_norms(model):
    """Random-init norms are all ones/zeros, which would hide a missing weight or bias."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'ln' in name or 'norm' in name:
                base = 1.0 if name.endswith('weight') else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))


def encode_batch(tok, prompts, side):
    ids = [tok.encode(p).ids for p in prompts]
    t = max(len(x) for x in ids)
    input_ids = np.zeros((len(ids), t), dtype=np.int64)
    mask = np.zeros((len(ids), t), dtype=np.int64)
    for b, x in enumerate(ids):
        sl = slice(0, len(x)) if side == 'right' else slice(t - len(x), t)
        input_ids[b, sl] = x
        mask[b, sl] = 1
    return input_ids, mask


def position_ids_for(mask):
    pos = mask.cumsum(-1) - 1
    pos[mask == 0] = 1
    return pos


class Recorder:
    """Forward hooks on a Hugging Face model reproducing TransformerLens hook points."""

    def __init__(self, model, arch):
        self.model, self.arch = model, arch
        self.acts = {}
        self.handles = []
        self.interventions = {}  # hook name -> fn(tensor) -> tensor

    def apply(self, name, x):
        fn = self.interventions.get(name)
        return fn(x) if fn else x

    def record(self, name, x):
        self.acts[name] = x.detach().clone()

    def hook_output(self, module, name, reshape=None):
        def fn(_m, _args, out):
            t = out[0] if isinstance(out, tuple) else out
            shaped = t.reshape(*t.shape[:2], *reshape) if reshape else t
            new = self.apply(name, shaped)
            self.record(name, new)
            if new is shaped:
                return None
            new = new.reshape(t.shape)
            return (new, *out[1:]) if isinstance(out, tuple) else new
        self.handles.append(module.register_forward_hook(fn))

    def hook_input(self, module, name, reshape=None):
        def fn(_m, args, kwargs):
            if args:
                t = args[0]
            else:
                t = kwargs['hidden_states']
            shaped = t.reshape(*t.shape[:2], *reshape) if reshape else t
            new = self.apply(name, shaped)
            self.record(name, new)
            if new is shaped:
                return None
            new = new.reshape(t.shape)
            if args:
                return (new, *args[1:]), kwargs
            return args, {**kwargs, 'hidden_states': new}
        self.handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))

    def install(self):
        m, cfg = self.model, self.model.config
        if self.arch == 'gpt2':
            H, dh = cfg.n_head, cfg.n_embd // cfg.n_head
            tr = m.transformer
            self.hook_output(tr.wte, 'hook_embed')
            self.hook_output(tr.wpe, 'hook_pos_embed')
            for L, blk in enumerate(tr.h):
                p = f'blocks.{L}'
                self.hook_input(blk, f'{p}.hook_resid_pre')
                self.qkv_split(blk.attn.c_attn, p, H, H, dh)
                self.hook_input(blk.attn.c_proj, f'{p}.attn.hook_z', (H, dh))
                self.hook_output(blk.attn.c_proj, f'{p}.hook_attn_out')
                self.hook_input(blk.ln_2, f'{p}.hook_resid_mid')
                self.hook_output(blk.mlp.c_fc, f'{p}.mlp.hook_pre')
                self.hook_input(blk.mlp.c_proj, f'{p}.mlp.hook_post')
                self.hook_output(blk.mlp, f'{p}.hook_mlp_out')
                self.hook_output(blk, f'{p}.hook_resid_post')
            self.final_norm(tr.ln_f, centered=True, eps=cfg.layer_norm_epsilon)
        else:
            H, Hkv, dh = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
            mm = m.model
            self.hook_output(mm.embed_tokens, 'hook_embed')
            for L, layer in enumerate(mm.layers):
                p = f'blocks.{L}'
                a = layer.self_attn
                self.hook_input(layer, f'{p}.hook_resid_pre')
                self.hook_output(a.q_proj, f'{p}.attn.hook_q', (H, dh))
                self.hook_output(a.k_proj, f'{p}.attn.hook_k', (Hkv, dh))
                self.hook_output(a.v_proj, f'{p}.attn.hook_v', (Hkv, dh))
                self.hook_input(a.o_proj, f'{p}.attn.hook_z', (H, dh))
                self.hook_output(a.o_proj, f'{p}.hook_attn_out')
                self.hook_input(layer.post_attention_layernorm, f'{p}.hook_resid_mid')
                self.hook_output(layer.mlp.gate_proj, f'{p}.mlp.hook_pre')
                self.hook_input(layer.mlp.down_proj, f'{p}.mlp.hook_post')
                self.hook_output(layer.mlp, f'{p}.hook_mlp_out')
                self.hook_output(layer, f'{p}.hook_resid_post')
            self.final_norm(mm.norm, centered=False, eps=cfg.rms_norm_eps)
        return self

    def qkv_split(self, c_attn, p, H, Hkv, dh):
        def fn(_m, _args, out):
            q, k, v = out.split(H * dh, dim=-1)
            parts = []
            for name, t, heads in (('q', q, H), ('k', k, Hkv), ('v', v, Hkv)):
                shaped = t.reshape(*t.shape[:2], heads, dh)
                new = self.apply(f'{p}.attn.hook_{name}', shaped)
                self.record(f'{p}.attn.hook_{name}', new)
                parts.append(new.reshape(t.shape))
            return torch.cat(parts, dim=-1)
        self.handles.append(c_attn.register_forward_hook(fn))

    def final_norm(self, norm, centered, eps):
        def fn(_m, args):
            x = args[0].float()
            if centered:
                x = x - x.mean(-1, keepdim=True)
            self.record('ln_final.hook_normalized', x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
        self.handles.append(norm.register_forward_pre_hook(fn))

    def run(self, input_ids, mask, interventions=None):
        self.acts = {}
        self.interventions = interventions or {}
        with torch.no_grad():
            out = self.model(input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(mask),
                             position_ids=torch.tensor(position_ids_for(mask)), output_attentions=True)
        acts = dict(self.acts)
        for L, att in enumerate(out.attentions):
            acts[f'blocks.{L}.attn.hook_pattern'] = att
        acts['logits'] = out.logits
        return acts


def at_positions(positions, fn):
    def apply(x):
        y = x.clone()
        y[:, positions] = fn(x[:, positions])
        return y
    return apply


def record_interventions(rec, base, other, hidden_size, v_shape, tensors):
    """The intervention references every tiny model records (layer, cases' metadata): logits of the
    unpadded `base` batch under each TransformerLens-style hook edit, plus the values they use."""
    full = np.ones_like(base)
    other_acts = rec.run(other, full)
    L = 1
    steer = torch.randn(hidden_size, generator=torch.Generator().manual_seed(3))
    v_delta = torch.randn(*v_shape, generator=torch.Generator().manual_seed(4))
    cases = [
        {'name': 'zero_mlp_out', 'hook': f'blocks.{L}.hook_mlp_out', 'op': 'zero',
         'fn': lambda x: torch.zeros_like(x)},
        {'name': 'zero_mlp_out_pos', 'hook': f'blocks.0.hook_mlp_out', 'op': 'zero', 'positions': [1, 3],
         'fn': at_positions([1, 3], torch.zeros_like)},
        {'name': 'replace_resid_pre', 'hook': f'blocks.{L}.hook_resid_pre', 'op': 'replace', 'value': 'other',
         'fn': lambda x: other_acts[f'blocks.{L}.hook_resid_pre'].clone()},
        {'name': 'replace_resid_pre_pos', 'hook': f'blocks.{L}.hook_resid_pre', 'op': 'replace', 'value': 'other', 'positions': [2],
         'fn': lambda x: torch.where(torch.arange(x.shape[1])[None, :, None] == 2, other_acts[f'blocks.{L}.hook_resid_pre'], x)},
        {'name': 'add_resid_post', 'hook': 'blocks.0.hook_resid_post', 'op': 'add', 'value': 'steer', 'positions': [0, 2],
         'fn': at_positions([0, 2], lambda x: x + steer)},
        # Inside attention: a [kv_heads, d_head] value broadcast over batch and positions.
        {'name': 'add_attn_v', 'hook': 'blocks.0.attn.hook_v', 'op': 'add', 'value': 'v_delta',
         'fn': lambda x: x + v_delta},
        {'name': 'zero_mlp_post_pos', 'hook': f'blocks.{L}.mlp.hook_post', 'op': 'zero', 'positions': [-1],
         'fn': at_positions([-1], torch.zeros_like)},
    ]
    tensors['iv/steer'] = steer.numpy()
    tensors['iv/v_delta'] = v_delta.numpy()
    tensors['iv/base/logits'] = rec.run(base, full)['logits'].numpy()
    tensors[f'iv/other/blocks.{L}.hook_resid_pre'] = other_acts[f'blocks.{L}.hook_resid_pre'].numpy()
    iv_meta = []
    for case in cases:
        acts = rec.run(base, full, {case['hook']: case['fn']})
        tensors[f"iv/{case['name']}/logits"] = acts['logits'].numpy()
        iv_meta.append({k: v for k, v in case.items() if k != 'fn'})
    return L, iv_meta


def make(arch):
    torch.manual_seed(0)
    if arch == 'gpt2':
        tok, tok_config = gpt2_tokenizer()
        config = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=64, n_embd=64, n_layer=2, n_head=4,
                            activation_function='gelu_new', resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                            initializer_range=0.1, bos_token_id=0, eos_token_id=0, attn_implementation='eager')
        model = GPT2LMHeadModel(config)
    else:
        tok, tok_config = llama_tokenizer()
        config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=64,
                             rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, initializer_range=0.1,
                             rope_scaling={'rope_type': 'llama3', 'factor': 4.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                           'original_max_position_embeddings': 16},
                             bos_token_id=1, eos_token_id=2, attn_implementation='eager')
        model = LlamaForCausalLM(config)
    model.eval()
    randomize_norms(model)
    if arch == 'llama':
        # Stored as bf16: round once so the f32 reference computes with exactly the stored values.
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).to(torch.float32))

    d = OUT / f'tiny-{arch}'
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob('*'):
        f.unlink()
    if arch == 'gpt2':
        model.save_pretrained(d, safe_serialization=True)
    else:
        # A copy: casting the model itself would also round its rotary inv_freq buffer to bf16.
        copy.deepcopy(model).to(torch.bfloat16).save_pretrained(d, safe_serialization=True, max_shard_size='150KB')
    (d / 'generation_config.json').unlink(missing_ok=True)
    tok.save(str(d / 'tokenizer.json'))
    (d / 'tokenizer_config.json').write_text(json.dumps(tok_config, indent=2) + '\n')

    rec = Recorder(model, arch).install()
    tensors = {}
    inputs = {}
    for side in ('right', 'left'):
        ids, mask = encode_batch(tok, PROMPTS, side)
        inputs[side] = {'input_ids': ids.tolist(), 'attention_mask': mask.tolist()}
        for name, t in rec.run(ids, mask).items():
            tensors[f'{side}/{name}'] = t.float().numpy()

    # Interventions on an unpadded batch: two prompts cut to a common length.
    tl = min(len(tok.encode(p).ids) for p in PROMPTS[:2] + OTHER_PROMPTS)
    base = np.array([tok.encode(p).ids[:tl] for p in PROMPTS[:2]], dtype=np.int64)
    other = np.array([tok.encode(p).ids[:tl] for p in OTHER_PROMPTS], dtype=np.int64)
    kv_heads = model.config.n_head if arch == 'gpt2' else model.config.num_key_value_heads
    d_head = model.config.hidden_size // model.config.n_head if arch == 'gpt2' else model.config.head_dim
    L, iv_meta = record_interventions(rec, base, other, model.config.hidden_size, (kv_heads, d_head), tensors)
    tensors['iv/other_input_ids'] = other.astype(np.float32)

    save_numpy({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(d / 'reference.safetensors'))
    tokenizer_cases = [{'text': t, 'ids': tok.encode(t).ids, 'ids_no_special': tok.encode(t, add_special_tokens=False).ids}
                       for t in ['Hello, world!', ' leading space and  double  spaces', 'Zebras ünïcödé 12345 ✓', '']]
    for c in tokenizer_cases:
        c['decoded'] = tok.decode(c['ids_no_special'])
    reference = {
        'architecture': arch,
        'inputs': inputs,
        'interventions': {'input_ids': base.tolist(), 'other_input_ids': other.tolist(), 'layer': L, 'cases': iv_meta},
        'tokenizer': tokenizer_cases,
        'vocab_size': tok.get_vocab_size(),
    }
    (d / 'reference.json').write_text(json.dumps(reference, indent=1, ensure_ascii=False) + '\n')
    print(f'wrote {d}: {sorted(p.name for p in d.iterdir())}')


def make_dtypes():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 33, generator=g) * 10.0 ** torch.randint(-6, 5, (4, 33), generator=g)
    x[0, :6] = torch.tensor([0.0, -0.0, float('inf'), float('-inf'), 6e-8, -65504.0])
    tensors = {}
    for name, dt in (('f16', torch.float16), ('bf16', torch.bfloat16)):
        tensors[f'x.{name}'] = x.to(dt)
        tensors[f'x.{name}.as_f32'] = x.to(dt).to(torch.float32)
    tensors['x.f32'] = x
    from safetensors.torch import save_file
    save_file(tensors, str(OUT / 'dtypes.safetensors'))


if __name__ == '__main__':
    OUT.mkdir(parents=True, exist_ok=True)
    make('gpt2')
    make('llama')
    make_dtypes()
