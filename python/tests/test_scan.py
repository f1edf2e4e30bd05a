"""neardup.scan against the command line, on the sample corpus and the
seeds."""

import json
import os
from pathlib import Path

import neardup
import pytest

from conftest import run_cli


def test_scan_gives_the_command_lines_json_report(repo, cli):
    for target in ["data/news", "data/news.jsonl", "data/news.warc.wet.gz"]:
        ours = neardup.scan(target)
        theirs = run_cli(cli, "scan", "--output-format", "json", "-q", target).stdout
        assert ours.to_json() == theirs, target
        assert ours.summary["duplicate_paragraphs"] > 0


def test_a_compressed_input_leaves_nothing_in_tmpdir(repo, tmp_path, monkeypatch):
    # Its decoded text is kept in $TMPDIR between the passes, as by the
    # command: the report is the one made without it (a $TMPDIR that does
    # not exist), and the file is gone when the scan returns.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    kept = neardup.scan("data/news.warc.wet.gz")
    assert list(scratch.iterdir()) == []
    monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))
    assert neardup.scan("data/news.warc.wet.gz").to_json() == kept.to_json()
    assert kept.summary["duplicate_paragraphs"] > 0


def test_scan_options_reach_the_engine(repo, cli):
    ours = neardup.scan("data/news", 0.9, threads=1)
    theirs = run_cli(
        cli, "scan", "--output-format", "json", "-q", "--threshold", "0.9", "-j", "1", "data/news"
    ).stdout
    assert ours.to_json() == theirs
    assert ours.summary != neardup.scan("data/news", 0.5).summary


def test_report_objects_and_arrow(repo):
    report = neardup.scan(["data/news"])
    dups = report.duplicates
    assert len(dups) == report.summary["duplicate_paragraphs"]
    table = report.to_arrow()
    assert table.num_rows == len(dups)
    assert table.column("similarity").to_pylist() == [d.similarity for d in dups]
    # Every duplicate repeats a kept paragraph at or above the threshold.
    assert all(0.8 <= d.similarity <= 1.0 for d in dups)
    frame = report.to_pandas()
    assert list(frame["path"]) == [d.at.path for d in dups]


@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[3] / "shared" / "seeds").is_dir()
    and not os.environ.get("NEARDUP_REQUIRE_SEEDS"),
    reason="../shared/seeds is not beside the clone",
)
def test_seeds_give_the_command_lines_findings(repo, cli):
    seeds = repo.parent / "shared" / "seeds"
    ours = neardup.scan(seeds)
    theirs = run_cli(cli, "scan", "--output-format", "json", "-q", str(seeds)).stdout
    assert ours.to_json() == theirs
    assert ours.summary["within_document"] >= 2


def test_errors_carry_the_command_lines_messages(repo, cli, tmp_path):
    with pytest.raises(neardup.ConfigError) as e:
        neardup.Config(1.5)
    out = run_cli_error(cli, "scan", "--threshold", "1.5", "data/news")
    assert f"error: {e.value}" in out
    with pytest.raises(neardup.InputError) as e:
        neardup.scan(tmp_path / "missing.txt")
    assert "missing.txt" in str(e.value)
    with pytest.raises(neardup.ConfigError, match="paragraphs"):
        neardup.Config(paragraphs="sentence")
    with pytest.raises(neardup.ConfigError, match="not both"):
        neardup.scan("data/news", 0.8, config=neardup.Config())


