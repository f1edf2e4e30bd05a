"""neardup.ray on a real local Ray cluster (two CPUs): the report is the
single-process scan's, byte for byte, for any number of shards and group
parts, with the verification spread over tasks or on the driver; a
worker killed mid-stage is retried and the report is still the same; a
missing or damaged stage, key, group, sets or verdict file is an error
naming it."""

import os
import subprocess
import sys

import neardup
import pytest

from conftest import make_rows, run_cli, write_jsonl

ray = pytest.importorskip("ray")
import neardup.ray  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Generated rows in several JSON Lines and text files."""
    d = tmp_path_factory.mktemp("corpus")
    rows = make_rows(1200, 21)
    for i in range(6):
        write_jsonl(d / f"part{i}.jsonl", rows[i * 150 : (i + 1) * 150])
    (d / "text").mkdir()
    for i, row in enumerate(rows[900:]):
        (d / "text" / f"{i:04}.txt").write_text(row + "\n", encoding="utf-8")
    return d


def test_the_report_is_the_single_process_one(cluster, repo, cli, corpus):
    os.chdir(repo)
    for paths in (["data/news", "data/news.jsonl"], [str(corpus)]):
        expected = neardup.scan(paths).to_json()
        assert expected == run_cli(cli, "scan", "--output-format", "json", "-q", *paths).stdout
        for shards, parts in ((1, 1), (2, None), (5, 3)):
            got = neardup.ray.scan(paths, shards=shards, parts=parts).to_json()
            assert got == expected, (paths, shards, parts)


def test_a_killed_worker_is_retried_and_the_report_is_the_same(cluster, corpus, tmp_path):
    marker = tmp_path / "killed"
    expected = neardup.scan([str(corpus)]).to_json()
    got = neardup.ray.scan(
        [str(corpus)], shards=3, stage_dir=tmp_path / "stage", _kill_first_attempt=marker
    ).to_json()
    # The first attempt of shard 0 really died (it wrote its pid, then
    # SIGKILLed itself); Ray ran it again. Likewise part 0 of the group
    # stage, the components task, shard 0 of the reread stage and part 0
    # of the verify stage.
    assert marker.exists()
    for stage in ("group", "components", "reread", "verify"):
        assert (tmp_path / f"killed.{stage}").exists(), stage
    assert sorted(p.name for p in (tmp_path / "stage").glob("verdicts-*")) == [
        "verdicts-000-of-003.ndv", "verdicts-001-of-003.ndv", "verdicts-002-of-003.ndv",
    ]
    assert got == expected


def _damage(path):
    """Flips the bits of the byte in the middle of a file."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_missing_or_damaged_stage_files_are_named(cluster, corpus, tmp_path):
    stage = tmp_path / "stage"
    neardup.ray.scan([str(corpus)], shards=2, stage_dir=stage, spread_verify=False)
    files = sorted(stage.iterdir())
    kinds = {f.name.split("-")[0] for f in files}
    assert {"input", "keys", "groups", "findings"} <= kinds, kinds
    assert not kinds & {"assign", "runs", "sets", "verdicts"}, kinds
    groups = [f for f in files if f.name.startswith("groups-")]
    victim = groups[-1]
    _damage(victim)
    with pytest.raises(neardup.NeardupError, match=victim.name):
        neardup.scan([str(corpus)], stage_dir=stage)
    victim.unlink()
    with pytest.raises(neardup.NeardupError, match=f"lacks group files {victim.name}"):
        neardup.scan([str(corpus)], stage_dir=stage)
    for g in groups[:-1]:
        g.unlink()
    victim = [f for f in files if f.name.startswith("input-")][1]
    _damage(victim)
    with pytest.raises(neardup.NeardupError, match=victim.name):
        neardup.scan([str(corpus)], stage_dir=stage)
    victim.unlink()
    with pytest.raises(neardup.NeardupError, match=f"{victim.name}.*missing"):
        neardup.scan([str(corpus)], stage_dir=stage)
    keys = [f for f in files if f.name.startswith("keys-")]
    keys[-1].unlink()
    with pytest.raises(neardup.NeardupError, match="no key file for input"):
        neardup.ray.group([str(corpus)], stage, parts=1)


