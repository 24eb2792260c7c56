"""PyTorch / SAELens reference for src/core/test/sae-ce-eval.test.ts (CE loss recovered, KL).

Uses the tiny random-init llama of make_tiny_models.py and the standard SAE on
blocks.0.hook_resid_post that make_analysis_fixtures.py saved with SAELens. For equal-length token
rows that start with BOS, computes what SAELens' get_recons_loss / get_downstream_reconstruction_metrics
compute with ignore_tokens = [BOS]: the model clean, with the hook replaced by sae.decode(sae.encode(x))
except at ignored positions (torch.where(mask, sae_out, x)), and zero-ablated everywhere; per-token
CE (mask[:, :-1]) and KL(clean || new) (sae_lens.evals._kl, masked), concatenated then averaged,
and the ce_loss_score / kl_div_score formulas; plus the SAE's explained variance and L0 there. The hook is a PyTorch forward hook on decoder layer 0
(TransformerLens' blocks.0.hook_resid_post is that layer's output).

Writes src/core/test/fixtures/sae/ce-eval.json.
Run: .venv/bin/python tests/python/make_ce_eval_fixtures.py
"""
import json
import pathlib

import torch
from sae_lens import SAE
from sae_lens.evals import _kl
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "src/core/test/fixtures/models/tiny-llama"
SAE_DIR = ROOT / "src/core/test/fixtures/analysis/llama/sae"
OUT = ROOT / "src/core/test/fixtures/sae/ce-eval.json"
HOOK = "blocks.0.hook_resid_post"
BOS = 1
LENGTH = 14
TEXTS = [
    "The cat sat on the mat, and the dog sat on the log by the sea.",
    "Attention heads move information between token positions of a small model.",
    "Hello, world! How are you today? I am fine, thank you very much.",
    "Sparse autoencoders find features in the residual stream of a transformer.",
    "Once upon a time there was a little language model that wanted to talk.",
]


def main():
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32).eval()
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    sae = SAE.load_from_disk(SAE_DIR)
    rows = []
    for t in TEXTS:
        ids = [i for i in tok.encode(t).ids if i != BOS]
        # BOS also in the middle of one row, so the mask is not only position 0.
        row = ([BOS] + ids)[:LENGTH]
        rows.append(row)
    rows[2][6] = BOS
    tokens = torch.tensor(rows)
    mask = tokens != BOS
    layer = model.model.layers[0]

    def run(hook_fn=None):
        h = layer.register_forward_hook(hook_fn) if hook_fn else None
        with torch.no_grad():
            logits = model(tokens).logits
        if h:
            h.remove()
        return logits

    def replace(_m, _i, out):
        x = out[0] if isinstance(out, tuple) else out
        new = sae.decode(sae.encode(x)).to(x.dtype)
        new = torch.where(mask[..., None], new, x)
        return (new,) + tuple(out[1:]) if isinstance(out, tuple) else new

    def zero(_m, _i, out):
        x = out[0] if isinstance(out, tuple) else out
        new = torch.zeros_like(x)
        return (new,) + tuple(out[1:]) if isinstance(out, tuple) else new

    clean, recons, abl = run(), run(replace), run(zero)

    # Explained variance and L0 of the SAE at the scored positions (SAELens ExplainedVarianceCalculator's formula).
    got = {}

    def grab(_m, _i, out):
        got["x"] = (out[0] if isinstance(out, tuple) else out).detach().clone()

    run(grab)
    x = got["x"][mask].double()
    with torch.no_grad():
        acts = sae.encode(got["x"][mask])
        x_hat = sae.decode(acts).double()
    explained_variance = 1 - ((x - x_hat) ** 2).sum().item() / ((x - x.mean(0)) ** 2).sum().item()
    l0 = (acts > 0).sum(-1).double().mean().item()

    def ce(logits):  # TransformerLens loss_per_token: [B, T-1]
        lp = torch.log_softmax(logits.double(), dim=-1)
        return -lp[:, :-1].gather(-1, tokens[:, 1:, None]).squeeze(-1)

    ce_mask = mask[:, :-1]
    m = {
        "ce_loss_without_sae": ce(clean)[ce_mask].mean().item(),
        "ce_loss_with_sae": ce(recons)[ce_mask].mean().item(),
        "ce_loss_with_ablation": ce(abl)[ce_mask].mean().item(),
        "kl_div_with_sae": _kl(clean.double(), recons.double())[mask].mean().item(),
        "kl_div_with_ablation": _kl(clean.double(), abl.double())[mask].mean().item(),
    }
    m["ce_loss_score"] = (m["ce_loss_with_ablation"] - m["ce_loss_with_sae"]) / (m["ce_loss_with_ablation"] - m["ce_loss_without_sae"])
    m["kl_div_score"] = (m["kl_div_with_ablation"] - m["kl_div_with_sae"]) / m["kl_div_with_ablation"]
    m["explained_variance"] = explained_variance
    m["l0"] = l0
    OUT.write_text(json.dumps({"model": "tiny-llama", "sae": "analysis/llama/sae", "hook": HOOK, "ignore_tokens": [BOS], "rows": rows, "metrics": m, "ce_tokens": int(ce_mask.sum())}, indent=1))
    print(json.dumps(m, indent=1))


if __name__ == "__main__":
    main()
