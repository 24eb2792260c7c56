"""PyTorch twin of bench/extract.ts: SmolLM2-135M (same GGUF file through transformers' GGUF loader)
captures blocks.6.hook_resid_post (the output of decoder layer 6) with a forward hook that stops the
pass there, on the same token rows our tokenized dataset holds, drops BOS positions as our extraction
does, and writes the rows to disk. Prints one JSON line: {"tokens": N, "seconds": S}.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging


class StopForward(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--tokens-file', required=True)
    ap.add_argument('--context', type=int, required=True)
    ap.add_argument('--rows', type=int, required=True)
    ap.add_argument('--tokens', type=int, required=True)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--layer', type=int, default=6)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(args.model), gguf_file=os.path.basename(args.model), torch_dtype=torch.float32).eval()
    bos = model.config.bos_token_id
    ids = np.fromfile(args.tokens_file, dtype=np.uint32)[: args.rows * args.context].reshape(-1, args.context).astype(np.int64)
    captured = {}

    def hook(_module, _inputs, output):
        captured['x'] = output[0] if isinstance(output, tuple) else output
        raise StopForward()

    model.model.layers[args.layer].register_forward_hook(hook)
    with torch.inference_mode():
        # Warm-up pass.
        try:
            model(input_ids=torch.from_numpy(ids[: args.batch]))
        except StopForward:
            pass
        done = 0
        t0 = time.perf_counter()
        with open(args.out, 'wb') as f:
            for start in range(0, len(ids), args.batch):
                if done >= args.tokens:
                    break
                batch = torch.from_numpy(ids[start:start + args.batch])
                try:
                    model(input_ids=batch)
                except StopForward:
                    pass
                keep = batch != bos
                rows = captured['x'][keep][: args.tokens - done]
                f.write(rows.numpy().tobytes())
                done += rows.shape[0]
            f.flush()
            os.fsync(f.fileno())
        seconds = time.perf_counter() - t0
    print(json.dumps({'tokens': done, 'seconds': seconds}))


if __name__ == '__main__':
    main()