def test_the_spread_verification_is_the_single_process_one(cluster, corpus, tmp_path, monkeypatch):
    """The components, reread and verify stages as tasks: the driver's
    last stage reports from their verdicts alone, the report and a
    clean's files those of one machine, for other shard and part counts
    than the test above; then a missing sets file and a damaged verdict
    file are each an error naming it."""
    monkeypatch.chdir(corpus)
    paths = ["text", "part1.jsonl", "part0.jsonl", "part4.jsonl"]  # relative, as given
    expected = neardup.scan(paths).to_json()
    assert expected != neardup.scan(paths[:1]).to_json()
    for shards, parts in ((2, 3), (4, 1)):
        stage = tmp_path / f"stage{shards}"
        got = neardup.ray.scan(paths, shards=shards, parts=parts, stage_dir=stage)
        assert got.to_json() == expected, (shards, parts)
        names = sorted(p.name for p in stage.iterdir())
        assert [n for n in names if n.startswith("verdicts-")] == [
            f"verdicts-{p:03}-of-{parts:03}.ndv" for p in range(parts)
        ]
        assert len([n for n in names if n.startswith("sets-")]) == shards
        # Only the verdicts: the last stage alone reports from them.
        assert neardup.scan(paths, stage_dir=stage).to_json() == expected

    one = neardup.clean(paths, tmp_path / "one")
    stage = tmp_path / "stage-clean"
    done = neardup.ray.clean(paths, tmp_path / "spread", shards=3, parts=2, stage_dir=stage)
    assert list(stage.glob("verdicts-*"))
    assert _tree(tmp_path / "spread") == _tree(tmp_path / "one") != {}
    assert (done.removed, done.written) == (one.removed, one.written) and done.removed > 0
    assert done.report.to_json() == one.report.to_json()
    # Without a last stage: each shard task reads its part of the verdicts.
    stage = tmp_path / "stage-no-report"
    log, whole_log = tmp_path / "removed.jsonl", tmp_path / "whole.jsonl"
    neardup.clean(paths, tmp_path / "one-logged", removed=whole_log)
    done = neardup.ray.clean(
        paths, tmp_path / "no-report", shards=3, parts=2, stage_dir=stage, report=False, removed=log
    )
    assert done.report is None and not list(stage.glob("findings-*"))
    assert _tree(tmp_path / "no-report") == _tree(tmp_path / "one")
    assert log.read_bytes() == whole_log.read_bytes() != b""

    stage = tmp_path / "stage2"
    sets = sorted(stage.glob("sets-*.nds"))
    gone = sets[-1].read_bytes()
    sets[-1].unlink()
    with pytest.raises(neardup.NeardupError, match=f"{sets[-1].name} is missing"):
        neardup.scan(paths, stage_dir=stage)
    sets[-1].write_bytes(gone)
    assert neardup.scan(paths, stage_dir=stage).to_json() == expected
    verdicts = sorted(stage.glob("verdicts-*.ndv"))
    _damage(verdicts[1])
    with pytest.raises(neardup.NeardupError, match=verdicts[1].name):
        neardup.scan(paths, stage_dir=stage)
    with pytest.raises(neardup.NeardupError, match=verdicts[1].name):
        neardup.clean(paths, tmp_path / "damaged", stage_dir=stage)
    # A verify task run again replaces the damaged file.
    neardup.ray.verify(paths, stage, parts=3)
    assert neardup.scan(paths, stage_dir=stage).to_json() == expected


