"""neardup.dedup gives the command line's verdicts on the same text, from
every input type, and releases the GIL while it works."""

import json
import threading
import time

import neardup
import pyarrow as pa
import pandas as pd
import pytest

from conftest import make_rows, run_cli, write_jsonl


def cli_verdicts(cli, tmp_path, rows, *args):
    """(row, paragraph) -> (kept row, kept paragraph, similarity) from
    `neardup scan` of the rows as JSON Lines."""
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, rows)
    report = json.loads(
        run_cli(cli, "scan", "--output-format", "json", "-q", *args, str(path)).stdout
    )
    out = {}
    for c in report["clusters"]:
        kept = c["members"][0]
        for m in c["members"][1:]:
            out[(m["line"] - 1, m["paragraph"])] = (
                kept["line"] - 1,
                kept["paragraph"],
                m["similarity"],
            )
    return out


def verdicts(result):
    p = result.pairs
    return {
        (r, q): (kr, kq, s)
        for r, q, kr, kq, s in zip(
            p["row"], p["paragraph"], p["kept_row"], p["kept_paragraph"], p["similarity"]
        )
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_dedup_gives_the_command_lines_verdicts(cli, tmp_path, seed):
    rows = make_rows(400, seed)
    expect = cli_verdicts(cli, tmp_path, rows)
    assert len(expect) > 50
    inputs = {
        "list": rows,
        "array": pa.array(rows),
        "large": pa.array(rows, pa.large_string()),
        "chunked": pa.chunked_array([rows[:150], rows[150:]]),
        "table": pa.table({"text": rows, "n": list(range(len(rows)))}),
        "pandas": pd.DataFrame({"text": rows}),
        "view": pa.array(rows, pa.string_view()),
    }
    for name, data in inputs.items():
        result = neardup.dedup(data)
        assert verdicts(result) == expect, name
        assert len(result) == len(rows)


def test_row_verdicts_follow_the_paragraphs(cli, tmp_path):
    rows = make_rows(300, 3)
    result = neardup.dedup(rows, cleaned=True)
    per_row = {}
    for (r, _), (kr, _, s) in verdicts(result).items():
        per_row.setdefault(r, []).append((kr, s))
    for i, row in enumerate(rows):
        n = len([p for p in row.split("\n") if p.strip()])
        assert result.paragraphs[i] == n
        assert result.removed[i] == len(per_row.get(i, []))
        emptied = n > 0 and result.removed[i] == n
        assert result.keep[i] == (not emptied)
        if emptied:
            assert result.duplicate_of[i] is not None and result.duplicate_of[i] < i
            assert result.similarity[i] == min(s for _, s in per_row[i])
        else:
            assert result.duplicate_of[i] is None
    assert result.keep.count(False) > 0
    # The cleaned rows are what `neardup clean` writes.
    path = tmp_path / "rows.jsonl"
    from conftest import write_jsonl as w

    w(path, rows)
    run_cli(cli, "clean", "-q", str(path), "-o", str(tmp_path / "out.jsonl"))
    cleaned = [json.loads(l)["text"] for l in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert result.cleaned == cleaned


def test_nulls_are_empty_rows_and_other_types_are_refused():
    result = neardup.dedup(pa.array(["a b c d e", None, "a b c d e"]))
    assert result.keep == [True, True, False]
    assert result.paragraphs == [1, 0, 1]
    with pytest.raises(TypeError, match="row 1"):
        neardup.dedup(["text", 3])


def test_one_string_a_dict_of_columns_and_a_cut_emoji():
    with pytest.raises(TypeError, match="not one str: give \\[text\\]"):
        neardup.dedup("one long text")
    with pytest.raises(TypeError, match="not one bytes"):
        neardup.dedup(b"one long text")
    rows = ["a b c d e f", "x y z w v u", "a b c d e f"]
    assert neardup.dedup({"text": rows}).keep == [True, True, False]
    assert neardup.dedup({"body": rows}, text_column="body").keep == [True, True, False]
    with pytest.raises(KeyError, match="no column 'text' among \\['body'\\]"):
        neardup.dedup({"body": rows})
    cut = ["some words here number %d ok" % i for i in range(1000)]
    cut[617] = "cut in emoji \ud83d"
    with pytest.raises(neardup.InputError, match="row 617: not valid text"):
        neardup.dedup(cut)


def test_the_gil_is_released_while_dedup_works():
    import sys

    rows = make_rows(40_000, 9)
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            if ticks % 100 == 0:
                # Hands the GIL back at once, so the main thread resumes
                # within 100 ticks of the call's end.
                time.sleep(0.0001)

    # With a switch interval far longer than the test, the main thread is
    # never made to hand the GIL over: the counting thread runs only while
    # the call releases it (and at most 100 ticks after it ends).
    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        worker = threading.Thread(target=count)
        worker.start()
        before = ticks
        result = neardup.dedup(rows, threads=1)
        during = ticks - before
        done.set()
    finally:
        sys.setswitchinterval(old)
    worker.join()
    assert len(result) == len(rows)
    assert during > 5000, during


def test_a_hugging_face_dataset_is_read_through_its_arrow_table(cli, tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = make_rows(200, 5)
    ds = datasets.Dataset.from_dict({"text": rows, "id": list(range(len(rows)))})
    assert verdicts(neardup.dedup(ds)) == cli_verdicts(cli, tmp_path, rows)
    # A selection of rows is a view (an indices mapping over the same
    # table): dedup reads the rows as selected.
    sub = ds.select(range(0, 200, 2))
    assert verdicts(neardup.dedup(sub)) == cli_verdicts(cli, tmp_path, rows[::2])
    # A dict of splits and a stream are not rows: a TypeError saying what to give.
    splits = datasets.DatasetDict({"train": ds, "test": sub})
    with pytest.raises(TypeError, match=r"one split.*data\['test'\]"):
        neardup.dedup(splits)
    with pytest.raises(TypeError, match="IterableDataset"):
        neardup.dedup(ds.to_iterable_dataset())
