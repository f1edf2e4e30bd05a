#!/usr/bin/env python3
"""How a day's query grows with the index: one batch scanned against
indexes of growing size, for one build or two side by side.

Run by hand, not in CI (timings live here and in notes, never in tests):

    cargo run --release --example gen_corpus -- --size 4100MB --seed 7 --out /tmp/c4100.jsonl
    cargo build --release
    python3 benches/index_growth.py --corpus /tmp/c4100.jsonl \\
        [--sizes 100,1000,2000,4000] [--neardup target/release/neardup] \\
        [--baseline OTHER_BUILD] [--threads 2] [--repeat 3] \\
        [--work /tmp/neardup-growth]

The corpus is cut by records into its first N MB for each size (each
indexed once with `index create`, by the baseline build if one is given,
else by the build measured; the indexes are kept in `--work` for later
runs) and the 100 MB after the largest, the batch. Then `--repeat`
interleaved rounds of `scan --output-format json BATCH [--against
INDEX] -o OUT` for every index (and the batch alone), each build in turn
within a round: the table gives each run's median wall time with its
range, MB/s over the batch's bytes, the median CPU time (user +
system) with the system part, and the highest peak memory. Every
build's report against an index must be the baseline's, byte for byte
(checked). `index info` of each index gives its bytes and segments.

docs/benchmarks.md ("A query as the index grows past 1 GB") has the
numbers of 2026-12-07.
"""

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from index import timed  # noqa: E402  (one run's wall, peak, CPU and system time)

MB = 1_000_000


def cut(corpus, work, sizes):
    """Writes the prefixes of `corpus` (by records) and the batch after
    the largest into `work` once; returns their paths."""
    parts = {s: os.path.join(work, f"first{s}.jsonl") for s in sizes}
    batch = os.path.join(work, "batch.jsonl")
    if all(os.path.exists(p) for p in [*parts.values(), batch]):
        return parts, batch
    os.makedirs(work, exist_ok=True)
    largest = max(sizes)
    outs = {s: open(p, "wb") for s, p in parts.items()}
    with open(corpus, "rb") as f, open(batch, "wb") as b:
        seen = 0
        for line in f:
            for s, out in outs.items():
                if seen < s * MB:
                    out.write(line)
            if largest * MB <= seen < (largest + 100) * MB:
                b.write(line)
            elif seen >= (largest + 100) * MB:
                break
            seen += len(line)
    for out in outs.values():
        out.close()
    if os.path.getsize(batch) < 90 * MB:
        sys.exit(f"{corpus}: too small for {largest} MB and a batch; see the docstring")
    return parts, batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sizes", default="100,1000,2000,4000", help="index sizes in MB")
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--baseline", help="another build, run side by side")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default="/tmp/neardup-growth")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    builds = {"neardup": args.neardup}
    if args.baseline:
        builds = {"baseline": args.baseline, **builds}
    maker = args.baseline or args.neardup
    j = ["-j", args.threads, "-q"]
    parts, batch = cut(args.corpus, args.work, sizes)
    batch_mb = os.path.getsize(batch) / MB

    indexes = {}
    for s in sizes:
        path = os.path.join(args.work, f"first{s}.ndx")
        opens = subprocess.run([maker, "index", "info", path], capture_output=True)
        if opens.returncode != 0:
            shutil.rmtree(path, ignore_errors=True)
            subprocess.run([maker, "index", "create", *j, path, parts[s]], check=True)
        info = json.loads(
            subprocess.run(
                [maker, "index", "info", "--output-format", "json", path],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        print(
            f"index of {s} MB: {info['bytes'] / MB:.1f} MB, {info['paragraphs']} paragraphs, "
            f"{info['segments']} segments"
        )
        indexes[s] = path

    print(f"\n# batch {batch_mb:.0f} MB, {args.threads} threads, {args.repeat} rounds\n")
    targets = [None, *sizes]
    runs = {(b, t): [] for t in targets for b in builds}
    for _ in range(args.repeat):
        for t in targets:
            against = [] if t is None else ["--against", indexes[t]]
            for b, nd in builds.items():
                out = os.path.join(args.work, f"report-{b}.json")
                runs[(b, t)].append(
                    timed([nd, "scan", *j, "--output-format", "json", batch, *against, "-o", out])
                )
            if args.baseline:
                same = filecmp.cmp(
                    os.path.join(args.work, "report-baseline.json"),
                    os.path.join(args.work, "report-neardup.json"),
                    shallow=False,
                )
                if not same:
                    sys.exit(f"the reports against {t} MB differ between the builds")

    print("| build | index | median s (range) | MB/s | CPU s (system) | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for (b, t), rs in runs.items():
        walls = [w for w, _, _, _ in rs]
        med = statistics.median(walls)
        cpu = statistics.median(c for _, _, c, _ in rs)
        system = statistics.median(s for _, _, _, s in rs)
        print(
            f"| {b} | {'none' if t is None else f'{t} MB'} | {med:.2f} "
            f"({min(walls):.2f}-{max(walls):.2f}) | {batch_mb / med:.1f} | "
            f"{cpu:.2f} ({system:.2f}) | {max(p for _, p, _, _ in rs):.0f} |"
        )


if __name__ == "__main__":
    main()
