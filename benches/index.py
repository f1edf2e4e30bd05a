#!/usr/bin/env python3
"""The persistent index: build speed and size, and the cost of a query
(`scan --against`) as the index grows.

Run by hand, not in CI (timings live here and in notes, never in tests):

    cargo run --release --example gen_corpus -- --size 1100MB --seed 7 --out /tmp/c1100.jsonl
    cargo build --release
    python3 benches/index.py --corpus /tmp/c1100.jsonl [--neardup target/release/neardup] \\
        [--threads 2] [--repeat 3] [--work /tmp/neardup-index-bench] \\
        [--bands B --rows R]

The corpus is cut by records into three parts: its first 100 MB, its
first 1 GB, and the 100 MB after that (the new batch, which repeats
paragraphs of the earlier part as a day's scrape repeats earlier days).
Then, every run a separate process timed with its peak memory by
`/usr/bin/time`:

* `scan` of the 1 GB part and `index create` of it, side by side
  (`--repeat` rounds, interleaved), and the index's bytes per kept
  paragraph and per byte of text;
* `scan` of the batch alone, and `scan --against` the 100 MB index and
  the 1 GB index (interleaved rounds): how a query's cost grows with the
  index;
* `scan --against` the 1 GB index of its own first 100 MB: a batch that
  repeats the index throughout (a re-scrape), where every paragraph
  matches indexed ones;
* the daily round on a copy of the 1 GB index: `index add` of the batch,
  then `index compact` (which keeps the full segments at the front and
  rewrites the rest), then `index compact` again (nothing to do);
* retention: the 1 GB part added as 10 batches of 100 MB (once), then
  on a copy of that index `index drop` of its newest batch, of its fifth
  and of its oldest (which rewrites every segment after it);
* `index info` of the 1 GB index: opening it (manifest, every segment's
  header and footer checked) plus a process start.

The table gives the median wall time with the range, MB/s over the bytes
of the JSON Lines input, the median CPU time (user + system) with the
system part, and the highest peak memory; the build's rounds also give
create / scan per round. On a virtual machine whose kernel hands freed
memory back to the hypervisor (virtio-balloon free page reporting, as on
the 2-core AMD VMs these were measured on), the end says how much it
handed back during the runs: memory touched again after that costs a
host fault per page, which is system time a machine without it does not
spend (docs/benchmarks.md, "The machine").

Without `--bands`, each command takes its default banding: a scan's
for `scan` (25 x 5 at 0.8), an index's for `index create` (the fewest
bands that keep the guarantee, 18 x 5; `neardup params --index`), and
the index's own for every run against it. `--bands B --rows R` runs
every scan, create and add with that banding instead (fewer bands: a
smaller index, a few more pairs near the threshold missed; `neardup
params --bands B --rows R` draws the curve).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys


def cut(corpus, work):
    """Writes the parts of `corpus` (by records) into `work` once."""
    parts = {
        "i100": os.path.join(work, "index100.jsonl"),
        "i1000": os.path.join(work, "index1000.jsonl"),
        "batch": os.path.join(work, "batch100.jsonl"),
    }
    if all(os.path.exists(p) for p in parts.values()):
        return parts
    os.makedirs(work, exist_ok=True)
    mb = 1_000_000
    with open(corpus, "rb") as f, open(parts["i100"], "wb") as a, open(
        parts["i1000"], "wb"
    ) as b, open(parts["batch"], "wb") as c:
        seen = 0
        for line in f:
            if seen < 100 * mb:
                a.write(line)
            if seen < 1000 * mb:
                b.write(line)
            elif seen < 1100 * mb:
                c.write(line)
            else:
                break
            seen += len(line)
    if os.path.getsize(parts["batch"]) < 90 * mb:
        sys.exit(f"{corpus}: too small; generate 1100MB (see the docstring)")
    return parts


def timed(cmd):
    """(wall s, peak MB, CPU s, system s) of one run; exits on failure."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M %U %S", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    wall, kb, user, system = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kb) / 1024, float(user) + float(system), float(system)


REPORTED = "/sys/module/page_reporting/parameters/reported_kib"


