"""PyTorch twin of bench/sae-train.ts: SAELens v6 training steps on CPU — its TrainingSAE classes
(dense topk, as SAELens trains by default), clip_grad_norm_(1.0), torch.optim.Adam and the trainer's
firing statistics, i.e. SAELens' SAETrainer._train_step.

bench/sae-train.ts drives it over stdin/stdout so the two engines' steps alternate (load on the
machine slows both alike): it prints {"ready": ...} after set-up, then one JSON line
{"seconds": s} per "run" line read from stdin, and exits on "quit" or end of input.

  .venv/bin/python bench/sae_train_torch.py --arch topk --k 32 --d 576 --d-sae 4608 --batch 4096 --threads 2
"""
import argparse
import json
import sys
import time
import warnings

import torch

warnings.filterwarnings("ignore")
from sae_lens.saes.sae import TrainStepInput  # noqa: E402
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig  # noqa: E402
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["standard", "topk"], required=True)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--d", type=int, default=576)
    ap.add_argument("--d-sae", type=int, default=4608)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.arch == "topk":
        sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=args.d, d_sae=args.d_sae, k=args.k))
        coefficients = {}
    else:
        sae = StandardTrainingSAE(StandardTrainingSAEConfig(d_in=args.d, d_sae=args.d_sae, l1_coefficient=1.0))
        coefficients = {"l1": 1.0}
    optimizer = torch.optim.Adam(sae.parameters(), lr=3e-4, betas=(0.9, 0.999))
    batches = [torch.randn(args.batch, args.d) for _ in range(4)]
    act_freq = torch.zeros(args.d_sae)
    since_fired = torch.zeros(args.d_sae)
    step = 0

    def train_step():
        nonlocal step, act_freq, since_fired
        x = batches[step % len(batches)]
        out = sae.training_forward_pass(TrainStepInput(sae_in=x, coefficients=coefficients, dead_neuron_mask=None, n_training_steps=step, is_logging_step=False))
        with torch.no_grad():
            firing = out.feature_acts.bool().float()
            did_fire = firing.sum(-2).bool()
            since_fired += 1
            since_fired[did_fire] = 0
            act_freq += firing.sum(0)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        step += 1

    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        train_step()
        print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)


if __name__ == "__main__":
    main()