def test_components_found_in_rounds_of_tasks_give_the_same_report(cluster, corpus, tmp_path):
    """``component_tasks=N``: the components stage in rounds of N tasks
    (large-star and small-star until the links settle, then a finish), a
    worker of round 1 and of the finish killed and retried; the report and
    a clean without a last stage are one machine's, and the rounds' links
    files are gone once they are read."""
    paths = [str(corpus)]
    expected = neardup.scan(paths).to_json()
    marker = tmp_path / "killed"
    for tasks in (1, 3):
        stage = tmp_path / f"stage{tasks}"
        kill = marker if tasks == 3 else None
        got = neardup.ray.scan(
            paths, shards=2, parts=2, stage_dir=stage, component_tasks=tasks,
            _kill_first_attempt=kill,
        )
        assert got.to_json() == expected, tasks
        names = sorted(p.name for p in stage.iterdir())
        assert [n for n in names if n.startswith("dealt-")] == [
            f"dealt-{t:04}-of-{tasks:04}.ndf" for t in range(tasks)
        ]
        assert not [n for n in names if n.startswith(("links-", "assign-", "runs-"))], names
    assert (tmp_path / "killed.components").exists()
    assert (tmp_path / "killed.components.finish").exists()
    # Chosen without being asked, when one task would hold more than
    # ``component_memory``: rounds of the cluster's two CPUs.
    stage = tmp_path / "stage-auto"
    got = neardup.ray.scan(paths, shards=2, stage_dir=stage, component_memory=1)
    assert got.to_json() == expected
    assert sorted(p.name for p in stage.glob("dealt-*")) == [
        "dealt-0000-of-0002.ndf", "dealt-0001-of-0002.ndf",
    ]
    assert neardup.ray.group(paths, stage, parts=2)["members"] > 0
    stage = tmp_path / "stage-clean"
    done = neardup.ray.components(paths, tmp_path / "stage3", parts=2, tasks=2)
    assert done["rounds"] >= 1 and done["tasks"] == 2 and done["candidates"] > 0
    assert neardup.scan(paths, stage_dir=tmp_path / "stage3").to_json() == expected
    one = neardup.clean(paths, tmp_path / "one")
    done = neardup.ray.clean(
        paths, tmp_path / "rounds", shards=3, parts=2, stage_dir=stage, component_tasks=2,
        report=False,
    )
    assert done.report is None and _tree(tmp_path / "rounds") == _tree(tmp_path / "one") != {}
    with pytest.raises(neardup.NeardupError, match="tasks=0: the components in rounds take 1 to 4096"):
        neardup.ray.components(paths, stage, parts=2, tasks=0)


def test_the_command_line_stages_match_too(repo, cli, corpus, tmp_path):
    """Without Ray: `neardup stage fingerprint` per shard (a Slurm array's
    jobs), then `neardup scan --stage-dir`."""
    stage = tmp_path / "stage"
    for k in range(3):
        out = subprocess.run(
            [cli, "stage", "fingerprint", str(corpus), "--shard", str(k), "--of", "3",
             "--dir", str(stage), "-q"],
            capture_output=True, text=True,
        )
        assert out.returncode == 0, out.stderr
    got = run_cli(cli, "scan", "--output-format", "json", "-q", str(corpus), "--stage-dir", str(stage))
    assert got.stdout == neardup.scan([str(corpus)]).to_json()
    # Then `neardup stage group` per part (another array's jobs).
    for p in range(2):
        out = subprocess.run(
            [cli, "stage", "group", str(corpus), "--part", str(p), "--of", "2",
             "--dir", str(stage), "-q"],
            capture_output=True, text=True,
        )
        assert out.returncode == 0, out.stderr
    got = run_cli(cli, "scan", "--output-format", "json", "-v", str(corpus), "--stage-dir", str(stage))
    assert "candidate groups from the group stage" in got.stderr
    assert got.stdout == neardup.scan([str(corpus)]).to_json()


