#!/usr/bin/env python3
"""Time neardup on input shapes that stress the grouping and verification.

Run by hand, not in CI (timings live here and in notes, never in tests):

    cargo build --release
    python3 benches/shapes.py [--lines 100000] [--neardup target/release/neardup] [-j 2] [--repeat 3]

Three plain-text files of one short line per paragraph, all lines 24 words
(20 word 5-grams each), are written and synced to disk first (a file read
while its dirty pages are still being written back runs slower), then
scanned in `--repeat` rounds, each round every shape once, each run timed
as a separate process (wall time, peak memory from /usr/bin/time when
present); the table gives the median round's time of each shape:

* `distinct`: every line has its own words; no candidates. The baseline.
* `template`: one sentence with a number in the middle, the number changed
  on every line ("... paragraph 17 of the annual report ..."). The number
  sits in 5 of the 20 shingles, so every pair shares 15 of 25 (J = 0.6):
  they share band keys but none meets the default threshold, so all are
  kept. Comparing each line with every kept member of its groups is
  quadratic; the prefix filter (src/cluster/kept.rs) keeps it linear.
* `hot`: one line repeated on every line: one exact class, linear by
  content hash.

The table gives each shape's time and its ratio to `distinct`; the
throughput issue's targets are template <= 3x and hot <= 1.5x at 10^5
lines. The `hot` run's report lists every one of its duplicates (about
0.9 GB of JSON at 10^6 lines, written to /dev/null), so its time is mostly
the report's.
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

WORDS = (
    "harbour council river bridge winter market school station garden road "
    "museum library farmer village county mayor police weather storm ferry "
    "island valley forest hospital railway festival theatre church stadium "
    "factory airport tunnel canal castle prison college orchard vineyard quarry"
).split()


def distinct(rng, i):
    # Numbers make every line's words its own even with a small vocabulary.
    return " ".join(f"{rng.choice(WORDS)}{rng.randrange(10**6)}" for _ in range(24))


def template(_rng, i):
    return (
        "The committee reviewed the draft and found that paragraph "
        f"{i} of the annual report on the harbour should stay as it was last year"
    )


def hot(_rng, _i):
    return (
        "Subscribe to our newsletter for the latest news from the local harbour "
        "district and the county council delivered to your inbox every single morning"
    )


SHAPES = {"distinct": distinct, "template": template, "hot": hot}


def run(cmd):
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    full = [timer, "-f", "%e %M"] + cmd if timer else cmd
    start = time.perf_counter()
    p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        sys.exit(f"error: {' '.join(cmd)} exited {p.returncode}: {p.stderr}")
    peak = None
    if timer:
        m = re.search(r"([0-9.]+) ([0-9]+)\s*$", p.stderr)
        if m:
            wall, peak = float(m.group(1)), int(m.group(2)) / 1024
    return wall, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("-j", "--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for text in (template(None, 0), hot(None, 0)):
        assert len(text.split()) == 24, text
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, line in SHAPES.items():
            paths[name] = os.path.join(tmp, f"{name}.txt")
            with open(paths[name], "w") as f:
                for i in range(args.lines):
                    f.write(line(rng, i) + "\n")
        os.sync()
        runs = {name: [] for name in SHAPES}
        for _ in range(args.repeat):
            for name, path in paths.items():
                cmd = [args.neardup, "scan", "-q", f"-j{args.threads}", "--output-format", "json", path]
                runs[name].append(run(cmd))
        rows = []
        for name, timed in runs.items():
            timed.sort(key=lambda r: r[0])
            wall, peak = timed[len(timed) // 2]
            rows.append((name, wall, peak, [w for w, _ in timed]))
        base = rows[0][1]
        print(f"{args.lines} lines of 24 words, -j{args.threads}, {args.neardup}, median of {args.repeat}")
        print("| shape | time (s) | vs distinct | peak (MB) | all runs (s) |")
        print("|---|---|---|---|---|")
        for name, wall, peak, walls in rows:
            mb = f"{peak:.0f}" if peak is not None else "-"
            every = ", ".join(f"{w:.2f}" for w in walls)
            print(f"| {name} | {wall:.2f} | {wall / base:.2f}x | {mb} | {every} |")


if __name__ == "__main__":
    main()
