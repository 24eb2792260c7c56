"""PyTorch twin of one SAE training step on the GPU machine: forward, backward, clip_grad_norm_(1.0)
and torch.optim.Adam, as SAELens v6 trains its StandardTrainingSAE and TopKTrainingSAE. The SAE is
written out rather than taken from sae_lens so that the GPU machine needs nothing beyond torch.

Prints one JSON line {"bench": "gpu-sae-step", "impl": "pytorch", ...} with the median ms per step;
bench/gpu/run.ts sets it beside miStudio's own step for the ratio.

  python3 torch_sae_step.py --arch topk --precision bf16
  .venv/bin/python bench/gpu/torch_sae_step.py --device cpu --batch 64 --d-in 32 --d-sae 256 --k 8 --arch topk --precision bf16
"""
import argparse
import contextlib
import json
import statistics
import sys
import time

import torch

# SAELens' default l1_coefficient; its value does not change the step's cost.
L1_COEFFICIENT = 1.0


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["standard", "topk"], default="standard")
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--d-in", type=int, default=768)
    ap.add_argument("--d-sae", type=int, default=24576)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="fp32")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seconds-budget", type=float, default=float("inf"))
    return ap.parse_args()


def main():
    started = time.perf_counter()
    args = parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    # Only tf32 lets fp32 matmuls round to TF32; under bf16 the ops autocast leaves in fp32 stay exact.
    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = args.precision == "tf32"

    # SAELens' initialisation: decoder rows of norm 0.1, encoder its transpose, zero biases.
    w_dec = torch.randn(args.d_sae, args.d_in, device=device)
    w_dec = w_dec / w_dec.norm(dim=1, keepdim=True) * 0.1
    w_dec.requires_grad_(True)
    w_enc = w_dec.detach().t().clone().requires_grad_(True)
    b_enc = torch.zeros(args.d_sae, device=device, requires_grad=True)
    b_dec = torch.zeros(args.d_in, device=device, requires_grad=True)
    params = [w_enc, b_enc, w_dec, b_dec]
    optimizer = torch.optim.Adam(params, lr=3e-4)
    x = torch.randn(args.batch, args.d_in, device=device)

    def loss_standard():
        pre = (x - b_dec) @ w_enc + b_enc
        z = torch.relu(pre)
        recon = z @ w_dec + b_dec
        mse = (recon - x).pow(2).sum(dim=-1).mean()
        l1 = (z * w_dec.norm(dim=1)).sum(dim=-1).mean()
        return mse + L1_COEFFICIENT * l1

    def loss_topk():
        pre = (x - b_dec) @ w_enc + b_enc
        dec_norm = w_dec.norm(dim=1)
        # rescale_acts_by_decoder_norm: rank by the decoder-weighted activation, decode unscaled.
        h = pre * dec_norm
        vals, idx = h.topk(args.k, dim=-1)
        z = torch.zeros_like(h).scatter(-1, idx, torch.relu(vals))
        recon = (z / dec_norm) @ w_dec + b_dec
        return (recon - x).pow(2).sum(dim=-1).mean()

    loss_fn = loss_topk if args.arch == "topk" else loss_standard
    autocast = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if args.precision == "bf16"
        else contextlib.nullcontext()
    )

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def step():
        with autocast:
            loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def over_budget():
        return time.perf_counter() - started > args.seconds_budget

    for _ in range(args.warmup):
        if over_budget():
            break
        step()
    sync()
    times = []
    # At least one timed step, so that a tight budget still yields a figure.
    while len(times) < max(1, args.steps) and not (times and over_budget()):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    if len(times) < args.steps:
        print(f"torch_sae_step: budget of {args.seconds_budget}s reached after {len(times)} timed steps", file=sys.stderr)

    ms = statistics.median(times) * 1000
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(json.dumps({
        "bench": "gpu-sae-step", "impl": "pytorch", "arch": args.arch, "precision": args.precision,
        "device": name, "batch": args.batch, "dIn": args.d_in, "dSae": args.d_sae, "k": args.k,
        "msPerStep": round(ms, 4), "tokensPerSecond": round(args.batch / (ms / 1000)),
    }, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