def reported_kib():
    """KiB of free memory the kernel has handed back to the hypervisor
    (virtio-balloon free page reporting), or None on a machine without."""
    try:
        with open(REPORTED) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def table(rows, sizes):
    print("| run | input MB | median s (range) | MB/s | CPU s (system) | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in rows.items():
        walls = [w for w, _, _, _ in runs]
        med = statistics.median(walls)
        mb = sizes[name] / 1e6
        rate = f"{mb / med:.1f}" if mb else "-"
        cpu = statistics.median(c for _, _, c, _ in runs)
        system = statistics.median(s for _, _, _, s in runs)
        print(
            f"| {name} | {mb:.0f} | {med:.2f} ({min(walls):.2f}-{max(walls):.2f}) "
            f"| {rate} | {cpu:.2f} ({system:.2f}) | {max(p for _, p, _, _ in runs):.0f} |"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default="/tmp/neardup-index-bench")
    ap.add_argument("--bands", help="LSH bands of every run (with --rows)")
    ap.add_argument("--rows", help="signature values per band (with --bands)")
    args = ap.parse_args()
    if (args.bands is None) != (args.rows is None):
        ap.error("--bands and --rows go together")
    nd = args.neardup
    j = ["-j", args.threads, "-q"]
    if args.bands is not None:
        j += ["--bands", args.bands, "--rows", args.rows]
    parts = cut(args.corpus, args.work)
    sizes = {k: os.path.getsize(v) for k, v in parts.items()}
    idx = {k: os.path.join(args.work, f"{k}.ndx") for k in ("i100", "i1000")}

    banding = f", bands {args.bands} x rows {args.rows}" if args.bands else ""
    print(f"# {nd}, {args.threads} threads, corpus {args.corpus}{banding}\n")
    reported_before = reported_kib()
    build = {"scan 1 GB": [], "index create 1 GB": []}
    for r in range(args.repeat):
        build["scan 1 GB"].append(
            timed([nd, "scan", *j, "--output-format", "json", parts["i1000"]])
        )
        shutil.rmtree(idx["i1000"], ignore_errors=True)
        build["index create 1 GB"].append(
            timed([nd, "index", "create", *j, idx["i1000"], parts["i1000"]])
        )
    table(build, {"scan 1 GB": sizes["i1000"], "index create 1 GB": sizes["i1000"]})
    ratios = [c[0] / s[0] for s, c in zip(build["scan 1 GB"], build["index create 1 GB"])]
    print(
        "create / scan per round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (median {statistics.median(ratios):.2f})"
    )
    shutil.rmtree(idx["i100"], ignore_errors=True)
    timed([nd, "index", "create", *j, idx["i100"], parts["i100"]])

    print()
    for name in ("i100", "i1000"):
        info = json.loads(
            subprocess.run(
                [nd, "index", "info", "--output-format", "json", idx[name]],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        rows, size = info["paragraphs"], info["bytes"]
        print(
            f"{name}: {size / 1e6:.1f} MB on disk for {sizes[name] / 1e6:.0f} MB of JSON Lines "
            f"({size / sizes[name]:.2f}x), {rows} kept paragraphs, "
            f"{size / max(rows, 1):.0f} bytes per kept paragraph, {info['segments']} segments"
        )
    bands = int(info["settings"]["bands"])
    print(
        f"(per kept paragraph: {bands} packed band entries of ~35 bits = ~{35 * bands // 8} B, "
        "a packed row of ~18 B, its token numbers (~12 bits per token) and its "
        "document's share of the provenance tables)\n"
    )

    query = {
        "scan batch alone": [],
        "scan batch --against 100 MB index": [],
        "scan batch --against 1 GB index": [],
    }
    base = [nd, "scan", *j, "--output-format", "json", parts["batch"]]
    for r in range(args.repeat):
        query["scan batch alone"].append(timed(base))
        query["scan batch --against 100 MB index"].append(
            timed([*base, "--against", idx["i100"]])
        )
        query["scan batch --against 1 GB index"].append(
            timed([*base, "--against", idx["i1000"]])
        )
    table(query, {k: sizes["batch"] for k in query})

    # A batch that repeats the index: its first 100 MB scanned again (a
    # re-scrape of the same sites). Every paragraph matches indexed rows,
    # so the query reads and verifies as many indexed paragraphs as the
    # batch has, the heaviest a day's batch makes it.
    print()
    again = {"scan first 100 MB again --against 1 GB index": []}
    for r in range(args.repeat):
        again["scan first 100 MB again --against 1 GB index"].append(
            timed([nd, "scan", *j, "--output-format", "json", parts["i100"], "--against", idx["i1000"]])
        )
    table(again, {k: sizes["i100"] for k in again})

    # The daily round: today's batch added to a copy of the 1 GB index,
    # then the weekly compaction, then one with nothing left to do.
    print()
    daily = {
        "index add batch to 1 GB index": [],
        "index compact after the add": [],
        "index compact again (nothing to do)": [],
    }
    day = os.path.join(args.work, "daily.ndx")
    for r in range(args.repeat):
        shutil.rmtree(day, ignore_errors=True)
        shutil.copytree(idx["i1000"], day)
        daily["index add batch to 1 GB index"].append(
            timed([nd, "index", "add", *j, day, parts["batch"]])
        )
        daily["index compact after the add"].append(timed([nd, "index", "compact", day]))
        daily["index compact again (nothing to do)"].append(
            timed([nd, "index", "compact", day])
        )
    shutil.rmtree(day, ignore_errors=True)
    table(daily, {k: sizes["batch"] if k.startswith("index add") else 0 for k in daily})

    # Retention: the 1 GB part as 10 daily batches, then each of three
    # batches dropped from a copy (the newest: its segments are dropped
    # unread; the fifth and the oldest: the segments after them stay,
    # but for those with variants of their paragraphs, or of paragraphs
    # before such variants).
    print()
    days = os.path.join(args.work, "days")
    os.makedirs(days, exist_ok=True)
    day_files = [os.path.join(days, f"day{d}.jsonl") for d in range(10)]
    if not all(os.path.exists(f) for f in day_files):
        with open(parts["i1000"], "rb") as f:
            lines = f.readlines()
        for d, name in enumerate(day_files):
            with open(name, "wb") as out:
                out.writelines(lines[d * len(lines) // 10 : (d + 1) * len(lines) // 10])
        del lines
    ten = os.path.join(args.work, "ten.ndx")
    shutil.rmtree(ten, ignore_errors=True)
    timed([nd, "index", "create", *j, ten, day_files[0], "--name", "day0"])
    for d in range(1, 10):
        timed([nd, "index", "add", *j, ten, day_files[d], "--name", f"day{d}"])
    drops = {
        "index drop the newest of 10 batches": "day9",
        "index drop the fifth of 10 batches": "day4",
        "index drop the oldest of 10 batches": "day0",
    }
    retention = {k: [] for k in drops}
    copy = os.path.join(args.work, "drop.ndx")
    for r in range(args.repeat):
        for name, batch in drops.items():
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(ten, copy)
            retention[name].append(timed([nd, "index", "drop", copy, batch]))
    shutil.rmtree(copy, ignore_errors=True)
    shutil.rmtree(ten, ignore_errors=True)
    table(retention, {k: 0 for k in retention})

    print()
    opens = [timed([nd, "index", "info", idx["i1000"]]) for _ in range(args.repeat)]
    table({"index info (open) 1 GB index": opens}, {"index info (open) 1 GB index": 0})

    reported_after = reported_kib()
    if reported_before is not None and reported_after is not None:
        gib = (reported_after - reported_before) / 1024**2
        print(
            f"\nFree page reporting: this machine handed {gib:.1f} GiB of freed memory "
            "back to its hypervisor during these runs. Memory touched again after that "
            "costs a host fault per page (system time: about 2.4 s per GiB on the 2-core "
            "AMD VM), which a run writing more new memory (an index create's scratch file "
            "and segments) pays more of than a scan: see docs/benchmarks.md, The machine."
        )


if __name__ == "__main__":
    main()
