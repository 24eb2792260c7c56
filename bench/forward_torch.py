"""PyTorch twin of bench/forward.ts: SmolLM2-135M forward passes on CPU with transformers, on the
same GGUF file through transformers' GGUF loader (dequantized to float32, as our engine does).

bench/forward.ts drives it over stdin/stdout so that the two engines' passes alternate (the
machine's load changes both alike): it prints {"ready": ...} after loading, then one JSON line per
"run" line read from stdin, and exits on "quit" or end of input.

  .venv/bin/python bench/forward_torch.py --model .cache/fixtures/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2
"""
import argparse
import json
import os
import sys
import time

import torch
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging


def load(path):
    if path.endswith('.gguf'):
        return AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path), torch_dtype=torch.float32)
    return AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, help='a .gguf file or a Hugging Face model directory')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--tokens', type=int, default=128)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    t0 = time.perf_counter()
    model = load(args.model).eval()
    vocab = model.config.vocab_size
    # The same deterministic token pattern as bench/forward.ts.
    ids = torch.tensor([[(b * 131 + t * 7919 + 17) % vocab for t in range(args.tokens)] for b in range(args.batch)], dtype=torch.long)
    mask = torch.ones_like(ids)
    print(json.dumps({'ready': True, 'loadSeconds': round(time.perf_counter() - t0, 3), 'threads': torch.get_num_threads(),
                      'attention': model.config._attn_implementation, 'torch': torch.__version__}), flush=True)
    with torch.inference_mode():
        for line in sys.stdin:
            if line.strip() != 'run':
                break
            t = time.perf_counter()
            out = model(input_ids=ids, attention_mask=mask)
            seconds = time.perf_counter() - t
            assert out.logits.shape == (args.batch, args.tokens, vocab)
            print(json.dumps({'seconds': seconds, 'sample': out.logits[0, -1, :16].tolist()}), flush=True)


if __name__ == '__main__':
    main()
