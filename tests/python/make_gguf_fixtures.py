"""Reference fixtures for the GGUF loader (src/core/models/gguf), made with independent tools.

    .venv/bin/python tests/python/make_gguf_fixtures.py            # everything
    .venv/bin/python tests/python/make_gguf_fixtures.py --synthetic # only the small committed GGUF files
    .venv/bin/python tests/python/make_gguf_fixtures.py --real      # only the SmolLM2 reference JSONs

Synthetic part (src/core/test/fixtures/gguf/): tiny GGUF files written with the `gguf` package's
GGUFWriter, their expected dequantized values from `gguf.quants.dequantize` (numpy), and tiny random
llama/gpt2 models converted the way llama.cpp's convert_hf_to_gguf.py does it (Q/K row permutation,
Conv1D transposes) and loaded back with transformers' GGUF loader, whose state dict, config and
tokenizer ids are the reference.

Real part (src/core/test/fixtures/smollm2-gguf-*.json): transformers' GGUF loader on
.cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf (made by `bash scripts/setup.sh --test`): top-5
next-token log-probs and greedy generations, tensor spot checks and tokenizer ids.

Deliberate difference from transformers, mirrored here: transformers ignores the GGUF key
`tokenizer.ggml.add_bos_token` (its LlamaTokenizerFast always adds BOS, and it sets eos_token to the
BOS token). miStudio honours the file's flag as llama.cpp does, so the Python reference tokenizer is
created with `add_bos_token=<the file's flag>`.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "src/core/test/fixtures"
GGUF_FIX = FIX / "gguf"
SMOL = ROOT / ".cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf"

import gguf  # noqa: E402
from gguf import GGMLQuantizationType as Q, GGUFValueType as V, GGUFWriter  # noqa: E402


def b64_f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def checksum(a: np.ndarray) -> dict:
    """Order-sensitive float64 checksums: a permuted tensor changes `weighted`."""
    flat = np.asarray(a, dtype=np.float64).ravel()
    w = (np.arange(flat.size) % 13) - 6.0
    return {"sum": float(flat.sum()), "weighted": float((flat * w).sum()), "sumsq": float((flat * flat).sum())}


# Texts for tokenizer comparisons: plain English, whitespace runs, digits, code, accents, CJK, emoji,
# special-token strings inside text.
TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    " leading space and trailing space ",
    "Multiple   spaces\tand\ttabs\n\nand newlines\n",
    "Numbers: 3.14159, 1,000,000 and 2024-11-26; 42nd street, 7th avenue",
    "def add(a, b):\n    return a + b  # sum\n",
    "Café naïve résumé — “quotes” and ‘apostrophes’ don't can't",
    "日本語のテキストと中文文本",
    "Emoji: 🙂🚀👩‍💻 and symbols ∑∫√ ©®™",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<s>Hello</s> <unk> tokens",
    "ALL CAPS, MiXeD cAsE, snake_case and camelCase",
    "https://example.com/path?query=1&x=y#frag",
    "end of text<|endoftext|>next document",
    "a",
    "",
]


# ---------------------------------------------------------------------------------------------
# Synthetic: one tensor per supported quant type + every metadata value type
# ---------------------------------------------------------------------------------------------

def random_k_blocks(rng, qtype: Q, n_blocks: int) -> np.ndarray:
    """Random K-quant super-blocks with finite, moderate f16 scales (gguf cannot quantize K types)."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    d = rng.uniform(1e-3, 2e-2, size=(n_blocks, 1)).astype(np.float16).view(np.uint8)
    dmin = rng.uniform(1e-3, 2e-2, size=(n_blocks, 1)).astype(np.float16).view(np.uint8)
    if qtype in (Q.Q4_K, Q.Q5_K):
        raw[:, 0:2] = d
        raw[:, 2:4] = dmin
    elif qtype == Q.Q6_K:
        raw[:, size - 2:size] = d
    else:
        raise ValueError(qtype)
    return raw


