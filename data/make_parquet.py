#!/usr/bin/env python3
"""Build data/news.parquet from data/news.jsonl with pyarrow.

One row per article with the columns of news.jsonl (`id`, `url`, `title`,
`text`, all strings) and `words` (int32, the text's word count), written
the way most published corpora are: pyarrow defaults (Snappy compression,
dictionary encoding), here with row groups of three rows so that readers
must cross row group boundaries.

Needs pyarrow (`pip install pyarrow`); neardup's tests do not, they read the
file this writes.

Usage: python3 data/make_parquet.py   (from any directory)
"""

import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = pathlib.Path(__file__).resolve().parent
IN_PATH = DATA_DIR / "news.jsonl"
OUT_PATH = DATA_DIR / "news.parquet"


def main():
    rows = [json.loads(line) for line in IN_PATH.read_text(encoding="utf-8").splitlines()]
    table = pa.table(
        {
            "id": [r["id"] for r in rows],
            "url": [r["url"] for r in rows],
            "title": [r["title"] for r in rows],
            "text": [r["text"] for r in rows],
            "words": pa.array([len(r["text"].split()) for r in rows], pa.int32()),
        }
    )
    pq.write_table(table, OUT_PATH, row_group_size=3, compression="snappy")
    print(f"wrote {table.num_rows} rows to {OUT_PATH}")


if __name__ == "__main__":
    main()
