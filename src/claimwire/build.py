"""Build a release with the schema and the gold wired in: what ``claimwire corpus build``
runs (the corpus layer knows neither schemas nor gold; this module plugs them in)::

    report = build(Path("corpus/raw"), Path("corpus/releases"), "0.2.0", gold=Path("gold"))
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from claimwire.annotation.checks import validate as validate_release
from claimwire.annotation.gold import gold_files, resolve_gold
from claimwire.annotation.schema import Schema, default_schema_path, load_schema
from claimwire.corpus.duplicates import DEFAULT_THRESHOLD
from claimwire.corpus.release import (
    ANNOTATIONS,
    RELATIONS,
    BuildReport,
    GoldSource,
    ProgressCallback,
    Sharding,
    build_release,
    open_release,
    parse_version,
    release_versions,
)
from claimwire.corpus.validate import Problem
from claimwire.engine import Engine
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import stream_records
from claimwire.eval.tasks import load_task
from claimwire.files import folders_removed_on_error
from claimwire.lines import plain_name
from claimwire.model import Annotation, Document, Relation, read_records
from claimwire.project import find_project
from claimwire.storage import stop_on_sigterm


def is_annotation_set(path: Path) -> bool:
    """An annotation set with offsets (JSONL, e.g. adjudicated gold; ``.jsonl.zst``, in any
    case), not quote-anchored YAML."""
    is_jsonl = plain_name(path.name).lower().endswith(".jsonl")
    return is_jsonl or (path.is_dir() and (path / "annotations.jsonl").exists())


def gold_source(gold: Path, schema: Schema, parent: Path | None = None) -> GoldSource:
    """How the build gets its gold from ``gold``: an annotation set as it is (each record on
    a document of the build, else a located error; ``parent``, the parent release, explains
    an id it had), or quote-anchored YAML resolved against the new documents and checked
    with ``schema``."""
    if is_annotation_set(gold):

        def taken(documents: Iterator[Document]) -> Iterator[Annotation | Relation]:
            known = {document.id for document in documents}
            for path, line, record in stream_records(gold):
                if record.doc_id not in known:
                    raise _not_built(record.doc_id, parent).located(file=path, line=line)
                yield record

        return taken
    files = gold_files(gold)

    def resolved(documents: Iterator[Document]) -> Iterator[Annotation | Relation]:
        annotations, relations = resolve_gold(files, documents, schema)
        return itertools.chain(annotations, relations)

    return resolved


def _not_built(doc_id: str, parent: Path | None) -> ClaimwireError:
    """The error for a gold record on a document the build does not have."""
    why = "not a document of this build"
    if parent is not None and any(doc.id == doc_id for doc in open_release(parent).documents()):
        why += (
            f"; it is one of {parent.name}, which this build changed or removed (CHANGES.md "
            "lists which): carry the set onto the new text, or build without the change"
        )
    return ClaimwireError(f"{doc_id!r} is {why}", field="doc_id")


def task_files(tasks: Path | None, schema: Schema) -> list[Path]:
    """The task definitions a release ships: ``tasks`` (a folder), else the project's task
    folder when it exists; each is checked against ``schema`` first (a located error)."""
    if tasks is None:
        project = find_project()
        tasks = project.tasks if project is not None and project.tasks.is_dir() else None
    if tasks is None:
        return []
    if not tasks.is_dir():
        raise ClaimwireError("expected a folder of task definitions (*.yaml)", file=tasks)
    files = sorted(tasks.glob("*.yaml"))
    for path in files:
        load_task(path, schema)
    return files


SHOWN_PROBLEMS = 10
"""Problems a refused build prints, one a line, before how many more there are."""


def parent_places(parent: Path, ids: set[str]) -> dict[str, tuple[Path, int]]:
    """The file and line of each of ``ids`` (annotation or relation ids) in the release
    ``parent``: one pass over its record files, holding only what it finds."""
    release = open_release(parent)
    places: dict[str, tuple[Path, int]] = {}
    for name in (ANNOTATIONS, RELATIONS):
        for part in release.parts(name):
            found = (
                (record.id for record in read_records(parent / part, Annotation))
                if name == ANNOTATIONS
                else (record.id for record in read_records(parent / part, Relation))
            )
            for line, record_id in enumerate(found, 1):
                if record_id in ids:
                    places.setdefault(record_id, (parent / part, line))
    return places


def staged_check(target: Path, parent: Path | None) -> Callable[[Path], list[str]]:
    """The staged release's check: one that does not validate is refused, its first problems
    shown one a line as ``corpus validate`` prints them, then their count. ``parent``, the
    release whose gold the build carries: a record's problem names the parent's file and line
    (the staged file is never written), and one against the schema says what to do."""

    def carried(problem: Problem) -> bool:
        return parent is not None and (problem.file or "").startswith(
            (ANNOTATIONS.split(".")[0], RELATIONS.split(".")[0])
        )

    def check(staged: Path) -> list[str]:
        first: list[Problem] = []
        total, misfits = 0, 0
        for problem in validate_release(staged, staged=True):
            total += 1
            misfits += carried(problem) and problem.level == 4
            if len(first) < SHOWN_PROBLEMS:
                first.append(problem)
        if not total:
            return []
        if parent is None:
            shown = [str(problem) for problem in first]
        else:
            places = parent_places(parent, {p.ann for p in first if carried(p) and p.ann})
            unknown = f"carried from {parent.name}'s gold"
            shown = [
                str(
                    replace(problem, file=str(found[0]), line=found[1])
                    if (found := places.get(problem.ann or "")) is not None
                    else replace(problem, file=unknown, line=None)
                )
                if carried(problem)
                else str(problem)
                for problem in first
            ]
        if total > len(shown):
            shown.append(f"… and {total - len(shown):,} more")
        advice = (
            "; the parent's gold does not fit the new schema: fix the carried records and "
            "pass them with --gold"
            if misfits and parent is not None
            else ""
        )
        raise ClaimwireError(
            f"the built release does not validate ({total:,} problem{'s' if total > 1 else ''}); "
            f"nothing was written{advice}",
            file=target,
            details=tuple(shown),
        )

    return check


def check_lineage(releases: Path, version: str, parent: str | None, new_lineage: bool) -> None:
    """Refuse a build that names neither a parent nor a new lineage where ``releases`` already
    holds releases (other than ``version``): it would silently drop the newest release's gold
    and draw its documents' splits again. A new lineage must start after the newest release,
    as a version must be newer than its parent (:func:`claimwire.corpus.release.build_release`):
    an older one would never be the release commands default to, and would sit among the
    lineage before it in the changelog."""
    if parent is not None and new_lineage:
        raise ClaimwireError(f"--parent {parent} and --no-parent exclude each other: pass one")
    if parent is not None:
        return
    earlier = [found for found in release_versions(releases) if found != version]
    if not earlier:
        return
    newest = earlier[-1]
    if not new_lineage:
        raise ClaimwireError(
            f"{newest} exists: pass --parent {newest} to continue it, or --no-parent to start "
            "a new lineage (splits are drawn again)"
        )
    if parse_version(version) < parse_version(newest):
        raise ClaimwireError(
            f"version {version} is older than {newest}, the newest release here: a new lineage "
            "(--no-parent) must start after it (commands default to the newest release and "
            f"would never use this one); pick a version above {newest}, such as "
            f"{parse_version(newest)[0] + 1}.0.0"
        )


def build(
    raw: Path,
    releases: Path,
    version: str,
    *,
    parent: str | None = None,
    gold: Path | None = None,
    schema: Path | None = None,
    near_duplicates: float = DEFAULT_THRESHOLD,
    progress: ProgressCallback | None = None,
    sharding: Sharding | None = None,
    engine: Engine | None = None,
    tasks: Path | None = None,
    new_lineage: bool = False,
    allow_gold_loss: bool = False,
    lang: str | None = None,
) -> BuildReport:
    """Build ``releases/version`` from ``raw``, ``lang`` the project's language (every
    document's unless its input names its own), shipping the schema (``schema``, else the
    default one when it exists) and the task definitions (:func:`task_files`), and validating
    the staged release with them. SIGTERM ends it as an error does: no staging folder, nor
    folder made for ``releases``, is left. Where ``releases`` holds releases, ``parent`` or
    ``new_lineage`` is needed (:func:`check_lineage`); ``allow_gold_loss`` builds one that
    drops most of the parent's gold (refused otherwise: see
    :func:`claimwire.corpus.release.build_release`)."""
    check_lineage(releases, version, parent, new_lineage)
    stop_on_sigterm()
    schema_path = schema or default_schema_path()
    rules = load_schema(schema_path) if schema or gold or schema_path.exists() else None
    shipped = task_files(tasks, rules) if rules is not None else []
    with folders_removed_on_error(releases):
        return build_release(
            raw,
            releases,
            version,
            parent=parent,
            gold=(
                gold_source(gold, rules, releases / parent if parent else None)
                if gold is not None and rules is not None
                else None
            ),
            schema_file=schema_path if rules else None,
            schema_version=rules.version if rules else None,
            summarize=rules.summarize if rules else None,
            progress=progress,
            validate=staged_check(
                releases / version, releases / parent if parent and gold is None else None
            ),
            near_duplicates=near_duplicates,
            sharding=sharding,
            engine=engine,
            task_files=shipped,
            allow_gold_loss=allow_gold_loss,
            lang=lang,
        )