def test_the_module_runs_from_a_shell(repo, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "neardup.ray", "scan", "data/news", "--shards", "2",
         "--component-tasks", "2", "-o", str(tmp_path / "r.json")],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1, out.stderr
    assert (tmp_path / "r.json").read_text() == neardup.scan("data/news").to_json()
    # With containment: a quote inside a longer paragraph, and exit 1.
    quote = " ".join(f"w{i}" for i in range(30))
    (tmp_path / "a.txt").write_text(f"an opening of some ten words or so here then {quote} and a close\n")
    (tmp_path / "b.txt").write_text(f"{quote}\n")
    paths = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    out = subprocess.run(
        [sys.executable, "-m", "neardup.ray", "scan", *paths, "--containment", "-o", str(tmp_path / "c.json")],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1, out.stderr
    expected = neardup.scan(paths, containment=0.8)
    assert len(expected.contained) == 1
    assert (tmp_path / "c.json").read_text() == expected.to_json()


def test_the_module_writes_into_a_pipe_instead_of_replacing_it(repo, tmp_path):
    """-o naming a named pipe (or /dev/null) writes into it: a temporary
    file renamed over it would replace the pipe or the device."""
    import stat
    import threading

    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    got = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_text()), daemon=True)
    reader.start()
    out = subprocess.run(
        [sys.executable, "-m", "neardup.ray", "scan", "data/news", "--shards", "2", "-o", str(pipe)],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1, out.stderr
    # Checked before waiting for the reader, which would wait forever on a
    # pipe nobody wrote into.
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    reader.join(timeout=60)
    assert got == [neardup.scan("data/news").to_json()]


def test_a_clean_spread_over_the_cluster_is_the_single_machine_clean(cluster, cli, corpus, tmp_path):
    """The fingerprint stage on Ray, then the command line's clean as the
    last stage: the files of a clean on one machine."""
    stage = tmp_path / "stage"
    done = neardup.ray.fingerprint([str(corpus)], stage, shards=3)
    assert done["inputs"] == len([p for p in corpus.rglob("*") if p.is_file()])
    for out, extra in (("one", []), ("spread", ["--stage-dir", str(stage)])):
        r = subprocess.run(
            [cli, "clean", str(corpus), "-o", str(tmp_path / out), "-q", *extra],
            capture_output=True, text=True,
        )
        assert r.returncode == 0, r.stderr
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    spread = sorted(p.relative_to(tmp_path / "spread") for p in (tmp_path / "spread").rglob("*") if p.is_file())
    assert one == spread and one
    for rel in one:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "spread" / rel).read_bytes()


def test_containment_on_the_cluster_is_the_single_process_one(cluster, tmp_path):
    quote = " ".join(f"w{i}" for i in range(30))
    (tmp_path / "a.txt").write_text(f"an opening of some ten words or so here then {quote} and a close\n")
    (tmp_path / "b.txt").write_text(f"another file\n{quote}\n")
    paths = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    expected = neardup.scan(paths, containment=0.8)
    assert len(expected.contained) == 1
    got = neardup.ray.scan(paths, shards=2, containment=0.8)
    assert got.to_json() == expected.to_json()


def test_a_scan_against_an_index_on_the_cluster_is_the_single_process_one(cluster, tmp_path):
    """The fingerprint stage on Ray, the last stage against an index with
    containment fingerprints: the report names the old batch, as
    ``neardup.scan(against=)`` does, byte for byte."""
    words = [f"w{i}" for i in range(400)]
    (tmp_path / "mon.txt").write_text(" ".join(words[:90]) + "\n" + " ".join(words[100:130]) + "\n")
    (tmp_path / "tue.txt").write_text(
        " ".join(words[10:40]) + "\n" + " ".join(words[100:129]) + " changed\n"
    )
    idx = neardup.Index.create(tmp_path / "i.ndx", containment_words=25)
    idx.add(tmp_path / "mon.txt", name="monday")
    paths = [str(tmp_path / "tue.txt")]
    expected = neardup.scan(paths, against=tmp_path / "i.ndx", containment=0.8)
    assert [d.of.batch for d in expected.duplicates] == ["monday"]
    assert [c.long.batch for c in expected.contained] == ["monday"]
    got = neardup.ray.scan(paths, shards=2, against=tmp_path / "i.ndx", containment=0.8)
    assert got.to_json() == expected.to_json()