def make_quants(rng) -> None:
    path = GGUF_FIX / "quants.gguf"
    w = GGUFWriter(str(path), "quanttest")
    w.add_custom_alignment(64)
    # every metadata value type, including nested arrays
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.1)
    w.add_uint64("test.u64", 2**53 + 2)
    w.add_int64("test.i64", -(2**40))
    w.add_float64("test.f64", 1.0 / 3.0)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo GGUF ✓")
    w.add_key_value("test.arr_i16", [-1, 2, -3], V.ARRAY, sub_type=V.INT16)
    w.add_key_value("test.arr_u64", [1, 2**60], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("test.arr_f32", [0.5, -1.25], V.ARRAY, sub_type=V.FLOAT32)
    w.add_array("test.arr_str", ["a", "", "ünïcode"])
    w.add_array("test.arr_bool", [True, False, True])
    w.add_array("test.arr_nested", [[1, 2], [3]])

    tensors = []

    def add(name: str, qtype: Q, data_bytes: np.ndarray, expected: np.ndarray, shape):
        w.add_tensor(name, data_bytes, raw_dtype=qtype if data_bytes.dtype == np.uint8 else None)
        tensors.append({"name": name, "type": qtype.name, "shape": list(shape), "values": b64_f32(expected.ravel())})

    # F32 (3-D, to check dimension order), F16 and BF16 with edge values
    f32 = rng.standard_normal((2, 3, 64)).astype(np.float32)
    add("t.f32", Q.F32, f32, f32, f32.shape)
    f16src = rng.standard_normal((4, 64)).astype(np.float32) * 3
    f16src.ravel()[:6] = [0.0, -0.0, 6.0e-8, -65504.0, 1.0e-5, np.inf]
    f16 = f16src.astype(np.float16)
    add("t.f16", Q.F16, f16, gguf.quants.dequantize(f16, Q.F16), f16.shape)
    bfsrc = rng.standard_normal((4, 64)).astype(np.float32) * 10
    bfsrc.ravel()[:4] = [0.0, -0.0, 1e-40, -3.0e38]
    bf = gguf.quants.quantize(bfsrc, Q.BF16)
    add("t.bf16", Q.BF16, bf, gguf.quants.dequantize(bf, Q.BF16), bfsrc.shape)
    # legacy block types quantized by gguf's own numpy quantizers
    for qtype in (Q.Q8_0, Q.Q4_0, Q.Q4_1):
        src = (rng.standard_normal((4, 128)) * rng.uniform(0.01, 2.0, size=(4, 1))).astype(np.float32)
        qd = gguf.quants.quantize(src, qtype)
        add(f"t.{qtype.name.lower()}", qtype, qd, gguf.quants.dequantize(qd, qtype), src.shape)
    # K-quants: random super-blocks, 2 rows of 512
    for qtype in (Q.Q4_K, Q.Q5_K, Q.Q6_K):
        blocks = random_k_blocks(rng, qtype, 4).reshape(2, -1)
        add(f"t.{qtype.name.lower()}", qtype, blocks, gguf.quants.dequantize(blocks, qtype), (2, 512))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    write_json(GGUF_FIX / "quants.expected.json", {
        "file": "quants.gguf",
        "alignment": 64,
        "metadata": {
            "test.u8": 200, "test.i8": -100, "test.u16": 60000, "test.i16": -30000,
            "test.u32": 4000000000, "test.i32": -2000000000,
            "test.f32": float(np.float32(0.1)), "test.u64": str(2**53 + 2), "test.i64": -(2**40),
            "test.f64": 1.0 / 3.0, "test.bool_true": True, "test.bool_false": False,
            "test.string": "héllo GGUF ✓", "test.arr_i16": [-1, 2, -3], "test.arr_u64": [1, str(2**60)],
            "test.arr_f32": [0.5, -1.25], "test.arr_str": ["a", "", "ünïcode"],
            "test.arr_bool": [True, False, True], "test.arr_nested": [[1, 2], [3]],
        },
        "tensors": tensors,
    })


def make_unsupported(rng) -> None:
    """A GGUF holding a Q2_K tensor (a type miStudio does not dequantize) next to a valid F32 one."""
    path = GGUF_FIX / "unsupported-q2k.gguf"
    w = GGUFWriter(str(path), "llama")
    w.add_tensor("output_norm.weight", rng.standard_normal((2, 32)).astype(np.float32))
    _, size = gguf.GGML_QUANT_SIZES[Q.Q2_K]
    raw = rng.integers(0, 256, size=(2, size), dtype=np.uint8)
    w.add_tensor("blk.0.attn_q.weight", raw, raw_dtype=Q.Q2_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------------------------------------
# Synthetic models: tiny random llama (SentencePiece-style vocabulary) and gpt2 (byte-level BPE)
# ---------------------------------------------------------------------------------------------

CORPUS = [
    "The cat sat on the mat. The dog sat on the log. A bird sang in the tree.",
    "Interpretability research looks inside language models to find features and circuits.",
    "Sparse autoencoders learn a dictionary of features from model activations.",
    "Hello world! Hello there, how are you today? I am fine, thank you.",
    "def main():\n    print('hello')\n    return 0\n",
    "Numbers like 12, 345 and 6789 appear in text, as do dates such as 2024-01-02.",
] * 20


def spm_vocab():
    """A llama-style SentencePiece BPE vocabulary: <unk>, <s>, </s>, 256 byte tokens, then pieces
    learned by a BPE on ▁-prefixed words, with scores decreasing in merge order (as SentencePiece)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=180, show_progress=False))
    learned = [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + learned
    types = [2, 3, 3] + [6] * 256 + [1] * len(learned)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(learned))]
    return tokens, scores, types


def bpe_vocab():
    """A GPT-2 style byte-level BPE vocabulary with merges."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=360, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    data = json.loads(tok.to_str())
    tokens = [t for t, _ in sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])]
    merges = [" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]]
    types = [3 if t == "<|endoftext|>" else 1 for t in tokens]
    return tokens, merges, types


def quantize_for(name: str, a: np.ndarray, plan: dict) -> tuple[np.ndarray, Q | None]:
    for suffix, qtype in plan.items():
        if name.endswith(suffix):
            if qtype == Q.F32:
                return a.astype(np.float32), None
            if qtype == Q.F16:
                return a.astype(np.float16), None
            return gguf.quants.quantize(a.astype(np.float32), qtype), qtype
    return a.astype(np.float32), None


def llama_permute(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    # convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def load_with_transformers(path: Path):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, torch_dtype="float32")
    return model.eval()


def tokenizer_reference(path: Path, add_bos: bool | None, keep_vocab: bool) -> dict:
    """Ids and decodings of TEXTS, plus the converted tokenizer.json (pipeline, added tokens, merges)."""
    from transformers import AutoTokenizer
    kwargs = {} if add_bos is None else {"add_bos_token": add_bos}
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name, **kwargs)
    cases = []
    for t in TEXTS:
        ids = tok(t).input_ids
        cases.append({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    backend = json.loads(tok.backend_tokenizer.to_str())
    model = backend["model"]
    merges = [" ".join(m) if isinstance(m, list) else m for m in model.pop("merges")]
    vocab = model.pop("vocab")
    if keep_vocab:
        model["merges"], model["vocab"] = merges, vocab
    else:
        model["mergeCount"], model["mergesHead"], model["mergesTail"] = len(merges), merges[:20], merges[-20:]
        model["vocabSize"] = len(vocab)
    return {"class": type(tok).__name__, "addBosToken": add_bos, "cases": cases, "tokenizerJson": backend}


def assert_round_trip(original, loaded) -> None:
    """The GGUF written here, read back by transformers, must be the original model up to quantization
    error: this proves the synthetic conversion follows the convention transformers reverses."""
    ref = loaded.state_dict()
    for name, p in original.state_dict().items():
        if name not in ref:
            continue
        a, b = p.detach().float().numpy(), ref[name].detach().float().numpy()
        err = float(np.abs(a - b).max())
        assert err <= 0.1 * float(np.abs(a).max()) + 1e-6, f"{name}: round trip error {err}"


def tensor_reference(model, full: list[str]) -> dict:
    sd = model.state_dict()
    out = {}
    for name, t in sd.items():
        a = t.detach().float().numpy()
        entry = {"shape": list(a.shape), **checksum(a)}
        if name in full:
            entry["values"] = b64_f32(a.ravel())
        out[name] = entry
    return out


def make_tiny_llama(rng) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    tokens, scores, types = spm_vocab()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tokens), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg).eval()
    # norms are ones at init: make them random so a mix-up would show
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1 + 0.1 * torch.randn_like(p))
    path = GGUF_FIX / "tiny-llama.gguf"
    w = GGUFWriter(str(path), "llama")
    w.add_name("tiny-llama-test")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(cfg.rope_theta)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_vocab_size(len(tokens))
    w.add_file_type(Q.Q8_0)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}")
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, cfg.num_hidden_layers)
    plan = {"attn_q.weight": Q.Q4_1, "attn_k.weight": Q.Q4_0, "attn_v.weight": Q.Q8_0,
            "attn_output.weight": Q.F16, "ffn_gate.weight": Q.Q8_0, "ffn_up.weight": Q.BF16,
            "ffn_down.weight": Q.Q4_1, "token_embd.weight": Q.Q8_0, "output.weight": Q.F16, "norm.weight": Q.F32}
    for hf_name, p in model.state_dict().items():
        base, suffix = hf_name.rsplit(".", 1)
        gname = name_map.get_name(base) + "." + suffix
        a = p.detach().numpy()
        if gname.endswith("attn_q.weight"):
            a = llama_permute(a, cfg.num_attention_heads, cfg.num_attention_heads)
        elif gname.endswith("attn_k.weight"):
            a = llama_permute(a, cfg.num_attention_heads, cfg.num_key_value_heads)
        data, qtype = quantize_for(gname, a, plan)
        w.add_tensor(gname, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    ref = load_with_transformers(path)
    assert_round_trip(model, ref)
    full = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
            "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
            "model.layers.0.input_layernorm.weight"]
    write_json(GGUF_FIX / "tiny-llama.expected.json", {
        "file": "tiny-llama.gguf",
        "config": {k: v for k, v in ref.config.to_dict().items() if k in CONFIG_KEYS},
        "tensors": tensor_reference(ref, full),
        "tokenizer": tokenizer_reference(path, True, keep_vocab=True),
    })


