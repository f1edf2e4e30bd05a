#!/usr/bin/env python3
"""Compare neardup with near-duplicate tools from PyPI on one corpus.

Run by hand, not in CI. The script installs pinned versions of the peer
libraries into a virtualenv of its own, runs every tool on the same
paragraphs, one tool at a time, each as a separate process so that its wall
time and peak memory can be measured, and checks every tool's answer against
an exact reference it computes itself.

Usage (from the repository root):

    cargo run --release --example gen_corpus -- --size 10MB --seed 1 --out corpus.jsonl
    cargo build --release
    python3 benches/compare.py --corpus corpus.jsonl \\
        [--neardup target/release/neardup] [--venv /tmp/neardup-compare-venv] \\
        [--tools neardup,datasketch,rensa,rensa-rho,gaoya] [--repeat 5] [--out table.md]

    # The signing kernels alone, on one core (see "Kernel against kernel"):
    python3 benches/compare.py --kernel --corpus corpus.jsonl [--repeat 5] \\
        [--num-perm 128] [--shingles-out shingles.tsv] [--cpu N] [--out kernel.md]

Python 3.11 (`python3`) is enough: the peers go into the virtualenv given by
`--venv` (created if missing; the pinned versions are in PEERS below) and
the script itself needs only the standard library. A peer that cannot be
installed on the machine (no wheel for this Python and platform) is skipped
with the reason, and the table is made for the others; `--allow-sdist` lets
pip try to build it from source instead.

What is run
-----------
* neardup: `neardup scan -q --output-format json CORPUS` (all cores), and
  the same with `-j1`. Exit status 1 means "duplicates found". Its pairs are
  read from the JSON report: in each cluster the first member is kept and
  every other member is a duplicate of it; a member's "doc" is mapped back
  to a record through the corpus "id" field.
* datasketch, rensa (two rows), gaoya: a worker (this same file, run by the
  virtualenv's Python with `--worker NAME`) reads the corpus, cuts each
  record's "text" into paragraphs (non-blank lines), normalises and shingles
  them as described below, skips paragraphs of fewer than `--min-words`
  words, and then, with the library:
    - datasketch: `MinHash.bulk` (which runs `update_batch` per paragraph)
      with xxHash32 as `hashfunc` (the docs recommend a fast hash over the
      default SHA-1), `MinHashLSH(params=(bands, rows))` filled through an
      `insertion_session`, one `query` per paragraph;
    - rensa, exact path (row "rensa (exact: digest_matrix_from_token_sets,
      via from_token_sets)", tool name `rensa`): `RMinHash.from_token_sets`
      (batch), which is `digest_matrix_from_token_sets` with each row wrapped
      as an RMinHash, then `RMinHashLSH.insert_many` and `query_all`. A
      MinHash of the whole shingle set;
    - rensa, rho path (row "rensa (rho: digest_matrix_from_token_sets_rho,
      sampled, not a set MinHash)", tool name `rensa-rho`):
      `RMinHash.digest_matrix_from_token_sets_rho` with its defaults (4
      probes, no densification). Each sketched shingle sets the minimum of 4
      of the num_perm bins, and a paragraph of more than 32 shingles is
      sketched from only 64 of them (33-96 shingles) or max(num_perm / 9, 15)
      of them (more), evenly spaced: not a MinHash of the set, so pairs whose
      differences fall outside the sample look identical and pairs whose
      samples differ look apart. rensa 0.5.0 offers no candidate query for a
      digest matrix (`RMinHashLSH` takes RMinHash objects, which cannot be
      made from rho rows; the matrix queries return only duplicate flags), so
      the worker bands the rows itself: consecutive runs of rows values, as
      `RMinHashLSH` does (on the exact path's digests it gives the very
      candidate lists of `query_all`), except that a band whose bins are all
      empty is no key (otherwise any two short paragraphs would collide).
      The notes give the signing and banding times apart;
    - gaoya: the native index behind `gaoya.minhash.MinHashStringIndex`
      (32-bit hashes, "vec" buckets), `par_bulk_insert_tokens` and
      `par_bulk_query_tokens` (multi-threaded), with the index's own
      estimated-similarity filter set to 0 so that it returns the raw LSH
      candidates (at 0.8 it would drop true pairs whose MinHash estimate
      falls just under 0.8, about half of the pairs near the threshold).
  Every candidate pair is then checked by exact Jaccard similarity of the two
  shingle sets, as neardup does, and neardup's no-chaining rule is applied:
  paragraphs are taken in input order, and a paragraph that matches an
  earlier *kept* paragraph is a duplicate of the earliest such one,
  otherwise it is kept.
  All tools use the same banding, `--bands` x `--rows`; by default what
  `neardup params` picks for the threshold (25 x 5 at 0.8 with 128
  permutations, using 125 of the 128 signature values). rensa requires the
  signature length to be a multiple of the band count, and gaoya builds
  signatures of exactly bands x rows values, so both use signatures of
  bands x rows values (125): the values the bands look at. (datasketch's
  own optimiser would pick 9 x 13 at 0.8, which misses far more pairs near
  the threshold.)

Normalisation in the Python workers (an approximation of neardup's)
-------------------------------------------------------------------
Unicode NFKC, then `str.lower()` (full lower case, final sigma included),
then words: runs of `\\w` characters (marks and format characters such as
a soft hyphen may follow any of them inside a word), joined across an
apostrophe, `’`, `‘`, `.` or `:` between two letters, or across an
apostrophe, `’`, `‘`, `.`, `,` or `;` between two digits (the MidLetter,
MidNumLet and MidNum rules of UAX #29); ideographs and hiragana are one word
each. From each word `_`, those separators and format characters are then
removed. So `U.S.` -> `us`, `don't` -> `dont`, `3,000` -> `3000`, `e-mail`
-> `e`, `mail`, as in neardup. What this leaves out of neardup's full UAX #29
segmentation: Thai, Lao, Khmer and Myanmar text; katakana next to other
letters; a mark just before a separator; emoji sequences and other rare
rules. On a 10 MB generated corpus (ASCII plus typographic quotes,
apostrophes and dashes) its tokens were checked to equal neardup's on every
one of the 28,524 paragraphs. Shingles are word 5-grams (`--shingle-size`); a
paragraph with fewer words is one shingle of all of them. Shingle sets hold
the shingle text itself, where neardup holds 64-bit hashes of shingles.

Reference and accuracy
----------------------
The reference is computed here, not by any of the tools: an exact all-pairs
similarity join on the Python shingle sets (identical sets are grouped
first, then the AllPairs prefix-filtering join finds every pair of distinct
sets with Jaccard >= threshold), and then the no-chaining rule applied to
that exact graph. Thresholds are compared exactly, as fractions.
Because the Python normalisation only approximates neardup's, neardup's
precision and recall against this reference can be slightly below its true
accuracy (neardup's own exact checker is examples/accuracy.rs).

Columns
-------
tool            the tool (and how it was run)
version         the installed version (neardup's from its JSON report)
wall time (s)   wall-clock time of the whole process: start-up, reading and
                tokenising the corpus, MinHash, LSH, verification, output
                (with --repeat N: the median of N rounds, each running every
                tool once in table order; all the rounds' times are listed
                below the table)
MB/s            corpus bytes / wall time, in 10^6 bytes per second
peak RSS (MB)   the process's maximum resident set size (from wait4), in
                10^6 bytes (the run with the median wall time)
pairs           (duplicate, kept) paragraph pairs reported
precision       share of the reported pairs whose exact Jaccard similarity
                (of the Python shingle sets) is >= the threshold
recall          share of the reference pairs that the tool reported exactly
                (same duplicate, same kept paragraph)

The machine (core count, CPU model, load average) and the command line are printed above
the table. Run the tools on an otherwise idle machine; timings on a small
VM vary by 20-30% from run to run.

Kernel against kernel (`--kernel`)
----------------------------------
The end-to-end ratios are mostly the peers' Python tokenisation. `--kernel`
times the signing alone, on one core, on the same strings for both sides:

1. The corpus is shingled here as the workers do it (above), and the
   shingle strings are written to a file (`--shingles-out`, else a
   temporary one): one paragraph per line, its distinct shingles in
   first-seen order separated by tabs (words hold neither tabs nor
   newlines).
2. benches/kernel.rs is built (`cargo bench --bench kernel --no-run`, or
   `--kernel-bench EXE`).
3. `--repeat` rounds (default 5), every process pinned to one CPU (`--cpu`,
   default the highest this process may use) with `sched_setaffinity`:
   - a worker in the virtualenv reads the file into lists of str, calls
     `RMinHash.digest_matrix_from_token_sets(shs, num_perm, 42)` (exact) and
     `RMinHash.digest_matrix_from_token_sets_rho(shs, num_perm, 42)` (rho,
     default probes) once each untimed, then `--kernel-calls` times each in
     turn, timed with perf_counter around the call alone; the round's
     figure is the median call. RAYON_NUM_THREADS=1 keeps rensa off its
     rayon paths; its exact path still hands the MinHash of each chunk of
     paragraphs to a thread of its own while the calling thread hashes the
     next (RENSA_PIPELINE_QUEUE_CAP), and pinned, the two share the one
     CPU. The process's CPU time during the call is reported too;
   - the criterion bench runs on the same file (NEARDUP_KERNEL_SHINGLES):
     `kernel/neardup_sign`, each shingle string hashed with XXH3-64 (seed 0,
     neardup's hash) into a reused buffer and each paragraph's hashes put
     through `MinHasher::fill` into a new row-major matrix of all the
     signatures, as rensa returns one; and `kernel/neardup_hash_only`, the
     hashing alone. The round's figure is criterion's median sample.
   The table gives every round and the medians.
Widths are equal: rensa's num_perm and neardup's MinHasher both take
`--num-perm` (default 128, the width neardup's scan computes; the table
above gives rensa 125 because its LSH needs a multiple of the band count).
Neither side's time includes reading the file or shingling. rensa's call
includes reading the Python str objects, which its API requires; neardup's
scan hashes token hashes, not shingle strings, so the bench's hashing
stands in for its own on the same input, not for its exact code path.
The bench alone: `NEARDUP_KERNEL_SHINGLES=shingles.tsv cargo bench --bench
kernel` (without the variable it makes shingles from data/news).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import shutil
import sys
import tempfile
import time
import unicodedata
from fractions import Fraction

# Pinned peer versions, with the pinned dependencies each one needs.
# rensa 0.5.0 is the newest release on PyPI (checked 2026-06); its two batch
# signing paths are two rows of the table.
PEERS = {
    "datasketch": ["datasketch==2.0.0", "numpy==2.4.6", "scipy==1.17.1", "xxhash==4.1.0"],
    "rensa": ["rensa==0.5.0"],
    "rensa-rho": ["rensa==0.5.0"],
    "gaoya": ["gaoya==0.2.2"],
}
# The module each peer imports (to check the installation).
MODULES = {"datasketch": "datasketch", "rensa": "rensa", "rensa-rho": "rensa", "gaoya": "gaoya"}
ALL_TOOLS = ["neardup", "datasketch", "rensa", "rensa-rho", "gaoya"]
# A peer's row in the table: which path of the library it is.
LABELS = {
    "rensa": "rensa (exact: digest_matrix_from_token_sets, via from_token_sets)",
    "rensa-rho": "rensa (rho: digest_matrix_from_token_sets_rho, sampled, not a set MinHash)",
}

# --------------------------------------------------------------------------
# Shared by the main process and the workers: corpus reading, normalisation,
# shingling, exact Jaccard, the no-chaining rule. Standard library only.
# --------------------------------------------------------------------------

def _char_class(codepoints) -> str:
    """A regex character class body for a sorted list of code points."""
    out, i = [], 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        lo, hi = codepoints[i], codepoints[j]
        out.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
        i = j + 1
    return "".join(out)


def _build_word_regexes():
    cat = unicodedata.category
    scan = [*range(0x80, 0x20000), *range(0xE0000, 0xE1000)]  # no marks elsewhere
    # Extend / Format / ZWJ of UAX #29 (ignored inside a word, WB4): marks and
    # format characters, except U+200B ZERO WIDTH SPACE (Word_Break=Other).
    ext = [c for c in scan if cat(chr(c)) in ("Mn", "Mc", "Me", "Cf") and c != 0x200B]
    fmt = [c for c in ext if cat(chr(c)) == "Cf"]
    # Characters that are a word of their own in UAX #29: ideographs and
    # hiragana (Thai, Lao, Khmer, Myanmar are not handled).
    ideo = "\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
    x = f"[{_char_class(ext)}]"
    run = f"[^\\W{ideo}]+(?:{x}+[^\\W{ideo}]*)*"
    letter = f"[^\\W\\d_{ideo}]"
    # MidLetter / MidNumLet / Single_Quote between two letters, MidNum /
    # MidNumLet / Single_Quote between two digits (after NFKC).
    mid_letter = "'\u2018\u2019.:\u00b7\u0387\u055f\u05f4\u2027"
    mid_num = "'\u2018\u2019.,;\u0589\u060c\u060d\u066c\u07f8\u2044"
    sep = f"(?:(?<={letter})[{mid_letter}](?={letter})|(?<=\\d)[{mid_num}](?=\\d))"
    token = f"[{ideo}]{x}*|{run}(?:{sep}{run})*"
    # Removed from a token: the joining separators, `_` (Pc) and format characters.
    remove = f"[_{mid_letter}{mid_num}{_char_class(fmt)}]+"
    return re.compile(token), re.compile(remove)


_WORD_RE, _REMOVE_RE = _build_word_regexes()
# The same rules for ASCII text (lower-cased), three times faster.
_ASCII_WORD_RE = re.compile(r"[a-z0-9_]+(?:(?:(?<=[a-z])['.:](?=[a-z])|(?<=[0-9])['.,;](?=[0-9]))[a-z0-9_]+)*")
_ASCII_REMOVE_RE = re.compile(r"[_'.:,;]+")


def words(text: str) -> list[str]:
    """Normalised word tokens of a paragraph (see the module docstring)."""
    if text.isascii():
        word_re, remove_re = _ASCII_WORD_RE, _ASCII_REMOVE_RE
    else:
        text = unicodedata.normalize("NFKC", text)
        word_re, remove_re = _WORD_RE, _REMOVE_RE
    # Words hold no white space, so the removal can run on them all at once;
    # a word left empty disappears in the split.
    return remove_re.sub("", " ".join(word_re.findall(text.lower()))).split()


def shingles(ws: list[str], k: int) -> list[str]:
    """Distinct word k-grams in first-seen order (one of all words if fewer)."""
    if len(ws) < k:
        return [" ".join(ws)]
    return list(dict.fromkeys(map(" ".join, zip(*(ws[i:] for i in range(k))))))


def open_corpus(path: str):
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_records(path: str):
    """Yields (record index, 1-based line number, record) for each JSON line."""
    rec = 0
    with open_corpus(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            yield rec, lineno, obj
            rec += 1


def read_paragraphs(path: str, k: int, min_words: int, text_field: str = "text"):
    """Returns (keys, shingle lists): keys are (record, paragraph) in input
    order, paragraphs being the non-blank lines of each record's text and
    counted like neardup counts them (short ones included)."""
    keys, shs = [], []
    for rec, _lineno, obj in read_records(path):
        text = obj.get(text_field)
        if not isinstance(text, str):
            continue
        p = 0
        for line in text.split("\n"):
            if not line or line.isspace():
                continue
            ws = words(line)
            if len(ws) >= min_words:
                keys.append((rec, p))
                shs.append(shingles(ws, k))
            p += 1
    return keys, shs


def passes(a: frozenset, b: frozenset, num: int, den: int) -> bool:
    """Exact Jaccard(a, b) >= num/den."""
    la, lb = len(a), len(b)
    small, large = (la, lb) if la <= lb else (lb, la)
    if small * den < large * num:  # even a subset would fall short
        return False
    inter = len(a & b) if la <= lb else len(b & a)
    return inter * den >= (la + lb - inter) * num


def no_chaining(n, candidates, sets, num, den):
    """neardup's rule over candidate lists (indices into the paragraph list,
    in any order, may hold i itself and later paragraphs). Returns
    ([(dup, kept)], exact checks made)."""
    kept = bytearray(n)
    pairs = []
    checks = 0
    for i in range(n):
        target = -1
        cs = sorted(c for c in candidates[i] if c < i and kept[c])
        for j in cs:
            checks += 1
            if passes(sets[i], sets[j], num, den):
                target = j
                break
        if target >= 0:
            pairs.append((i, target))
        else:
            kept[i] = 1
    return pairs, checks


# --------------------------------------------------------------------------
# Workers (run with the virtualenv's Python).
# --------------------------------------------------------------------------


def _band_candidates(digests, bands, rows, empty):
    """LSH candidates of digest rows, as RMinHashLSH's `query_all` gives them
    (every row sharing a band with the row, itself included), computed here
    for rensa's rho matrix, which RMinHashLSH cannot query. Bands are
    consecutive runs of `rows` values. A band whose values are all `empty` (a
    sketch bin no shingle fell in) is no key: every two short paragraphs would
    share it. Identical digests are banded once. Keys are bytes and a list is
    made only for a shared key: objects the garbage collector tracks (tuples,
    a list per key) made this five times slower, mostly in collections."""
    from array import array

    groups: dict[bytes, list[int]] = {}
    for i, d in enumerate(digests):
        groups.setdefault(array("I", d).tobytes(), []).append(i)
    members = list(groups.values())
    reps = list(groups)
    near = [{g} for g in range(len(members))]  # groups sharing a band
    width = array("I", [0]).itemsize * rows
    blank = array("I", [empty] * rows).tobytes()
    for b in range(bands):
        lo, hi = b * width, (b + 1) * width
        first: dict[bytes, int] = {}
        shared: dict[bytes, list[int]] = {}  # only the keys of two or more
        for g, d in enumerate(reps):
            key = d[lo:hi]
            if key != blank:
                h = first.setdefault(key, g)
                if h != g:
                    shared.setdefault(key, [h]).append(g)
        for gs in shared.values():
            for g in gs:
                near[g].update(gs)
    cands = [None] * len(digests)
    for g, m in enumerate(members):
        c = [i for h in near[g] for i in members[h]]
        for i in m:
            cands[i] = c
    return cands


def _minhash_candidates(tool, shs, num_perm, bands, rows, threshold):
    """Returns (candidate lists, version, notes)."""
    from importlib.metadata import version

    n = len(shs)
    if tool == "datasketch":
        import xxhash
        from datasketch import MinHash, MinHashLSH

        data = [[x.encode() for x in sh] for sh in shs]  # datasketch hashes bytes
        mhs = MinHash.bulk(data, num_perm=num_perm, hashfunc=xxhash.xxh32_intdigest)
        del data
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(bands, rows))
        with lsh.insertion_session() as session:
            for i, m in enumerate(mhs):
                session.insert(i, m, check_duplication=False)
        cands = [lsh.query(m) for m in mhs]
        notes = f"num_perm {num_perm}, bands {bands} x rows {rows}, xxh32 hashfunc, 1 thread"
        return cands, version("datasketch"), notes
    if tool == "rensa":
        from rensa import RMinHash, RMinHashLSH

        sig = bands * rows  # rensa needs num_perm divisible by num_bands
        t0 = time.perf_counter()
        # from_token_sets is digest_matrix_from_token_sets (the same Rust
        # function, rensa 0.5.0's build_digest_matrix_from_token_sets) with
        # each row wrapped as an RMinHash, which RMinHashLSH takes.
        mhs = RMinHash.from_token_sets(shs, num_perm=sig, seed=42)
        t1 = time.perf_counter()
        lsh = RMinHashLSH(threshold=threshold, num_perm=sig, num_bands=bands)
        lsh.insert_many(mhs, start_key=0)
        cands = lsh.query_all(mhs)
        t2 = time.perf_counter()
        notes = (f"R-MinHash num_perm {sig}, bands {bands} x rows {rows}; "
                 f"signing {t1 - t0:.2f} s, RMinHashLSH {t2 - t1:.2f} s")
        return cands, version("rensa"), notes
    if tool == "rensa-rho":
        from rensa import RMinHash

        sig = bands * rows
        t0 = time.perf_counter()
        # The defaults: 4 probes; a paragraph of more than 32 shingles is
        # sketched from 64 (33-96 shingles) or max(num_perm / 9, 15) (more)
        # evenly spaced ones only; empty bins are left empty (no
        # densification unless RENSA_RHO_DENSIFY is set).
        matrix = RMinHash.digest_matrix_from_token_sets_rho(shs, num_perm=sig, seed=42)
        t1 = time.perf_counter()
        digests = matrix.to_rows()
        counts = matrix.get_rho_source_token_counts()
        cands = _band_candidates(digests, bands, rows, 0xFFFFFFFF)
        t2 = time.perf_counter()
        sampled = sum(1 for c in counts if c > 32)
        notes = (f"rho sketch of {sig} bins, 4 probes, bands {bands} x rows {rows} "
                 f"(banded here: rensa has no candidate query for a digest matrix; "
                 f"a band of only empty bins is no key); {sampled:,} of {len(counts):,} "
                 f"paragraphs sketched from a sample of their shingles; "
                 f"signing {t1 - t0:.2f} s, banding {t2 - t1:.2f} s")
        return cands, version("rensa"), notes
    if tool == "gaoya":
        from gaoya.minhash import MinHashStringIndex

        index = MinHashStringIndex(
            hash_size=32,
            jaccard_threshold=0.0,  # raw LSH candidates; verified exactly below
            num_bands=bands,
            band_size=rows,
            analyzer=lambda tokens: tokens,
            id_container="vec",
        )
        native = index.minhash_index
        native.par_bulk_insert_tokens(list(range(n)), shs)
        cands = native.par_bulk_query_tokens(shs)
        notes = f"32-bit MinHash of {bands * rows} values, bands {bands} x rows {rows}, rayon threads"
        return cands, version("gaoya"), notes
    raise SystemExit(f"unknown worker {tool}")


def kernel_worker(args) -> int:
    """Times rensa's two signing calls on the shingle file (see "Kernel
    against kernel" in the docstring); prints JSON."""
    from importlib.metadata import version
    from statistics import median

    from rensa import RMinHash

    with open(args.shingles, encoding="utf-8", newline="\n") as f:
        shs = [line.split("\t") for line in f.read().split("\n")[:-1]]
    calls = {
        "exact": RMinHash.digest_matrix_from_token_sets,
        "rho": RMinHash.digest_matrix_from_token_sets_rho,
    }
    times = {name: [] for name in calls}
    cpu = {name: [] for name in calls}
    # One untimed call of each first, then the two in turn.
    for rep in range(1 + args.kernel_calls):
        for name, call in calls.items():
            w0, c0 = time.perf_counter(), time.process_time()
            matrix = call(shs, num_perm=args.num_perm, seed=42)
            w1, c1 = time.perf_counter(), time.process_time()
            if matrix.len() != len(shs) or matrix.get_num_perm() != args.num_perm:
                raise SystemExit(f"rensa {name}: {matrix.len()} rows of {matrix.get_num_perm()}")
            del matrix
            if rep:
                times[name].append(w1 - w0)
                cpu[name].append(c1 - c0)
    out = {"version": version("rensa"), "rows": len(shs), "shingles": sum(map(len, shs))}
    for name in calls:
        out[name] = median(times[name])
        out[name + "_cpu"] = median(cpu[name])
    json.dump(out, sys.stdout)
    return 0


