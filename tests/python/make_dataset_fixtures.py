"""Builds the small parquet fixtures of the dataset tests with pyarrow (run with the project .venv):

    .venv/bin/python tests/python/make_dataset_fixtures.py

  small-snappy.parquet / small-zstd.parquet  the same 40 rows (id, text, meta{title, lang}), 4 row
                                             groups, one null text; snappy / zstd compression
  corrupt-page.parquet                       like small-snappy, with the second half of one data page
                                             of the third row group overwritten (header intact)
  small-expected.json                        the non-null texts and titles in order, as pyarrow reads them
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src" / "core" / "test" / "fixtures" / "datasets"

WORDS = "the quick brown fox jumps over a lazy dog while naïve café owners sing 日本語 songs 🚀".split()


def rows() -> list[dict]:
    out = []
    for i in range(40):
        words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(5 + i % 11)]
        text = None if i == 7 else f"Row {i}: " + " ".join(words) + ("\nsecond line" if i % 5 == 0 else "")
        out.append({"id": i, "text": text, "meta": {"title": f"Title {i}", "lang": "en" if i % 3 else "ja"}})
    return out


def table() -> pa.Table:
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("text", pa.string()),
            ("meta", pa.struct([("title", pa.string()), ("lang", pa.string())])),
        ]
    )
    return pa.Table.from_pylist(rows(), schema=schema)


def corrupt_copy(src: Path, dst: Path) -> None:
    """Overwrites the second half of the text column's data page in row group 2 (the page header,
    at the start of the page, stays intact: the damage is in the compressed values)."""
    meta = pq.ParquetFile(src).metadata
    col = meta.row_group(2).column(1)
    assert col.path_in_schema == "text"
    start = col.data_page_offset
    size = col.total_compressed_size
    data = bytearray(src.read_bytes())
    for k in range(start + size // 2, start + size):
        data[k] = 0xFF
    dst.write_bytes(bytes(data))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    t = table()
    for codec in ("snappy", "zstd"):
        pq.write_table(t, OUT / f"small-{codec}.parquet", compression=codec, row_group_size=10, use_dictionary=False)
    corrupt_copy(OUT / "small-snappy.parquet", OUT / "corrupt-page.parquet")
    for codec in ("snappy", "zstd"):
        back = pq.read_table(OUT / f"small-{codec}.parquet")
        assert back.equals(t), codec
        assert pq.ParquetFile(OUT / f"small-{codec}.parquet").metadata.row_group(0).column(1).compression.lower() == codec
    expected = {
        "texts": [r["text"] for r in rows() if r["text"] is not None],
        "titles": [r["meta"]["title"] for r in rows()],
        "rowGroups": 4,
        "nullTextRows": 1,
    }
    (OUT / "small-expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
