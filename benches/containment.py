#!/usr/bin/env python3
"""`scan --containment`: its cost against a scan without it, and the recall
of planted quotes.

Run by hand, not in CI:

    cargo run --release --example gen_corpus -- --size 100MB --seed 1 --out /tmp/c100.jsonl
    cargo build --release
    python3 benches/containment.py --corpus /tmp/c100.jsonl [--neardup target/release/neardup] \\
        [--baseline OTHER_BUILD] [--quotes 1000] [--repeat 3] [--threads 2]

Quotes are planted as the users' quotes are: a run of 25 to 40 words (each
letters with at most a trailing comma or stop, so that words are tokens)
taken from a random paragraph of the corpus becomes a record of its own in
a second file. A quote is found when
a report names it as the short paragraph inside a longer one. Every report
is an exact containment (the scan verifies each), so precision is 1.0 by
construction; the tests recompute it.

The timing runs `neardup scan -q -jN --output-format json` with and without
`--containment` on the corpus alone, interleaved, and gives the medians and
their ratio (target <= 1.3x); with `--baseline`, another build's two runs
too, in the same rounds.

With `--against-index`, the same against a persistent index: the first 80%
of the corpus's records are indexed (`index create --containment-words
25`, and once without, for the sizes), the last 20% are scanned against
it with and without `--containment`; the findings are compared with one
scan of the whole corpus (pairs with a paragraph of the last 20%), and the
quotes are planted from the indexed part and looked for against the index.
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
    ap.add_argument("--against-index", action="store_true")
    ap.add_argument("--baseline", help="another build, timed in the same rounds")
    args = ap.parse_args()
    if args.against_index:
        return against_index(args)
    os.makedirs(args.work, exist_ok=True)
    builds = [args.neardup] + ([args.baseline] if args.baseline else [])
    times = {b: ([], []) for b in builds}
    for _ in range(args.repeat):
        # Every build's both runs in each round: the machine's drift hits
        # all of them alike.
        for b in builds:
            cmd = [b, "scan", "-q", "-j", args.threads, "--output-format", "json"]
            times[b][0].append(run(cmd + [args.corpus])[0])
            times[b][1].append(run(cmd + ["--containment", args.corpus])[0])
    base = [args.neardup, "scan", "-q", "-j", args.threads, "--output-format", "json"]
    mb = os.path.getsize(args.corpus) / 1e6
    med = statistics.median
    print(f"# {args.corpus}: {mb:.0f} MB, {args.threads} threads, {args.repeat} rounds\n")
    print("| build | run | median s (range) | MB/s |")
    print("|---|---|---:|---:|")
    for b, (off, on) in times.items():
        for name, t in [("scan", off), ("scan --containment", on)]:
            print(f"| {b} | {name} | {med(t):.2f} ({min(t):.2f}-{max(t):.2f}) | {mb / med(t):.1f} |")
    for b, (off, on) in times.items():
        print(f"\n{b}: containment on / off = {med(on) / med(off):.3f}x (target <= 1.3x)")

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


def key(c):
    place = lambda p: (p["path"], p["line"])
    return (place(c["short"]), place(c["long"]), c["shared_shingles"], c["shingles"],
            tuple(c["short_words"]), tuple(c["long_words"]))


def against_index(args):
    import shutil

    os.makedirs(args.work, exist_ok=True)
    with open(args.corpus, encoding="utf-8") as f:
        lines = f.readlines()
    cut = len(lines) * 4 // 5
    old, new = os.path.join(args.work, "old.jsonl"), os.path.join(args.work, "new.jsonl")
    with open(old, "w", encoding="utf-8") as f:
        f.writelines(lines[:cut])
    with open(new, "w", encoding="utf-8") as f:
        f.writelines(lines[cut:])
    del lines
    sizes = {}
    for name, extra in [("plain", []), ("containment", ["--containment-words", "25"])]:
        index = os.path.join(args.work, f"{name}.ndx")
        shutil.rmtree(index, ignore_errors=True)
        wall, _ = run([args.neardup, "index", "create", index, old, "-q", "-j", args.threads] + extra)
        size = sum(os.path.getsize(os.path.join(index, n)) for n in os.listdir(index))
        sizes[name] = (wall, size)
    index = os.path.join(args.work, "containment.ndx")
    base = [args.neardup, "scan", "-q", "-j", args.threads, "--output-format", "json"]
    off, on = [], []
    for _ in range(args.repeat):
        off.append(run(base + [new, "--against", index])[0])
        wall, out = run(base + [new, "--against", index, "--containment"])
        on.append(wall)
    found = [key(c) for c in json.loads(out).get("contained", [])]
    _, whole = run(base + ["--containment", old, new])
    expect = [key(c) for c in json.loads(whole).get("contained", [])
              if new in (c["short"]["path"], c["long"]["path"])]
    med = statistics.median
    mb = os.path.getsize(new) / 1e6
    print(f"# {args.corpus}: {os.path.getsize(old) / 1e6:.0f} MB indexed, {mb:.0f} MB scanned "
          f"against it, {args.threads} threads, {args.repeat} rounds\n")
    print("| index | create s | bytes |")
    print("|---|---:|---:|")
    for name, (wall, size) in sizes.items():
        print(f"| {name} | {wall:.2f} | {size:,} |")
    print("\n| run | median s (range) |")
    print("|---|---:|")
    for name, t in [("scan --against", off), ("scan --against --containment", on)]:
        print(f"| {name} | {med(t):.2f} ({min(t):.2f}-{max(t):.2f}) |")
    print(f"\ncontainment on / off = {med(on) / med(off):.2f}x")
    print(f"findings: {len(found)}, one scan of the whole corpus: {len(expect)}, "
          f"identical: {found == expect}")
    quotes_file = os.path.join(args.work, "quotes.jsonl")
    n = plant(old, args.quotes, quotes_file)
    _, out = run(base + ["--containment", quotes_file, "--against", index])
    report = json.loads(out)
    hit = {c["short"]["line"] for c in report.get("contained", [])
           if c["short"]["path"] == quotes_file and c["long"].get("batch")}
    duplicates = {m["line"] for cl in report["clusters"] for m in cl["members"][1:]
                  if m["path"] == quotes_file}
    total = n - len(duplicates - hit)
    print(f"planted quotes of indexed paragraphs: {n}; found against the index: {len(hit)} of "
          f"{total} (recall {len(hit) / max(total, 1):.4f}); {len(duplicates)} were whole "
          f"paragraphs (near-duplicates)")


if __name__ == "__main__":
    main()
