#!/usr/bin/env python3
"""`scan --containment`: its cost against a scan without it, and the recall
of planted quotes.

Run by hand, not in CI:

    cargo run --release --example gen_corpus -- --size 100MB --seed 1 --out /tmp/c100.jsonl
    cargo build --release
    python3 benches/containment.py --corpus /tmp/c100.jsonl [--neardup target/release/neardup] \\
        [--quotes 1000] [--repeat 3] [--threads 2]

Quotes are planted as the users' quotes are: a run of 25 to 40 words (each
letters with at most a trailing comma or stop, so that words are tokens)
taken from a random paragraph of the corpus becomes a record of its own in
a second file. A quote is found when
a report names it as the short paragraph inside a longer one. Every report
is an exact containment (the scan verifies each), so precision is 1.0 by
construction; the tests recompute it.

The timing runs `neardup scan -q -jN --output-format json` with and without
`--containment` on the corpus alone, interleaved, and gives the medians and
their ratio (target <= 1.3x).
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

WORD = re.compile(r"^[A-Za-z]+[,.;:]?$")


def plant(corpus, n, out, seed=1):
    rng = random.Random(seed)
    with open(corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    quotes = []
    tries = 0
    while len(quotes) < n and tries < 100 * n:
        tries += 1
        text = rng.choice(texts)
        para = rng.choice(text.split("\n"))
        words = para.split()
        t = rng.randint(25, 40)
        if len(words) < t + 5:
            continue
        start = rng.randrange(0, len(words) - t)
        run = words[start : start + t]
        if not all(WORD.match(w) for w in run):
            continue
        quotes.append(" ".join(run))
    with open(out, "w", encoding="utf-8") as f:
        for q in quotes:
            f.write(json.dumps({"text": q}) + "\n")
    return len(quotes)


def run(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.PIPE)
    wall = time.perf_counter() - start
    if out.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}")
    return wall, out.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--quotes", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--work", default="/tmp/neardup-containment")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    base = [args.neardup, "scan", "-q", "-j", args.threads, "--output-format", "json"]

    off, on = [], []
    for _ in range(args.repeat):
        off.append(run(base + [args.corpus])[0])
        on.append(run(base + ["--containment", args.corpus])[0])
    mb = os.path.getsize(args.corpus) / 1e6
    med = statistics.median
    print(f"# {args.corpus}: {mb:.0f} MB, {args.threads} threads, {args.repeat} rounds\n")
    print("| run | median s (range) | MB/s |")
    print("|---|---:|---:|")
    for name, t in [("scan", off), ("scan --containment", on)]:
        print(f"| {name} | {med(t):.2f} ({min(t):.2f}-{max(t):.2f}) | {mb / med(t):.1f} |")
    print(f"\ncontainment on / off = {med(on) / med(off):.2f}x (target <= 1.3x)")

    quotes_file = os.path.join(args.work, "quotes.jsonl")
    n = plant(args.corpus, args.quotes, quotes_file)
    _, out = run(base + ["--containment", args.corpus, quotes_file])
    report = json.loads(out)
    found = {
        c["short"]["line"]
        for c in report.get("contained", [])
        if c["short"]["path"] == quotes_file
    }
    # A quote that is a whole paragraph of the corpus is a duplicate, not
    # a containment: it is reported as a near-duplicate instead.
    duplicates = {
        m["line"]
        for cl in report["clusters"]
        for m in cl["members"][1:]
        if m["path"] == quotes_file
    }
    total = n - len(duplicates - found)
    print(
        f"\nplanted quotes: {n} of 25-40 words; found inside their paragraph: {len(found)} "
        f"of {total} (recall {len(found) / max(total, 1):.4f}); "
        f"{len(duplicates)} were whole paragraphs (near-duplicates)"
    )


if __name__ == "__main__":
    main()
