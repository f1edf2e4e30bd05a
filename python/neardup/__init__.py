"""neardup: near-duplicate paragraphs in text corpora, from Python.

The same engine as the ``neardup`` command: paragraphs are normalised, cut
into word n-gram shingles, fingerprinted with MinHash and paired by LSH
banding; every candidate pair is verified by exact Jaccard similarity, and
a paragraph is only ever a duplicate of an earlier *kept* one (no
chaining). The work runs in Rust on all cores with the GIL released.

>>> import neardup
>>> texts = [
...     "Heavy rain closed the coastal road north of Port Callow for the third time this month.",
...     "Something else entirely, written only once in this little corpus of three rows.",
...     "Heavy rain closed the coastal road north of Port Callow for the third time this month!",
... ]
>>> result = neardup.dedup(texts)
>>> result.keep
[True, True, False]
>>> result.duplicate_of
[None, None, 0]

``scan`` reads files as the command line does and returns its report;
``dedup`` takes a column of texts (a list, a pyarrow Array or Table, a
pandas DataFrame, a Hugging Face ``datasets.Dataset``) and says which rows
to keep; ``Index`` is the persistent index of earlier batches.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from . import _neardup
from ._neardup import (
    Config,
    ConfigError,
    IndexFileError,
    InputError,
    NeardupError,
    __version__,
)

__all__ = [
    "Config",
    "ConfigError",
    "Cleaned",
    "Cluster",
    "Contained",
    "Dedup",
    "Duplicate",
    "Index",
    "IndexFileError",
    "InputError",
    "Location",
    "NeardupError",
    "Report",
    "clean",
    "dedup",
    "scan",
    "__version__",
]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Location:
    """Where a paragraph is: its input, document, paragraph index, line and
    byte range, as in the command line's reports. ``batch`` names the index
    batch of a paragraph from an index (``against=``)."""

    path: str
    doc: str
    paragraph: int
    line: int
    start: int
    end: int
    url: str | None = None
    batch: str | None = None

    @staticmethod
    def _of(m: dict[str, Any]) -> "Location":
        return Location(
            path=m["path"],
            doc=m["doc"],
            paragraph=m["paragraph"],
            line=m["line"],
            start=m["start"],
            end=m["end"],
            url=m.get("url"),
            batch=m.get("batch"),
        )


@dataclass(frozen=True)
class Duplicate:
    """A paragraph flagged as a duplicate of a kept one."""

    at: Location
    of: Location
    similarity: float
    kind: str  # "within-document" or "cross-document"


@dataclass(frozen=True)
class Contained:
    """A paragraph found inside a longer one (``containment=``): at least
    the threshold of its shingles are in it, counted exactly."""

    short: Location
    long: Location
    containment: float
    #: The longest shared run of words, as word positions ``(start, end)``
    #: in the short paragraph and in the long one.
    short_words: tuple[int, int]
    long_words: tuple[int, int]
    #: The words of the short and of the long paragraph.
    short_length: int
    long_length: int


@dataclass(frozen=True)
class Cluster:
    """A kept paragraph and its duplicates, in input order."""

    kept: Location
    duplicates: list[Duplicate]


class Report:
    """The report of a scan: what ``neardup scan --output-format json``
    writes, as Python objects (``to_json()`` gives the text itself)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, Any] = json.loads(text)

    @property
    def summary(self) -> dict[str, Any]:
        """Counts: inputs, documents, paragraphs, duplicate_paragraphs ..."""
        return self._data["summary"]

    @property
    def settings(self) -> dict[str, Any]:
        return self._data["settings"]

    @property
    def diagnostics(self) -> list[dict[str, Any]]:
        """Problems with the input (unreadable files, malformed records)."""
        return self._data["diagnostics"]

    @property
    def passages(self) -> list[dict[str, Any]]:
        """Repeated passages: runs of consecutive duplicate paragraphs."""
        return self._data["passages"]

    @property
    def clusters(self) -> list[Cluster]:
        out = []
        for c in self._data["clusters"]:
            members = c["members"]
            kept = Location._of(members[0])
            dups = [
                Duplicate(Location._of(m), kept, m["similarity"], m["kind"])
                for m in members[1:]
            ]
            out.append(Cluster(kept, dups))
        return out

    @property
    def duplicates(self) -> list[Duplicate]:
        """Every flagged paragraph, sorted by path, then line and
        paragraph (``clusters`` keeps the report's order)."""
        all_ = [d for c in self.clusters for d in c.duplicates]
        all_.sort(key=lambda d: (d.at.path, d.at.line, d.at.paragraph))
        return all_

    @property
    def contained(self) -> list[Contained]:
        """Paragraphs inside longer ones, in input order of the shorter
        (empty unless the scan was asked for them with ``containment=``)."""
        return [
            Contained(
                short=Location._of(c["short"]),
                long=Location._of(c["long"]),
                containment=c["containment"],
                short_words=tuple(c["short_words"]),
                long_words=tuple(c["long_words"]),
                short_length=c["short_length"],
                long_length=c["long_length"],
            )
            for c in self._data.get("contained", [])
        ]

    def to_json(self) -> str:
        """The report as the command line's ``--output-format json``."""
        return self._text

    def to_arrow(self):
        """One row per flagged paragraph: where it is, where the kept
        paragraph it repeats is, the exact similarity and the kind."""
        import pyarrow as pa

        dups = self.duplicates
        cols: dict[str, list[Any]] = {
            "path": [d.at.path for d in dups],
            "doc": [d.at.doc for d in dups],
            "paragraph": [d.at.paragraph for d in dups],
            "line": [d.at.line for d in dups],
            "start": [d.at.start for d in dups],
            "end": [d.at.end for d in dups],
            "kind": [d.kind for d in dups],
            "similarity": [d.similarity for d in dups],
            "kept_path": [d.of.path for d in dups],
            "kept_doc": [d.of.doc for d in dups],
            "kept_paragraph": [d.of.paragraph for d in dups],
            "kept_line": [d.of.line for d in dups],
            "kept_start": [d.of.start for d in dups],
            "kept_end": [d.of.end for d in dups],
            "kept_batch": [d.of.batch for d in dups],
        }
        schema = pa.schema(
            [
                ("path", pa.string()),
                ("doc", pa.string()),
                ("paragraph", pa.uint32()),
                ("line", pa.uint64()),
                ("start", pa.uint64()),
                ("end", pa.uint64()),
                ("kind", pa.string()),
                ("similarity", pa.float64()),
                ("kept_path", pa.string()),
                ("kept_doc", pa.string()),
                ("kept_paragraph", pa.uint32()),
                ("kept_line", pa.uint64()),
                ("kept_start", pa.uint64()),
                ("kept_end", pa.uint64()),
                ("kept_batch", pa.string()),
            ]
        )
        return pa.table(cols, schema=schema)

    def to_pandas(self):
        """``to_arrow()`` as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<neardup.Report: {s['duplicate_paragraphs']} duplicate paragraphs of "
            f"{s['paragraphs']} in {s['documents']} documents>"
        )


def _config(
    config: Config | None, threshold: float | str | None, against: PathLike | None = None
) -> Config:
    if config is not None and threshold is not None:
        raise ConfigError("give threshold= or config=, not both")
    if config is not None:
        return config
    if against is not None:
        # Against an index, its settings; a threshold given that differs
        # from its own is refused when the index is opened, naming both.
        made = _neardup.index_config(os.fspath(against))
        return made if threshold is None else _replaced(made, threshold=threshold)
    return Config(threshold) if threshold is not None else Config()


def _replaced(config: Config, **changes: Any) -> Config:
    """``config`` with the settings in ``changes`` changed (a Config is
    frozen)."""
    threshold = changes.pop("threshold", config.threshold)
    fields: dict[str, Any] = dict(
        paragraphs=config.paragraphs,
        shingle=config.shingle,
        shingle_size=config.shingle_size,
        min_words=config.min_words,
        num_perm=config.num_perm,
        bands=config.bands,
        rows=config.rows,
        seed=config.seed,
        scope=config.scope,
        allow_paragraphs=config.allow_paragraphs,
        allow_patterns=config.allow_patterns,
    )
    return Config(threshold, **{**fields, **changes})


def _paths(paths: PathLike | Iterable[PathLike]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def scan(
    paths: PathLike | Iterable[PathLike],
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    against: PathLike | None = None,
    stage_dir: PathLike | None = None,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> Report:
    """Scans files and directories as ``neardup scan`` does (formats by
    content, then name; directories recursively in sorted order, hidden
    entries and binary files skipped) and returns its report.

    The inputs are walked by the command's own code: a file reached twice
    is read once, a binary file, a FIFO or a broken link in a directory is
    skipped, and a path that cannot be read is an error, each in
    ``Report.diagnostics`` as in ``--output-format json``, the rest being
    read. ``InputError`` is raised only when no path could be read at all.

    ``containment=0.8`` also finds paragraphs of at least
    ``containment_words`` words inside longer ones (``Report.contained``),
    as ``neardup scan --containment=0.8 --containment-words N
    --containment-cap C`` does.

    ``against`` names an index (``Index``): repeats of its paragraphs are
    reported too, naming the old paragraph and its batch; without
    ``config``, the index's settings are used. ``stage_dir``
    takes the first pass from stage files written by the fingerprint stage
    (``neardup.ray``, ``neardup stage fingerprint``).

    >>> report = neardup.scan("data/news")          # doctest: +SKIP
    >>> report.summary["duplicate_paragraphs"]      # doctest: +SKIP
    21
    """
    text = _neardup.scan_json(
        _paths(paths),
        _config(config, threshold, against),
        input_format=input_format,
        text_field=text_field,
        id_field=id_field,
        threads=threads,
        against=os.fspath(against) if against is not None else None,
        stage_dir=os.fspath(stage_dir) if stage_dir is not None else None,
        containment=str(containment) if containment is not None else None,
        containment_words=containment_words,
        containment_cap=containment_cap,
    )
    return Report(text)


@dataclass(frozen=True)
class Cleaned:
    """What ``clean`` wrote.

    ``report`` is the scan's (``None`` for a shard of a spread clean,
    whose findings came from the last stage); ``inputs`` the range of
    input numbers this call cleaned; ``errors`` the inputs that could not
    be read or written, with why (the others were)."""

    written: int
    removed: int
    dropped: int
    emptied: int
    bytes_in: int
    bytes_out: int
    inputs: tuple[int, int]
    errors: list[str]
    report: Report | None


def clean(
    paths: PathLike | Iterable[PathLike],
    output: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    against: PathLike | None = None,
    stage_dir: PathLike | None = None,
    remove_contained: bool = False,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    drop_empty: bool = False,
    removed: PathLike | None = None,
) -> Cleaned:
    """Writes the inputs without their duplicate paragraphs, as ``neardup
    clean PATHS -o OUTPUT`` does, to the same files: one input to the file
    ``output`` (compressed as its name says), several or a directory into
    the directory ``output``, mirroring them. Each file is written under a
    temporary name, synced and renamed, and never over an input.

    ``remove_contained=True`` also removes paragraphs found inside longer
    ones (at ``containment``, 0.8 by default); ``drop_empty`` leaves out
    documents that lost every paragraph; ``removed`` names a removal log
    (one JSON line per removed paragraph, as ``--removed``). ``against``
    and ``stage_dir`` are as in ``scan``, and so is the walk of ``paths``.
    An empty ``output`` is refused with ``ConfigError`` (``"."`` writes into
    the working directory).

    >>> done = neardup.clean("data/news", "/tmp/news-clean")   # doctest: +SKIP
    >>> done.removed                                              # doctest: +SKIP
    21
    """
    d = _neardup.clean(
        _paths(paths),
        _config(config, threshold, against),
        os.fspath(output),
        input_format=input_format,
        text_field=text_field,
        id_field=id_field,
        threads=threads,
        against=os.fspath(against) if against is not None else None,
        stage_dir=os.fspath(stage_dir) if stage_dir is not None else None,
        containment=str(containment) if containment is not None else None,
        containment_words=containment_words,
        containment_cap=containment_cap,
        remove_contained=remove_contained,
        drop_empty=drop_empty,
        removed=os.fspath(removed) if removed is not None else None,
    )
    return _cleaned(d)


def _cleaned(d: dict[str, Any]) -> Cleaned:
    report = Report(d["report"]) if d["report"] is not None else None
    return Cleaned(
        written=d["written"],
        removed=d["removed"],
        dropped=d["dropped"],
        emptied=d["emptied"],
        bytes_in=d["bytes_in"],
        bytes_out=d["bytes_out"],
        inputs=tuple(d["inputs"]),
        errors=list(d["errors"]),
        report=report,
    )


class Dedup:
    """What ``dedup`` found, per row and per flagged paragraph.

    Each row is one document, cut into paragraphs as the command line cuts
    a JSON Lines record's text; the verdicts are those of ``neardup scan``
    on the rows written as JSON Lines, one record per row, in order.

    - ``keep[i]``: False when every paragraph of row ``i`` repeats a kept
      paragraph (what ``neardup clean --drop-empty`` leaves out); a row
      with new paragraphs, or none, is kept.
    - ``duplicate_of[i]``: for a row not kept, the row holding the kept
      paragraph its first paragraph repeats (None when that paragraph is
      in an index: see ``pairs``).
    - ``similarity[i]``: for a row not kept, the lowest similarity of its
      paragraphs to what they repeat.
    - ``paragraphs[i]``, ``removed[i]``: its paragraphs, and how many of
      them are duplicates.
    - ``pairs``: one entry per flagged paragraph (``row``, ``paragraph``,
      ``start``, ``end`` in the row's text, ``kept_row`` / ``kept_batch``,
      ``kept_paragraph``, ``kept_start``, ``kept_end``, ``similarity``,
      ``kind``); ``pairs_table()`` gives them as a pyarrow Table.
    - ``cleaned``: with ``dedup(..., cleaned=True)``, each row's text
      without its duplicate paragraphs, as ``neardup clean`` writes it.
    """

    def __init__(self, d: dict[str, Any]) -> None:
        self.keep: list[bool] = d["keep"]
        self.duplicate_of: list[int | None] = d["duplicate_of"]
        self.similarity: list[float | None] = d["similarity"]
        self.paragraphs: list[int] = d["paragraphs"]
        self.removed: list[int] = d["removed"]
        self.pairs: dict[str, list[Any]] = d["pairs"]
        self.cleaned: list[str] | None = d.get("cleaned")
        self._report = d.get("report")

    @property
    def report(self) -> Report | None:
        """The scan's report, with ``dedup(..., report=True)``."""
        return Report(self._report) if self._report is not None else None

    def __len__(self) -> int:
        return len(self.keep)

    def to_arrow(self):
        """One row per input row: keep, duplicate_of, similarity,
        paragraphs, removed (and cleaned, if asked for)."""
        import pyarrow as pa

        cols = {
            "keep": pa.array(self.keep, pa.bool_()),
            "duplicate_of": pa.array(self.duplicate_of, pa.uint64()),
            "similarity": pa.array(self.similarity, pa.float64()),
            "paragraphs": pa.array(self.paragraphs, pa.uint32()),
            "removed": pa.array(self.removed, pa.uint32()),
        }
        if self.cleaned is not None:
            cols["cleaned"] = pa.array(self.cleaned, pa.large_string())
        return pa.table(cols)

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def pairs_table(self):
        """``pairs`` as a pyarrow Table."""
        import pyarrow as pa

        p = self.pairs
        return pa.table(
            {
                "row": pa.array(p["row"], pa.uint64()),
                "paragraph": pa.array(p["paragraph"], pa.uint32()),
                "start": pa.array(p["start"], pa.uint64()),
                "end": pa.array(p["end"], pa.uint64()),
                "kept_row": pa.array(p["kept_row"], pa.uint64()),
                "kept_batch": pa.array(p["kept_batch"], pa.string()),
                "kept_path": pa.array(p["kept_path"], pa.string()),
                "kept_paragraph": pa.array(p["kept_paragraph"], pa.uint32()),
                "kept_start": pa.array(p["kept_start"], pa.uint64()),
                "kept_end": pa.array(p["kept_end"], pa.uint64()),
                "similarity": pa.array(p["similarity"], pa.float64()),
                "kind": pa.array(p["kind"], pa.string()),
            }
        )

    def __repr__(self) -> str:
        dropped = self.keep.count(False)
        return (
            f"<neardup.Dedup: {len(self.keep)} rows, {dropped} not kept, "
            f"{len(self.pairs['row'])} duplicate paragraphs>"
        )


