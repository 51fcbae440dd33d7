"""Label Studio's JSON-MIN export: one flat object per annotation, no result ids.

Label Studio writes each task's data fields (``doc_id``, ``text``) at the top level, then one
key per control (``from_name``): the span control ``label`` as a list of
``{"start", "end", "text", "labels"}``; a per-region Number as a list of
``{"start", "end", "text", "number"}``; per-region Choices and TextAreas as bare values
(a list, or a single value when there is one); document-level controls as bare values; and
``annotator``, ``annotation_id``, ``created_at``… A bare per-region value no longer says
which region it belongs to, and relations are not exported at all.

:func:`results_of` rebuilds full-export results, so the full export's converter does the
rest: a bare value is given to its label's regions in order only when there is one value
per region; otherwise it is a reported loss. That the format has no relations is a
:data:`NOTE`, not a loss: an export's relations are lost before the file is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from claimwire.annotation.label_studio.client import PullResult, annotator_name
from claimwire.annotation.label_studio.config import LABELS, SEP, TEXT
from claimwire.annotation.label_studio.convert import Converted, Result, from_results, to_results
from claimwire.annotation.schema import Schema
from claimwire.errors import shown
from claimwire.formats.base import Loss
from claimwire.formats.texts import TextCheck
from claimwire.model import Annotation, Document, Relation

META_KEYS = frozenset(
    {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "text"}
)
KINDS = {"number": "number", "choices": "choices", "text": "textarea"}


def is_json_min(tasks: Sequence[Any]) -> bool:
    """A JSON-MIN export: objects without the full export's ``data`` and ``annotations``."""
    return bool(tasks) and all(
        isinstance(t, Mapping) and "data" not in t and "annotations" not in t for t in tasks
    )


def _values(raw: Any) -> list[Any]:
    return list(raw) if isinstance(raw, list) else [raw]


def _choice(value: Any) -> Result:
    return {"choices": [value]} if not isinstance(value, list) else {"choices": value}


def results_of(
    task: Mapping[str, Any], schema: Schema, where: str
) -> tuple[list[Result], list[Loss]]:
    """Full-export results rebuilt from one JSON-MIN object, and what could not be."""
    results: list[Result] = []
    losses: list[Loss] = []
    regions: dict[str, list[str]] = defaultdict(list)
    spans: dict[tuple[str, int, int], str] = {}
    offsets: dict[str, dict[str, Any]] = {}
    for number, region in enumerate(_values(task.get(LABELS) or []), start=1):
        if not isinstance(region, Mapping):
            losses.append(Loss("malformed", where, f"{LABELS} item {number}"))
            continue
        rid = f"r{number}"
        label = str((region.get("labels") or [""])[0])
        regions[label].append(rid)
        spans[(label, region.get("start", -1), region.get("end", -1))] = rid
        offsets[rid] = {"start": region.get("start"), "end": region.get("end")}
        results.append(
            {"id": rid, "from_name": LABELS, "to_name": TEXT, "type": "labels", "value": region}
        )
    for key, raw in task.items():
        owner, separator, _ = key.partition(SEP)
        if key in META_KEYS or key == LABELS:
            continue
        if not separator:  # a data field of the task, or the span control of another config
            if raw and all(isinstance(v, Mapping) and "labels" in v for v in _values(raw)):
                losses.append(
                    Loss(
                        "unknown-control",
                        where,
                        f"{key}: span labels are read from the control {LABELS!r} of the "
                        "configs `annotate config` writes",
                    )
                )
            continue
        spec = schema.labels.get(owner)
        if spec is None or not spec.is_span:  # document-level controls: one bare value
            results.append(
                {"from_name": key, "to_name": TEXT, "type": "choices", "value": _choice(raw)}
            )
            continue
        values = _values(raw)
        if all(isinstance(v, Mapping) and "start" in v for v in values):
            given: dict[str, Any] = {}  # each region's value of this control
            for value in values:
                placed = spans.get((owner, value.get("start"), value.get("end")))
                if placed is None:
                    losses.append(Loss("unplaced-value", where, f"{key} at {value.get('start')}"))
                    continue
                if placed in given:
                    losses.append(_again(key, value, given[placed], where))
                    continue
                given[placed] = value
                kind = next((k for k in KINDS if k in value), "choices")
                results.append(
                    {
                        "id": placed,
                        "from_name": key,
                        "to_name": TEXT,
                        "type": KINDS[kind],
                        "value": dict(value),
                    }
                )
        elif len(values) == len(regions[owner]):
            for rid, value in zip(regions[owner], values, strict=True):
                results.append(
                    {
                        "id": rid,
                        "from_name": key,
                        "to_name": TEXT,
                        "type": "choices",
                        "value": {**offsets[rid], **_choice(value)},
                    }
                )
        else:
            losses.append(
                Loss(
                    "unplaced-value",
                    where,
                    f"{key}: {len(values)} values for {len(regions[owner])} {owner} regions; "
                    "JSON-MIN does not say which region each belongs to (use the JSON export)",
                )
            )
    return results, losses


