"""A scan or a clean spread over a Ray cluster: the fingerprint stage as
Ray tasks, one per shard, the group stage as Ray tasks, one per part of
the band keys, the verification as Ray tasks (components, reread by
shard, verify by part), then the last stage on the driver (and, for a
clean, the writing as tasks again).

Fingerprinting is most of a scan's time. Each task fingerprints one shard
of the inputs (a contiguous part, cut by bytes) and writes one stage file
per input, and the shard's band keys in a key file, into ``stage_dir``, a
directory every node can reach (a shared file system); Ray retries a task
whose worker died, and a retried task just writes its files again (each
is written under a temporary name and renamed). Each group task reads its
part of every key file and writes the candidate groups in it.

Then the verification, spread too (``spread_verify=True``, the default):
one task joins the candidate groups into components and deals them to
``parts`` parts (``components``; with ``component_tasks=N``, rounds of
N tasks, none of which holds every candidate); one task per shard reads
that shard's candidates again (``reread``); one task per part verifies
its components exactly and writes its verdicts (``verify``). The driver's last stage
only merges the verdicts, holding the duplicates and the kept paragraphs
they repeat, not every paragraph of the corpus (see the README's
"Scale-out" for what each stage holds). With containment, or against an
index, the verification is not spread: the driver scans with the first
pass taken from the stage files and the groups from the group files
(against an index, from the key files), verifying itself and reading
again only the documents that hold candidates; it holds no band keys,
but each paragraph's place, content hash and plan, the candidate groups
and the verification. Either way the report is byte for byte the one
``neardup.scan`` (and ``neardup scan``) gives on one machine, for any
number of shards, parts and workers.

>>> import ray, neardup.ray                                    # doctest: +SKIP
>>> ray.init()                                                 # doctest: +SKIP
>>> report = neardup.ray.scan(["/shared/corpus"], stage_dir="/shared/stage")  # doctest: +SKIP

``clean`` adds a last step: one task per shard writes that shard's
cleaned files, with the findings the last stage left in ``stage_dir``;
the files are those ``neardup.clean`` writes on one machine.

From a shell: ``python -m neardup.ray scan PATH... --stage-dir DIR
[--shards N] [--parts P] [--threshold T] [--containment[=T]]
[--no-spread-verify] [-o report.json]``, and
``python -m neardup.ray clean PATH... -o OUT [--removed LOG]
[--remove contained] [--drop-empty] [--no-spread-verify]``; each stage
alone: ``python -m neardup.ray fingerprint|group|components|reread|verify
PATH... --stage-dir DIR``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from typing import Any, Iterable

from . import Cleaned, Config, ConfigError, Report, _config, _neardup, _paths

PathLike = str | os.PathLike


def _die_first(kill_marker: str | None, task: int) -> None:
    """A test hook: the first attempt of task 0 of a stage kills its own
    worker process (as an out-of-memory killer or a lost node would), so
    that the retry can be tested with a real dead worker."""
    if kill_marker is not None and task == 0 and not os.path.exists(kill_marker):
        with open(kill_marker, "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)


def _task_options(
    input_format: str | None,
    text_field: str,
    id_field: str,
    threads: int,
    containment: float | str | None,
    containment_words: int,
    containment_cap: int,
) -> dict[str, Any]:
    """What every stage task passes on to the binding, besides its paths,
    settings and number."""
    return dict(
        input_format=input_format,
        text_field=text_field,
        id_field=id_field,
        threads=threads,
        containment=str(containment) if containment is not None else None,
        containment_words=containment_words,
        containment_cap=containment_cap,
    )


def _run_stage(
    task_fn: Any,
    paths: PathLike | Iterable[PathLike],
    stage_dir: PathLike,
    cfg: Config,
    n: int | None,
    threads_per_task: int,
    max_retries: int,
    options: dict[str, Any],
    kill: PathLike | None,
) -> tuple[int, list[Any]]:
    """Runs ``task_fn`` for tasks 0 to n-1 of a stage as Ray tasks (n
    defaults to the cluster's CPUs), with absolute paths, since a worker's
    working directory may differ; returns n and the results in order. (The
    last stage names the inputs as the driver gives them, whatever a task
    was given.)"""
    import ray

    if n is None:
        n = max(1, int(ray.available_resources().get("CPU", 1)))
    task = ray.remote(num_cpus=threads_per_task, max_retries=max_retries)(task_fn)
    marker = os.fspath(kill) if kill is not None else None
    given, where = _absolute(paths, stage_dir)
    done = ray.get([task.remote(given, cfg, k, n, where, options, marker) for k in range(n)])
    return n, done


def _absolute(paths: PathLike | Iterable[PathLike], stage_dir: PathLike) -> tuple[list[str], str]:
    """The paths and the stage directory made absolute, for a worker whose
    working directory may not be the driver's."""
    return [os.path.abspath(p) for p in _paths(paths)], os.path.abspath(stage_dir)


def _fingerprint(
    paths: list[str],
    config: Config,
    shard: int,
    shards: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
) -> tuple[int, int, int, int]:
    _die_first(kill_marker, shard)
    return _neardup.stage_fingerprint(paths, config, shard, shards, stage_dir, **options)


def fingerprint(
    paths: PathLike | Iterable[PathLike],
    stage_dir: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    shards: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    _kill_first_attempt: PathLike | None = None,
) -> dict[str, int]:
    """The fingerprint stage alone, one Ray task per shard, into
    ``stage_dir`` (reachable from every node). Its last stage is
    ``neardup.scan(paths, stage_dir=...)``, or from a shell ``neardup scan
    --stage-dir`` or ``neardup clean --stage-dir`` (a clean spread over the
    cluster). Returns the inputs, how many got a print, the bytes written
    and the shards."""
    options = _task_options(
        input_format, text_field, id_field, threads_per_task,
        containment, containment_words, containment_cap,
    )
    shards, done = _run_stage(
        _fingerprint, paths, stage_dir, _config(config, threshold), shards,
        threads_per_task, max_retries, options, _kill_first_attempt,
    )
    return {
        "inputs": max((end for _, end, _, _ in done), default=0),
        "printed": sum(p for _, _, p, _ in done),
        "bytes": sum(b for _, _, _, b in done),
        "shards": shards,
    }


def _group(
    paths: list[str],
    config: Config,
    part: int,
    parts: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
) -> tuple[int, int, int, int]:
    _die_first(kill_marker, part)
    return _neardup.stage_group(paths, config, part, parts, stage_dir, **options)


def group(
    paths: PathLike | Iterable[PathLike],
    stage_dir: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    parts: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    _kill_first_attempt: PathLike | None = None,
) -> dict[str, int]:
    """The group stage alone, after ``fingerprint``: one Ray task per part
    of the band keys, each reading its part of every shard's key file in
    ``stage_dir`` and writing the candidate groups it finds there. The last
    stage then groups from those files instead of the keys. Give the
    settings ``fingerprint`` got. Returns the band keys read, the groups,
    the places in them (``members``: a bound on the candidates the
    components stage holds), the bytes written and the parts."""
    options = _task_options(
        input_format, text_field, id_field, threads_per_task,
        containment, containment_words, containment_cap,
    )
    parts, done = _run_stage(
        _group, paths, stage_dir, _config(config, threshold), parts,
        threads_per_task, max_retries, options, _kill_first_attempt,
    )
    return {
        "keys": sum(k for k, _, _, _ in done),
        "groups": sum(g for _, g, _, _ in done),
        "members": sum(m for _, _, m, _ in done),
        "bytes": sum(b for _, _, _, b in done),
        "parts": parts,
    }


def _components(
    paths: list[str],
    config: Config,
    parts: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
) -> tuple[int, int, int, int]:
    _die_first(kill_marker, 0)
    return _neardup.stage_components(paths, config, parts, stage_dir, **options)


def _star_round(
    paths: list[str],
    config: Config,
    task: int,
    tasks: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
    round_: int,
) -> tuple[int, int, bool, int]:
    _die_first(kill_marker, task)
    return _neardup.stage_star_round(paths, config, round_, task, tasks, stage_dir, **options)


def _star_finish(
    paths: list[str],
    config: Config,
    task: int,
    tasks: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
    round_: int,
    parts: int,
) -> tuple[int, int, int, int]:
    _die_first(kill_marker, task)
    return _neardup.stage_star_finish(
        paths, config, round_, task, tasks, parts, stage_dir, **options
    )


_MAX_ROUNDS = 200
# What the one-task components stage holds per candidate (measured: about
# 45 bytes); the group stage's places in runs bound the candidates.
_BYTES_PER_CANDIDATE = 45


def _remove_links(stage_dir: str, round_: int | None = None) -> None:
    """Removes the links files of round ``round_`` (of every round when
    None) from ``stage_dir``: read by the round after, they are not needed
    again (round 0's are read by the finish too)."""
    prefix = "links-" if round_ is None else f"links-r{round_:03}-"
    for name in os.listdir(stage_dir):
        if name.startswith(prefix) and name.endswith(".ndl"):
            try:
                os.remove(os.path.join(stage_dir, name))
            except FileNotFoundError:
                pass


def _components_in_rounds(
    given: list[str],
    where: str,
    cfg: Config,
    tasks: int,
    parts: int,
    threads_per_task: int,
    max_retries: int,
    options: dict[str, Any],
    marker: str | None,
) -> dict[str, int]:
    """The components stage in rounds of ``tasks`` Ray tasks (``neardup
    stage star``): round 0, then large-star and small-star rounds until
    every task of a round finds its links settled, then the finish."""
    import ray

    round_task = ray.remote(num_cpus=threads_per_task, max_retries=max_retries)(_star_round)
    finish_task = ray.remote(num_cpus=threads_per_task, max_retries=max_retries)(_star_finish)
    links = 0
    for r in range(_MAX_ROUNDS + 1):
        kill = marker if r == 1 else None
        done = ray.get([
            round_task.remote(given, cfg, t, tasks, where, options, kill, r)
            for t in range(tasks)
        ])
        links += sum(out for _, out, _, _ in done)
        if r >= 2:
            _remove_links(where, r - 1)
        if r > 0 and all(stars for _, _, stars, _ in done):
            break
    else:
        raise RuntimeError(f"the components did not converge in {_MAX_ROUNDS} rounds")
    kill = marker + ".finish" if marker is not None else None
    found = ray.get([
        finish_task.remote(given, cfg, t, tasks, where, options, kill, r, parts)
        for t in range(tasks)
    ])
    _remove_links(where)
    return {
        "candidates": sum(c for c, _, _, _ in found),
        "components": sum(n for _, n, _, _ in found),
        "largest": max((g for _, _, g, _ in found), default=0),
        "bytes": sum(b for _, _, _, b in found),
        "parts": parts,
        "tasks": tasks,
        "rounds": r,
        "links": links,
    }


def components(
    paths: PathLike | Iterable[PathLike],
    stage_dir: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    parts: int | None = None,
    tasks: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    _kill_first_attempt: PathLike | None = None,
) -> dict[str, int]:
    """The components stage alone, after ``group``: joins the candidate
    groups in ``stage_dir`` into components and deals them to ``parts``
    parts (1 to 256; by default the cluster's CPUs), writing each shard's
    assignment and each part's runs. Then ``reread`` and ``verify`` (give
    ``verify`` the same ``parts``). Give the settings ``fingerprint`` got;
    containment is refused (it is not spread).

    By default one Ray task does it, holding every candidate (about 45
    bytes each). With ``tasks=N`` (1 to 4096) it runs in rounds of N
    tasks instead (``neardup stage star``: large-star and small-star
    rounds until the links settle, then a finish), none of which holds
    more than its share of the candidate graph: for candidates one worker
    cannot hold. The report is the same either way.

    Returns the candidates, the components, the largest one's candidates,
    the bytes written and the parts; in rounds also the tasks, the rounds
    after round 0 and the links written."""
    import ray

    options = _task_options(
        input_format, text_field, id_field, threads_per_task,
        containment, containment_words, containment_cap,
    )
    if parts is None:
        parts = max(1, int(ray.available_resources().get("CPU", 1)))
    marker = os.fspath(_kill_first_attempt) if _kill_first_attempt is not None else None
    given, where = _absolute(paths, stage_dir)
    cfg = _config(config, threshold)
    if tasks is not None:
        if not 1 <= tasks <= 4096:
            raise ConfigError(f"tasks={tasks}: the components in rounds take 1 to 4096 tasks")
        return _components_in_rounds(
            given, where, cfg, tasks, parts, threads_per_task, max_retries, options, marker
        )
    task = ray.remote(num_cpus=threads_per_task, max_retries=max_retries)(_components)
    candidates, found, largest, written = ray.get(
        task.remote(given, cfg, parts, where, options, marker)
    )
    return {
        "candidates": candidates,
        "components": found,
        "largest": largest,
        "bytes": written,
        "parts": parts,
    }


def _reread(
    paths: list[str],
    config: Config,
    shard: int,
    shards: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
) -> tuple[int, int, int, int]:
    _die_first(kill_marker, shard)
    return _neardup.stage_reread(paths, config, shard, shards, stage_dir, **options)


def reread(
    paths: PathLike | Iterable[PathLike],
    stage_dir: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    shards: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    _kill_first_attempt: PathLike | None = None,
) -> dict[str, int]:
    """The reread stage alone, after ``components``: one Ray task per shard
    (give the ``shards`` of ``fingerprint``) reads that shard's candidates
    again and writes their shingle sets, cut by part, into ``stage_dir``.
    Returns the inputs, the candidates read again, the bytes written and
    the shards."""
    options = _task_options(
        input_format, text_field, id_field, threads_per_task,
        containment, containment_words, containment_cap,
    )
    shards, done = _run_stage(
        _reread, paths, stage_dir, _config(config, threshold), shards,
        threads_per_task, max_retries, options, _kill_first_attempt,
    )
    return {
        "inputs": max((end for _, end, _, _ in done), default=0),
        "candidates": sum(c for _, _, c, _ in done),
        "bytes": sum(b for _, _, _, b in done),
        "shards": shards,
    }


def _verify(
    paths: list[str],
    config: Config,
    part: int,
    parts: int,
    stage_dir: str,
    options: dict[str, Any],
    kill_marker: str | None,
) -> tuple[int, int, int]:
    _die_first(kill_marker, part)
    return _neardup.stage_verify(paths, config, part, parts, stage_dir, **options)


def verify(
    paths: PathLike | Iterable[PathLike],
    stage_dir: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    parts: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    _kill_first_attempt: PathLike | None = None,
) -> dict[str, int]:
    """The verify stage alone, after every shard's ``reread``: one Ray task
    per part (give the ``parts`` of ``components``) verifies that part's
    components and writes its verdicts into ``stage_dir``. The last stage,
    ``neardup.scan(paths, stage_dir=...)`` (or ``neardup scan --stage-dir``,
    ``neardup clean --stage-dir``), then reports from the verdicts without
    verifying, naming the inputs as it is given them. Returns the
    candidates verified, the duplicates, the bytes written and the
    parts."""
    options = _task_options(
        input_format, text_field, id_field, threads_per_task,
        containment, containment_words, containment_cap,
    )
    parts, done = _run_stage(
        _verify, paths, stage_dir, _config(config, threshold), parts,
        threads_per_task, max_retries, options, _kill_first_attempt,
    )
    return {
        "candidates": sum(c for c, _, _ in done),
        "duplicates": sum(d for _, d, _ in done),
        "bytes": sum(b for _, _, b in done),
        "parts": parts,
    }


def _stages(
    given: list[str],
    stage: str,
    cfg: Config,
    shards: int | None,
    parts: int | None,
    against: PathLike | None,
    spread_verify: bool,
    component_tasks: int | None,
    component_memory: int,
    kill: PathLike | None,
    **options: Any,
) -> dict[str, int]:
    """The fingerprint stage, then (unless the last stage checks against an
    index, which it queries with the band keys themselves) the group
    stage, then (with ``spread_verify``, unless containment is on: it is
    not spread) the components (in rounds of ``component_tasks`` tasks,
    if given, or of the cluster's CPUs if the group stage's runs hold
    more places than one task holds in ``component_memory`` bytes),
    reread and verify stages, the verify stage in as many parts
    as the group stage. A test's kill marker kills the first attempt of
    each."""

    def marker(stage_name: str) -> str | None:
        return os.fspath(kill) + stage_name if kill is not None else None

    done = fingerprint(
        given, stage, config=cfg, shards=shards, _kill_first_attempt=kill, **options
    )
    if against is None:
        parts = parts if parts is not None else done["shards"]
        grouped = group(
            given, stage, config=cfg, parts=parts, _kill_first_attempt=marker(".group"),
            **options,
        )
        if spread_verify and options.get("containment") is None:
            tasks = component_tasks
            if tasks is None and grouped["members"] * _BYTES_PER_CANDIDATE > component_memory:
                # More candidates than one task should hold: rounds of as
                # many tasks as the cluster has CPUs.
                import ray

                tasks = max(1, int(ray.cluster_resources().get("CPU", 1)))
            done["component_tasks"] = tasks or 0
            components(
                given, stage, config=cfg, parts=parts, tasks=tasks,
                _kill_first_attempt=marker(".components"), **options,
            )
            reread(
                given, stage, config=cfg, shards=done["shards"],
                _kill_first_attempt=marker(".reread"), **options,
            )
            verify(
                given, stage, config=cfg, parts=parts,
                _kill_first_attempt=marker(".verify"), **options,
            )
    return done


def scan(
    paths: PathLike | Iterable[PathLike],
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    stage_dir: PathLike | None = None,
    shards: int | None = None,
    parts: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    against: PathLike | None = None,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    spread_verify: bool = True,
    component_tasks: int | None = None,
    component_memory: int = 8 << 30,
    _kill_first_attempt: PathLike | None = None,
) -> Report:
    """``neardup.scan`` with the fingerprint stage run as Ray tasks
    (``fingerprint``), then the group stage (``group``, in ``parts`` tasks,
    by default as many as shards), then the verification as tasks
    (``components``, ``reread`` per shard, ``verify`` in ``parts`` tasks),
    then the last stage here, which only merges the verdicts. ``against``
    names a persistent index (``neardup.Index``) the last stage checks
    against, as ``neardup.scan(against=)`` does: the workers need not reach
    it, and the group stage and the spread verification are skipped (the
    last stage queries the index with the band keys, read from the key
    files band by band, and verifies).

    ``spread_verify`` (default True) spreads the verification whenever it
    can be: it is skipped with ``containment`` or ``against`` (not spread;
    the last stage verifies). The report is the same either way; spread,
    no process holds every paragraph of the corpus (the driver holds only
    the duplicates and the kept paragraphs they repeat), at the cost of
    three more stages and the candidates' documents read by the reread
    tasks instead of the driver. ``spread_verify=False`` verifies on the
    driver, which then holds each paragraph's place, content hash and
    plan. The components stage is one task, holding every candidate
    (about 45 bytes each); ``component_tasks=N`` runs it in rounds of N
    tasks instead (see ``components``), for candidates one worker cannot
    hold. Without ``component_tasks``, the rounds are chosen (in as many
    tasks as the cluster has CPUs) when the group stage's runs hold more
    places (a bound on the candidates) than one task holds in
    ``component_memory`` bytes (8 GiB by default).

    ``stage_dir`` must be reachable from every node (a temporary directory
    by default, which serves a single-machine cluster only). ``shards``
    defaults to the cluster's CPUs; each task uses ``threads_per_task``
    threads. Paths must name the same files on every node; the report names
    them as given, as ``neardup.scan`` would. ``containment=0.8`` (with
    ``containment_words``, ``containment_cap``) also finds paragraphs
    inside longer ones, as ``neardup.scan`` does.
    """
    cfg = _config(config, threshold, against)
    given = _paths(paths)
    own_dir = stage_dir is None
    stage = tempfile.mkdtemp(prefix="neardup-stage-") if own_dir else os.fspath(stage_dir)
    try:
        _stages(
            given,
            stage,
            cfg,
            shards,
            parts,
            against,
            spread_verify,
            component_tasks,
            component_memory,
            _kill_first_attempt,
            input_format=input_format,
            text_field=text_field,
            id_field=id_field,
            threads_per_task=threads_per_task,
            max_retries=max_retries,
            containment=containment,
            containment_words=containment_words,
            containment_cap=containment_cap,
        )
        # The driver names the inputs as given, so the report is the one a
        # scan here gives; the workers, whose working directory may
        # differ, read the same files by absolute paths (in the same order).
        text = _neardup.scan_json(
            given,
            cfg,
            input_format=input_format,
            text_field=text_field,
            id_field=id_field,
            stage_dir=stage,
            against=os.fspath(against) if against is not None else None,
            containment=str(containment) if containment is not None else None,
            containment_words=containment_words,
            containment_cap=containment_cap,
        )
    finally:
        if own_dir:
            import shutil

            shutil.rmtree(stage, ignore_errors=True)
    return Report(text)


def _clean_shard(
    paths: list[str],
    config: Config,
    output: str,
    shard: int,
    shards: int,
    options: dict[str, Any],
    kill_marker: str | None,
) -> dict[str, Any]:
    _die_first(kill_marker, shard)
    return _neardup.clean(paths, config, output, shard=shard, shards=shards, **options)


def clean(
    paths: PathLike | Iterable[PathLike],
    output: PathLike,
    threshold: float | str | None = None,
    *,
    config: Config | None = None,
    stage_dir: PathLike | None = None,
    shards: int | None = None,
    parts: int | None = None,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads_per_task: int = 1,
    max_retries: int = 3,
    against: PathLike | None = None,
    remove_contained: bool = False,
    containment: float | str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    drop_empty: bool = False,
    removed: PathLike | None = None,
    spread_verify: bool = True,
    component_tasks: int | None = None,
    component_memory: int = 8 << 30,
    report: bool = True,
    _kill_first_attempt: PathLike | None = None,
    _kill_first_clean: PathLike | None = None,
) -> Cleaned:
    """``neardup.clean`` spread over a Ray cluster: the fingerprint and
    group stages and (``spread_verify`` and ``component_tasks``, as in
    ``scan``; not with ``remove_contained``) the verification as tasks, the last stage here,
    then one task per shard writing that shard's cleaned files. ``output``
    (and ``stage_dir``) must be reachable from every node. The files written,
    and the removal log ``removed``, are byte for byte those of
    ``neardup.clean`` (and ``neardup clean``) on one machine, for any
    number of shards and workers; a task whose worker died is retried and
    writes its files again (each under a temporary name, then renamed).

    Returns what was written, with the last stage's report. With
    ``report=False`` and the verification spread, there is no last stage:
    each shard task reads its own part of the verify stage's verdicts, so
    no process holds every duplicate (for corpora whose duplicates do not
    fit the driver); ``Cleaned.report`` is then ``None``.
    """
    import ray

    if containment is not None and not remove_contained:
        raise ConfigError(
            "containment on clean only says how to find what remove_contained=True "
            "removes; add remove_contained=True"
        )
    find = (containment if containment is not None else "0.8") if remove_contained else None
    cfg = _config(config, threshold, against)
    given = _paths(paths)
    own_dir = stage_dir is None
    stage = tempfile.mkdtemp(prefix="neardup-stage-") if own_dir else os.fspath(stage_dir)
    try:
        done = _stages(
            given,
            stage,
            cfg,
            shards,
            parts,
            against,
            spread_verify,
            component_tasks,
            component_memory,
            _kill_first_attempt,
            input_format=input_format,
            text_field=text_field,
            id_field=id_field,
            threads_per_task=threads_per_task,
            max_retries=max_retries,
            containment=find,
            containment_words=containment_words,
            containment_cap=containment_cap,
        )
        # The last stage: its report, and its findings left in the stage
        # directory for the shard tasks.
        common = dict(
            input_format=input_format,
            text_field=text_field,
            id_field=id_field,
            against=os.fspath(against) if against is not None else None,
            containment=str(find) if find is not None else None,
            containment_words=containment_words,
            containment_cap=containment_cap,
        )
        spread = spread_verify and against is None and find is None
        the_report = None
        if report or not spread:
            the_report = Report(_neardup.scan_json(given, cfg, stage_dir=stage, **common))
        n = done["shards"]
        logs = [os.path.join(stage, f"removed-{k:06}.jsonl") for k in range(n)]
        task = ray.remote(num_cpus=threads_per_task, max_retries=max_retries)(_clean_shard)
        marker = os.fspath(_kill_first_clean) if _kill_first_clean is not None else None
        parts = ray.get(
            [
                task.remote(
                    given,
                    cfg,
                    os.path.abspath(output),
                    k,
                    n,
                    dict(
                        common,
                        threads=threads_per_task,
                        stage_dir=os.path.abspath(stage),
                        base_dir=os.getcwd(),
                        remove_contained=remove_contained,
                        drop_empty=drop_empty,
                        removed=logs[k] if removed is not None else None,
                    ),
                    marker,
                )
                for k in range(n)
            ]
        )
        if removed is not None:
            _concatenate(logs, os.fspath(removed))
    finally:
        if own_dir:
            import shutil

            shutil.rmtree(stage, ignore_errors=True)
    total = {k: sum(p[k] for p in parts) for k in ("written", "removed", "dropped", "emptied", "bytes_in", "bytes_out")}
    return Cleaned(
        **total,
        inputs=(0, max((p["inputs"][1] for p in parts), default=0)),
        errors=[e for p in parts for e in p["errors"]],
        report=the_report if report else None,
    )


def _concatenate(parts: list[str], to: str) -> None:
    """The shards' removal logs, in shard order, as one file written under
    a temporary name, synced and renamed."""
    import shutil

    tmp = os.path.join(os.path.dirname(os.path.abspath(to)), f".{os.path.basename(to)}.{os.getpid()}.neardup-tmp")
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, to)
    fd = os.open(os.path.dirname(os.path.abspath(to)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m neardup.ray",
        description="neardup scan or clean with its stages on a Ray cluster",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="+")
    common.add_argument("--shards", type=int)
    common.add_argument(
        "--parts", type=int,
        help="group and verify stage tasks (default: as many as shards; 1 to 256)",
    )
    common.add_argument(
        "--component-tasks", type=int, metavar="N",
        help="find the components in rounds of N tasks (default: one task holding every "
        "candidate; 1 to 4096)",
    )
    common.add_argument(
        "--component-memory", type=int, default=8 << 30, metavar="BYTES",
        help="without --component-tasks, find the components in rounds (of the cluster's "
        "CPUs) when one task would hold more than this (default: 8 GiB)",
    )
    common.add_argument("--threshold")
    common.add_argument("--input-format")
    common.add_argument("--text-field", default="text")
    common.add_argument("--id-field", default="id")
    common.add_argument("--address", help="the Ray cluster (default: RAY_ADDRESS, or a local one)")
    common.add_argument(
        "--containment", nargs="?", const="0.8", metavar="T",
        help="also find paragraphs inside longer ones (default T: 0.8)",
    )
    common.add_argument("--containment-words", type=int, default=25)
    common.add_argument("--containment-cap", type=int, default=64)
    s = sub.add_parser(
        "scan", parents=[common], help="report near-duplicate paragraphs (exit 0: none, 1: found)"
    )
    s.add_argument("--stage-dir", help="a directory every node reaches (default: a temporary one)")
    s.add_argument("--against", help="also check against this index (read by the driver only)")
    s.add_argument("-o", "--output", help="write the JSON report here (default: standard output)")
    s.add_argument(
        "--no-spread-verify", dest="spread_verify", action="store_false",
        help="verify on the driver instead of in components, reread and verify tasks",
    )
    f = sub.add_parser(
        "fingerprint",
        parents=[common],
        help="only the fingerprint stage, into --stage-dir (then: neardup clean --stage-dir)",
    )
    f.add_argument("--stage-dir", required=True)
    g = sub.add_parser(
        "group",
        parents=[common],
        help="only the group stage, after `fingerprint`, into --stage-dir (same settings)",
    )
    g.add_argument("--stage-dir", required=True)
    for name, what in (
        ("components", "only the components stage, after `group` (one task; --parts: the verify tasks)"),
        ("reread", "only the reread stage, after `components` (--shards: as `fingerprint`)"),
        ("verify", "only the verify stage, after `reread` (--parts: as `components`), "
                   "then: neardup scan|clean --stage-dir"),
    ):
        sub.add_parser(name, parents=[common], help=what).add_argument("--stage-dir", required=True)
    c = sub.add_parser(
        "clean",
        parents=[common],
        help="write the inputs without their duplicates (the files `neardup clean` writes)",
    )
    c.add_argument("-o", "--output", required=True, help="a file (one input) or a directory")
    c.add_argument("--stage-dir", help="a directory every node reaches (default: a temporary one)")
    c.add_argument("--against", help="also remove repeats of this index's paragraphs")
    c.add_argument("--removed", help="write the removal log here (one JSON line per paragraph)")
    c.add_argument("--drop-empty", action="store_true", help="leave out documents that lost every paragraph")
    c.add_argument(
        "--remove", action="append", choices=["duplicates", "contained"], default=[],
        help="`contained` also removes paragraphs found inside longer ones",
    )
    c.add_argument(
        "--no-spread-verify", dest="spread_verify", action="store_false",
        help="verify on the driver instead of in components, reread and verify tasks",
    )
    c.add_argument(
        "--no-report", dest="report", action="store_false",
        help="no last stage on the driver: each shard task reads its part of the verdicts "
        "(no process holds every duplicate)",
    )
    args = ap.parse_args(argv)

    import ray

    ray.init(address=args.address, log_to_driver=False)
    options = dict(
        shards=args.shards,
        input_format=args.input_format,
        text_field=args.text_field,
        id_field=args.id_field,
        containment=args.containment,
        containment_words=args.containment_words,
        containment_cap=args.containment_cap,
    )
    try:
        if args.command == "fingerprint":
            done = fingerprint(args.paths, args.stage_dir, args.threshold, **options)
        elif args.command == "group":
            options.pop("shards")
            grouped = group(args.paths, args.stage_dir, args.threshold, parts=args.parts, **options)
        elif args.command == "components":
            options.pop("shards")
            dealt = components(
                args.paths, args.stage_dir, args.threshold, parts=args.parts,
                tasks=args.component_tasks, **options,
            )
        elif args.command == "reread":
            read = reread(args.paths, args.stage_dir, args.threshold, **options)
        elif args.command == "verify":
            options.pop("shards")
            verified = verify(args.paths, args.stage_dir, args.threshold, parts=args.parts, **options)
        elif args.command == "clean":
            find = options.pop("containment")
            cleaned = clean(
                args.paths,
                args.output,
                args.threshold,
                stage_dir=args.stage_dir,
                against=args.against,
                removed=args.removed,
                drop_empty=args.drop_empty,
                remove_contained="contained" in args.remove,
                containment=find,
                parts=args.parts,
                spread_verify=args.spread_verify,
                component_tasks=args.component_tasks,
                component_memory=args.component_memory,
                report=args.report,
                **options,
            )
        else:
            report = scan(
                args.paths,
                args.threshold,
                stage_dir=args.stage_dir,
                against=args.against,
                parts=args.parts,
                spread_verify=args.spread_verify,
                component_tasks=args.component_tasks,
                component_memory=args.component_memory,
                **options,
            )
    except Exception as e:  # noqa: BLE001 - the message is the point
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.command == "clean":
        for e in cleaned.errors:
            print(f"error: {e}", file=sys.stderr)
        print(
            f"cleaned {cleaned.written} inputs: removed {cleaned.removed} paragraphs; "
            f"{cleaned.bytes_in} -> {cleaned.bytes_out} bytes",
            file=sys.stderr,
        )
        return 2 if cleaned.errors else 0
    if args.command == "fingerprint":
        print(
            f"{done['shards']} shards: {done['inputs']} inputs, {done['printed']} with prints, "
            f"{done['bytes']} bytes of stage files in {args.stage_dir}",
            file=sys.stderr,
        )
        return 0
    if args.command == "group":
        print(
            f"{grouped['parts']} parts: {grouped['keys']} band keys read, {grouped['groups']} "
            f"candidate groups, {grouped['bytes']} bytes of group files in {args.stage_dir}",
            file=sys.stderr,
        )
        return 0
    if args.command == "components":
        rounds = (
            f" in {dealt['rounds']} rounds of {dealt['tasks']} tasks" if "rounds" in dealt else ""
        )
        print(
            f"{dealt['candidates']} candidates in {dealt['components']} components (the largest "
            f"{dealt['largest']}){rounds}, dealt to {dealt['parts']} parts; {dealt['bytes']} "
            f"bytes in {args.stage_dir}",
            file=sys.stderr,
        )
        return 0
    if args.command == "reread":
        print(
            f"{read['shards']} shards: {read['candidates']} candidates read again; "
            f"{read['bytes']} bytes of sets files in {args.stage_dir}",
            file=sys.stderr,
        )
        return 0
    if args.command == "verify":
        print(
            f"{verified['parts']} parts: {verified['candidates']} candidates verified, "
            f"{verified['duplicates']} duplicates; {verified['bytes']} bytes of verdict files in "
            f"{args.stage_dir}",
            file=sys.stderr,
        )
        return 0
    if args.output and os.path.exists(args.output) and not os.path.isfile(args.output):
        # A device or a pipe (/dev/null) is written into, never replaced.
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(report.to_json())
    elif args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(report.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(report.to_json())
    return 1 if report.summary["duplicate_paragraphs"] or report.contained else 0


if __name__ == "__main__":
    sys.exit(main())
