#!/usr/bin/env python3
"""The stages spread over workers: the fingerprint stage's speed-up from
1 to 2 workers, the bytes it writes per input MB, the last stage's time,
and the writing of a spread clean from 1 to 2 jobs.

Run by hand, not in CI:

    cargo run --release --example gen_corpus -- --size 100MB --seed 1 --out /tmp/c100.jsonl
    cargo build --release
    python3 benches/scale_out.py --corpus /tmp/c100.jsonl [--neardup target/release/neardup] \\
        [--parts 20] [--repeat 3] [--work /tmp/neardup-scale-out]

The JSON Lines corpus is cut by records into `--parts` files (shards are
made of whole inputs). In interleaved rounds:

* one worker: `neardup stage fingerprint --shard 0 --of 1 -j1`;
* two workers: `--shard 0 --of 2 -j1` and `--shard 1 --of 2 -j1` as two
  processes at once (as two Ray tasks or two Slurm jobs of one core
  each would run);
* the last stage, `neardup scan --stage-dir DIR -j2`, against a plain
  `neardup scan -j2` of the same files;
* the writing of a spread clean from the findings the last stage left:
  `neardup clean --stage-dir DIR --shard K --of N -j1` with one job, and
  with two jobs at once (one core each).

Workers are processes of one worker thread each, each pinned to one core
with `taskset` (the command's reader thread shares it), on this machine's
2 cores.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def split(corpus, parts, out):
    if os.path.isdir(out) and len(os.listdir(out)) == parts:
        return
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    lines = open(corpus, "rb").readlines()
    per = (len(lines) + parts - 1) // parts
    for i in range(parts):
        with open(os.path.join(out, f"part{i:03}.jsonl"), "wb") as f:
            f.writelines(lines[i * per : (i + 1) * per])


def run_all(cmds):
    """Runs the commands at once; returns the wall time of all."""
    start = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in cmds]
    for p in procs:
        if p.wait() not in (0, 1):
            sys.exit(f"failed: {' '.join(procs[0].args)}")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--parts", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default="/tmp/neardup-scale-out")
    args = ap.parse_args()
    nd = args.neardup
    parts = os.path.join(args.work, "parts")
    split(args.corpus, args.parts, parts)
    size = sum(os.path.getsize(os.path.join(parts, f)) for f in os.listdir(parts))

    def stage(k, n, d):
        # Each worker pinned to a core of its own, as a task or job given one
        # core would be (the command's reader thread shares that core).
        return ["taskset", "-c", str(k % (os.cpu_count() or 1)), nd, "stage", "fingerprint",
                parts, "--shard", str(k), "--of", str(n), "--dir", d, "-j1", "-q"]

    def write(k, n, d, out):
        return ["taskset", "-c", str(k % (os.cpu_count() or 1)), nd, "clean", parts, "-o", out,
                "--stage-dir", d, "--shard", str(k), "--of", str(n), "-j1", "-q"]

    one, two, last, plain, w1, w2 = [], [], [], [], [], []
    o1, o2 = os.path.join(args.work, "clean1"), os.path.join(args.work, "clean2")
    d1, d2 = os.path.join(args.work, "stage1"), os.path.join(args.work, "stage2")
    for _ in range(args.repeat):
        for d in (d1, d2):
            shutil.rmtree(d, ignore_errors=True)
        one.append(run_all([stage(0, 1, d1)]))
        two.append(run_all([stage(0, 2, d2), stage(1, 2, d2)]))
        last.append(run_all([[nd, "scan", "-q", "-j2", "--output-format", "json", parts,
                              "--stage-dir", d2]]))
        plain.append(run_all([[nd, "scan", "-q", "-j2", "--output-format", "json", parts]]))
        for o in (o1, o2):
            shutil.rmtree(o, ignore_errors=True)
        w1.append(run_all([write(0, 1, d2, o1)]))
        w2.append(run_all([write(0, 2, d2, o2), write(1, 2, d2, o2)]))
    findings = sum(os.path.getsize(os.path.join(d2, f)) for f in os.listdir(d2) if f.startswith("findings-"))
    written = sum(os.path.getsize(os.path.join(d2, f)) for f in os.listdir(d2)) - findings
    mb = size / 1e6
    med = statistics.median
    print(f"# {args.corpus} in {args.parts} files, {mb:.0f} MB; {nd}; {args.repeat} rounds\n")
    print("| run | median s (range) | MB/s |")
    print("|---|---:|---:|")
    for name, t in [
        ("fingerprint stage, 1 worker (1 core)", one),
        ("fingerprint stage, 2 workers (1 core each)", two),
        ("last stage: scan --stage-dir (2 threads)", last),
        ("plain scan (2 threads)", plain),
        ("writing the clean: clean --shard, 1 job (1 core)", w1),
        ("writing the clean: clean --shard, 2 jobs (1 core each)", w2),
    ]:
        print(f"| {name} | {med(t):.2f} ({min(t):.2f}-{max(t):.2f}) | {mb / med(t):.1f} |")
    print(f"\nspeed-up of the fingerprint stage from 1 to 2 workers: {med(one) / med(two):.2f}x")
    print(f"speed-up of the writing from 1 to 2 jobs: {med(w1) / med(w2):.2f}x")
    print(f"stage files: {written / 1e6:.1f} MB, {written / size:.3f} MB per input MB")
    print(f"findings left by the last stage: {findings / 1e6:.2f} MB, {findings / size:.4f} MB per input MB")


if __name__ == "__main__":
    main()