def worker_main(args) -> int:
    if args.worker == "kernel":
        return kernel_worker(args)
    t0 = time.perf_counter()
    frac = Fraction(args.threshold)
    keys, shs = read_paragraphs(args.corpus, args.shingle_size, args.min_words)
    t1 = time.perf_counter()
    cands, ver, notes = _minhash_candidates(
        args.worker, shs, args.num_perm, args.bands, args.rows, float(frac)
    )
    t2 = time.perf_counter()
    sets = [frozenset(s) for s in shs]
    raw = sum(len(c) for c in cands)
    pairs, checks = no_chaining(len(keys), cands, sets, frac.numerator, frac.denominator)
    t3 = time.perf_counter()
    out = {
        "tool": args.worker,
        "version": ver,
        "notes": notes,
        "paragraphs": len(keys),
        "candidate_entries": raw,
        "exact_checks": checks,
        "phases": {"read_tokenise": t1 - t0, "minhash_lsh": t2 - t1, "verify_rule": t3 - t2},
        "pairs": [[*keys[d], *keys[k]] for d, k in pairs],
    }
    json.dump(out, sys.stdout)
    return 0


# --------------------------------------------------------------------------
# The exact reference.
# --------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def exact_reference(shs, num, den):
    """All (dup, kept) pairs (indices) of the no-chaining rule on the exact
    Jaccard graph, and the number of distinct-set edges found."""
    n = len(shs)
    # Group identical sets.
    group_of = [0] * n
    gid = {}
    groups = []
    for i, s in enumerate(shs):
        key = frozenset(s)
        g = gid.get(key)
        if g is None:
            g = gid[key] = len(groups)
            groups.append(key)
        group_of[i] = g
    # Shingle -> integer by increasing document frequency (rare first; any
    # fixed order of ties will do).
    df = {}
    for s in groups:
        for x in s:
            df[x] = df.get(x, 0) + 1
    rank = {x: r for r, x in enumerate(sorted(df, key=df.__getitem__))}
    del df
    recs = [sorted(map(rank.__getitem__, s)) for s in groups]
    del rank
    # AllPairs: records by increasing size; probe prefix |x| - ceil(t|x|) + 1;
    # index prefix |y| - ceil(2t/(1+t)|y|) + 1 (valid as |y| <= |x|).
    order = sorted(range(len(recs)), key=lambda g: len(recs[g]))
    index: dict[int, list[int]] = {}
    nbrs: list[list[int]] = [[] for _ in recs]
    edges = 0
    for g in order:
        x = recs[g]
        lx = len(x)
        minsize = _ceil_div(num * lx, den)
        probe = lx - minsize + 1
        seen = set()
        for tok in x[:probe]:
            ys = index.get(tok)
            if ys:
                seen.update(ys)
        if seen:
            xs = None
            for h in seen:
                y = recs[h]
                ly = len(y)
                if ly < minsize:
                    continue
                if xs is None:
                    xs = set(x)
                inter = len(xs.intersection(y))
                if inter * den >= (lx + ly - inter) * num:
                    nbrs[g].append(h)
                    nbrs[h].append(g)
                    edges += 1
        iprefix = lx - _ceil_div(2 * num * lx, num + den) + 1
        for tok in x[:iprefix]:
            index.setdefault(tok, []).append(g)
    # No chaining, with identical sets settled together: the earliest kept
    # paragraph of a group never changes once set.
    first_kept = [-1] * len(groups)
    pairs = []
    for i in range(n):
        g = group_of[i]
        target = first_kept[g]
        for h in nbrs[g]:
            k = first_kept[h]
            if k >= 0 and (target < 0 or k < target):
                target = k
        if target >= 0:
            pairs.append((i, target))
        else:
            first_kept[g] = i
    return pairs, edges


