#!/usr/bin/env python3
"""Build data/news.warc.wet.gz from data/news.jsonl.

The file has the shape of a Common Crawl WET file: a gzip member per WARC
record, a `warcinfo` record first, then one `conversion` record per
article, whose body is the page title on the first line followed by the
article text (one paragraph per line), as Common Crawl's text extraction
writes it. Record ids are UUIDs derived from the article ids, and the
output is byte-for-byte reproducible (gzip mtime 0).

Usage: python3 data/make_wet.py   (from any directory)
"""

import base64
import gzip
import hashlib
import io
import json
import pathlib
import uuid

DATA_DIR = pathlib.Path(__file__).resolve().parent
IN_PATH = DATA_DIR / "news.jsonl"
OUT_PATH = DATA_DIR / "news.warc.wet.gz"
NAMESPACE = uuid.UUID("6f1c2a52-3d4e-4b8f-9a10-0e5d7c6b2a11")
DATE = "2024-10-14T08:00:00Z"


def record_id(name):
    return f"<urn:uuid:{uuid.uuid5(NAMESPACE, name)}>"


def record(fields, body):
    digest = base64.b32encode(hashlib.sha1(body).digest()).decode()
    head = ["WARC/1.0"]
    head += [f"{k}: {v}" for k, v in fields]
    head += [
        f"WARC-Block-Digest: sha1:{digest}",
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body + b"\r\n\r\n"


def member(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def main():
    articles = [json.loads(line) for line in IN_PATH.read_text(encoding="utf-8").splitlines()]
    info = b"isPartOf: neardup-sample\r\npublisher: neardup test data\r\n"
    records = [
        record(
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Date", DATE),
                ("WARC-Filename", OUT_PATH.name),
                ("WARC-Record-ID", record_id("warcinfo")),
                ("Content-Type", "application/warc-fields"),
            ],
            info,
        )
    ]
    for a in articles:
        body = (a["title"] + "\n" + a["text"]).encode("utf-8")
        records.append(
            record(
                [
                    ("WARC-Type", "conversion"),
                    ("WARC-Target-URI", a["url"]),
                    ("WARC-Date", DATE),
                    ("WARC-Record-ID", record_id(a["id"])),
                    ("WARC-Refers-To", record_id(a["id"] + "/response")),
                    ("WARC-Identified-Content-Language", "eng"),
                    ("Content-Type", "text/plain"),
                ],
                body,
            )
        )
    OUT_PATH.write_bytes(b"".join(member(r) for r in records))
    print(f"wrote {len(records)} records to {OUT_PATH}")


if __name__ == "__main__":
    main()
