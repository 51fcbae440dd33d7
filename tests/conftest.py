"""Shared fixtures: the seed release built once, and private copies a test may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from claimwire.corpus.release import build_release

from .helpers import SEED_RAW


@pytest.fixture(scope="session")
def seed_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A releases folder holding the seed built as 0.1.0 (do not modify it)."""
    releases = tmp_path_factory.mktemp("seed") / "releases"
    build_release(SEED_RAW, releases, "0.1.0")
    return releases


@pytest.fixture
def seed_release(seed_releases: Path, tmp_path: Path) -> Path:
    """A private copy of the seed release 0.1.0 that a test may break."""
    copy = tmp_path / "releases" / "0.1.0"
    shutil.copytree(seed_releases / "0.1.0", copy)
    return copy


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """A raw folder with a copy of the seed (and its sidecar)."""
    raw = tmp_path / "raw"
    shutil.copytree(SEED_RAW, raw)
    return raw


@pytest.fixture(autouse=True)
def _extra_keys_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test reads record files as a new process does: what earlier files taught the
    fast path about extra keys (``claimwire.model``) is not carried into it."""
    from claimwire import model

    monkeypatch.setattr(model, "_extras_seen", {})
    monkeypatch.setattr(model, "_extras_off", {})
