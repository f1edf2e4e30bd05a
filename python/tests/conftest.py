"""Shared fixtures: the repository, the command-line binary to compare
with, and a generated corpus with planted near-duplicates."""

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def cli() -> str:
    """The `neardup` binary (NEARDUP_BIN, else target/debug or release)."""
    given = os.environ.get("NEARDUP_BIN")
    candidates = [given] if given else [
        str(REPO / "target" / "debug" / "neardup"),
        str(REPO / "target" / "release" / "neardup"),
    ]
    for c in candidates:
        if c and Path(c).is_file():
            return c
    pytest.fail("no neardup binary: run `cargo build` or set NEARDUP_BIN")


def run_cli(cli: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    out = subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    return out


WORDS = (
    "harbour council ferry storm minister island school budget road weather fishing "
    "court market river bridge police festival hospital train village election museum "
    "farmers coast tide lighthouse quarry mill choir library"
).split()


def make_rows(n: int, seed: int) -> list[str]:
    """Rows of one to four paragraphs (lines): new ones, exact copies and
    copies with a word changed of earlier paragraphs, and a few empty rows."""
    rng = random.Random(seed)
    seen: list[str] = []
    rows = []
    for _ in range(n):
        paras = []
        for _ in range(rng.randint(1, 4)):
            pick = rng.random()
            if seen and pick < 0.2:
                p = rng.choice(seen)
            elif seen and pick < 0.4:
                words = rng.choice(seen).split()
                words[rng.randrange(len(words))] = rng.choice(WORDS)
                p = " ".join(words)
            else:
                p = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            seen.append(p)
            paras.append(p)
        rows.append("" if rng.random() < 0.02 else "\n".join(paras))
    return rows


def write_jsonl(path: Path, rows: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r}) + "\n")
