"""Stance targets of a document: its TARGET items (since schema 1.1.0), or, for releases
annotated with an older schema, the targets that schema listed for every document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from claimwire.annotation.schema import Schema
from claimwire.model import Annotation

TARGET = "TARGET"


@dataclass(frozen=True, slots=True)
class Target:
    """A stance target: its id (what STANCE ``target`` holds), name and the words naming it."""

    id: str
    name: str
    words: tuple[str, ...] = ()


def target_of(annotation: Annotation, text: str | None = None) -> Target:
    """A TARGET item as a :class:`Target`: its name, its aliases and its anchored text."""
    name = str(annotation.attributes.get("name") or annotation.id)
    aliases = str(annotation.attributes.get("aliases") or "").split(";")
    words = [name, *aliases]
    if text is not None and annotation.start is not None and annotation.end is not None:
        words.append(text[annotation.start : annotation.end])
    return Target(annotation.id, name, tuple(dict.fromkeys(w.strip() for w in words if w.strip())))


def targets_of(
    items: Iterable[Annotation], schema: Schema | None = None, text: str | None = None
) -> list[Target]:
    """One document's targets: its TARGET items, else the older schema's shared list."""
    found = [target_of(a, text) for a in items if a.label == TARGET]
    if found or schema is None:
        return found
    return [Target(t.id, t.name, (t.name,)) for t in schema.stance_targets.values()]


def document_targets(
    annotations: Iterable[Annotation],
    schema: Schema | None = None,
    texts: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Target]]:
    """``{doc_id: {target id: Target}}`` for every document ``annotations`` touch (see
    :func:`targets_of`)."""
    by_document: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        by_document.setdefault(annotation.doc_id, []).append(annotation)
    return {
        doc_id: {t.id: t for t in targets_of(items, schema, texts.get(doc_id) if texts else None)}
        for doc_id, items in by_document.items()
    }
