"""A release of many shards is read with one open file a shard: claimwire raises the soft
limit on open files to the hard one, and past the hard one says what to do."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from claimwire.corpus.release import Sharding

from .helpers import REPO, release_with_test_claims

SHARDS = 60
"""Documents, each in a shard of its own: more than the limit the tests set."""
LIMIT = 40


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A claim on each document, each claim in an annotation shard of its own."""
    root = tmp_path_factory.mktemp("shards")
    return release_with_test_claims(root, SHARDS, claimed="all", sharding=Sharding(1))


def _validate(release: Path, soft: int, hard: int) -> subprocess.CompletedProcess[str]:
    """``claimwire corpus validate RELEASE`` with at most ``soft`` / ``hard`` open files."""

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return subprocess.run(
        [sys.executable, "-m", "claimwire", "corpus", "validate", str(release)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"},
        preexec_fn=limited,
        check=False,
    )


def test_a_release_of_more_shards_than_the_soft_limit_is_read(sharded: Path) -> None:
    """Before: ``error: Too many open files``, exit 1, with the hard limit far above."""
    assert len(list(sharded.glob("annotations-*.jsonl"))) == SHARDS
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    result = _validate(sharded, LIMIT, hard)
    assert result.returncode == 0, result.stderr


def test_past_the_hard_limit_the_error_says_what_to_do(sharded: Path) -> None:
    result = _validate(sharded, LIMIT, LIMIT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert f"too many files open at once (the limit is {LIMIT})" in errors[0]
    assert "--shard-records" in errors[0] and "ulimit" in errors[0]