# --------------------------------------------------------------------------
# Main process.
# --------------------------------------------------------------------------


def machine_info() -> list[str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(len(os.sched_getaffinity(0)))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"machine: nproc {nproc}, CPU {model}, Python {sys.version.split()[0]}, load average at start {load}",
        "command: " + shlex.join([sys.executable, *sys.argv]),
    ]


def run_measured(cmd, stdout_path, env=None):
    """Runs cmd, stdout to a file; returns (exit code, wall s, CPU s, peak RSS
    bytes, stderr)."""
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, stderr


def ensure_venv(venv: str, tools, allow_sdist: bool):
    """Creates the virtualenv if needed and installs the pinned peers.
    Returns {tool: None if usable, else the reason}."""
    py = os.path.join(venv, "bin", "python")
    status = {}
    if not os.path.exists(py):
        print(f"creating virtualenv {venv}", file=sys.stderr)
        r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
        if r.returncode != 0:
            reason = "could not create the virtualenv: " + (r.stderr.strip() or r.stdout.strip())
            return {t: reason for t in tools}
    for tool in tools:
        reqs = PEERS[tool]
        cmd = [py, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if not allow_sdist:
            cmd.append("--only-binary=:all:")
        print(f"installing {' '.join(reqs)}", file=sys.stderr)
        r = subprocess.run(cmd + reqs, capture_output=True, text=True)
        if r.returncode != 0:
            lines = [l for l in (r.stderr + r.stdout).splitlines() if l.strip()]
            status[tool] = "pip install failed: " + " | ".join(lines[-4:])
            continue
        mod = MODULES[tool]
        r = subprocess.run([py, "-c", f"import {mod}"], capture_output=True, text=True)
        if r.returncode != 0:
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            status[tool] = "installed but import failed: " + (lines[-1] if lines else "?")
            continue
        status[tool] = None
    return status


def neardup_banding(neardup: str, threshold: str, num_perm: int):
    """The (bands, rows) neardup picks, from `neardup params`; 25 x 5 (its
    choice at the defaults) if that cannot be run."""
    try:
        r = subprocess.run(
            [neardup, "params", "--threshold", threshold, "--num-perm", str(num_perm)],
            capture_output=True, text=True,
        )
        m = re.search(r"bands (\d+) x rows (\d+)", r.stdout)
        if m:
            return int(m.group(1)), int(m.group(2))
    except OSError:
        pass
    print("warning: could not run `neardup params`; using bands 25 x rows 5", file=sys.stderr)
    return 25, 5


def neardup_pairs(report_path, corpus):
    """(dup, kept) pairs as ((rec, para), (rec, para)) from a JSON report."""
    doc_to_rec = {}
    for rec, lineno, obj in read_records(corpus):
        if "id" in obj and obj["id"] is not None:
            v = obj["id"]
            name = v if isinstance(v, str) else json.dumps(v)
        else:
            name = str(lineno)
        if name in doc_to_rec:
            print(f"warning: corpus id {name!r} is not unique", file=sys.stderr)
        doc_to_rec.setdefault(name, rec)
    with open(report_path) as f:
        report = json.load(f)
    pairs = []
    for cluster in report.get("clusters", []):
        members = cluster["members"]
        kept = (doc_to_rec[members[0]["doc"]], members[0]["paragraph"])
        for m in members[1:]:
            pairs.append(((doc_to_rec[m["doc"]], m["paragraph"]), kept))
    return pairs, report.get("tool", {}).get("version", "?"), report.get("summary", {})


def fmt_table(rows):
    head = ["tool", "version", "wall time (s)", "MB/s", "peak RSS (MB)", "pairs", "precision", "recall",
            "wall / neardup's"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * 7) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    return lines


def build_kernel_bench(root: str) -> str:
    """Builds benches/kernel.rs (`cargo bench --no-run`); returns its path."""
    cmd = ["cargo", "bench", "--bench", "kernel", "--no-run", "--message-format=json"]
    print("building the kernel bench: " + " ".join(cmd), file=sys.stderr, flush=True)
    r = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    exe = None
    for line in r.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "kernel":
            exe = msg.get("executable") or exe
    if r.returncode != 0 or not exe:
        raise SystemExit("could not build the kernel bench (cargo bench --bench kernel --no-run)")
    return exe


def kernel_main(args, ap) -> int:
    """Kernel against kernel: see the docstring."""
    from statistics import median

    corpus = os.path.abspath(args.corpus)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    if cpu not in os.sched_getaffinity(0):
        ap.error(f"--cpu {cpu} is not one this process may run on")
    header = machine_info()
    status = ensure_venv(args.venv, ["rensa"], args.allow_sdist)
    if status["rensa"]:
        raise SystemExit(f"rensa: {status['rensa']}")
    exe = args.kernel_bench or build_kernel_bench(root)
    tmp = tempfile.mkdtemp(prefix="neardup-kernel-")
    path = os.path.abspath(args.shingles_out or os.path.join(tmp, "shingles.tsv"))

    print("shingling the corpus", file=sys.stderr, flush=True)
    _keys, shs = read_paragraphs(corpus, args.shingle_size, args.min_words)
    for sh in shs:
        for x in sh:
            if "\t" in x or "\n" in x:
                raise SystemExit(f"a shingle holds a tab or a newline: {x!r}")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for sh in shs:
            f.write("\t".join(sh))
            f.write("\n")
    paragraphs, shingles = len(shs), sum(map(len, shs))
    del shs, _keys

    pin = lambda: os.sched_setaffinity(0, {cpu})  # noqa: E731
    rensa_env = {**os.environ, "RAYON_NUM_THREADS": "1"}
    crit_home = os.path.join(tmp, "criterion")
    bench_env = {**os.environ, "NEARDUP_KERNEL_SHINGLES": path,
                 "NEARDUP_KERNEL_NUM_PERM": str(args.num_perm), "CRITERION_HOME": crit_home}
    rounds = []  # (rensa exact, rensa rho, neardup), seconds
    version = "?"
    for rnd in range(max(1, args.repeat)):
        print(f"round {rnd + 1}: rensa", file=sys.stderr, flush=True)
        cmd = [os.path.join(args.venv, "bin", "python"), os.path.abspath(__file__), "--worker", "kernel",
               "--corpus", corpus, "--shingles", path, "--num-perm", str(args.num_perm),
               "--kernel-calls", str(args.kernel_calls)]
        r = subprocess.run(cmd, env=rensa_env, preexec_fn=pin, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("rensa kernel worker failed: " + r.stderr.strip())
        w = json.loads(r.stdout)
        version = w["version"]
        if (w["rows"], w["shingles"]) != (paragraphs, shingles):
            raise SystemExit(f"the worker read {w['rows']} paragraphs, {w['shingles']} shingles")
        print(f"round {rnd + 1}: neardup (criterion)", file=sys.stderr, flush=True)
        cmd = [exe, "--bench", "--warm-up-time", "1", "--measurement-time", str(args.kernel_seconds),
               "kernel/neardup_"]
        r = subprocess.run(cmd, env=bench_env, preexec_fn=pin, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("the kernel bench failed: " + r.stderr.strip())
        nd = []
        for bench in ("neardup_sign", "neardup_hash_only"):
            with open(os.path.join(crit_home, "kernel", bench, "new", "estimates.json")) as f:
                nd.append(json.load(f)["median"]["point_estimate"] / 1e9)
        rounds.append((w["exact"], w["rho"], nd[0], w["exact_cpu"], w["rho_cpu"], nd[1]))

    med = [median(r[i] for r in rounds) for i in range(6)]
    lines = [*header,
             f"corpus: {args.corpus}; word {args.shingle_size}-grams, min words {args.min_words}: "
             f"{paragraphs:,} paragraphs, {shingles:,} shingles (distinct within each paragraph), "
             f"written to {path if args.shingles_out else 'a temporary file'}",
             f"one core: every run pinned to CPU {cpu} (sched_setaffinity), rensa with RAYON_NUM_THREADS=1; "
             f"{max(1, args.repeat)} rounds, each: the rensa worker (one untimed call of each path, then "
             f"{args.kernel_calls} timed calls of each in turn, median), then the criterion bench "
             f"(benches/kernel.rs: neardup_sign and neardup_hash_only, each warm-up 1 s, 10 samples "
             f"in {args.kernel_seconds} s, median)",
             f"widths: rensa {version} num_perm {args.num_perm} (both paths, seed 42); neardup MinHasher "
             f"{args.num_perm} values (seed 0) after XXH3-64 of each shingle string",
             "",
             "| round | rensa exact (s) | rensa rho (s) | neardup (s) | of which neardup's XXH3 (s) "
             "| exact / neardup | rho / neardup |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(rounds, 1):
        lines.append(f"| {i} | {r[0]:.4f} | {r[1]:.4f} | {r[2]:.4f} | {r[5]:.4f} "
                     f"| {r[0] / r[2]:.2f}x | {r[1] / r[2]:.2f}x |")
    lines.append(f"| median | {med[0]:.4f} | {med[1]:.4f} | {med[2]:.4f} | {med[5]:.4f} "
                 f"| {median(r[0] / r[2] for r in rounds):.2f}x | {median(r[1] / r[2] for r in rounds):.2f}x |")
    lines += ["",
              "| kernel (one core) | median time (s) | CPU time (s) | M shingles/s | time / neardup's |",
              "|---|---:|---:|---:|---:|"]
    rows = [
        (f"rensa {version} (exact: digest_matrix_from_token_sets)", med[0], f"{med[3]:.4f}"),
        (f"rensa {version} (rho: digest_matrix_from_token_sets_rho, sampled, not a set MinHash)", med[1], f"{med[4]:.4f}"),
        ("neardup (xxh3 + MinHasher::fill, benches/kernel.rs)", med[2], "-"),
    ]
    for name, t, c in rows:
        lines.append(f"| {name} | {t:.4f} | {c} | {shingles / t / 1e6:.1f} | {t / med[2]:.2f}x |")
    lines.append("")
    lines.append("note: rensa's times are one Python call each, on the lists of str already in memory "
                 "(reading the str objects, hashing, sketching, the result matrix); neardup's are one "
                 "pass of the bench over &str slices of the file (hashing, MinHash, a new result matrix). "
                 "Reading the file and shingling are timed by neither. CPU time is the rensa process's "
                 "during the call: at most the time on one core, less when another process shared the CPU. "
                 "The ratios per round compare runs made seconds apart; their median is the figure "
                 "least moved by load that comes and goes.")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(
        description="Compare neardup with datasketch, rensa and gaoya (run by hand, not in CI).",
    )
    ap.add_argument("--corpus", required=True, help="JSON Lines corpus (records with a 'text' field)")
    ap.add_argument("--neardup", default="target/release/neardup", help="neardup binary")
    ap.add_argument("--venv", default="/tmp/neardup-compare-venv", help="virtualenv for the peers")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help="comma-separated subset of " + ",".join(ALL_TOOLS))
    ap.add_argument("--out", help="also write the report (Markdown) here")
    ap.add_argument("--repeat", type=int, help="rounds (every tool once per round); the median is reported "
                    "(default 1; with --kernel, 5)")
    ap.add_argument("--threshold", default="0.8")
    ap.add_argument("--shingle-size", type=int, default=5)
    ap.add_argument("--min-words", type=int, default=2)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--bands", type=int, help="LSH bands for every tool (default: neardup's choice)")
    ap.add_argument("--rows", type=int, help="signature values per band (default: neardup's choice)")
    ap.add_argument("--allow-sdist", action="store_true", help="let pip build peers from source")
    ap.add_argument("--kernel", action="store_true",
                    help="time the signing kernels alone on one core, rensa's two paths and neardup's "
                    "(benches/kernel.rs), on the corpus's shingle strings, instead of the table")
    ap.add_argument("--shingles-out", help="--kernel: keep the shingle file here (one paragraph per line, "
                    "shingles separated by tabs)")
    ap.add_argument("--kernel-bench", help="--kernel: the bench executable (default: built with cargo)")
    ap.add_argument("--cpu", type=int, help="--kernel: the CPU to pin every run to (default: the highest)")
    ap.add_argument("--kernel-calls", type=int, default=5, help="--kernel: timed rensa calls of each path per round")
    ap.add_argument("--kernel-seconds", type=float, default=3.0, help="--kernel: criterion's measurement time")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--shingles", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeat is None:
        args.repeat = 5 if args.kernel else 1

    if args.worker:
        return worker_main(args)
    if args.kernel:
        return kernel_main(args, ap)

    frac = Fraction(args.threshold)
    if not (0 < frac <= 1):
        ap.error("--threshold must be in (0, 1]")
    if (args.bands is None) != (args.rows is None):
        ap.error("give both --bands and --rows, or neither")
    user_banding = args.bands is not None
    if not user_banding:
        args.bands, args.rows = neardup_banding(args.neardup, args.threshold, args.num_perm)
    if args.bands * args.rows > args.num_perm:
        ap.error("--bands x --rows must not exceed --num-perm")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in ALL_TOOLS:
            ap.error(f"unknown tool {t}")
    corpus = os.path.abspath(args.corpus)
    corpus_bytes = os.path.getsize(corpus)

    header = machine_info()
    header.append(
        f"corpus: {args.corpus} ({corpus_bytes:,} bytes); word {args.shingle_size}-grams, "
        f"min words {args.min_words}, threshold {args.threshold}, num_perm {args.num_perm}, "
        f"bands {args.bands} x rows {args.rows}"
    )
    for line in header:
        print(line)
    print(flush=True)
    header.append("")

    peers = [t for t in tools if t in PEERS]
    peer_status = ensure_venv(args.venv, peers, args.allow_sdist) if peers else {}
    venv_py = os.path.join(args.venv, "bin", "python")
    skipped = []
    for t, reason in peer_status.items():
        if reason:
            skipped.append(f"{t}: skipped, {reason}")
            print(f"{t}: skipped, {reason}", file=sys.stderr)

    results = []  # dicts: name, version, wall, rss, pairs (index form) or error
    tmp = tempfile.mkdtemp(prefix="neardup-compare-")
    common = [
        "--threshold", args.threshold, "--shingle-size", str(args.shingle_size),
        "--min-words", str(args.min_words), "--num-perm", str(args.num_perm),
        "--bands", str(args.bands), "--rows", str(args.rows),
    ]

    # Every tool runs once per round, in the same order, for --repeat rounds:
    # a spell of load from elsewhere then slows every tool, not one. Each
    # tool's reported run is its median by wall time.
    jobs = []  # (name, cmd, ok exit codes, kind)
    if "neardup" in tools:
        nd = args.neardup
        if not os.path.exists(nd):
            skipped.append(f"neardup: skipped, no binary at {nd} (cargo build --release)")
        else:
            # Only what differs from neardup's defaults, so that the default
            # run is exactly `neardup scan -q --output-format json CORPUS`.
            nd_args = []
            if frac != Fraction("0.8"):
                nd_args += ["--threshold", args.threshold]
            if args.shingle_size != 5:
                nd_args += ["--shingle-size", str(args.shingle_size)]
            if args.min_words != 2:
                nd_args += ["--min-words", str(args.min_words)]
            if args.num_perm != 128:
                nd_args += ["--num-perm", str(args.num_perm)]
            if user_banding:
                nd_args += ["--bands", str(args.bands), "--rows", str(args.rows)]
            for label, extra in (("neardup", []), ("neardup -j1", ["-j1"])):
                cmd = [nd, "scan", "-q", *extra, "--output-format", "json", *nd_args, corpus]
                jobs.append((label, cmd, (0, 1), "neardup"))
    for t in peers:
        if not peer_status.get(t):
            cmd = [venv_py, os.path.abspath(__file__), "--worker", t, "--corpus", corpus, *common]
            jobs.append((t, cmd, (0,), "peer"))

    runs = {name: [] for name, *_ in jobs}  # (wall, rss, cpu, output path)
    failed = {}
    for rnd in range(max(1, args.repeat)):
        for name, cmd, ok_codes, _ in jobs:
            if name in failed:
                continue
            out_path = os.path.join(tmp, f"{name.replace(' ', '')}.{rnd}.json")
            print(f"round {rnd + 1}: running {name}", file=sys.stderr, flush=True)
            rc, wall, cpu, rss, err = run_measured(cmd, out_path)
            if rc not in ok_codes:
                failed[name] = f"exit {rc}: " + " | ".join(err.strip().splitlines()[-3:])
                continue
            runs[name].append((wall, rss, cpu, out_path))

    for name, _, _, kind in jobs:
        if name in failed:
            results.append({"name": LABELS.get(name, name), "error": failed[name]})
            continue
        ordered = sorted(runs[name])
        wall, rss, cpu, out_path = ordered[(len(ordered) - 1) // 2]  # the (lower) median
        walls = [r[0] for r in runs[name]]
        base = {"name": LABELS.get(name, name), "wall": wall, "rss": rss, "cpu": cpu, "walls": walls}
        if kind == "neardup":
            pairs, ver, summary = neardup_pairs(out_path, corpus)
            results.append({**base, "version": ver, "key_pairs": pairs,
                            "notes": f"{summary.get('fingerprinted_paragraphs', '?')} paragraphs fingerprinted"})
        else:
            with open(out_path) as f:
                w = json.load(f)
            results.append({
                **base, "version": w["version"],
                "key_pairs": [((a, b), (c, d)) for a, b, c, d in w["pairs"]],
                "phases": w["phases"], "notes": w["notes"],
                "paragraphs": w["paragraphs"], "candidates": w["candidate_entries"], "checks": w["exact_checks"],
            })

    # The exact reference, on the same Python shingle sets.
    print("computing the exact reference", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    keys, shs = read_paragraphs(corpus, args.shingle_size, args.min_words)
    t1 = time.perf_counter()
    ref_idx, edges = exact_reference(shs, frac.numerator, frac.denominator)
    t2 = time.perf_counter()
    reference = {(keys[d], keys[k]) for d, k in ref_idx}
    pos = {k: i for i, k in enumerate(keys)}
    sets = [frozenset(s) for s in shs]
    del shs

    rows = []
    # Each tool's wall time over neardup's (two threads): the lead the goal
    # is stated in, from the same medians as the table.
    lead_of = next((r["wall"] for r in results if r["name"] == "neardup" and "wall" in r), None)
    for line in skipped:
        name = line.split(":", 1)[0]
        rows.append([name, "-", "skipped", "-", "-", "-", "-", "-", "-"])
    for r in results:
        if "error" in r:
            rows.append([r["name"], "-", "failed", "-", "-", "-", "-", "-", "-"])
            skipped.append(f"{r['name']}: failed, {r['error']}")
            continue
        reported = r["key_pairs"]
        good = 0
        unknown = 0
        for d, k in reported:
            i, j = pos.get(d), pos.get(k)
            if i is None or j is None:
                unknown += 1  # a paragraph the Python tokeniser finds too short
                continue
            if passes(sets[i], sets[j], frac.numerator, frac.denominator):
                good += 1
        hits = len(set(reported) & reference)
        r["unknown"] = unknown
        prec = good / len(reported) if reported else 1.0
        rec = hits / len(reference) if reference else 1.0
        rows.append([
            r["name"], r["version"], f"{r['wall']:.3f}", f"{corpus_bytes / 1e6 / r['wall']:.1f}",
            f"{r['rss'] / 1e6:.0f}", f"{len(reported):,}", f"{prec:.4f}", f"{rec:.4f}",
            f"{r['wall'] / lead_of:.1f}x" if lead_of else "-",
        ])

    report = fmt_table(rows)
    report.append("")
    report.append(
        f"reference: {len(reference):,} (duplicate, kept) pairs from an exact all-pairs join of "
        f"{len(keys):,} paragraphs ({edges:,} similar pairs of distinct shingle sets; "
        f"tokenising {t1 - t0:.1f} s, join and rule {t2 - t1:.1f} s, in this process)"
    )
    report.append(
        "note: the reference uses this script's Python normalisation, which approximates "
        "neardup's (NFKC, lower case, \\w+ words joined across internal apostrophes, periods "
        "and commas as in UAX #29; see the docstring); neardup's numbers against it can be "
        "slightly below its true accuracy (its own exact checker is examples/accuracy.rs)."
    )
    report.append(
        "note: neardup uses all cores unless -j1; datasketch runs on one thread; rensa and "
        "gaoya may use several in their batch calls (CPU time below). The Python workers' "
        "wall times include interpreter start-up, imports and the Python tokenisation; the "
        "phases below are wall times measured inside each worker. "
        f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}."
    )
    if max(1, args.repeat) > 1:
        report.append(
            f"note: wall time is the median of {args.repeat} rounds (every tool once per round, "
            "in table order); the run with the median wall time gives the RSS, CPU time and pairs. "
            "Wall times per round:"
        )
        for r in results:
            if "walls" in r:
                report.append(f"  {r['name']}: " + ", ".join(f"{w:.3f}" for w in r["walls"]))
    detail = [r for r in results if "phases" in r or "notes" in r]
    if detail:
        report.append("")
        report.append("| tool | CPU time (s) | read + tokenise (s) | MinHash + LSH (s) | verify + rule (s) | candidates | exact checks | settings |")
        report.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for r in detail:
            if "error" in r:
                continue
            ph = r.get("phases")
            if ph:
                report.append(
                    f"| {r['name']} | {r['cpu']:.2f} | {ph['read_tokenise']:.2f} | {ph['minhash_lsh']:.2f} | "
                    f"{ph['verify_rule']:.2f} | {r['candidates']:,} | {r['checks']:,} | {r['notes']} |"
                )
            else:
                report.append(f"| {r['name']} | {r['cpu']:.2f} | - | - | - | - | - | {r['notes']} |")
    for r in results:
        if r.get("unknown"):
            report.append(f"note: {r['name']}: {r['unknown']} reported pairs name a paragraph the Python tokeniser skips as too short (counted as imprecise)")
    if skipped:
        report.append("")
        report += skipped
    shutil.rmtree(tmp, ignore_errors=True)
    text = "\n".join(report) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(header) + "\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