def _arrow_chunks(column) -> list[tuple[Any, Any]]:
    """The Arrow C data capsules of a column's chunks, cast to a string
    type the extension reads in place (utf8 and large_utf8 are read as
    they are; other string types are cast, which copies)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        chunks = column.chunks
    else:
        chunks = [column]
    out = []
    for c in chunks:
        if not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)):
            c = c.cast(pa.large_string())
        # The exported array holds its buffers until its capsule is freed.
        out.append(c.__arrow_c_array__())
    return out


def _column(data, text_column: str):
    """The text column of ``data`` as a pyarrow Array or ChunkedArray, or
    None for a plain Python sequence of strings."""
    if isinstance(data, (list, tuple)):
        return None
    try:
        import pyarrow as pa
    except ImportError as e:  # pragma: no cover - only without pyarrow
        raise TypeError(
            f"dedup takes a list of strings, or (with pyarrow installed) a table or "
            f"array; got {type(data).__name__}"
        ) from e
    if isinstance(data, (pa.Array, pa.ChunkedArray)):
        return data
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return data.column(text_column)
    # A Hugging Face datasets.Dataset: its Arrow column, not its rows
    # (through the Arrow format, which applies a selection's indices).
    if type(data).__module__.startswith("datasets.") and hasattr(data, "with_format"):
        return data.with_format("arrow")[text_column]
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Array.from_pandas(data[text_column])
        if isinstance(data, pd.Series):
            return pa.Array.from_pandas(data)
    except ImportError:
        pass
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return pa.table(data).column(text_column)
    return None


def dedup(
    data: Any,
    text_column: str = "text",
    *,
    threshold: float | str | None = None,
    config: Config | None = None,
    threads: int | None = None,
    against: PathLike | None = None,
    cleaned: bool = False,
    report: bool = False,
) -> Dedup:
    """Deduplicates rows of text: which to keep, and for each duplicate
    paragraph the kept one it repeats, with the exact similarity.

    ``data`` is a list of strings (None is an empty row), a pyarrow Array,
    ChunkedArray, Table or RecordBatch, a pandas DataFrame or Series, a
    Hugging Face ``datasets.Dataset``, a dict of columns, or anything with
    an Arrow PyCapsule interface; ``text_column`` names the column of a
    table or dict. One string is refused (``[text]`` is one row). Arrow string
    columns are read in place, without a Python object per row.

    ``against`` names an index: rows repeating its paragraphs are flagged
    too (with the index's settings, unless ``config`` is given).
    ``cleaned=True`` also returns each row's text without its
    duplicate paragraphs; ``report=True`` the scan's full report.

    >>> neardup.dedup(["a b c d e f", "x y z w v u", "a b c d e f"]).keep
    [True, True, False]
    """
    cfg = _config(config, threshold, against)
    if isinstance(data, (str, bytes)):
        raise TypeError(
            f"dedup takes rows of text (a list of strings, a table or a column), not one "
            f"{type(data).__name__}: give [text] for a single row"
        )
    kind = type(data).__name__
    if type(data).__module__.startswith("datasets."):
        # A dict of splits, or a stream: not one table of rows.
        if kind in ("DatasetDict", "IterableDatasetDict"):
            raise TypeError(
                f"dedup takes one split, not a {kind} of {sorted(map(str, data))}: "
                f"give one, e.g. data[{sorted(map(str, data))[0]!r}]"
            )
        if kind == "IterableDataset":
            raise TypeError(
                "dedup takes a Dataset, not an IterableDataset (a stream it would have to "
                "hold whole): load it without streaming=True, or dedup its batches in turn "
                "against an Index (Index.add after each)"
            )
    if isinstance(data, Mapping):
        # Columns by name (a dict of lists, a batch of a Hugging Face
        # dataset): the text column.
        if text_column not in data:
            raise KeyError(
                f"no column {text_column!r} among {sorted(map(str, data))}: name it with "
                f"text_column="
            )
        data = data[text_column]
    column = _column(data, text_column)
    kwargs: dict[str, Any] = dict(
        threads=threads,
        against=os.fspath(against) if against is not None else None,
        cleaned=cleaned,
        report=report,
    )
    if column is None:
        texts = list(data)
        for i, t in enumerate(texts):
            if t is not None and not isinstance(t, str):
                raise TypeError(f"row {i}: a {type(t).__name__}, not a string")
        try:
            return Dedup(_neardup.dedup_rows(cfg, texts=texts, **kwargs))
        except UnicodeEncodeError:
            # A lone surrogate ("\ud83d", half of an emoji cut in two) is no
            # text: name the row, which the conversion's error does not.
            for i, t in enumerate(texts):
                try:
                    if t is not None:
                        t.encode("utf-8")
                except UnicodeEncodeError as e:
                    raise InputError(
                        f"row {i}: not valid text: {e.reason} at character {e.start} "
                        f"({t[e.start]!r}, half of a surrogate pair?)"
                    ) from None
            raise
    chunks = _arrow_chunks(column)
    return Dedup(_neardup.dedup_rows(cfg, chunks=chunks, **kwargs))


class Index:
    """A persistent index of kept paragraphs (``neardup index``): each new
    batch is checked against every batch kept before, without reading them
    again. The directory is the command line's; either can add to it.

    >>> idx = neardup.Index.create("news.ndx", neardup.Config())   # doctest: +SKIP
    >>> idx.add(["scrape/monday"], name="monday")                  # doctest: +SKIP
    >>> idx.query(["scrape/tuesday"]).duplicates                   # doctest: +SKIP
    """

    def __init__(self, path: PathLike, config: Config | None = None) -> None:
        """Opens the index at ``path``. Its settings are used unless
        ``config`` is given (needed when the index was made with an
        allowlist, whose entries it does not keep)."""
        self.path = os.fspath(path)
        self.config: Config = config if config is not None else _neardup.index_config(self.path)

    @classmethod
    def create(
        cls,
        path: PathLike,
        config: Config | None = None,
        *,
        containment_words: int | None = None,
    ) -> "Index":
        """A new, empty index at ``path`` (which must not exist, or be an
        empty directory) for ``config``'s settings; unless ``config`` gives
        ``bands`` or ``rows``, the index takes the fewest bands that keep
        the guarantee at its threshold (18 x 5 at 0.8, as ``neardup index
        create``), and ``self.config`` has them. With
        ``containment_words=N`` it keeps containment fingerprints, so that
        ``query(..., containment=0.8, containment_words=N)`` also finds
        quotes of indexed paragraphs (``neardup index create
        --containment-words N``)."""
        made = _neardup.index_create(
            os.fspath(path), config if config is not None else Config(), containment_words
        )
        return cls(path, made)

    def add(
        self,
        paths: PathLike | Iterable[PathLike],
        *,
        name: str | None = None,
        force: bool = False,
        input_format: str | None = None,
        text_field: str = "text",
        id_field: str = "id",
        threads: int | None = None,
        skip_bad_records: bool = False,
        created: int | None = None,
    ) -> dict[str, Any]:
        """Scans ``paths`` against the index and themselves and adds their
        kept paragraphs as a new batch (``neardup index add``). Returns what
        was added: batch, stored, duplicates, against_index,
        total_paragraphs, batches, generation, and the scan's ``report``
        (the verdicts ``query`` gives before the add). Like ``neardup
        index add`` it reads the batch once: its second pass verifies from
        the tokens the first kept, since the report has no snippets."""
        import time

        d = _neardup.index_add(
            self.path,
            _paths(paths),
            self.config,
            name=name,
            force=force,
            created=int(time.time()) if created is None else created,
            input_format=input_format,
            text_field=text_field,
            id_field=id_field,
            threads=threads,
            skip_bad_records=skip_bad_records,
        )
        d["report"] = Report(d["report"])
        return d

    def query(self, paths: PathLike | Iterable[PathLike], **kwargs: Any) -> Report:
        """``scan(paths, against=this index)`` with the index's settings."""
        return scan(paths, config=self.config, against=self.path, **kwargs)

    def dedup(self, data: Any, text_column: str = "text", **kwargs: Any) -> Dedup:
        """``dedup(data, against=this index)`` with the index's settings."""
        return dedup(data, text_column, config=self.config, against=self.path, **kwargs)

    def info(self) -> dict[str, Any]:
        """generation, paragraphs (kept), variants (near-duplicates kept for
        containment only), segments, bytes, settings, batches, and
        segment_files (name, bytes, rows, variants, version of each)."""
        return _neardup.index_info(self.path)

    def verify(self) -> None:
        """Checks every checksum and table; raises IndexFileError naming the
        damaged file."""
        _neardup.index_verify(self.path)

    def rollback(self) -> int:
        """Returns to the generation before the last change; the new
        generation number."""
        return _neardup.index_rollback(self.path)

    def compact(
        self,
        *,
        containment_words: int | None = None,
        no_containment: bool = False,
        bands: int | None = None,
        rows: int | None = None,
    ) -> tuple[int, int, int]:
        """Rewrites the segments as few full ones: (before, after,
        generation). Full segments at the front stay as they are; with
        nothing to rewrite, no generation is committed (the generation
        returned is the index's own). ``containment_words=N`` selects containment
        fingerprints for quotes of N words (adding them to an index made
        without); ``no_containment=True`` drops them. ``bands=B, rows=R``
        gives the index that banding, its band keys computed again from
        its tokens (``neardup index compact --bands B --rows R``);
        ``self.config`` follows."""
        done = _neardup.index_compact(
            self.path,
            containment_words=containment_words,
            no_containment=no_containment,
            bands=bands,
            rows=rows,
        )
        if bands is not None and rows is not None:
            self.config = _replaced(self.config, bands=bands, rows=rows)
        return done

    def drop(
        self,
        batches: Iterable[str] = (),
        *,
        before: str | int | float | Any | None = None,
        older_than: str | int | float | Any | None = None,
        keep: int | None = None,
    ) -> dict[str, Any]:
        """Removes batches (``neardup index drop``): those named, every one
        added before ``before`` (``"2026-09-01"``,
        ``"2026-09-01T06:00:00Z"``, seconds since the Unix epoch (as
        ``time.time()`` gives them), a ``datetime`` or a ``date`` (its
        midnight); naive ones are taken as UTC) or more than
        ``older_than`` ago (``"90d"``, ``"36h"``, ``"1w3d"``, seconds, or a
        ``timedelta``; not with ``before``), and every one but the newest
        ``keep`` (by the order they were added; at least 1). Their
        paragraphs are no longer found, the other batches' verdicts stay,
        ``rollback()`` undoes it. Returns batches (dropped), paragraphs,
        variants, left, segments and bytes (before, after), kept (the
        segments named again as they were, not rewritten), generation;
        with nothing selected, nothing is committed."""
        import datetime
        import time

        if isinstance(before, str):
            before = _neardup.parse_utc_time(before)
        elif isinstance(before, datetime.date) and not isinstance(before, datetime.datetime):
            before = datetime.datetime(before.year, before.month, before.day)
        if isinstance(before, datetime.datetime):
            if before.tzinfo is None:
                before = before.replace(tzinfo=datetime.timezone.utc)
            before = before.timestamp()
        if isinstance(before, float):
            if not math.isfinite(before):
                raise ConfigError(f"before={before!r} is no time")
            before = math.floor(before)
        if older_than is not None:
            if before is not None:
                raise ConfigError("give before or older_than, not both")
            if isinstance(older_than, str):
                older_than = _neardup.parse_age(older_than)
            elif isinstance(older_than, datetime.timedelta):
                older_than = older_than.total_seconds()
            if not math.isfinite(older_than):
                raise ConfigError(f"older_than={older_than!r} is no age")
            if older_than < 0:
                raise ConfigError(f"older_than={older_than!r} is in the future")
            before = int(time.time() - older_than)
        if isinstance(batches, str):
            batches = [batches]
        return _neardup.index_drop(self.path, list(batches), before, keep)

    def __repr__(self) -> str:
        return f"<neardup.Index {self.path!r}>"
