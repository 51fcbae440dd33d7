"""Build a release with the schema and the gold wired in: what ``claimwire corpus build``
runs (the corpus layer knows neither schemas nor gold; this module plugs them in)::

    report = build(Path("corpus/raw"), Path("corpus/releases"), "0.2.0", gold=Path("gold"))
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from claimwire.annotation.checks import validate as validate_release
from claimwire.annotation.gold import gold_files, resolve_gold
from claimwire.annotation.schema import Schema, default_schema_path, load_schema
from claimwire.corpus.duplicates import DEFAULT_THRESHOLD
from claimwire.corpus.release import (
    BuildReport,
    GoldSource,
    ProgressCallback,
    Sharding,
    build_release,
)
from claimwire.engine import Engine
from claimwire.eval.checker import load_annotation_set
from claimwire.model import Annotation, Document, Relation


def is_annotation_set(path: Path) -> bool:
    """An annotation set with offsets (JSONL, e.g. adjudicated gold), not quote-anchored YAML."""
    return path.suffix == ".jsonl" or (path.is_dir() and (path / "annotations.jsonl").exists())


def gold_source(gold: Path, schema: Schema) -> GoldSource:
    """How the build gets its gold from ``gold``: an annotation set as it is, or quote-anchored
    YAML resolved against the new documents and checked with ``schema``."""
    if is_annotation_set(gold):
        adjudicated = load_annotation_set(gold)

        def taken(documents: Iterator[Document]) -> tuple[list[Annotation], list[Relation]]:
            return list(adjudicated.annotations), list(adjudicated.relations)

        return taken
    files = gold_files(gold)

    def resolved(documents: Iterator[Document]) -> tuple[list[Annotation], list[Relation]]:
        return resolve_gold(files, documents, schema)

    return resolved


def _staged_problems(path: Path) -> list[str]:
    return [str(problem) for problem in validate_release(path, staged=True)]


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
) -> BuildReport:
    """Build ``releases/version`` from ``raw``, shipping the schema (``schema``, else the
    default one when it exists) and validating the staged release with it."""
    schema_path = schema or default_schema_path()
    rules = load_schema(schema_path) if schema or gold or schema_path.exists() else None
    return build_release(
        raw,
        releases,
        version,
        parent=parent,
        gold=gold_source(gold, rules) if gold is not None and rules is not None else None,
        schema_file=schema_path if rules else None,
        schema_version=rules.version if rules else None,
        summarize=rules.summarize if rules else None,
        progress=progress,
        validate=_staged_problems,
        near_duplicates=near_duplicates,
        sharding=sharding,
        engine=engine,
    )
