#!/usr/bin/env python3
"""Build a JSON Lines corpus of real prose with planted duplicates.

The generator (`examples/gen_corpus.rs`) writes Zipf-distributed
pseudo-words: friendly to the tokenizer (short ASCII words), to the hash
tables (no natural repeats) and to LSH (no near-misses). Real text is none
of those, and neardup runs slower on it. This script recombines real
documentation prose that Debian packages ship into a corpus shaped like the
generator's, so that benchmarks can be run on both side by side.

Usage (from the repository root; run by hand, not in CI):

    apt-get install --no-install-recommends linux-doc-6.1 perl-doc \\
        postgresql-doc-15 python3.11-doc git-doc debian-reference-en   # the sources
    python3 benches/prose_corpus.py --size 100MB --seed 1 --out /tmp/prose100.jsonl \\
        [--dup-rate 0.15]

Sources, read in sorted order so that one machine always builds the same
corpus for one seed (the packages' versions are printed to standard error):

* the Linux kernel's documentation in reStructuredText
  (`/usr/share/doc/linux-doc-*/Documentation/**/*.rst.gz`, linux-doc-6.1);
* Perl's manual (`/usr/share/perl/5.*/pod/*.pod`, perl-doc);
* PostgreSQL's manual (`/usr/share/doc/postgresql-doc-*/html/*.html`, its
  tags stripped, postgresql-doc-15);
* the reStructuredText sources of Python's documentation
  (`/usr/share/doc/python3.*/html/_sources/**/*.txt`, python3.11-doc);
* git's manual pages and technical notes in AsciiDoc
  (`/usr/share/doc/git-doc/**/*.txt`, git-doc);
* the Debian Reference (`/usr/share/debian-reference/*.en.html`, its tags
  stripped, debian-reference-en);
* the licence texts in `/usr/share/common-licenses`.

Each source is cut into paragraphs at blank lines, hard wraps undone.
Markup, code, tables and lists are left out: a paragraph is kept when it
has at least 12 words, at least 70% of its characters are letters or
spaces, and it does not look like a directive, a literal block or a table.
Exact repeats among the sources are dropped, so the planted copies are
the only intended duplicates (the sources' own near-repeats stay: real
documentation has them, as news has boilerplate).

The distinct paragraphs are too few for 100 MB (about 15-20 MB), so the
rest is recombined at sentence level: a new paragraph is 2-6 sentences
drawn from different source paragraphs. Its word 5-grams inside each
sentence are real, and it shares a sentence with other paragraphs now and
then, which gives LSH the near-misses real corpora have (most such pairs
stay far below any threshold).

Documents have 4-20 paragraphs, one per line of the record's `text` (as in
the generator's corpus: paragraph `i` is line `i`). Of the paragraph slots,
`--dup-rate` are planted copies of an earlier paragraph of the corpus: a
fifth of them within the same document, the others across documents; half
exact, half edited (1-3 words replaced, deleted or inserted).
"""

import argparse
import glob
import gzip
import html
import json
import os
import random
import re
import subprocess
import sys


def parse_size(text):
    m = re.fullmatch(r"(?i)\s*([0-9.]+)\s*(b|kb|mb|gb)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 100MB)")
    scale = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9}[(m.group(2) or "b").lower()]
    return int(float(m.group(1)) * scale)


SOURCES = [
    ("linux-doc-6.1", "/usr/share/doc/linux-doc-*/Documentation/**/*.rst.gz", "text"),
    ("perl-doc", "/usr/share/perl/5.*/pod/*.pod", "text"),
    ("postgresql-doc-15", "/usr/share/doc/postgresql-doc-*/html/*.html", "html"),
    ("python3.11-doc", "/usr/share/doc/python3.*/html/_sources/**/*.txt", "text"),
    ("git-doc", "/usr/share/doc/git-doc/**/*.txt", "text"),
    ("debian-reference-en", "/usr/share/debian-reference/*.en.html", "html"),
    ("base-files", "/usr/share/common-licenses/*", "text"),
]

