"""Validation with the annotation schema: the level-4 checks a release's own schema implies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from claimwire.annotation.schema import SUMMARY_SURVEYS, Schema, load_schema
from claimwire.corpus.release import (
    DIGEST,
    MANIFEST,
    SCHEMA,
    TASKS,
    open_release,
    read_manifest,
)
from claimwire.corpus.validate import MAX_LEVEL, Problem, Problems, SchemaCheck, validate_release
from claimwire.errors import ClaimwireError
from claimwire.files import sha256
from claimwire.model import Annotation, Relation


def schema_check(schema: Schema) -> SchemaCheck:
    """Adapt a schema to the validator's level-4 hook."""

    def check(
        annotations: list[Annotation], relations: list[Relation]
    ) -> Iterator[tuple[Annotation | Relation, str, str]]:
        for finding in schema.findings(annotations, relations):
            yield finding.record, finding.code, finding.message

    return check


def release_schema(path: Path) -> Schema | None:
    """The schema a release was built with (its own ``schema.yaml``) if its manifest lists it:
    an unlisted file dropped into a release is never used."""
    if not (path / SCHEMA).is_file():
        return None
    try:
        listed = SCHEMA in read_manifest(path)["files"]
    except ClaimwireError:
        listed = False
    return load_schema(path / SCHEMA, strict=False) if listed else None


def schema_of(path: Path) -> Schema:
    """The schema of a release: its own copy, else the packaged one."""
    return release_schema(path) or load_schema()


def _summary_problems(path: Path, schema: Schema) -> list[Problem]:
    """The manifest's ``gold_summary`` against the one recomputed from the release's gold."""
    stated = read_manifest(path).get("gold_summary")
    if stated is None:
        return []
    release = open_release(path, verify=False)
    surveys = stated.get("surveys") if isinstance(stated, dict) else None
    legacy = (
        isinstance(stated, dict)
        and "more_surveys" not in stated
        and isinstance(surveys, list)
        and len(surveys) > SUMMARY_SURVEYS
    )  # written when a summary listed every survey: recomputed in that form
    recomputed = schema.summarize(
        release.annotations(), release.relations(), None if legacy else SUMMARY_SURVEYS
    )
    if json.loads(json.dumps(recomputed)) == stated:
        return []
    message = "gold_summary differs from the one recomputed from the gold"
    return [Problem(1, "manifest-mismatch", message, MANIFEST)]


def _task_problems(path: Path, schema: Schema) -> list[Problem]:
    """Each task definition the release carries (listed ``tasks/*.yaml``), loaded against
    the release's schema: what ``eval score`` on this release would use."""
    from claimwire.eval.tasks import load_task

    problems = []
    named: dict[str, str] = {}
    for name in sorted(read_manifest(path)["files"]):
        if name.startswith(f"{TASKS}/"):
            try:
                task = load_task(path / name, schema)
            except ClaimwireError as error:
                message = f"{error.field}: {error.message}" if error.field else error.message
                problems.append(Problem(4, "bad-task", message, name, error.line))
                continue
            if task.name in named:
                message = f"name: task {task.name!r} is also defined by {named[task.name]}"
                problems.append(Problem(4, "bad-task", message, name))
            named.setdefault(task.name, name)
    return problems


def _verified_schema(path: Path) -> Schema | None:
    """:func:`release_schema` only when its file is the one the manifest lists (its
    checksum matches, not a link): an edited schema is reported at level 1, never read."""
    file = path / SCHEMA
    try:
        entry = read_manifest(path)["files"].get(SCHEMA)
    except ClaimwireError:
        return None
    if not isinstance(entry, dict) or file.is_symlink() or not file.is_file():
        return None
    return release_schema(path) if sha256(file) == entry.get("sha256") else None


def validate(
    path: Path, max_level: int = MAX_LEVEL, warnings: bool = False, *, staged: bool = False
) -> Problems:
    """Validate a release at every level, level 4 against the release's own schema; the
    manifest's gold summary is recomputed with that schema, and the task definitions the
    release carries are loaded with it."""
    schema = _verified_schema(path) if max_level >= 4 else None
    problems = validate_release(
        path, max_level, schema_check(schema) if schema else None, warnings, staged=staged
    )
    if max_level >= 4 and not any(p.level == 1 for p in problems):
        if schema is not None:
            problems.extend(_summary_problems(path, schema))
        problems.extend(_task_problems(path, schema or load_schema()))
    return problems


def legacy_note(path: Path) -> str | None:
    """A warning for a release whose manifest carries no digest of its own (built before
    manifests had one): its counts and summary are recomputed, its other fields are not
    protected."""
    try:
        manifest = read_manifest(path)
    except ClaimwireError:
        return None
    if DIGEST in manifest:
        return None
    return (
        f"release {manifest.get('version', path.name)} is a legacy release: its MANIFEST.json "
        f"has no {DIGEST}; counts, splits, gold summary and file checksums were checked "
        "against the files, dates and other fields cannot be"
    )
