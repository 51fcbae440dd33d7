"""Validation with the annotation schema: the level-4 checks a release's own schema implies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from claimwire.annotation.schema import Schema, load_schema
from claimwire.corpus.release import SCHEMA
from claimwire.corpus.validate import MAX_LEVEL, Problem, SchemaCheck, validate_release
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
    """The schema a release was built with (its own ``schema.yaml``), if it has one."""
    return load_schema(path / SCHEMA) if (path / SCHEMA).exists() else None


def schema_of(path: Path) -> Schema:
    """The schema of a release: its own copy, else the packaged one."""
    return release_schema(path) or load_schema()


def validate(path: Path, max_level: int = MAX_LEVEL, warnings: bool = False) -> list[Problem]:
    """Validate a release at every level, level 4 against the release's own schema."""
    schema = release_schema(path) if max_level >= 4 else None
    return validate_release(path, max_level, schema_check(schema) if schema else None, warnings)
