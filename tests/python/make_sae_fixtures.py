"""PyTorch / SAELens references for src/core/test/sae-*.test.ts.

Writes src/core/test/fixtures/sae/:
  step-<arch>.json   for standard, topk, batchtopk, jumprelu, gated: small fixed inputs, the SAELens v6
                     TrainingSAE loss (training_forward_pass), its autograd gradients, and one
                     SAELens trainer update (clip_grad_norm_(1.0) + torch.optim.Adam) from a non-zero
                     optimizer state, so bias correction is exercised too.
  lr-schedules.json  learning rates SAELens' get_lr_scheduler gives at every step, and its
                     CoefficientScheduler's sparsity coefficients, for a few schedules.
  saelens/<arch>/    SAEs saved by SAELens itself (cfg.json + sae_weights.safetensors; batchtopk via
                     save_inference_model, i.e. as jumprelu) plus expected.json: feature activations
                     of SAE.encode on fixed inputs, for the loader test.

Run: .venv/bin/python tests/python/make_sae_fixtures.py   (needs sae-lens from requirements.txt)
"""
import json
import pathlib
import shutil

import torch
from safetensors.torch import save_file
from sae_lens import SAE
from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
from sae_lens.saes.gated_sae import GatedTrainingSAE, GatedTrainingSAEConfig
from sae_lens.saes.jumprelu_sae import JumpReLUTrainingSAE, JumpReLUTrainingSAEConfig
from sae_lens.saes.sae import TrainStepInput
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig

OUT = pathlib.Path(__file__).resolve().parents[2] / "src/core/test/fixtures/sae"
D_IN, D_SAE, BATCH = 8, 32, 16
LR, BETAS, EPS, PRIOR_STEPS = 1e-2, (0.9, 0.999), 1e-8, 2
torch.manual_seed(20240611)


def rand(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float32) * scale).contiguous()


def flat(t: torch.Tensor):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_sae(arch: str):
    if arch == "standard":
        cfg = StandardTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l1_coefficient=0.3)
        return StandardTrainingSAE(cfg), {"l1": 0.3}, 0.3
    if arch == "topk":
        cfg = TopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=4, aux_loss_coefficient=0.7)
        return TopKTrainingSAE(cfg), {}, 0.7
    if arch == "batchtopk":
        cfg = BatchTopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=3, aux_loss_coefficient=0.7)
        return BatchTopKTrainingSAE(cfg), {}, 0.7
    if arch == "jumprelu":
        cfg = JumpReLUTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l0_coefficient=0.4, jumprelu_bandwidth=0.3)
        return JumpReLUTrainingSAE(cfg), {"l0": 0.4}, 0.4
    if arch == "gated":
        cfg = GatedTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l1_coefficient=0.25)
        return GatedTrainingSAE(cfg), {"l1": 0.25}, 0.25
    raise ValueError(arch)


def step_fixture(arch: str) -> dict:
    sae, coefficients, coefficient = make_sae(arch)
    x = rand(BATCH, D_IN) + 0.3
    with torch.no_grad():
        # Decoder rows of unequal norms, so every decoder-norm term matters.
        sae.W_dec.copy_(rand(D_SAE, D_IN, scale=0.4) * (0.5 + torch.rand(D_SAE, 1)))
        sae.W_enc.copy_(rand(D_IN, D_SAE, scale=0.5))
        sae.b_dec.copy_(rand(D_IN, scale=0.1))
        for name in ("b_enc", "b_gate", "b_mag", "r_mag"):
            if hasattr(sae, name) and isinstance(getattr(sae, name), torch.nn.Parameter):
                getattr(sae, name).copy_(rand(D_SAE, scale=0.2))
        if arch == "jumprelu":
            # Thresholds near the pre-activations (so the STE window catches entries); two negative
            # ones exercise SAELens' projection to ≥ 0.
            thr = torch.rand(D_SAE) * 0.6
            thr[3], thr[17] = -0.2, -0.05
            sae.threshold.copy_(thr)
    dead = torch.zeros(D_SAE, dtype=torch.bool)
    if arch in ("topk", "batchtopk"):
        dead[[1, 5, 6, 9, 13, 20, 21, 30]] = True
    names = [n for n, _ in sae.named_parameters()]
    params0 = {n: p.detach().clone() for n, p in sae.named_parameters()}

    optimizer = torch.optim.Adam(sae.parameters(), lr=LR, betas=BETAS, eps=EPS)
    m0, v0 = {}, {}
    for n, p in sae.named_parameters():
        m0[n] = rand(*p.shape, scale=0.05)
        v0[n] = torch.rand(*p.shape) * 0.01
        optimizer.state[p] = {"step": torch.tensor(float(PRIOR_STEPS)), "exp_avg": m0[n].clone(), "exp_avg_sq": v0[n].clone()}

    out = sae.training_forward_pass(
        TrainStepInput(sae_in=x, coefficients=coefficients, dead_neuron_mask=dead if dead.any() else None, n_training_steps=0, is_logging_step=False)
    )
    out.loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in sae.named_parameters()}
    grad_norm = float(torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0))
    optimizer.step()
    losses = {k: float(v.detach()) for k, v in out.losses.items()}
    sparsity = losses.get("l1_loss", losses.get("l0_loss", 0.0))
    aux = losses.get("auxiliary_reconstruction_loss", 0.0)
    acts = out.feature_acts.detach()
    fixture = {
        "architecture": arch,
        "config": {
            "dIn": D_IN, "dSae": D_SAE, "batch": BATCH,
            "k": getattr(sae.cfg, "k", 0),
            "coefficient": coefficient,
            "jumpreluBandwidth": getattr(sae.cfg, "jumprelu_bandwidth", 0.05),
            "lr": LR, "adamBeta1": BETAS[0], "adamBeta2": BETAS[1], "adamEpsilon": EPS, "step": PRIOR_STEPS + 1,
        },
        "x": flat(x),
        "deadMask": [bool(v) for v in dead.tolist()],
        "params": {n: flat(params0[n]) for n in names},
        "adamM": {n: flat(m0[n]) for n in names},
        "adamV": {n: flat(v0[n]) for n in names},
        "expected": {
            "loss": float(out.loss), "mseLoss": losses["mse_loss"], "sparsityLoss": sparsity, "auxLoss": aux,
            "l0": float((acts != 0).float().sum(-1).mean()),
            "gradNorm": grad_norm,
            "grads": {n: flat(grads[n]) for n in names},
            "params": {n: flat(p) for n, p in sae.named_parameters()},
            "adamM": {n: flat(optimizer.state[p]["exp_avg"]) for n, p in sae.named_parameters()},
            "adamV": {n: flat(optimizer.state[p]["exp_avg_sq"]) for n, p in sae.named_parameters()},
        },
    }
    if arch == "batchtopk":
        fixture["expected"]["topkThreshold"] = float(sae.topk_threshold)
    return fixture


