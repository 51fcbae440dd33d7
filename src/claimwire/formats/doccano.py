"""doccano JSONL: span labels and relations, one document per line.

doccano exports a sequence-labelling project with relations as
``{"id", "text", "entities": [{"id", "label", "start_offset", "end_offset"}],
"relations": [{"id", "from_id", "to_id", "type"}], "Comments": []}`` and one without
relations as ``{"id", "text", "label": [[start, end, "LABEL"]], "Comments": []}``. Columns it
was given at import come back as top-level keys: ``doc_id`` names our document (else the
document is found by its text). Offsets are code points, ends exclusive, as ours. A line's
spans come from whichever of ``entities``, ``label`` (``labels``) holds some; doccano never
writes two, and a line that does is refused (reading one would drop the other's spans).

doccano carries neither attributes nor document-level items (SURVEY, STANCE): both are losses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.errors import shown
from claimwire.formats.base import (
    DocumentLookup,
    Imported,
    Loss,
    Place,
    by_document,
    is_integer,
    span_annotation,
)
from claimwire.model import Annotation, Document, Relation

FORMAT = "doccano"


def to_doccano(
    documents: Iterable[Document],
    annotations: Iterable[Annotation],
    relations: Iterable[Relation],
    first: int = 1,
) -> tuple[list[dict[str, Any]], list[Loss]]:
    """One doccano line per document (relation-extraction shape, numbered from ``first``), and
    what it lost."""
    by_doc, links = by_document(annotations, relations)
    lines: list[dict[str, Any]] = []
    losses: list[Loss] = []
    for number, document in enumerate(documents, start=first):
        numbers: dict[str, int] = {}
        entities = []
        for annotation in by_doc.get(document.id, []):
            if not annotation.is_span:
                losses.append(Loss("document-item", annotation.id, annotation.label))
                continue
            numbers[annotation.id] = len(numbers) + 1
            entities.append(
                {
                    "id": numbers[annotation.id],
                    "label": annotation.label,
                    "start_offset": annotation.start,
                    "end_offset": annotation.end,
                }
            )
            losses += [
                Loss("attribute", annotation.id, f"{name}={value!r}")
                for name, value in annotation.attributes.items()
            ]
        kept: list[dict[str, Any]] = []
        for relation in links.get(document.id, []):
            if relation.head not in numbers or relation.tail not in numbers:
                losses.append(Loss("relation", relation.id, f"{relation.type}: an end is lost"))
                continue
            kept.append(
                {
                    "id": len(kept) + 1,
                    "from_id": numbers[relation.head],
                    "to_id": numbers[relation.tail],
                    "type": relation.type,
                }
            )
            losses += [
                Loss("relation-attribute", relation.id, f"{name}={value!r}")
                for name, value in relation.attributes.items()
            ]
        lines.append(
            {
                "id": number,
                "text": document.text,
                "doc_id": document.id,
                "entities": entities,
                "relations": kept,
                "Comments": [],
            }
        )
    return lines, losses


SPAN_KEYS = ("entities", "label", "labels")
"""The keys a line's spans may come under: doccano's relation export (``entities``), its
sequence-labelling export (``label``; ``labels`` in older versions and other tools)."""


def span_keys(line: Mapping[str, Any]) -> list[str]:
    """The keys of :data:`SPAN_KEYS` that give ``line`` spans (a non-empty value). doccano
    writes one: a line giving two (a file merged by hand) is refused, since reading one
    would drop the other's spans and reading both could give a span twice."""
    return [key for key in SPAN_KEYS if line.get(key)]


def _entities(line: Mapping[str, Any]) -> Iterator[tuple[Any, Any, Any, Any]]:
    """``(id, start, end, label)`` from either export shape (the one whose key holds spans,
    :func:`span_keys`)."""
    given = span_keys(line)
    if not given:
        return
    if given == ["entities"]:
        for entity in line.get("entities") or []:
            if not isinstance(entity, Mapping):
                yield None, None, None, None
                continue
            yield (
                entity.get("id"),
                entity.get("start_offset"),
                entity.get("end_offset"),
                entity.get("label"),
            )
    else:
        for i, item in enumerate(line[given[0]] if isinstance(line[given[0]], list) else [0]):
            if isinstance(item, list) and len(item) == 3:
                yield i, item[0], item[1], item[2]
            else:
                yield None, None, None, None


