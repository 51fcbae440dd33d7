"""A claimwire project: the folder holding ``claimwire.toml``, found like git finds a repo.

``claimwire.toml`` names the project's corpus, annotation and eval folders (relative to
itself). Commands walk up from the working directory to the first ``claimwire.toml``;
``--project DIR`` (:func:`use_project`) overrides the search.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from claimwire.errors import ClaimwireError

PROJECT_FILE = "claimwire.toml"
FOLDERS = ("corpus", "annotation", "eval")
KEYS = ("name", "lang", "paths")
SEMVER = re.compile(r"\d+\.\d+\.\d+")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
"""A BCP 47 tag's usual shape: a 2–3 letter language, then subtags (``pt-BR``, ``zh-Hant``)."""

_chosen: Path | None = None


def use_project(folder: Path | None) -> None:
    """Make ``folder`` the project every later lookup uses (None: search from the cwd)."""
    global _chosen
    _chosen = folder


@dataclass(frozen=True)
class Project:
    """Where a project keeps its corpus, annotation and evaluation files."""

    root: Path
    name: str
    lang: str | None
    """The language of the project's documents (``lang``); None when the file names none
    (each document's is then detected)."""
    corpus: Path
    annotation: Path
    eval: Path

    @property
    def raw(self) -> Path:
        return self.corpus / "raw"

    @property
    def releases(self) -> Path:
        return self.corpus / "releases"

    @property
    def schema(self) -> Path:
        return self.annotation / "schema.yaml"

    @property
    def gold(self) -> Path:
        return self.annotation / "gold"

    @property
    def guidelines(self) -> Path:
        return self.annotation / "guidelines.md"

    @property
    def label_studio(self) -> Path:
        return self.annotation / "label_studio"

    @property
    def tasks(self) -> Path:
        return self.eval / "tasks"

    @property
    def runs(self) -> Path:
        return self.eval / "runs"

    def release_versions(self) -> list[str]:
        """The project's release versions, oldest first (semantic-version order)."""
        if not self.releases.is_dir():
            return []
        names = [p.name for p in self.releases.iterdir() if p.is_dir() and SEMVER.fullmatch(p.name)]
        return sorted(names, key=lambda v: tuple(int(part) for part in v.split(".")))

    def newest_release(self) -> Path:
        versions = self.release_versions()
        if not versions:
            raise ClaimwireError(
                f"no release in {self.releases}; build one with "
                "`claimwire corpus build --version 0.1.0`"
            )
        return self.releases / versions[-1]


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


def read_project(path: Path) -> Project:
    """Read and check one ``claimwire.toml``: every key known, every folder present."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ClaimwireError(f"not valid TOML: {error}", file=path) from None

    def fail(message: str, key: str) -> ClaimwireError:
        return ClaimwireError(
            message, file=path, line=_line_of(text, key.split(".")[-1]), field=key
        )

    for key in data:
        if key not in KEYS:
            raise fail(f"unknown key; expected one of {', '.join(KEYS)}", key)
    paths = data.get("paths", {})
    if not isinstance(paths, dict):
        raise fail("expected a table of folders", "paths")
    for key in paths:
        if key not in FOLDERS:
            raise fail(f"unknown key; expected one of {', '.join(FOLDERS)}", f"paths.{key}")
    root = path.parent
    folders = {}
    for key in FOLDERS:
        value = paths.get(key, key)
        if not isinstance(value, str):
            raise fail("expected a folder name (a string)", f"paths.{key}")
        folder = root / value
        if not folder.is_dir():
            raise fail(f"folder {value!r} does not exist in {root}", f"paths.{key}")
        folders[key] = folder
    for key in ("name", "lang"):
        if not isinstance(data.get(key, ""), str):
            raise fail("expected a string", key)
    lang = data.get("lang")
    if lang is not None and not LANGUAGE_TAG.fullmatch(lang):
        raise fail(f"expected a language code such as fr, en or pt-BR, got {lang!r}", "lang")
    return Project(
        root,
        str(data.get("name", root.resolve().name)),
        lang,
        folders["corpus"],
        folders["annotation"],
        folders["eval"],
    )


def find_project(start: Path | None = None) -> Project | None:
    """The project chosen with :func:`use_project`, else the nearest ``claimwire.toml`` at or
    above ``start`` (the working directory); None outside any project."""
    if _chosen is not None:
        if not (_chosen / PROJECT_FILE).is_file():
            raise ClaimwireError(f"no {PROJECT_FILE} in {_chosen}", field="--project")
        return read_project(_chosen / PROJECT_FILE)
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return read_project(Path(os.path.relpath(folder)) / PROJECT_FILE)
    return None


def current_project() -> Project:
    """The project the command runs in; outside any project, one line saying how to make one."""
    project = find_project()
    if project is None:
        raise ClaimwireError(
            f"not inside a claimwire project (no {PROJECT_FILE} here or above {Path.cwd()}); "
            "create one with `claimwire init DIR` or pass --project DIR"
        )
    return project