def saelens_dir_fixture(arch: str, dest: pathlib.Path) -> None:
    """An SAE saved by SAELens itself, and what SAELens' encode gives on fixed inputs."""
    train_arch = arch
    sae, _, _ = make_sae(train_arch)
    with torch.no_grad():
        sae.W_dec.copy_(rand(D_SAE, D_IN, scale=0.4) * (0.5 + torch.rand(D_SAE, 1)))
        sae.W_enc.copy_(rand(D_IN, D_SAE, scale=0.6))
        sae.b_dec.copy_(rand(D_IN, scale=0.1))
        for name in ("b_enc", "b_gate", "b_mag", "r_mag"):
            if hasattr(sae, name) and isinstance(getattr(sae, name), torch.nn.Parameter):
                getattr(sae, name).copy_(rand(D_SAE, scale=0.2))
        if arch == "jumprelu":
            sae.threshold.copy_(torch.rand(D_SAE) * 0.4)
        if arch == "batchtopk":
            sae.topk_threshold.fill_(0.35)
    sae.cfg.metadata.hook_name = "blocks.0.hook_resid_post"
    sae.cfg.metadata.model_name = "fixture-model"
    if dest.exists():
        shutil.rmtree(dest)
    sae.save_inference_model(dest)
    x = rand(6, D_IN) + 0.2
    loaded = SAE.load_from_disk(dest)
    acts = loaded.encode(x).detach()
    recon = loaded.decode(acts).detach()
    (dest / "expected.json").write_text(json.dumps({
        "architecture": loaded.cfg.architecture(), "x": flat(x), "rows": 6,
        "featureActs": flat(acts), "reconstruction": flat(recon),
    }))


def schedule_fixture() -> list:
    from sae_lens.training.optim import CoefficientScheduler, get_lr_scheduler

    cases = []
    for name, warm, decay, lr_end in [("constant", 5, 10, 3e-4), ("cosineannealing", 5, 0, 3e-5), ("cosineannealing", 0, 8, 3e-5), ("constant", 0, 0, 3e-4)]:
        total, lr = 50, 3e-4
        opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        sched = get_lr_scheduler(name, optimizer=opt, training_steps=total, lr=lr, warm_up_steps=warm, decay_steps=decay, lr_end=lr_end, num_cycles=1)
        lrs = []
        for _ in range(total):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        cases.append({"lrScheduler": name, "lr": lr, "lrEnd": lr_end, "lrWarmUpSteps": warm, "lrDecaySteps": decay, "steps": total, "lrs": lrs})
    coeff = CoefficientScheduler(warm_up_steps=4, final_value=2.0)
    values = []
    for _ in range(8):
        values.append(coeff.value)
        coeff.step()
    return [cases, {"warmUpSteps": 4, "final": 2.0, "values": values}]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for arch in ("standard", "topk", "batchtopk", "jumprelu", "gated"):
        (OUT / f"step-{arch}.json").write_text(json.dumps(step_fixture(arch)))
        saelens_dir_fixture(arch, OUT / "saelens" / arch)
    lrs, coefficients = schedule_fixture()
    (OUT / "lr-schedules.json").write_text(json.dumps({"lr": lrs, "coefficient": coefficients}))
    # sparsity.safetensors as the SAELens trainer writes it: log10 feature density, float32 [d_sae].
    save_file({"sparsity": torch.log10(torch.rand(D_SAE) * 0.1 + 1e-10)}, OUT / "saelens" / "topk" / "sparsity.safetensors")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