def _key(value: Any) -> str:
    """An id as JSON gives it: ``1`` is not ``"1"`` nor ``true``, and a list is an id too."""
    return json.dumps(value, sort_keys=True)


@dataclass(slots=True)
class _Ids:
    """The ids of a line's entities (or relations) so far: an item giving an earlier one's id
    is a problem, never a silent replacement (a relation would go to the later entity)."""

    field: str
    problems: list[str]
    items: dict[str, int] = dataclass_field(default_factory=dict)

    def first(self, item_id: Any, number: int) -> bool:
        """Whether item ``number``'s ``item_id`` (None: no id, none to give twice) is new."""
        if item_id is None:
            return True
        earlier = self.items.setdefault(_key(item_id), number)
        if earlier != number:
            self.problems.append(
                f"{self.field}: item {number}: duplicate id {shown(item_id)} "
                f"(first at item {earlier})"
            )
        return earlier == number


def from_doccano(
    lines: Iterable[tuple[int, Mapping[str, Any]]],
    documents: Mapping[str, Document],
    schema: Schema,
    path: Path,
    author: str,
) -> Iterator[Imported]:
    """Records from ``(line number, object)`` pairs, a line's at a time; problems are located
    ``file:line`` lines."""
    lookup = DocumentLookup(documents)
    out = Imported()
    problems = out.problems
    for lineno, line in lines:
        yield out.take()
        problems = out.problems
        where = f"{path}:{lineno}"
        text = line.get("text")
        doc_id = line.get("doc_id") or (line.get("meta") or {}).get("doc_id")
        if doc_id is None and isinstance(text, str):
            found = lookup.by_text(text)
            doc_id = found.id if found is not None else None
        document = lookup.by_id(str(doc_id)) if doc_id is not None else None
        if document is None:
            problems.append(
                f"{where}: field 'doc_id': {doc_id!r} is not a document of the release "
                "(and no document has this text)"
            )
            continue
        mismatch = lookup.texts.problem(where, text, document)
        if mismatch is not None or not isinstance(text, str):
            problems.append(f"{where}: field 'text': {mismatch}")
            continue
        if len(given := span_keys(line)) > 1:
            problems.append(
                f"{where}: fields {' and '.join(repr(k) for k in given)} both give spans; "
                "a doccano export gives one (entities with relations, else label): keep one"
            )
            continue
        out.meet(document.id, Place(path, "line", lineno))
        ids: dict[str, str] = {}
        entity_ids = _Ids(f"{where}: field 'entities'", problems)
        for number, (entity_id, start, end, label) in enumerate(_entities(line), start=1):
            if not (is_integer(start) and is_integer(end) and isinstance(label, str)):
                problems.append(
                    f"{where}: field 'entities': item {number}: expected start_offset, "
                    "end_offset (integers) and label"
                )
                continue
            if not entity_ids.first(entity_id, number):
                continue
            ann_id = f"{document.id}:{author}-{lineno}.{number}"
            if entity_id is not None:  # an entity without an id is no relation's end
                ids[_key(entity_id)] = ann_id
            layer = schema.labels[label].layer if label in schema.labels else ""
            out.annotations.append(
                (
                    path,
                    lineno,
                    span_annotation(ann_id, document.id, layer, label, text, start, end, author),
                )
            )
        relation_ids = _Ids(f"{where}: field 'relations'", problems)
        for number, link in enumerate(line.get("relations") or [], start=1):
            if not isinstance(link, Mapping):
                problems.append(f"{where}: field 'relations': item {number}: expected an object")
                continue
            if not relation_ids.first(link.get("id"), number):
                continue
            head, tail = ids.get(_key(link.get("from_id"))), ids.get(_key(link.get("to_id")))
            if head is None or tail is None:
                problems.append(
                    f"{where}: field 'relations': item {number}: from_id/to_id "
                    f"{link.get('from_id')!r}/{link.get('to_id')!r} name no entity of the line"
                )
                continue
            out.relations.append(
                (
                    path,
                    lineno,
                    Relation(
                        f"{document.id}:{author}-rel-{lineno}.{number}",
                        document.id,
                        str(link.get("type")),
                        head,
                        tail,
                        {},
                        author,
                    ),
                )
            )
    yield out.take()
