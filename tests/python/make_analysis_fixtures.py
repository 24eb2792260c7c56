"""PyTorch references for src/core/test/analysis-*.test.ts (run: .venv/bin/python tests/python/make_analysis_fixtures.py).

Writes src/core/test/fixtures/analysis/<arch>/ for the tiny random-init llama and gpt2 models of
tests/python/make_tiny_models.py:

  sae/            a standard (ReLU) SAE on blocks.0.hook_resid_post saved by SAELens itself
                  (random unit decoder rows; encoder biases set so features fire on 3-30% of tokens)
  reference.json  - logit_lens: for some features, the logits of W_dec[f] through the final norm and
                    the unembedding as TransformerLens folds them (fold_ln: W_U' = diag(g) W_U, the
                    LayerNorm centering applied to the direction; no 1/RMS scaling, no biases), with
                    and without center_unembed (subtracting the mean over the vocabulary)
                  - ablation: token sequences, the feature ablated, its activations (SAELens encode of
                    the hook activations), and the per-position cross-entropy of the clean model and of
                    the model with the feature zeroed where it fires (the SAE spliced in with its
                    error term, i.e. x - a_f W_dec[f] at those positions, done by a PyTorch forward hook)
"""
import json
import pathlib
import shutil

import numpy as np
import torch
from sae_lens import SAE, StandardSAE, StandardSAEConfig
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / "src/core/test/fixtures/models"
OUT = ROOT / "src/core/test/fixtures/analysis"
HOOK = "blocks.0.hook_resid_post"

CALIBRATION = [
    "The quick brown fox jumps over the lazy dog.",
    "A small model is easy to test, and a tested model is easy to trust.",
    "Sparse autoencoders find features in the residual stream of a transformer.",
    "Once upon a time there was a little language model that wanted to predict the next token.",
    "The cat sat on the mat; the dog sat on the log.",
    "Numbers like 12345 and 67890 are split into pieces.",
    "Interpretability research looks inside neural networks to see how they compute.",
    "She sells sea shells by the sea shore, and the shells she sells are sea shells.",
]
ABLATION_TEXTS = [
    "The cat sat on the mat, and the dog sat on the log by the sea.",
    "Attention heads move information between token positions of a small model.",
    "Hello, world! How are you today? I am fine, thank you.",
]


def block0(model):
    return model.transformer.h[0] if hasattr(model, "transformer") else model.model.layers[0]


def final_norm_and_unembed(model):
    if hasattr(model, "transformer"):
        return model.transformer.ln_f.weight.detach(), model.lm_head.weight.detach(), True
    return model.model.norm.weight.detach(), model.lm_head.weight.detach(), False


def resid_post_0(model, ids):
    got = {}

    def grab(_m, _i, out):
        got["x"] = (out[0] if isinstance(out, tuple) else out).detach().clone()

    h = block0(model).register_forward_hook(grab)
    with torch.no_grad():
        model(torch.tensor([ids]))
    h.remove()
    return got["x"][0]  # [T, d]


def make_sae(model, tok, d_sae, seed):
    g = torch.Generator().manual_seed(seed)
    d = model.config.hidden_size
    xs = torch.cat([resid_post_0(model, tok.encode(t).ids) for t in CALIBRATION])
    sae = StandardSAE(StandardSAEConfig(d_in=d, d_sae=d_sae))
    with torch.no_grad():
        w_dec = torch.randn(d_sae, d, generator=g)
        w_dec /= w_dec.norm(dim=1, keepdim=True)
        sae.W_dec.copy_(w_dec)
        sae.W_enc.copy_(w_dec.T * (0.5 + torch.rand(1, d_sae, generator=g)))
        sae.b_dec.copy_(xs.mean(0) * 0.5)
        pre = (xs - sae.b_dec) @ sae.W_enc
        # Each feature fires on a different share of the calibration tokens (3% to 30%).
        share = 0.03 + 0.27 * torch.rand(d_sae, generator=g)
        q = torch.stack([torch.quantile(pre[:, f], 1 - share[f]) for f in range(d_sae)])
        sae.b_enc.copy_(-q)
    sae.cfg.metadata.hook_name = HOOK
    sae.cfg.metadata.model_name = "tiny-fixture"
    return sae


def logit_lens(model, sae, features, center):
    g, w_u, layer_norm = final_norm_and_unembed(model)
    out = []
    for f in features:
        v = sae.W_dec[f].detach().double()
        if layer_norm:
            v = v - v.mean()
        logits = (v * g.double()) @ w_u.double().T
        if center:
            logits = logits - logits.mean()
        out.append([float(x) for x in logits])
    return out


def cross_entropy(logits, ids):
    lp = torch.log_softmax(logits[0].double(), dim=-1)
    return [float(-lp[t, ids[t + 1]]) for t in range(len(ids) - 1)]


def ablation(model, sae, tok):
    seqs = [tok.encode(t).ids for t in ABLATION_TEXTS]
    acts = [sae.encode(resid_post_0(model, ids)).detach() for ids in seqs]
    fires = sum((a > 0).sum(0) for a in acts)
    # A feature that fires on some but not most positions.
    total = sum(len(s) for s in seqs)
    candidates = [f for f in range(sae.cfg.d_sae) if 2 <= fires[f] <= total // 3]
    feature = max(candidates, key=lambda f: (fires[f], -f))
    cases = []
    for ids, a in zip(seqs, acts):
        with torch.no_grad():
            clean = model(torch.tensor([ids])).logits

        def ablate(_m, _i, out):
            h = out[0] if isinstance(out, tuple) else out
            coef = torch.where(a[:, feature] > 0, a[:, feature], torch.zeros_like(a[:, feature]))
            h = h - coef[None, :, None] * sae.W_dec[feature].detach()[None, None, :]
            return (h,) + tuple(out[1:]) if isinstance(out, tuple) else h

        hook = block0(model).register_forward_hook(ablate)
        with torch.no_grad():
            ablated = model(torch.tensor([ids])).logits
        hook.remove()
        cases.append({
            "tokens": ids,
            "activations": [float(x) for x in a[:, feature]],
            "ce_clean": cross_entropy(clean, ids),
            "ce_ablated": cross_entropy(ablated, ids),
        })
    return {"feature": feature, "hook": HOOK, "cases": cases}


def main():
    torch.manual_seed(0)
    for arch, d_sae, seed in (("llama", 96, 11), ("gpt2", 48, 12)):
        model_dir = MODELS / f"tiny-{arch}"
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        dest = OUT / arch
        dest.mkdir(parents=True, exist_ok=True)
        sae = make_sae(model, tok, d_sae, seed)
        sae_dir = dest / "sae"
        if sae_dir.exists():
            shutil.rmtree(sae_dir)
        sae.save_model(sae_dir)
        sae = SAE.load_from_disk(sae_dir)  # what the TypeScript side loads
        abl = ablation(model, sae, tok)
        features = [0, 1, 2, abl["feature"]]
        ref = {
            "model": f"tiny-{arch}",
            "hook": HOOK,
            "logit_lens": {"features": features, "centered": logit_lens(model, sae, features, True), "uncentered": logit_lens(model, sae, features, False)},
            "ablation": abl,
        }
        (dest / "reference.json").write_text(json.dumps(ref))
        print(arch, "ablation feature", abl["feature"], "mean dCE", float(np.mean([np.mean(np.array(c["ce_ablated"]) - np.array(c["ce_clean"])) for c in abl["cases"]])))


if __name__ == "__main__":
    main()