MARKUP = re.compile(r"^\s*(\.\.|::|\+[-=+]|[-=~^*#]{4,}|>>>|\$ |\||\[|\{|<|%|//)")
TAG = re.compile(r"<[^>]*>")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def package_version(name):
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", name],
            capture_output=True, text=True, check=False,
        )
        return out.stdout.strip() or "not installed"
    except OSError:
        return "unknown"


def blocks(text):
    """Blank-line separated blocks, each a list of its lines."""
    block = []
    for line in text.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def prose(block):
    """The block as one line of prose, or None when it is not prose."""
    first = block[0]
    if MARKUP.match(first) or first.startswith((" ", "\t")):
        return None
    text = " ".join(line.strip() for line in block)
    words = text.split()
    if len(words) < 12:
        return None
    letters = sum(c.isalpha() or c == " " for c in text)
    if letters < 0.7 * len(text):
        return None
    return text


def read_source(path, kind):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    if kind == "html":
        text = re.sub(r"(?is)<(script|style|pre)\b.*?</\1>", "\n\n", text)
        text = re.sub(r"(?i)</?(p|div|li|h[1-6]|table|tr|td|dt|dd|br)\b[^>]*>", "\n\n", text)
        text = html.unescape(TAG.sub("", text))
        text = "\n".join(line.strip() for line in text.splitlines())
    return text


def pool():
    seen = set()
    out = []
    for package, pattern, kind in SOURCES:
        paths = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        before = len(out)
        for path in paths:
            for block in blocks(read_source(path, kind)):
                para = prose(block)
                if para and para not in seen:
                    seen.add(para)
                    out.append(para)
        size = sum(len(p.encode()) for p in out[before:])
        print(
            f"{package} {package_version(package)}: {len(paths)} files, "
            f"{len(out) - before} paragraphs, {size / 1e6:.1f} MB",
            file=sys.stderr,
        )
    return out


def edit(rng, text):
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(words))
        action = rng.randrange(3)
        if action == 0:
            words[i] = rng.choice(words)
        elif action == 1 and len(words) > 12:
            del words[i]
        else:
            words.insert(i, rng.choice(words))
    return " ".join(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dup-rate", type=float, default=0.15)
    args = ap.parse_args()
    if not 0 <= args.dup_rate < 1:
        ap.error("--dup-rate must be in [0, 1)")

    paragraphs = pool()
    if not paragraphs:
        sys.exit("error: no source text found; install the packages named in this script's usage")
    sentences = [s for p in paragraphs for s in SENTENCE_END.split(p) if len(s.split()) >= 5]
    rng = random.Random(args.seed)
    order = list(range(len(paragraphs)))
    rng.shuffle(order)
    fresh = iter(order)

    def new_paragraph():
        i = next(fresh, None)
        if i is not None:
            return paragraphs[i]
        return " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 6)))

    emitted = []  # every paragraph written so far, for cross-document copies
    written = docs = total = 0
    planted = {"within": 0, "across": 0, "edited": 0}
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    while True:
        lines = []
        kinds = []
        for _ in range(rng.randint(4, 20)):
            if (lines or emitted) and rng.random() < args.dup_rate:
                within = bool(lines) and (not emitted or rng.random() < 0.2)
                source = rng.choice(lines) if within else rng.choice(emitted)
                kinds.append("within" if within else "across")
                if rng.random() < 0.5:
                    source = edit(rng, source)
                    kinds.append("edited")
                lines.append(source)
            else:
                lines.append(new_paragraph())
        record = {
            "id": f"doc-{docs + 1:07d}",
            "url": f"https://docs-{(docs + 1) % 97}.example.test/{docs + 1}",
            "text": "\n".join(lines),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        size = len(line.encode())
        if written + size > args.size and docs > 0:
            break
        out.write(line)
        written += size
        docs += 1
        total += len(lines)
        emitted.extend(lines)
        for kind in kinds:
            planted[kind] += 1
    if out is not sys.stdout:
        out.close()
    print(
        f"wrote {docs} documents, {total} paragraphs, {written / 1e6:.1f} MB; "
        f"planted {planted['within']} within-document and {planted['across']} "
        f"cross-document copies ({planted['edited']} of them edited)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