def make_tiny_gpt2(rng) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    tokens, merges, types = bpe_vocab()
    torch.manual_seed(1)
    # transformers' GGUF config mapping has no key for n_positions: keep GPT2Config's default 1024
    cfg = GPT2Config(vocab_size=len(tokens), n_embd=32, n_layer=2, n_head=4, n_positions=1024,
                     bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "ln_" in n or n.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p) + (1.0 if n.endswith("ln_1.weight") or n.endswith("ln_2.weight") or n.endswith("ln_f.weight") else 0.0))
    path = GGUF_FIX / "tiny-gpt2.gguf"
    w = GGUFWriter(str(path), "gpt2")
    w.add_name("tiny-gpt2-test")
    w.add_context_length(cfg.n_positions)
    w.add_embedding_length(cfg.n_embd)
    w.add_block_count(cfg.n_layer)
    w.add_feed_forward_length(4 * cfg.n_embd)
    w.add_head_count(cfg.n_head)
    w.add_layer_norm_eps(cfg.layer_norm_epsilon)
    w.add_file_type(Q.F16)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_add_bos_token(False)
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GPT2, cfg.n_layer)
    plan = {"attn_qkv.weight": Q.Q8_0, "ffn_up.weight": Q.Q4_1, "ffn_down.weight": Q.F16,
            "attn_output.weight": Q.F32, "token_embd.weight": Q.F16, "position_embd.weight": Q.Q8_0}
    for hf_name, p in model.state_dict().items():
        if hf_name == "lm_head.weight":  # tied: absent from the file, as transformers infers
            continue
        base, suffix = hf_name.rsplit(".", 1)
        g = name_map.get_name(base)
        if g is None:
            continue
        gname = g + "." + suffix
        a = p.detach().numpy()
        # convert_hf_to_gguf.py GPT2Model: Conv1D weights are stored transposed ([out, in])
        if gname.endswith((".attn_qkv.weight", ".attn_output.weight", ".ffn_up.weight", ".ffn_down.weight")):
            a = a.T.copy()
        data, qtype = quantize_for(gname, a, plan)
        w.add_tensor(gname, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    ref = load_with_transformers(path)
    assert_round_trip(model, ref)
    full = ["transformer.h.0.attn.c_attn.weight", "transformer.h.0.mlp.c_proj.weight"]
    write_json(GGUF_FIX / "tiny-gpt2.expected.json", {
        "file": "tiny-gpt2.gguf",
        "config": {k: v for k, v in ref.config.to_dict().items() if k in CONFIG_KEYS},
        "tensors": {k: v for k, v in tensor_reference(ref, full).items() if k != "lm_head.weight"},
        "tokenizer": tokenizer_reference(path, None, keep_vocab=True),
    })


CONFIG_KEYS = {
    "model_type", "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads",
    "num_hidden_layers", "rms_norm_eps", "rope_theta", "vocab_size", "max_position_embeddings",
    "tie_word_embeddings", "head_dim", "n_embd", "n_layer", "n_head", "n_positions", "n_ctx",
    "layer_norm_epsilon",
}


# ---------------------------------------------------------------------------------------------
# Real model: SmolLM2-135M-Instruct Q4_1 through transformers' GGUF loader
# ---------------------------------------------------------------------------------------------

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a",
    "The quick brown fox jumps over the",
    "In 1492, Christopher Columbus",
    "def fibonacci(n):\n    if n <= 1:\n        return",
    "Water boils at a temperature of",
    "The three primary colors are red, blue and",
    "To make a cup of tea, first you",
    "The largest planet in our solar system is",
    "My favorite food is pizza because",
    "1, 2, 3, 4, 5,",
    "Monday, Tuesday, Wednesday,",
    "Photosynthesis is the process by which plants",
    "The theory of relativity was developed by",
    "<|im_start|>user\nWhat is the capital of Japan?<|im_end|>\n<|im_start|>assistant\n",
    "import numpy as np\nx = np.",
    "She opened the door and saw",
    "The best way to learn a new language is",
    "Q: What is 7 times 8?\nA:",
    "The mitochondria is the powerhouse of the",
    "Shakespeare wrote many plays, including Romeo and",
    "A healthy breakfast usually includes",
    "The sun rises in the east and sets in the",
    "Le chat est sur la",
]


