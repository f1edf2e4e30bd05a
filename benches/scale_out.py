#!/usr/bin/env python3
"""The stages spread over workers: each stage's speed-up from 1 to 2
workers, the bytes each stage writes per input MB, the last stage's time
and peak memory (without the group stage, with it, and from the verify
stage's verdicts), each worker's peak memory, and the writing of a spread
clean from 1 to 2 jobs.

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
* the last stage without the group stage, `neardup scan --stage-dir DIR
  -j2` (it reads the key files band by band);
* the group stage: `neardup stage group --part 0 --of 1 -j1`, and
  `--part 0 --of 2` with `--part 1 --of 2` as two processes at once;
* the last stage with the group files, against a plain `neardup scan -j2`
  of the same files (both with their peak memory);
* the spread verification: the components in rounds of N tasks
  (`neardup stage star --round R --task T --of N -j1` for R = 0, 1, …
  until `--check R` says converged, then `--finish R --parts N`; the
  time is all rounds' and the finish's, the peak the largest of any
  task's, the bytes every round's links files and the dealt files), then
  `neardup stage components --parts N -j1` (one process, which replaces
  the dealt files), then `stage reread` with one worker and with two (one
  per shard), `stage verify` with one part and with two, and the last
  stage from the verdicts (`scan --stage-dir`, which then verifies
  nothing), with each process's peak memory;
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


def run_all_peak(cmds, work):
    """Runs the commands at once under GNU time; returns the wall time of
    all and the largest peak resident memory of any, in MB."""
    outs = [os.path.join(work, f"time{i}.txt") for i in range(len(cmds))]
    t = run_all([["/usr/bin/time", "-f", "%M", "-o", o, *c] for c, o in zip(cmds, outs)])
    peaks = []
    for o in outs:
        with open(o) as f:
            peaks.append(int(f.read().split()[-1]) / 1024)
    return t, max(peaks)


def run_peak(cmd, work):
    """Runs one command under GNU time; returns its wall time and peak
    resident memory in MB."""
    out = os.path.join(work, "time.txt")
    t = run_all([["/usr/bin/time", "-f", "%M", "-o", out, *cmd]])
    with open(out) as f:
        return t, int(f.read().split()[-1]) / 1024


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

    def group(p, n, d):
        return ["taskset", "-c", str(p % (os.cpu_count() or 1)), nd, "stage", "group",
                parts, "--part", str(p), "--of", str(n), "--dir", d, "-j1", "-q"]

    def pinned(i, *cmd):
        return ["taskset", "-c", str(i % (os.cpu_count() or 1)), nd, *cmd, parts, "-j1", "-q"]

    def write(k, n, d, out):
        return ["taskset", "-c", str(k % (os.cpu_count() or 1)), nd, "clean", parts, "-o", out,
                "--stage-dir", d, "--shard", str(k), "--of", str(n), "-j1", "-q"]

    one, two, g1, g2, keyed, last, plain, w1, w2 = [], [], [], [], [], [], [], [], []
    peaks = {"keyed": [], "last": [], "plain": [], "verdicts": []}
    spread1 = {"components in rounds": [], "components": [], "reread": [], "verify": []}
    spread2 = {"components in rounds": [], "components": [], "reread": [], "verify": []}
    rounds_run, star_bytes = {}, {}

    def in_rounds(d, n):
        """The components in rounds of n tasks: the time of every round and
        the finish, the largest peak, the rounds after round 0, and the
        links and dealt bytes written."""
        total, peak, links = 0.0, 0.0, 0
        for r in range(201):
            t, m = run_all_peak(
                [pinned(k, "stage", "star", "--round", str(r), "--task", str(k), "--of", str(n),
                        "--dir", d) for k in range(n)], args.work)
            total, peak = total + t, max(peak, m)
            links += sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
                         if f.startswith(f"links-r{r:03}-"))
            check = [nd, "stage", "star", parts, "--check", str(r), "--of", str(n), "--dir", d, "-q"]
            if r > 0 and subprocess.run(check).returncode == 0:
                break
        t, m = run_all_peak(
            [pinned(k, "stage", "star", "--finish", str(r), "--task", str(k), "--of", str(n),
                    "--parts", str(n), "--dir", d) for k in range(n)], args.work)
        dealt = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
                    if f.startswith("dealt-"))
        for f in os.listdir(d):
            if f.startswith("links-"):
                os.remove(os.path.join(d, f))
        return total + t, max(peak, m), r, links, dealt
    verdicts = []
    o1, o2 = os.path.join(args.work, "clean1"), os.path.join(args.work, "clean2")
    d1, d2 = os.path.join(args.work, "stage1"), os.path.join(args.work, "stage2")
    scan = [nd, "scan", "-q", "-j2", "--output-format", "json", parts]
    for _ in range(args.repeat):
        for d in (d1, d2):
            shutil.rmtree(d, ignore_errors=True)
        one.append(run_all([stage(0, 1, d1)]))
        two.append(run_all([stage(0, 2, d2), stage(1, 2, d2)]))
        t, m = run_peak([*scan, "--stage-dir", d2], args.work)
        keyed.append(t)
        peaks["keyed"].append(m)
        g1.append(run_all([group(0, 1, d1)]))
        g2.append(run_all([group(0, 2, d2), group(1, 2, d2)]))
        t, m = run_peak([*scan, "--stage-dir", d2], args.work)
        last.append(t)
        peaks["last"].append(m)
        t, m = run_peak(scan, args.work)
        plain.append(t)
        peaks["plain"].append(m)
        # The spread verification, in as many parts as workers.
        for d, n, into in [(d1, 1, spread1), (d2, 2, spread2)]:
            t, m, rounds_run[n], links, dealt = in_rounds(d, n)
            into["components in rounds"].append((t, m))
            star_bytes[n] = (links, dealt)
            t, m = run_all_peak([pinned(0, "stage", "components", "--parts", str(n), "--dir", d)],
                                args.work)
            into["components"].append((t, m))
            into["reread"].append(run_all_peak(
                [pinned(k, "stage", "reread", "--shard", str(k), "--of", str(n), "--dir", d)
                 for k in range(n)], args.work))
            into["verify"].append(run_all_peak(
                [pinned(p, "stage", "verify", "--part", str(p), "--of", str(n), "--dir", d)
                 for p in range(n)], args.work))
        t, m = run_peak([*scan, "--stage-dir", d2], args.work)
        verdicts.append(t)
        peaks["verdicts"].append(m)
        for o in (o1, o2):
            shutil.rmtree(o, ignore_errors=True)
        w1.append(run_all([write(0, 1, d2, o1)]))
        w2.append(run_all([write(0, 2, d2, o2), write(1, 2, d2, o2)]))
    def bytes_of(prefix):
        return sum(os.path.getsize(os.path.join(d2, f)) for f in os.listdir(d2) if f.startswith(prefix))

    mb = size / 1e6
    med = statistics.median
    print(f"# {args.corpus} in {args.parts} files, {mb:.0f} MB; {nd}; {args.repeat} rounds\n")
    print("| run | median s (range) | MB/s | peak MB |")
    print("|---|---:|---:|---:|")
    for name, t, peak in [
        ("fingerprint stage, 1 worker (1 core)", one, None),
        ("fingerprint stage, 2 workers (1 core each)", two, None),
        ("last stage without group files: scan --stage-dir (2 threads)", keyed, "keyed"),
        ("group stage, 1 part (1 core)", g1, None),
        ("group stage, 2 parts (1 core each)", g2, None),
        ("last stage with group files: scan --stage-dir (2 threads)", last, "last"),
        ("plain scan (2 threads)", plain, "plain"),
        ("last stage from the verdicts: scan --stage-dir (2 threads)", verdicts, "verdicts"),
        ("writing the clean: clean --shard, 1 job (1 core)", w1, None),
        ("writing the clean: clean --shard, 2 jobs (1 core each)", w2, None),
    ]:
        m = f"{med(peaks[peak]):.0f}" if peak else ""
        print(f"| {name} | {med(t):.2f} ({min(t):.2f}-{max(t):.2f}) | {mb / med(t):.1f} | {m} |")
    print("\n| spread verification | 1 worker: median s, peak MB | 2 workers: median s, largest peak MB | speed-up |")
    print("|---|---:|---:|---:|")
    for name in ["components in rounds", "components", "reread", "verify"]:
        a, b = spread1[name], spread2[name]
        ta, tb = med(t for t, _ in a), med(t for t, _ in b)
        ma, mb_ = max(m for _, m in a), max(m for _, m in b)
        print(f"| {name} | {ta:.2f}, {ma:.0f} | {tb:.2f}, {mb_:.0f} | {ta / tb:.2f}x |")
    for n in (1, 2):
        links, dealt = star_bytes[n]
        print(f"components in rounds of {n} task(s): {rounds_run[n]} rounds after round 0; links "
              f"files {links / 1e6:.1f} MB ({links / size:.4f} per input MB), dealt files "
              f"{dealt / 1e6:.1f} MB ({dealt / size:.4f} per input MB)")
    print(f"\nspeed-up of the fingerprint stage from 1 to 2 workers: {med(one) / med(two):.2f}x")
    print(f"speed-up of the group stage from 1 to 2 parts: {med(g1) / med(g2):.2f}x")
    print(f"speed-up of the writing from 1 to 2 jobs: {med(w1) / med(w2):.2f}x")
    for what, prefix in [
        ("stage files (prints)", "input-"),
        ("key files", "keys-"),
        ("group files", "groups-"),
        ("assignment files (components stage)", "assign-"),
        ("runs files (components stage)", "runs-"),
        ("sets files (reread stage)", "sets-"),
        ("verdict files (verify stage)", "verdicts-"),
        ("findings left by the last stage", "findings-"),
    ]:
        b = bytes_of(prefix)
        print(f"{what}: {b / 1e6:.1f} MB, {b / size:.4f} MB per input MB")


if __name__ == "__main__":
    main()
