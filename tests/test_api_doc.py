"""docs/api.md is a notebook session; its examples run here as doctests."""

from __future__ import annotations

import doctest

import pytest

from .helpers import REPO


def test_the_api_page_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = doctest.testfile(
        str(REPO / "docs" / "api.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 15
    assert result.failed == 0
