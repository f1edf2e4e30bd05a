"""neardup.Index over the persistent index, interchangeable with the
command line's `neardup index`."""

import json

import neardup
import pytest

from conftest import make_rows, run_cli, write_jsonl


def test_index_round_trip_names_the_old_paragraph(tmp_path, cli):
    rows = make_rows(300, 4)
    (tmp_path / "mon").mkdir()
    (tmp_path / "tue").mkdir()
    write_jsonl(tmp_path / "mon" / "a.jsonl", rows[:150])
    write_jsonl(tmp_path / "tue" / "b.jsonl", rows[150:])
    idx = neardup.Index.create(tmp_path / "i.ndx", neardup.Config())
    added = idx.add(tmp_path / "mon", name="monday")
    assert added["batch"] == "monday" and added["stored"] > 0
    report = idx.query(tmp_path / "tue")
    old = [d for d in report.duplicates if d.of.batch == "monday"]
    assert old, "no repeat of monday found"
    assert all(d.of.path.endswith("mon/a.jsonl") for d in old)
    # The same verdicts as the command line against the same index.
    theirs = run_cli(
        cli, "scan", "--output-format", "json", "-q", str(tmp_path / "tue"),
        "--against", str(tmp_path / "i.ndx"),
    ).stdout
    assert report.to_json() == theirs
    # And as one scan of both days, for tuesday's paragraphs.
    whole = neardup.scan([tmp_path / "mon", tmp_path / "tue"])
    tue = lambda r: sorted(
        (d.at.line, d.at.paragraph, d.of.line, d.of.paragraph, d.similarity)
        for d in r.duplicates
        if "tue" in d.at.path
    )
    assert tue(report) == tue(whole)
    info = idx.info()
    assert [b["name"] for b in info["batches"]] == ["monday"]
    idx.add(tmp_path / "tue", name="tuesday")
    assert neardup.Index(tmp_path / "i.ndx").info()["paragraphs"] > info["paragraphs"]
    idx.verify()
    before, after, _ = idx.compact()
    assert (before, after) == (2, 1)
    idx.rollback()
    assert idx.info()["segments"] == 2
    # Each segment file, as `neardup index info --output-format json` lists it.
    files = idx.info()["segment_files"]
    assert len(files) == 2 and all(f["version"] == 6 for f in files)
    assert sum(f["bytes"] for f in files) == idx.info()["bytes"]
    # A column against the index, through dedup.
    result = idx.dedup(rows[150:])
    assert any(b == "monday" for b in result.pairs["kept_batch"])


def test_an_add_reports_what_a_query_before_it_finds_and_stores_what_the_cli_does(
    tmp_path, cli
):
    # An add reads its batch once (its report is JSON, which carries no
    # snippets, so its second pass verifies from what the first kept);
    # its verdicts are still a query's, and its index the command line's.
    rows = make_rows(300, 5)
    write_jsonl(tmp_path / "mon.jsonl", rows[:150])
    write_jsonl(tmp_path / "tue.jsonl", rows[150:])
    idx = neardup.Index.create(tmp_path / "i.ndx")
    idx.add(tmp_path / "mon.jsonl", name="monday")
    query = idx.query(tmp_path / "tue.jsonl")
    added = idx.add(tmp_path / "tue.jsonl", name="tuesday")
    assert added["against_index"] > 0 and added["duplicates"] > added["against_index"]
    assert added["report"].to_json() == query.to_json()
    theirs = tmp_path / "cli.ndx"
    for command, day, name in [("create", "mon", "monday"), ("add", "tue", "tuesday")]:
        run_cli(cli, "index", command, "-q", "--name", name, str(theirs), str(tmp_path / f"{day}.jsonl"))
    cli_info, info = neardup.Index(theirs).info(), idx.info()
    assert cli_info["paragraphs"] == info["paragraphs"] == added["total_paragraphs"]
    assert [f["rows"] for f in cli_info["segment_files"]] == [
        f["rows"] for f in info["segment_files"]
    ]
    # The same paragraphs stored: the command line's index answers a third
    # day as this one does, old paragraphs and all.
    write_jsonl(tmp_path / "wed.jsonl", rows[100:200])
    ours_wed = json.loads(idx.query(tmp_path / "wed.jsonl").to_json())
    theirs_wed = json.loads(neardup.Index(theirs).query(tmp_path / "wed.jsonl").to_json())
    assert ours_wed["clusters"] == theirs_wed["clusters"]
    assert ours_wed["clusters"], "the third day repeats the first two"