def make_smollm2() -> None:
    import torch
    if not SMOL.exists():
        sys.exit(f"{SMOL} is missing: run `bash scripts/setup.sh --test` first")
    torch.manual_seed(0)
    torch.set_num_threads(2)
    from transformers import AutoTokenizer
    model = load_with_transformers(SMOL)
    tok = AutoTokenizer.from_pretrained(str(SMOL.parent), gguf_file=SMOL.name, add_bos_token=False)

    cases = []
    with torch.no_grad():
        for prompt in PROMPTS:
            ids = tok(prompt).input_ids
            logits = model(torch.tensor([ids])).logits[0, -1].double()
            logp = torch.log_softmax(logits, dim=-1)
            top = torch.topk(logp, 10)  # 5 are compared; 10 help diagnose near-ties
            seq = list(ids)
            for _ in range(20):
                nxt = int(model(torch.tensor([seq])).logits[0, -1].argmax())
                seq.append(nxt)
            gen = seq[len(ids):]
            cases.append({
                "prompt": prompt, "ids": ids,
                "top10": [{"id": int(i), "logprob": float(v)} for v, i in zip(top.values, top.indices)],
                "greedy": gen, "greedyText": tok.decode(gen),
            })
    write_json(FIX / "smollm2-gguf-reference.json", {
        "file": ".cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf",
        "reference": "transformers 4.57.1 GGUF loader (dequantized to float32), float64 log_softmax of the last position",
        "cases": cases,
    })

    sd = model.state_dict()
    spots = {}
    rows = {"model.embed_tokens.weight": [0, 1, 1000, 49151],
            "model.layers.0.self_attn.q_proj.weight": [0, 1, 2, 31, 32, 33, 64, 575],
            "model.layers.0.self_attn.k_proj.weight": [0, 1, 2, 33, 191],
            "model.layers.29.self_attn.k_proj.weight": [1, 63, 100],
            "model.layers.0.self_attn.v_proj.weight": [0, 5],
            "model.layers.3.mlp.down_proj.weight": [0, 575],
            "model.layers.0.input_layernorm.weight": None,
            "model.norm.weight": None}
    for name, rs in rows.items():
        a = sd[name].detach().float().numpy()
        entry = {"shape": list(a.shape), **checksum(a)}
        if rs is None:
            entry["first64"] = [float(x) for x in a.ravel()[:64]]
        else:
            entry["rows"] = {str(r): [float(x) for x in a[r, :64]] for r in rs}
        spots[name] = entry
    write_json(FIX / "smollm2-gguf-tensors.json", {
        "config": {k: v for k, v in model.config.to_dict().items() if k in CONFIG_KEYS},
        "tensors": spots,
    })
    write_json(FIX / "smollm2-gguf-tokenizer.json", tokenizer_reference(SMOL, False, keep_vocab=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--real", action="store_true")
    args = ap.parse_args()
    both = not args.synthetic and not args.real
    logging.disable(logging.WARNING)
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if both or args.synthetic:
        GGUF_FIX.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(1234)
        make_quants(rng)
        make_unsupported(rng)
        make_tiny_llama(rng)
        make_tiny_gpt2(rng)
        print(f"wrote synthetic fixtures to {GGUF_FIX}")
    if both or args.real:
        make_smollm2()
        print(f"wrote SmolLM2 reference fixtures to {FIX}")


if __name__ == "__main__":
    main()
