"""Which files the package reads, against the command line: one walker
(the library's `corpus::walk`) for both, so a file reached twice is read
once, a FIFO or a binary file in a directory is skipped with the same
warning, a bad path is reported while the rest is read, and the JSON
report is the command's byte for byte. Paths Python cannot hand to the
operating system are refused with a normal exception."""

import json
import os
import subprocess
import sys
from pathlib import Path

import neardup
import pytest

REPEATED = "The council voted to reopen the harbour road after the storm last week."
OTHER = "Volunteers cleared fallen branches from the school playground on Sunday."
THIRD = "A new timetable for the island ferry starts on the first of May this year."


def cli_json(cli: str, cwd: Path, *args: str) -> tuple[str, int]:
    """`neardup scan --output-format json -q ARGS` in `cwd`: the report and
    the exit status."""
    out = subprocess.run(
        [cli, "scan", "--output-format", "json", "-q", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode in (0, 1, 2), out.stderr
    assert "panicked" not in out.stderr, out.stderr
    return out.stdout, out.returncode


def problems(report: neardup.Report) -> list[tuple[str, str, str]]:
    return [(d["severity"], d.get("path") or "", d["message"]) for d in report.diagnostics]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """c/a.txt (two different paragraphs) and c/b.txt, in the working
    directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text(f"{REPEATED}\n{OTHER}\n")
    (tmp_path / "c" / "b.txt").write_text(f"{THIRD}\n")
    return tmp_path


def test_a_file_named_twice_is_read_once_with_a_warning(tree, cli):
    for paths in (["c/a.txt", "c/a.txt"], ["c/a.txt", "./c/a.txt"]):
        report = neardup.scan(paths)
        assert report.summary["inputs"] == 1, paths
        assert report.summary["duplicate_paragraphs"] == 0, paths
        assert report.diagnostics[0]["severity"] == "warning"
        assert report.to_json() == cli_json(cli, tree, *paths)[0]
    assert problems(neardup.scan(["c/a.txt", "./c/a.txt"])) == [
        ("warning", "./c/a.txt", "the same as c/a.txt; read once")
    ]


def test_a_hard_link_and_a_symlink_in_a_directory_are_the_same_file(tree, cli):
    os.link(tree / "c" / "a.txt", tree / "c" / "hard.txt")
    os.symlink("a.txt", tree / "c" / "soft.txt")
    report = neardup.scan("c")
    assert report.summary["inputs"] == 2
    assert report.summary["duplicate_paragraphs"] == 0
    assert problems(report) == [
        ("warning", "c/hard.txt", "the same as c/a.txt; read once"),
        ("warning", "c/soft.txt", "the same as c/a.txt; read once"),
    ]
    assert report.to_json() == cli_json(cli, tree, "c")[0]


def test_a_symlink_loop_is_an_error_and_each_file_is_read_once(tree, cli):
    (tree / "c" / "d").mkdir()
    (tree / "c" / "d" / "e.txt").write_text(f"{REPEATED}\n")
    os.symlink("..", tree / "c" / "d" / "up")
    report = neardup.scan("c")
    assert report.summary["inputs"] == 3
    # e.txt repeats a.txt's first paragraph once: nothing read twice.
    assert report.summary["duplicate_paragraphs"] == 1
    [(severity, path, message)] = problems(report)
    assert (severity, path) == ("error", "c/d/up")
    assert message.startswith("symbolic link loop"), message
    assert report.to_json() == cli_json(cli, tree, "c")[0]


def test_clean_does_not_write_an_empty_copy_of_a_file_named_twice(tree):
    done = neardup.clean(["c/a.txt", "c"], "out")
    assert (tree / "out" / "a.txt").read_text() == f"{REPEATED}\n{OTHER}\n"
    assert (tree / "out" / "c" / "b.txt").read_text() == f"{THIRD}\n"
    assert not (tree / "out" / "c" / "a.txt").exists()
    assert done.removed == 0
    assert ("warning", "c/a.txt", "named more than once; read once") in problems(done.report)


def test_a_fifo_in_a_directory_is_skipped_with_a_warning(tree):
    os.mkfifo(tree / "c" / "p")
    # In a child with a time limit: a reader that opens the FIFO waits for
    # a writer forever, and that must fail this test, not hang the run.
    code = (
        "import json, neardup; r = neardup.scan('c'); "
        "print(json.dumps([r.summary['inputs'], r.diagnostics]))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("neardup.scan hung on a FIFO in the directory")
    assert out.returncode == 0, out.stderr
    inputs, diagnostics = json.loads(out.stdout)
    assert inputs == 2
    assert [(d["severity"], d["path"], d["message"]) for d in diagnostics] == [
        ("warning", "c/p", "not a regular file (a FIFO, socket or device); skipped")
    ]


def test_the_report_is_the_commands_with_bad_paths_in_it(tree, cli):
    (tree / "c" / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 64)
    os.symlink("gone.txt", tree / "c" / "dangling.txt")
    (tree / "c" / "copy.txt").write_text(f"{REPEATED}\n")
    os.symlink("b.txt", tree / "c" / "z-link.txt")
    paths = ["missing.txt", "c"]
    report = neardup.scan(paths)
    theirs, status = cli_json(cli, tree, *paths)
    assert status == 2
    assert report.to_json() == theirs
    assert [(s, p) for s, p, _ in problems(report)] == [
        ("error", "missing.txt"),
        ("warning", "c/blob.bin"),
        ("warning", "c/dangling.txt"),
        ("warning", "c/z-link.txt"),
    ]
    assert report.summary["duplicate_paragraphs"] == 1


def test_a_path_with_nothing_readable_is_still_an_error(tree):
    with pytest.raises(neardup.InputError, match="missing.txt"):
        neardup.scan("missing.txt")
    with pytest.raises(neardup.InputError, match="missing.txt"):
        neardup.Index.create(tree / "idx", neardup.Config()).add(["c", "missing.txt"])


LONE = "\ud800"


@pytest.mark.parametrize(
    "call",
    [
        lambda: neardup.scan(LONE),
        lambda: neardup.scan(Path(LONE)),
        lambda: neardup.scan(["c", f"c/{LONE}.txt"]),
        lambda: neardup.scan("c", stage_dir=LONE),
        lambda: neardup.scan("c", against=LONE),
        lambda: neardup.clean("c", output=LONE),
        lambda: neardup.clean("c", output="out", removed=LONE),
        lambda: neardup.Index(LONE),
        lambda: neardup.Index.create(LONE),
    ],
    ids=["scan", "pathlib", "in-a-list", "stage_dir", "against", "clean", "removed",
         "index", "create"],
)
def test_a_lone_surrogate_in_a_path_is_a_normal_exception(tree, call):
    # Python's strings can hold what no file name can: refused as a
    # UnicodeEncodeError (a ValueError), as os.fsencode refuses it, not a
    # panic of the extension (a BaseException that slips past `except
    # Exception`).
    with pytest.raises(UnicodeError, match="surrogates not allowed"):
        call()


def test_undecodable_file_names_keep_working(tree, cli):
    # os.listdir gives a name that is not UTF-8 with surrogate escapes.
    raw = os.fsencode(tree / "c") + b"/caf\xe9.txt"
    with open(raw, "w") as f:
        f.write(f"{REPEATED}\n")
    [escaped] = [n for n in os.listdir("c") if n.startswith("caf")]
    assert escaped == "caf\udce9.txt"
    report = neardup.scan(["c/a.txt", os.path.join("c", escaped)])
    assert report.summary["inputs"] == 2
    assert report.summary["duplicate_paragraphs"] == 1
    assert report.to_json() == cli_json(cli, tree, "c/a.txt", os.fsencode("c/" + escaped))[0]


def test_clean_refuses_an_empty_output(tree):
    with pytest.raises(neardup.ConfigError, match="output"):
        neardup.clean("c", "")
    with pytest.raises(neardup.ConfigError, match="output"):
        neardup.clean("c/a.txt", "")
    assert sorted(p.name for p in tree.iterdir()) == ["c"]