def test_index_errors_name_the_setting_and_the_file(tmp_path):
    (tmp_path / "a.txt").write_text("one paragraph of several words here\n")
    idx = neardup.Index.create(tmp_path / "i.ndx")
    idx.add(tmp_path / "a.txt")
    with pytest.raises(neardup.IndexFileError, match="shingle_size=5"):
        neardup.scan(tmp_path / "a.txt", config=neardup.Config(shingle_size=3), against=tmp_path / "i.ndx")
    with pytest.raises(neardup.IndexFileError, match="added before"):
        idx.add(tmp_path / "a.txt")
    with pytest.raises(neardup.NeardupError):
        neardup.Index(tmp_path / "a.txt")


def test_index_with_containment_finds_quotes_of_indexed_paragraphs(tmp_path, cli):
    """An index made with containment fingerprints gives query(containment=)
    the quotes one scan of both days finds, naming the old batch; one made
    without them is refused until compact adds them."""
    words = [f"w{i}" for i in range(400)]
    long_old = " ".join(words[:90])
    quote_old = " ".join(words[200:230])
    (tmp_path / "mon.txt").write_text(long_old + "\n" + quote_old + "\n")
    today = [
        " ".join(words[10:40]),  # inside monday's long paragraph
        " ".join(words[300:320] + words[200:230] + words[340:380]),  # holds monday's quote
    ]
    (tmp_path / "tue.txt").write_text("\n".join(today) + "\n")
    idx = neardup.Index.create(tmp_path / "c.ndx", containment_words=25)
    assert idx.info()["settings"]["containment_words"] == "25"
    idx.add(tmp_path / "mon.txt", name="monday")
    found = idx.query(tmp_path / "tue.txt", containment=0.8).contained
    pairs = sorted(
        ((c.short.path, c.short.line, c.short.batch), (c.long.path, c.long.line, c.long.batch))
        for c in found
    )
    mon, tue = str(tmp_path / "mon.txt"), str(tmp_path / "tue.txt")
    assert pairs == [
        ((mon, 2, "monday"), (tue, 2, None)),
        ((tue, 1, None), (mon, 1, "monday")),
    ]
    whole = neardup.scan([tmp_path / "mon.txt", tmp_path / "tue.txt"], containment=0.8).contained
    key = lambda c: (c.short.path, c.short.line, c.long.path, c.long.line, c.short_words, c.long_words)
    assert sorted(map(key, found)) == sorted(map(key, whole))

    plain = neardup.Index.create(tmp_path / "p.ndx")
    plain.add(tmp_path / "mon.txt", name="monday")
    with pytest.raises(neardup.IndexFileError, match="no containment fingerprints"):
        plain.query(tmp_path / "tue.txt", containment=0.8)
    plain.compact(containment_words=25)
    again = plain.query(tmp_path / "tue.txt", containment=0.8).contained
    assert sorted(map(key, again)) == sorted(map(key, found))


def test_a_quote_of_an_indexed_version_is_found_in_it(tmp_path):
    """A republished version (a near-duplicate with words changed) is kept
    by every index as a variant, so a quote cut from it across the changes
    is found inside it against the index, as one scan finds it, also after
    compact adds containment fingerprints to an index made without them."""
    words = [f"w{i}" for i in range(200)]
    version = list(words[:120])
    version[50], version[75] = "changed", "altered"
    (tmp_path / "mon.txt").write_text(" ".join(words[:120]) + "\n" + " ".join(version) + "\n")
    (tmp_path / "tue.txt").write_text(" ".join(version[45:85]) + "\n")
    mon, tue = str(tmp_path / "mon.txt"), str(tmp_path / "tue.txt")
    key = lambda c: (c.short.path, c.short.line, c.long.path, c.long.line, c.short_words, c.long_words)
    whole = neardup.scan([mon, tue], containment=0.8).contained
    assert [(c.short.path, c.short.line, c.long.path, c.long.line) for c in whole] == [
        (tue, 1, mon, 2)
    ]
    for words_now in (25, None):
        idx = neardup.Index.create(tmp_path / f"i{words_now}.ndx", containment_words=words_now)
        idx.add(mon, name="monday")
        info = idx.info()
        assert (info["paragraphs"], info["variants"]) == (1, 1)
        assert [(b["paragraphs"], b["variants"]) for b in info["batches"]] == [(1, 1)]
        if words_now is None:
            idx.compact(containment_words=25)
        found = idx.query(tue, containment=0.8).contained
        assert [c.long.batch for c in found] == ["monday"]
        assert list(map(key, found)) == list(map(key, whole))


