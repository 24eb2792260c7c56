"""Python reference for bench/tokenize.ts: Hugging Face `tokenizers` (Rust) batch-encoding the very
same documents (read from the miStudio text dataset's text.bin + doc-offsets.bin) with the very same
tokenizer.json. Prints one JSON line.

    .venv/bin/python bench/tokenize_tokenizers.py --dataset-dir DIR --tokenizer-json FILE [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import time
from pathlib import Path

from tokenizers import Tokenizer


def read_documents(dataset_dir: Path) -> list[str]:
    index = json.loads((dataset_dir / "index.json").read_text())
    offsets_bytes = (dataset_dir / index["files"]["offsets"]).read_bytes()
    n = len(offsets_bytes) // 8
    offsets = struct.unpack(f"<{n}Q", offsets_bytes)
    text = (dataset_dir / index["files"]["text"]).read_bytes()
    return [text[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset-dir", required=True, type=Path)
    ap.add_argument("--tokenizer-json", required=True, type=Path)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    docs = read_documents(args.dataset_dir)
    text_bytes = sum(len(d.encode("utf-8")) for d in docs)
    tok = Tokenizer.from_file(str(args.tokenizer_json))
    t0 = time.perf_counter()
    tokens = 0
    for i in range(0, len(docs), args.batch):
        for enc in tok.encode_batch(docs[i : i + args.batch], add_special_tokens=False):
            tokens += len(enc.ids)
    seconds = time.perf_counter() - t0
    threads = int(os.environ.get("RAYON_NUM_THREADS", "0")) or os.cpu_count()
    print(json.dumps({"documents": len(docs), "textBytes": text_bytes, "tokens": tokens, "seconds": seconds, "threads": threads}))


if __name__ == "__main__":
    main()