def _again(key: str, value: Mapping[str, Any], kept: Mapping[str, Any], where: str) -> Loss:
    """The loss of a second value of control ``key`` for one region (the first is kept)."""
    shown_value = {k: v for k, v in value.items() if k not in ("start", "end", "text")}
    shown_kept = {k: v for k, v in kept.items() if k not in ("start", "end", "text")}
    return Loss(
        "repeated-value",
        where,
        f"{key} at {value.get('start')}–{value.get('end')}: {shown(shown_value)} given again "
        f"for one region (kept the first, {shown(shown_kept)})",
    )


def from_json_min(
    tasks: Iterable[Mapping[str, Any]],
    documents: Mapping[str, Document],
    schema: Schema,
    source: str = "export",
) -> tuple[PullResult, list[Loss]]:
    """A JSON-MIN export → one annotation set per annotator, with what JSON-MIN lost."""
    pulled = PullResult()
    losses: list[Loss] = []
    texts = TextCheck()
    for number, task in enumerate(tasks, start=1):
        pulled.tasks += 1
        found = from_task(number, task, documents, schema, source, pulled.problems, losses, texts)
        if found is not None:
            author, converted = found
            doc_id = str(task.get("doc_id"))
            pulled.sets.add(
                author, doc_id, task.get("id", number), task.get("annotation_id"), converted
            )
    return pulled, losses


NOTE = (
    "JSON-MIN exports carry no relations: those the annotators drew are not in the file "
    "(the full JSON export keeps them: `claimwire annotate pull --from-file`)"
)
"""What every JSON-MIN import is told: a note on the format, not a loss (a file holds no
relation an import could lose)."""


def from_task(
    number: int,
    task: Mapping[str, Any],
    documents: Mapping[str, Document],
    schema: Schema,
    source: str,
    problems: list[str],
    losses: list[Loss],
    texts: TextCheck,
) -> tuple[str, Converted] | None:
    """Task ``number`` of an export → its annotator and records (None when its document is
    not the release's); its problems and losses appended to ``problems`` and ``losses``;
    ``texts``: the export's comparison of texts."""
    where = f"{source}: item {number}"
    document = documents.get(str(task.get("doc_id")))
    if document is None:
        problems.append(
            f"{where}: field 'doc_id': {task.get('doc_id')!r} is not a document of the release"
        )
        return None
    mismatch = None if task.get(TEXT) is None else texts.problem(where, task[TEXT], document)
    if mismatch is not None:
        problems.append(f"{where}: field 'text': {mismatch}")
        return None
    author = annotator_name({"completed_by": task.get("annotator")}, {})
    results, lost = results_of(task, schema, where)
    losses += lost
    converted = from_results(results, document, schema, author, f"{where} ({author}): ")
    problems += converted.problems
    return author, converted


def _bare(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def to_json_min(
    document: Document,
    annotations: Sequence[Annotation],
    relations: Sequence[Relation],
    schema: Schema,
    annotator: int = 1,
) -> tuple[dict[str, Any], list[Loss]]:
    """One document's annotation set as Label Studio writes it in a JSON-MIN export."""
    outputs: dict[str, list[Any]] = defaultdict(list)
    losses = [Loss("relation", r.id, r.type) for r in relations]
    for result in to_results(annotations, relations, schema, document.text):
        if result.get("type") == "relation":
            continue
        value = result["value"]
        if result["type"] in ("labels", "number"):
            outputs[result["from_name"]].append(dict(value))
        else:
            outputs[result["from_name"]] += value.get("choices") or value.get("text") or []
    record: dict[str, Any] = {"doc_id": document.id, "text": document.text, "id": 1}
    record |= {key: _bare(values) for key, values in outputs.items()}
    return record | {"annotator": annotator, "annotation_id": 1}, losses
