"""Type stubs of the native part of neardup (python/src/lib.rs)."""

import os
from typing import Any, Sequence, Union

# A path: a string or any os.PathLike (the native functions call
# os.fspath on it).
StrPath = Union[str, "os.PathLike[str]"]

__version__: str

class NeardupError(Exception): ...
class ConfigError(NeardupError): ...
class InputError(NeardupError): ...
class IndexFileError(NeardupError): ...

class Config:
    """Detection settings, validated as the command line's flags are."""

    def __init__(
        self,
        threshold: float | str | None = None,
        *,
        paragraphs: str = "line",
        shingle: str = "words",
        shingle_size: int | None = None,
        min_words: int | None = None,
        num_perm: int | None = None,
        bands: int | None = None,
        rows: int | None = None,
        seed: int | None = None,
        scope: str = "all",
        allow_paragraphs: Sequence[str] = ...,
        allow_patterns: Sequence[str] = ...,
    ) -> None: ...
    @property
    def threshold(self) -> float: ...
    @property
    def paragraphs(self) -> str: ...
    @property
    def shingle(self) -> str: ...
    @property
    def shingle_size(self) -> int: ...
    @property
    def min_words(self) -> int: ...
    @property
    def num_perm(self) -> int: ...
    @property
    def bands(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def scope(self) -> str: ...
    @property
    def allow_paragraphs(self) -> list[str]: ...
    @property
    def allow_patterns(self) -> list[str]: ...

def scan_json(
    paths: Sequence[StrPath],
    config: Config,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    against: StrPath | None = None,
    stage_dir: StrPath | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> str: ...
def stage_fingerprint(
    paths: Sequence[StrPath],
    config: Config,
    shard: int,
    shards: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, int, int]: ...
def stage_group(
    paths: Sequence[StrPath],
    config: Config,
    part: int,
    parts: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, int, int]: ...
def stage_components(
    paths: Sequence[StrPath],
    config: Config,
    parts: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, int, int]:
    """The components stage of a spread verification (``neardup stage
    components``), one process after every group part: joins the candidate
    groups into components, deals them to ``parts`` parts (1 to 256) and
    writes each shard's assignment and each part's runs into ``dir``.
    Returns (candidates, components, the largest's candidates, bytes
    written). Containment is refused (it is not spread)."""

def stage_star_round(
    paths: Sequence[StrPath],
    config: Config,
    round: int,
    task: int,
    tasks: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, bool, int]:
    """One task's round of the components stage in rounds (``neardup stage
    star --round``): round 0 reads the task's share of the group files,
    odd rounds are large-star and even ones small-star over the round
    before's links (``tasks``: 1 to 4096, the same in every round).
    Returns (links in, links out, whether its input was settled, bytes
    written); when every task of a round says settled, finish after it."""

def stage_star_finish(
    paths: Sequence[StrPath],
    config: Config,
    round: int,
    task: int,
    tasks: int,
    parts: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, int, int]:
    """One task's finish of the components stage in rounds (``neardup
    stage star --finish``), after the round that converged: deals the
    components to ``parts`` parts and writes the task's dealt file, which
    the reread and verify stages then read. Returns (candidates,
    components centred in this task, the largest's candidates, bytes
    written)."""

def stage_reread(
    paths: Sequence[StrPath],
    config: Config,
    shard: int,
    shards: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, int, int]:
    """The reread stage of shard ``shard`` of ``shards`` (the fingerprint
    stage's numbering; ``neardup stage reread``), after the components
    stage: reads the shard's candidates again and writes its sets file
    (``sets-FIRST-END.nds``) into ``dir``. (The last stage names the
    inputs as it is given them.) Returns (first input, end, candidates
    read again, bytes written)."""

def stage_verify(
    paths: Sequence[StrPath],
    config: Config,
    part: int,
    parts: int,
    dir: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
) -> tuple[int, int, int]:
    """The verify stage of part ``part`` of ``parts`` (the components
    stage's count; ``neardup stage verify``), after every shard's reread
    stage: verifies the part's components and writes its verdicts
    (``verdicts-PPP-of-NNN.ndv``) into ``dir``. Once every part has,
    ``scan_json(stage_dir=dir)`` and ``clean(stage_dir=dir)`` report from
    them. Returns (candidates verified, duplicates, bytes written)."""

def clean(
    paths: Sequence[StrPath],
    config: Config,
    output: StrPath,
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    against: StrPath | None = None,
    stage_dir: StrPath | None = None,
    shard: int | None = None,
    shards: int | None = None,
    base_dir: StrPath | None = None,
    containment: str | None = None,
    containment_words: int = 25,
    containment_cap: int = 64,
    remove_contained: bool = False,
    drop_empty: bool = False,
    removed: StrPath | None = None,
) -> dict[str, Any]: ...
def dedup_rows(
    config: Config,
    *,
    chunks: Sequence[tuple[Any, Any]] | None = None,
    texts: Sequence[str | None] | None = None,
    threads: int | None = None,
    against: StrPath | None = None,
    cleaned: bool = False,
    report: bool = False,
) -> dict[str, Any]: ...
def index_create(index: StrPath, config: Config, containment_words: int | None = None) -> Config: ...
def index_config(index: StrPath) -> Config: ...
def index_add(
    index: StrPath,
    paths: Sequence[StrPath],
    config: Config,
    *,
    create: bool = False,
    name: str | None = None,
    force: bool = False,
    created: int = 0,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    threads: int | None = None,
    skip_bad_records: bool = False,
) -> dict[str, Any]: ...
def index_info(index: StrPath) -> dict[str, Any]: ...
def index_verify(index: StrPath) -> None: ...
def index_rollback(index: StrPath) -> int: ...
def index_compact(
    index: StrPath,
    containment_words: int | None = None,
    no_containment: bool = False,
    bands: int | None = None,
    rows: int | None = None,
) -> tuple[int, int, int]: ...
def index_drop(
    index: StrPath, batches: list[str], before: int | None = None, keep: int | None = None
) -> dict[str, Any]: ...
def parse_utc_time(text: str) -> int: ...
def parse_age(text: str) -> int: ...