def _tree(root):
    """Every file under root (hidden ones too: a temporary file left behind
    would show), relative, with its bytes."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_clean_written_by_shard_tasks_is_the_single_machine_clean(cluster, cli, corpus, tmp_path, monkeypatch):
    """neardup.ray.clean: fingerprint tasks, the last stage on the driver,
    then one task per shard writing its files. Paths relative to the
    driver's directory (the workers' differ), a worker of the writing
    stage killed and retried: the files and the removal log are those of
    `neardup clean` and of neardup.clean, byte for byte."""
    monkeypatch.chdir(tmp_path)
    os.symlink(corpus, "corpus")
    r = subprocess.run(
        [cli, "clean", "corpus", "-o", "cli-out", "-q", "--drop-empty", "--removed", "cli.log"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    expected = _tree(tmp_path / "cli-out")
    assert expected
    log = (tmp_path / "cli.log").read_bytes()
    assert b'"dropped-document"' in log and b'"removed-paragraph"' in log

    here = neardup.clean("corpus", "py-out", drop_empty=True, removed="py.log")
    assert _tree(tmp_path / "py-out") == expected
    assert (tmp_path / "py.log").read_bytes() == log
    assert here.report.summary["duplicate_paragraphs"] == here.removed > 0
    assert here.errors == []

    for shards in (1, 3):
        out, removed = f"ray-out{shards}", f"ray{shards}.log"
        marker = tmp_path / f"killed{shards}"
        done = neardup.ray.clean(
            "corpus", out, shards=shards, drop_empty=True, removed=removed,
            _kill_first_clean=marker,
        )
        assert marker.exists(), "the first attempt of the writing stage's shard 0 died"
        assert _tree(tmp_path / out) == expected, shards
        assert (tmp_path / removed).read_bytes() == log, shards
        assert (done.removed, done.written) == (here.removed, here.written)
        assert done.report.to_json() == here.report.to_json()


def test_a_spread_clean_removes_contained_paragraphs_as_one_machine_does(cluster, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quote = " ".join(f"w{i}" for i in range(30))
    os.mkdir("in")
    (tmp_path / "in" / "a.txt").write_text(f"an opening of some ten words or so here then {quote} and a close\n")
    (tmp_path / "in" / "b.txt").write_text(f"another file\n{quote}\n")
    r = subprocess.run(
        [cli, "clean", "in", "-o", "cli-out", "-q", "--remove", "contained"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "cli-out" / "b.txt").read_text() == "another file\n"
    done = neardup.ray.clean("in", "ray-out", shards=2, remove_contained=True)
    assert _tree(tmp_path / "ray-out") == _tree(tmp_path / "cli-out")
    assert done.removed == 1
    # From a shell, as the README shows it.
    out = subprocess.run(
        [sys.executable, "-m", "neardup.ray", "clean", "in", "-o", "mod-out", "--shards", "2",
         "--remove", "contained", "--removed", "mod.log"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "removed 1 paragraphs" in out.stderr
    assert _tree(tmp_path / "mod-out") == _tree(tmp_path / "cli-out")
    assert b'"kind":"contained"' in (tmp_path / "mod.log").read_bytes()


def test_clean_never_writes_over_or_into_its_inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("in")
    (tmp_path / "in" / "a.txt").write_text("one line of text that is long enough\n" * 2)
    with pytest.raises(neardup.ConfigError, match="inside the input directory"):
        neardup.clean("in", "in/cleaned")
    with pytest.raises(neardup.ConfigError, match="is an input"):
        neardup.clean("in/a.txt", "in/a.txt")
    assert (tmp_path / "in" / "a.txt").read_text() == "one line of text that is long enough\n" * 2
    assert sorted(os.listdir("in")) == ["a.txt"]
