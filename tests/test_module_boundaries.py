"""Modules (and the benchmarks, which run against them) use each other through public names:
a name starting with ``_`` is its module's own, so renaming it cannot break another module."""

from __future__ import annotations

import ast
from pathlib import Path

from .helpers import REPO

SOURCE = REPO / "src" / "claimwire"
USERS = (SOURCE, REPO / "benchmarks")
TESTS = REPO / "tests"
ENGINES = "claimwire.engine"
"""Tested through their interface only (:class:`claimwire.engine.Engine`, ``open_engine``)."""


def _private_imports(folders: tuple[Path, ...], package: str = "claimwire") -> list[str]:
    """``file: module.name`` for each private name imported from ``package`` (or below)."""
    found = []
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package):
                found += [
                    f"{path.relative_to(REPO)}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_module_imports_another_modules_private_name() -> None:
    assert _private_imports(USERS) == []


def test_no_test_imports_an_engines_private_name() -> None:
    """A test drove the Ray engine's actor class and its pieces (``_Apply``, ``_Batches``)
    by hand: it broke with any change to how the engine sends work, and tested its copy of
    the sending rather than the engine's."""
    assert _private_imports((TESTS,), ENGINES) == []
