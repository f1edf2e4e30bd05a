#!/usr/bin/env python3
"""Build data/news.jsonl from the plain-text articles in data/news/.

Each data/news/NN-<slug>.txt file becomes one JSON object per line, in file
name order, with the fields "id", "url", "title" and "text" (in that order).

Two input layouts are accepted:

* one paragraph per line, no blank lines (most files);
* paragraphs separated by blank lines and hard-wrapped, as in a text dump
  (02-...). The wrapped lines of a paragraph are joined with single spaces.

The first paragraph is the headline and goes to "title"; the remaining
paragraphs, boilerplate lines included, are joined with "\n" into "text".
Ids and URLs are fictional and listed in SOURCES below.

Usage: python3 data/make_jsonl.py   (from any directory)
"""

import json
import pathlib
import sys

DATA_DIR = pathlib.Path(__file__).resolve().parent
NEWS_DIR = DATA_DIR / "news"
OUT_PATH = DATA_DIR / "news.jsonl"

# file name -> (id, url)
SOURCES = {
    "01-port-callow-flood-barrier.txt": (
        "callowcourier-0117",
        "https://example-callowcourier.test/local/2024/council-backs-flood-barrier",
    ),
    "02-ebb-island-ferry-returns.txt": (
        "islandsdigest-0042",
        "https://example-islandsdigest.test/transport/ebb-island-ferry-full-timetable",
    ),
    "03-harwick-boil-water-notice.txt": (
        "meridianwire-5531",
        "https://example-meridianwire.test/wire/2024/10/14/harwick-boil-water-notice",
    ),
    "04-valley-herald-harwick-water.txt": (
        "valleyherald-2208",
        "https://example-valleyherald.test/news/harwick-households-boil-tap-water",
    ),
    "05-coastline-post-lake-venn.txt": (
        "coastlinepost-0913",
        "https://example-coastlinepost.test/region/lake-venn-pump-failure",
    ),
    "06-gull-skerry-tern-count.txt": (
        "northshoretimes-0388",
        "https://example-northshoretimes.test/nature/gull-skerry-record-tern-count",
    ),
    "07-ardley-mill-reopens.txt": (
        "midlandsledger-1460",
        "https://example-midlandsledger.test/business/ardley-mill-insulation-plant",
    ),
    "08-millbrook-choir-director-retires.txt": (
        "riverbendreview-0275",
        "https://example-riverbendreview.test/culture/millbrook-chorus-director-retires",
    ),
}


def paragraphs(text):
    """Split an article into paragraphs, unwrapping blank-line-separated ones."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "" not in lines:
        return lines
    paras, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paras.append(" ".join(current))
            current = []
    if current:
        paras.append(" ".join(current))
    return paras


def main():
    files = sorted(NEWS_DIR.glob("*.txt"))
    names = [f.name for f in files]
    if names != sorted(SOURCES):
        sys.exit(f"article files {names} do not match SOURCES {sorted(SOURCES)}")
    records = []
    for path in files:
        paras = paragraphs(path.read_text(encoding="utf-8"))
        article_id, url = SOURCES[path.name]
        records.append(
            {
                "id": article_id,
                "url": url,
                "title": paras[0],
                "text": "\n".join(paras[1:]),
            }
        )
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {OUT_PATH}")


if __name__ == "__main__":
    main()
