"""Modules (and the benchmarks, which run against them) use each other through public names:
a name starting with ``_`` is its module's own, so renaming it cannot break another module."""

from __future__ import annotations

import ast

from .helpers import REPO

SOURCE = REPO / "src" / "claimwire"
USERS = (SOURCE, REPO / "benchmarks")


def _private_imports() -> list[str]:
    found = []
    for path in sorted(p for folder in USERS for p in folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("claimwire"):
                found += [
                    f"{path.relative_to(REPO)}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_module_imports_another_modules_private_name() -> None:
    assert _private_imports() == []