def run_cli_error(cli, *args):
    import subprocess

    out = subprocess.run([cli, *args], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    return out.stderr


def test_config_mirrors_the_flags():
    c = neardup.Config(0.85, shingle_size=4, num_perm=64)
    assert (c.threshold, c.shingle_size, c.num_perm) == (0.85, 4, 64)
    assert c.bands * c.rows <= 64
    assert "threshold=0.85" in repr(c)
    with pytest.raises(neardup.ConfigError):
        neardup.Config(bands=100, rows=100)


def test_configs_compare_by_their_settings_and_take_any_float():
    a = neardup.Config(0.85, shingle_size=4)
    assert a == neardup.Config("0.85", shingle_size=4) and hash(a) == hash(neardup.Config(0.85, shingle_size=4))
    assert a != neardup.Config(0.85) and a != neardup.Config(0.85, shingle_size=4, allow_paragraphs=["x y"])
    assert a != "Config(0.85)"
    assert len({a, neardup.Config(0.85, shingle_size=4), neardup.Config()}) == 2
    # A float Python writes with an exponent (1e-05) is the same decimal.
    tiny = neardup.Config(0.00001, bands=1, rows=1)
    assert tiny.threshold == 0.00001 and tiny == neardup.Config("0.00001", bands=1, rows=1)
    assert neardup.Config(5e-3, bands=1, rows=1) == neardup.Config("0.005", bands=1, rows=1)


def test_scan_finds_quotes_inside_longer_paragraphs_as_the_command_line(tmp_path, cli):
    quote = (
        "the council said on Friday that the water in the northern district was safe to "
        "drink again after six days of tests at twelve sampling points across the town"
    )
    (tmp_path / "article.txt").write_text(
        f"Residents were relieved when {quote}, a spokeswoman confirmed in a statement.\n"
    )
    (tmp_path / "quote.txt").write_text(f"Unrelated opening line of the wire copy here.\n{quote}\n")
    paths = [str(tmp_path / "article.txt"), str(tmp_path / "quote.txt")]
    assert neardup.scan(paths).contained == []
    report = neardup.scan(paths, containment=0.8, containment_words=25)
    theirs = run_cli(
        cli, "scan", "--output-format", "json", "-q", "--containment=0.8",
        "--containment-words", "25", *paths,
    ).stdout
    assert report.to_json() == theirs
    [found] = report.contained
    assert (found.short.path, found.short.line) == (paths[1], 2)
    assert (found.long.path, found.long.line) == (paths[0], 1)
    assert found.containment == 1.0
    words = found.short_words[1] - found.short_words[0]
    assert words == found.short_length == len(quote.split())
    # A longer minimum than the quote: nothing; a bad cap: the CLI's message.
    assert neardup.scan(paths, containment=0.8, containment_words=40).contained == []
    with pytest.raises(neardup.ConfigError, match="cap is at least 2"):
        neardup.scan(paths, containment=0.8, containment_cap=1)


def test_the_stubs_describe_every_native_function(tmp_path):
    # Type checkers and editors see the native module through
    # _neardup.pyi: a function missing there is invisible to them.
    import ast
    import inspect

    from neardup import _neardup

    stub = Path(neardup.__file__).with_name("_neardup.pyi")
    tree = ast.parse(stub.read_text())
    described = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    native = {
        name
        for name, value in vars(_neardup).items()
        if not name.startswith("_") and (inspect.isbuiltin(value) or inspect.isclass(value))
    }
    assert native, "no native functions found"
    assert native - described == set()
    # The native functions take any path-like where they take a path
    # (they call os.fspath): the stubs say so, or a type checker refuses
    # a pathlib.Path there.
    path_params = {"paths", "dir", "index", "output", "against", "stage_dir", "base_dir", "removed"}
    typed = {
        (f.name, a.arg): ast.unparse(a.annotation)
        for f in tree.body
        if isinstance(f, ast.FunctionDef)
        for a in f.args.args + f.args.kwonlyargs
        if a.arg in path_params and a.annotation is not None
    }
    assert typed, "no path parameters found"
    assert {
        k: t for k, t in typed.items() if t not in ("StrPath", "StrPath | None", "Sequence[StrPath]")
    } == {}
    # ... and a pathlib.Path is taken as a path (the error is about the
    # index, not the argument's type).
    with pytest.raises(neardup.IndexFileError, match="missing.ndx"):
        _neardup.index_info(tmp_path / "missing.ndx")


def test_an_absurd_thread_count_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("one paragraph of several words here\n")
    with pytest.raises(neardup.ConfigError, match="threads: at most 1024 worker threads, not 5000"):
        neardup.scan(tmp_path / "a.txt", threads=5000)