def test_drop_removes_a_batch_and_rollback_brings_it_back(tmp_path, cli):
    rows = make_rows(300, 4)
    for day, part in (("mon", rows[:100]), ("tue", rows[100:200]), ("wed", rows[200:])):
        (tmp_path / day).mkdir()
        write_jsonl(tmp_path / day / f"{day}.jsonl", part)
    idx = neardup.Index.create(tmp_path / "i.ndx", neardup.Config())
    for day, created in (("mon", 1_796_256_000), ("tue", 1_796_342_400), ("wed", 1_796_428_800)):
        idx.add(tmp_path / day, name=day, created=created)
    repeats = lambda batch: [d for d in idx.query(tmp_path / "mon").duplicates if d.of.batch == batch]
    assert repeats("mon"), "monday's own paragraphs are not found"
    # Nothing was added before 2026-12-03: nothing to drop, no generation.
    generation = idx.info()["generation"]
    assert idx.drop(before="2026-12-03")["batches"] == []
    assert idx.info()["generation"] == generation
    import datetime

    done = idx.drop(before=datetime.datetime(2026, 12, 3, 12, 0))
    assert done["batches"] == ["mon"] and done["left"] == 2 and done["paragraphs"] > 0
    assert [b["name"] for b in idx.info()["batches"]] == ["tue", "wed"]
    assert not repeats("mon")
    idx.verify()
    # The command line sees the same index.
    info = json.loads(run_cli(cli, "index", "info", "--output-format", "json", str(tmp_path / "i.ndx")).stdout)
    assert [b["name"] for b in info["batches"]] == ["tue", "wed"]
    idx.rollback()
    assert [b["name"] for b in idx.info()["batches"]] == ["mon", "tue", "wed"]
    assert repeats("mon")
    with pytest.raises(neardup.IndexFileError, match='no batch is named "fri"'):
        idx.drop("fri")
    with pytest.raises(neardup.ConfigError, match="not a UTC date"):
        idx.drop(before="2026-13-01")
    assert idx.drop(["tue", "wed"])["left"] == 1


def test_drop_by_count_and_by_age(tmp_path):
    import datetime
    import time

    idx = neardup.Index.create(tmp_path / "i.ndx", neardup.Config())
    day = 86_400
    now = int(time.time())
    # Added 40, 20, 10 and 1 days ago.
    for name, seed, age in (("a", 1, 40), ("b", 2, 20), ("c", 3, 10), ("d", 4, 1)):
        (tmp_path / name).mkdir()
        write_jsonl(tmp_path / name / f"{name}.jsonl", make_rows(40, seed))
        idx.add(tmp_path / name, name=name, created=now - age * day)
    names = lambda: [b["name"] for b in idx.info()["batches"]]
    generation = idx.info()["generation"]
    # Nothing selected: nothing committed.
    assert idx.drop(keep=4)["batches"] == []
    assert idx.drop(older_than="60d")["batches"] == []
    assert idx.info()["generation"] == generation
    with pytest.raises(neardup.ConfigError, match="keep=0 would drop every batch"):
        idx.drop(keep=0)
    with pytest.raises(neardup.ConfigError, match="not an age"):
        idx.drop(older_than="30 days")
    with pytest.raises(neardup.ConfigError, match="not both"):
        idx.drop(older_than="30d", before="2026-01-01")
    with pytest.raises(neardup.ConfigError, match="in the future"):
        idx.drop(older_than=datetime.timedelta(days=-1))
    assert idx.drop(older_than="30d")["batches"] == ["a"]
    assert idx.drop(older_than=datetime.timedelta(days=15))["batches"] == ["b"]
    assert names() == ["c", "d"]
    done = idx.drop(keep=1)
    assert done["batches"] == ["c"] and done["left"] == 1
    assert names() == ["d"]
    idx.verify()
    # A float (as time.time() gives) and a date are times too; NaN is not.
    assert idx.drop(before=time.time() - 2 * day)["batches"] == []
    assert idx.drop(before=datetime.date(2000, 1, 1))["batches"] == []
    for bad in (dict(before=float("nan")), dict(older_than=float("inf"))):
        with pytest.raises(neardup.ConfigError, match="is no"):
            idx.drop(**bad)
    assert idx.drop(before=time.time() + 1.5)["batches"] == ["d"]


def test_a_clean_never_writes_into_the_index_it_reads(tmp_path):
    idx = neardup.Index.create(tmp_path / "i.ndx", neardup.Config())
    write_jsonl(tmp_path / "a.jsonl", make_rows(20, 1))
    idx.add([tmp_path / "a.jsonl"], name="a")
    before = sorted(p.name for p in (tmp_path / "i.ndx").iterdir())
    for output, removed in ((tmp_path / "i.ndx", None), (tmp_path / "out", tmp_path / "i.ndx" / "log")):
        with pytest.raises(neardup.ConfigError, match="the index .*which this run reads"):
            neardup.clean([tmp_path / "a.jsonl"], output, against=tmp_path / "i.ndx", removed=removed)
    assert sorted(p.name for p in (tmp_path / "i.ndx").iterdir()) == before
    idx.verify()


