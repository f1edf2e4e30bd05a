#!/usr/bin/env python3
"""Throughput of `neardup scan` per corpus, input format and thread count.

Run by hand, not in CI (timings live here and in notes, never in tests):

    cargo run --release --example gen_corpus -- --size 100MB --seed 1 --out /tmp/c100.jsonl
    python3 benches/prose_corpus.py --size 100MB --seed 1 --out /tmp/prose100.jsonl
    cargo build --release
    python3 benches/throughput.py --corpus news=/tmp/c100.jsonl --corpus prose=/tmp/prose100.jsonl \\
        [--neardup target/release/neardup] [--baseline OTHER_BINARY] [--threads 1,2] \\
        [--formats jsonl,text,wet] [--repeat 5] [--work /tmp/neardup-throughput] \\
        [--reference /tmp/reference_pass]

Each JSON Lines corpus is also written, once, into `--work` in the other
input shapes, with the same records in the same order:

* `text`: a tree of plain-text files, one per record, 100 to a directory
  (`scan` walks it in sorted order);
* `wet`: one `.warc.wet.gz` file, one gzip member per record as in Common
  Crawl's files, each record a WARC `conversion` record.

Every run is a separate process, `neardup scan -q -jN --output-format json
INPUT > /dev/null`, timed with its peak memory by `/usr/bin/time`. Runs are
interleaved (every configuration once per round, `--repeat` rounds) so
that a noisy machine disturbs all of them alike, and the table gives the
median wall time with the range. MB/s is over the bytes of the JSON Lines
file, so that the shapes of one corpus compare directly. With
`--baseline`, every configuration is also run with that binary in the same
rounds, and the ratio of medians is shown.

With `--reference` (`benches/reference_pass.c` built: one thread of C that
reads the JSON Lines file and hashes every word 5-gram once), the
yardstick runs just before every neardup run, on the same corpus, and the
table gives the median of the ratios (yardstick time / neardup time, each
pair seconds apart): the figure that a machine's speed, and a noisy
neighbour that comes and goes, moves least. The throughput goals of 100
MB/s (JSON Lines) and 80 MB/s (trees and WET) were set where the
yardstick ran at 159 MB/s on prose and about 200 MB/s on news: ratios of
0.63 and 0.5 for JSON Lines, 0.5 and 0.4 for the other shapes.
"""

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import uuid


def write_text_tree(jsonl, out_dir):
    if os.path.isdir(out_dir):
        return
    tmp = out_dir + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    with open(jsonl, encoding="utf-8") as f:
        for i, line in enumerate(f):
            text = json.loads(line)["text"]
            sub = os.path.join(tmp, f"{i // 100:05d}")
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, f"{i:07d}.txt"), "w", encoding="utf-8") as out:
                out.write(text if text.endswith("\n") else text + "\n")
    os.rename(tmp, out_dir)


def wet_record(doc_id, url, text):
    body = text.encode("utf-8")
    header = (
        "WARC/1.0\r\n"
        "WARC-Type: conversion\r\n"
        f"WARC-Target-URI: {url}\r\n"
        "WARC-Date: 2026-01-01T00:00:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, doc_id)}>\r\n"
        "Content-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("ascii")
    return header + body + b"\r\n\r\n"


def write_wet(jsonl, path):
    if os.path.exists(path):
        return
    tmp = path + ".tmp"
    with open(jsonl, encoding="utf-8") as f, open(tmp, "wb") as out:
        for i, line in enumerate(f):
            record = json.loads(line)
            doc_id = str(record.get("id", i))
            url = record.get("url", f"https://example.test/{doc_id}")
            out.write(gzip.compress(wet_record(doc_id, url, record["text"]), 1))
    os.rename(tmp, path)


def run(cmd):
    full = ["/usr/bin/time", "-f", "%e %M"] + cmd
    p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"error: {' '.join(cmd)} exited {p.returncode}: {p.stderr}")
    wall, peak_kb = p.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kb) / 1024


def reference(binary, path):
    out = subprocess.run([binary, path], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"in ([0-9.]+) s", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", action="append", required=True, metavar="NAME=FILE.jsonl")
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--baseline", help="another neardup binary, run side by side")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--formats", default="jsonl,text,wet")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default="/tmp/neardup-throughput")
    ap.add_argument("--reference", help="the yardstick (benches/reference_pass.c built), run before each run")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    inputs = []  # (corpus, format, path, bytes)
    jsonl_of = {}
    for spec in args.corpus:
        name, path = spec.split("=", 1)
        jsonl_of[name] = path
        size = os.path.getsize(path)
        for fmt in args.formats.split(","):
            if fmt == "jsonl":
                target = path
            elif fmt == "text":
                target = os.path.join(args.work, f"{name}-text")
                write_text_tree(path, target)
            elif fmt == "wet":
                target = os.path.join(args.work, f"{name}.warc.wet.gz")
                write_wet(path, target)
            else:
                sys.exit(f"error: unknown format {fmt!r} (jsonl, text, wet)")
            inputs.append((name, fmt, target, size))

    binaries = [("new", args.neardup)] + ([("base", args.baseline)] if args.baseline else [])
    threads = [int(t) for t in args.threads.split(",")]
    configs = [(c, b, j) for c in inputs for j in threads for b in binaries]
    results = {}
    ratios = {}
    yardstick = {}
    for _ in range(args.repeat):
        for (name, fmt, target, size), (label, binary), j in configs:
            if args.reference:
                ref = reference(args.reference, jsonl_of[name])
                yardstick.setdefault(name, []).append(ref)
            cmd = [binary, "scan", "-q", f"-j{j}", "--output-format", "json", target]
            wall, peak = run(cmd)
            results.setdefault((name, fmt, j, label), []).append((wall, peak))
            if args.reference:
                ratios.setdefault((name, fmt, j, label), []).append(ref / wall)

    print(f"{args.neardup}" + (f" (baseline {args.baseline})" if args.baseline else ""))
    print(f"median of {args.repeat} interleaved runs; MB/s over the JSON Lines bytes")
    for name, times in yardstick.items():
        med = statistics.median(times)
        size = os.path.getsize(jsonl_of[name]) / 1e6
        print(f"yardstick on {name}: median {med:.3f} s ({size / med:.0f} MB/s), {min(times):.3f}-{max(times):.3f} s")
    print()
    head = "| corpus | format | threads | wall (s) | MB/s | peak (MB) |"
    rule = "|---|---|---|---|---|---|"
    if args.reference:
        head += " yardstick / wall |"
        rule += "---|"
    if args.baseline:
        head += " baseline wall (s) | new / baseline |"
        rule += "---|---|"
    print(head)
    print(rule)
    for name, fmt, target, size in inputs:
        for j in threads:
            runs = results[(name, fmt, j, "new")]
            walls = [w for w, _ in runs]
            med = statistics.median(walls)
            peak = max(p for _, p in runs)
            row = (
                f"| {name} | {fmt} | {j} | {med:.2f} ({min(walls):.2f}-{max(walls):.2f}) "
                f"| {size / 1e6 / med:.0f} | {peak:.0f} |"
            )
            if args.reference:
                row += f" {statistics.median(ratios[(name, fmt, j, 'new')]):.3f} |"
            if args.baseline:
                base = statistics.median(w for w, _ in results[(name, fmt, j, "base")])
                row += f" {base:.2f} | {med / base:.2f} |"
            print(row)


if __name__ == "__main__":
    main()
