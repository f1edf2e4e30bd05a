#!/usr/bin/env python3
"""`neardup.dedup` from Python against `neardup scan` on the same text.

Run by hand, not in CI, in a venv with the package installed (see
python/README.md) and a release build of the command line:

    cargo run --release --example gen_corpus -- --size 100MB --seed 1 --out /tmp/c100.jsonl
    cargo build --release
    python3 benches/python_dedup.py --corpus /tmp/c100.jsonl [--neardup target/release/neardup] \\
        [--threads 2] [--repeat 3]

The corpus's texts are read once into a pyarrow table (the way a user's
data arrives: a Parquet file, a datasets.Dataset); then, in interleaved
rounds, `neardup.dedup(table, "text")` is timed in this process and
`neardup scan --output-format json -jN` of the JSON Lines file is run as a
subprocess (its time includes the process start and reading the file, as
a user's would). The table gives the median of each and the ratio of the
medians; the target is dedup <= 1.15x the command line.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import neardup
    import pyarrow as pa

    with open(args.corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    table = pa.table({"text": pa.array(texts, pa.string())})
    del texts
    size = sum(len(line) for line in open(args.corpus, "rb"))

    py_times, cli_times = [], []
    flagged = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = neardup.dedup(table, "text", threads=args.threads)
        py_times.append(time.perf_counter() - start)
        flagged = len(result.pairs["row"])
        start = time.perf_counter()
        out = subprocess.run(
            [args.neardup, "scan", "-q", "-j", str(args.threads), "--output-format", "json",
             args.corpus],
            stdout=subprocess.PIPE,
        )
        cli_times.append(time.perf_counter() - start)
        if out.returncode not in (0, 1):
            sys.exit("neardup scan failed")
        cli_flagged = json.loads(out.stdout)["summary"]["duplicate_paragraphs"]
    if flagged != cli_flagged:
        sys.exit(f"dedup flagged {flagged} paragraphs, the command line {cli_flagged}")
    py, cli = statistics.median(py_times), statistics.median(cli_times)
    mb = size / 1e6
    print(f"# {args.corpus}: {mb:.0f} MB, {table.num_rows} rows, {args.threads} threads, "
          f"{args.repeat} rounds; both flag {flagged} paragraphs\n")
    print("| run | median s (range) | MB/s |")
    print("|---|---:|---:|")
    print(f"| neardup.dedup(pyarrow table) | {py:.2f} ({min(py_times):.2f}-{max(py_times):.2f}) "
          f"| {mb / py:.1f} |")
    print(f"| neardup scan (CLI, JSON Lines file) | {cli:.2f} ({min(cli_times):.2f}-"
          f"{max(cli_times):.2f}) | {mb / cli:.1f} |")
    print(f"\ndedup / CLI = {py / cli:.2f}x (target <= 1.15x)")


if __name__ == "__main__":
    main()