def test_dropping_the_oldest_batch_keeps_the_other_segments(tmp_path):
    # Days that repeat only themselves: no variant of Monday's paragraphs
    # elsewhere, so Tuesday's and Wednesday's segments stay as they are.
    idx = neardup.Index.create(tmp_path / "i.ndx", neardup.Config())
    for day, seed in (("mon", 4), ("tue", 5), ("wed", 6)):
        (tmp_path / day).mkdir()
        write_jsonl(tmp_path / day / f"{day}.jsonl", make_rows(100, seed))
        idx.add(tmp_path / day, name=day)
    files = lambda: sorted(p.name for p in (tmp_path / "i.ndx").glob("seg-*"))
    written = files()
    wed = idx.query(tmp_path / "wed").duplicates
    done = idx.drop(["mon"])
    assert done["segments"] == (3, 2) and done["kept"] == 2
    idx.verify()
    # Monday's file stays for `rollback`; no file was written.
    assert files() == written
    # Wednesday's paragraphs are found in Wednesday's segment as before.
    assert wed and all(d.of.batch == "wed" for d in wed)
    assert idx.query(tmp_path / "wed").duplicates == wed


def _candidate(s: float, bands: int, rows: int) -> float:
    return 1 - (1 - s**rows) ** bands


def test_an_index_takes_the_fewest_bands_and_queries_take_its_settings(tmp_path, cli):
    rows = make_rows(200, 4)
    write_jsonl(tmp_path / "mon.jsonl", rows[:100])
    write_jsonl(tmp_path / "tue.jsonl", rows[100:])
    # At 0.8 an index takes 18 bands of 5 rows, where a scan takes 25.
    assert (neardup.Config().bands, neardup.Config().rows) == (25, 5)
    idx = neardup.Index.create(tmp_path / "i8.ndx")
    assert (idx.config.bands, idx.config.rows) == (18, 5)
    assert idx.info()["settings"]["bands"] == "18"
    # At 0.7, the fewest bands of the scan's rows that keep the guarantee.
    idx = neardup.Index.create(tmp_path / "i7.ndx", neardup.Config(0.7, shingle_size=3))
    scan_banding = neardup.Config(0.7)
    b, r = idx.config.bands, idx.config.rows
    assert r == scan_banding.rows and b < scan_banding.bands
    assert _candidate(0.7, b, r) >= 0.999 > _candidate(0.7, b - 1, r)
    # A banding given is kept.
    given = neardup.Index.create(tmp_path / "i25.ndx", neardup.Config(bands=25, rows=5))
    assert (given.config.bands, given.config.rows) == (25, 5)
    # Queries with no settings take the index's, as the command line does.
    idx.add(tmp_path / "mon.jsonl", name="monday")
    report = neardup.scan(tmp_path / "tue.jsonl", against=tmp_path / "i7.ndx")
    assert report.settings["bands"] == b and report.settings["shingle_size"] == 3
    assert any(d.of.batch == "monday" for d in report.duplicates)
    theirs = run_cli(
        cli, "scan", "--output-format", "json", "-q", str(tmp_path / "tue.jsonl"),
        "--against", str(tmp_path / "i7.ndx"),
    ).stdout
    assert report.to_json() == theirs
    flags = neardup.dedup(rows[100:], against=tmp_path / "i7.ndx")
    assert any(k == "monday" for k in flags.pairs["kept_batch"])
    # A threshold given that differs from the index's is refused, naming it.
    with pytest.raises(neardup.NeardupError, match="threshold=7/10"):
        neardup.scan(tmp_path / "tue.jsonl", against=tmp_path / "i7.ndx", threshold=0.8)
    same = neardup.scan(tmp_path / "tue.jsonl", against=tmp_path / "i7.ndx", threshold=0.7)
    assert same.to_json() == report.to_json()
    # compact(bands=, rows=) gives the 25-band index an index's banding,
    # from its tokens: here (both bandings keep the same paragraphs) it
    # then answers as one made with it.
    given.add(tmp_path / "mon.jsonl", name="monday")
    fresh = neardup.Index.create(tmp_path / "fresh.ndx")
    fresh.add(tmp_path / "mon.jsonl", name="monday")
    before = given.info()["bytes"]
    given.compact(bands=18, rows=5)
    assert (given.config.bands, given.config.rows) == (18, 5)
    assert neardup.Index(tmp_path / "i25.ndx").config == fresh.config
    assert given.info()["bytes"] < before
    assert given.query(tmp_path / "tue.jsonl").to_json() == fresh.query(tmp_path / "tue.jsonl").to_json()
    with pytest.raises(neardup.ConfigError, match="together"):
        given.compact(bands=20)
