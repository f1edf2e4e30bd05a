#!/usr/bin/env python3
"""Cleaning: `clean` of a 100 MB batch, plain, gzip and zstd, and the
daily one-liner (`clean --against INDEX --add`), for one or more builds
side by side.

Run by hand, not in CI (timings live here and in notes, never in tests):

    cargo run --release --example gen_corpus -- --size 1100MB --seed 7 --out /tmp/c1100.jsonl
    cargo build --release
    python3 benches/clean.py --corpus /tmp/c1100.jsonl \\
        [--neardup target/release/neardup] [--baseline OTHER_BUILD] \\
        [--threads 2] [--repeat 3] [--work /tmp/neardup-index-bench]

The corpus is cut as `benches/index.py` cuts it (the files are reused
when they are there): the batch is the 100 MB after the first 1 GB.
The batch is compressed once with `gzip -6` and `zstd -3`, and the
first 1 GB is made an index once (by the first build named). Then, in
each round, every build in turn, each run a process timed with its
peak memory by `/usr/bin/time`:

* `clean -q -j T FILE --output OUT` of the plain, gzip and zstd batch
  (the output compressed as the input);
* `clean -q -j T FILE --against DIR --add --output OUT` of the plain and
  gzip batch, DIR a fresh copy of the index each time.

It prints, per build and run, the median wall time with every round,
the highest peak, and per round the ratio to the first build; and
checks that every build's cleaned text is the same (decompressed).
"""

import argparse
import gzip
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import index  # noqa: E402  (the corpus cut)


def timed(cmd):
    """Wall seconds and peak kilobytes of `cmd`, by /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        full = ["/usr/bin/time", "-o", t.name, "-f", "%e %M"] + cmd
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, peak = t.read().split()[-2:]
    return float(wall), int(peak)


def digest(path):
    """The md5 of a file's decoded text."""
    h = hashlib.md5()
    if path.endswith(".gz"):
        f = gzip.open(path, "rb")
    elif path.endswith(".zst"):
        p = subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE)
        return hashlib.md5(p.stdout).hexdigest()
    else:
        f = open(path, "rb")
    with f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--baseline", action="append", default=[])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default="/tmp/neardup-index-bench")
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    index.cut(args.corpus, args.work)
    batch = os.path.join(args.work, "batch100.jsonl")
    if not os.path.exists(batch + ".gz"):
        subprocess.run(["gzip", "-6", "-k", "-f", batch], check=True)
    if not os.path.exists(batch + ".zst"):
        subprocess.run(["zstd", "-3", "-q", "-f", batch, "-o", batch + ".zst"], check=True)
    builds = [os.path.abspath(args.neardup)] + [os.path.abspath(b) for b in args.baseline]
    idx = os.path.join(args.work, "clean-bench.ndx")
    if not os.path.isdir(idx):
        subprocess.run(
            [builds[0], "index", "create", "-q", idx, os.path.join(args.work, "index1000.jsonl"),
             "-j", str(args.threads)],
            check=True,
        )
    out_dir = tempfile.mkdtemp(prefix="neardup-clean-bench-")
    runs = [("clean", ext, False) for ext in ("", ".gz", ".zst")]
    runs += [("clean --against --add", ext, True) for ext in ("", ".gz")]
    times = {}
    digests = {}
    try:
        for _ in range(args.repeat):
            for b, build in enumerate(builds):
                for name, ext, add in runs:
                    out = os.path.join(out_dir, f"out{b}.jsonl{ext}")
                    cmd = [build, "clean", "-q", "-j", str(args.threads), batch + ext, "--output", out]
                    if add:
                        copy = os.path.join(out_dir, "index")
                        shutil.rmtree(copy, ignore_errors=True)
                        shutil.copytree(idx, copy)
                        cmd += ["--against", copy, "--add"]
                    times.setdefault((b, name, ext), []).append(timed(cmd))
                    digests.setdefault((name, ext), set()).add(digest(out))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    print(f"batch {os.path.getsize(batch)} bytes, {args.threads} threads, {args.repeat} rounds")
    for b, build in enumerate(builds):
        print(f"build {b}: {build}")
        for name, ext, _ in runs:
            rounds = times[(b, name, ext)]
            walls = [w for w, _ in rounds]
            ratio = ""
            if b > 0:
                first = [w for w, _ in times[(0, name, ext)]]
                ratio = "  vs build 0: " + ", ".join(f"{w / f:.2f}" for f, w in zip(first, walls))
            print(
                f"  {name:22} {ext or 'plain':5} median {statistics.median(walls):.2f} s "
                f"({', '.join(f'{w:.2f}' for w in walls)}), peak {max(p for _, p in rounds) / 1024:.0f} MB"
                f"{ratio}"
            )
    same = all(len(d) == 1 for d in digests.values())
    print("cleaned text the same for every build:", "yes" if same else "NO")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
