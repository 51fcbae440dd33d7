"""Pure converters between annotation sets and Label Studio results (both directions).

Label Studio exports a region and each of its per-region attributes as separate result
items sharing the region's ``id``; relations as ``{"type": "relation", "from_id", "to_id",
"labels"}``; document-level choices without a region. ``from_results`` re-joins them, types
the values by the schema, and reports — never keeps — a region whose text is not the
document's text at its offsets (the server accepts anything).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from claimwire.annotation.label_studio.config import (
    CHOICE_SEP,
    CUE_RELATION,
    ISSUER,
    LABELS,
    SEP,
    STANCE_LABEL,
    TEXT,
    control,
    parse_stance_choice,
)
from claimwire.annotation.schema import Attribute, Schema
from claimwire.errors import shown
from claimwire.model import Annotation, Document, Quote, Relation, replaced

Result = dict[str, Any]


def region_id(annotation_id: str) -> str:
    """A short, stable Label Studio region id for one of our annotation ids."""
    return hashlib.sha1(annotation_id.encode("utf-8")).hexdigest()[:10]


def _value_of(attribute: Attribute, value: Any) -> tuple[str, dict[str, Any]]:
    if attribute.type in ("choice", "boolean"):
        return "choices", {
            "choices": [str(value).lower() if attribute.type == "boolean" else str(value)]
        }
    if attribute.type == "decimal":
        return "number", {"number": float(Decimal(str(value)))}
    return "textarea", {"text": [str(value)]}


def to_results(
    annotations: Iterable[Annotation], relations: Iterable[Relation], schema: Schema, text: str
) -> list[Result]:
    """Our annotations and relations as Label Studio results for one document."""
    results: list[Result] = []
    by_id = {a.id: a for a in annotations}
    stances: dict[str, list[tuple[str, str]]] = {}
    for annotation in by_id.values():
        spec = schema.labels[annotation.label]
        if spec.scope == "either":
            continue  # a TARGET is given with the task (its data), not annotated
        if annotation.is_span:
            assert annotation.start is not None and annotation.end is not None
            rid = region_id(annotation.id)
            span = {
                "start": annotation.start,
                "end": annotation.end,
                "text": text[annotation.start : annotation.end],
            }
            results.append(
                {
                    "id": rid,
                    "from_name": LABELS,
                    "to_name": TEXT,
                    "type": "labels",
                    "value": {**span, "labels": [annotation.label]},
                }
            )
            for name, value in annotation.attributes.items():
                attribute = spec.attributes.get(name)
                if attribute is None or attribute.type == "ref" or value is None:
                    continue
                kind, payload = _value_of(attribute, value)
                results.append(
                    {
                        "id": rid,
                        "from_name": control(annotation.label, name),
                        "to_name": TEXT,
                        "type": kind,
                        "value": {**span, **payload},
                    }
                )
        elif annotation.label == STANCE_LABEL:
            holder = str(annotation.attributes.get("holder"))
            target = str(annotation.attributes.get("target"))
            stance = str(annotation.attributes.get("stance"))
            if target in schema.stance_targets:  # a schema before 1.1.0: one control each
                stances.setdefault(holder, []).append((control("", "stance", target), stance))
            else:
                stances.setdefault(holder, []).append(("", f"{target}{CHOICE_SEP}{stance}"))
        else:
            for name, value in annotation.attributes.items():
                attribute = spec.attributes.get(name)
                if attribute is None or value is None:
                    continue
                kind, payload = _value_of(attribute, value)
                results.append(
                    {
                        "id": region_id(f"{annotation.id}:{name}"),
                        "from_name": control(annotation.label, name),
                        "to_name": TEXT,
                        "type": kind,
                        "value": payload,
                    }
                )
    results += _stance_results(stances, by_id, text)
    for relation in relations:
        if relation.head not in by_id or relation.tail not in by_id:
            continue
        head, tail = region_id(relation.head), region_id(relation.tail)
        labels = [relation.type]
        if relation.attributes.get("quote_type"):
            labels.append(str(relation.attributes["quote_type"]))
        if by_id[relation.head].is_span and by_id[relation.tail].is_span:
            results.append(
                {
                    "type": "relation",
                    "from_id": head,
                    "to_id": tail,
                    "direction": "right",
                    "labels": labels,
                }
            )
        cue = relation.attributes.get("cue")
        if cue in by_id:
            results.append(
                {
                    "type": "relation",
                    "from_id": head,
                    "to_id": region_id(str(cue)),
                    "direction": "right",
                    "labels": [CUE_RELATION],
                }
            )
    return results


def _stance_results(
    stances: dict[str, list[tuple[str, str]]], by_id: dict[str, Annotation], text: str
) -> list[Result]:
    """Per holder, one multiple-choice result (``<target id>=<stance>`` choices) or, for
    targets an older schema lists, one single-choice result per target (``(suffix, value)``
    pairs: the suffix ``__stance__T`` names the per-target control). The issuer's are
    document-level; a source's sit on its region."""
    results: list[Result] = []
    for holder, pairs in stances.items():
        owner = ISSUER if holder == ISSUER else "SOURCE"
        if holder != ISSUER and holder not in by_id:
            continue
        groups: dict[str, list[str]] = {}
        for suffix, choice in pairs:
            groups.setdefault(suffix or control("", "stance"), []).append(choice)
        for suffix, choices in groups.items():
            name = owner + suffix
            if holder == ISSUER:
                rid = region_id(f"{ISSUER}:{suffix}")
                value: dict[str, Any] = {"choices": choices}  # document-level
            else:
                source = by_id[holder]
                assert source.start is not None and source.end is not None
                rid = region_id(holder)
                value = {
                    "start": source.start,
                    "end": source.end,
                    "text": text[source.start : source.end],
                    "choices": choices,
                }
            results.append(
                {"id": rid, "from_name": name, "to_name": TEXT, "type": "choices", "value": value}
            )
    return results


@dataclass
class Converted:
    annotations: list[Annotation] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _typed(attribute: Attribute, value: Any) -> Any:
    """A Label Studio value typed by the schema; left as it came when it cannot be, so
    :meth:`Attribute.problem` names what was expected."""
    if attribute.type == "boolean" and str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    if attribute.type == "decimal" and not isinstance(value, bool):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return value
        return format(number.normalize(), "f") if number.is_finite() else value
    return value


def _payload(result: Result) -> Any:
    value = result.get("value", {})
    for key in ("choices", "number", "text"):
        if key in value and not (key == "text" and result.get("type") == "labels"):
            item = value[key]
            return item[0] if isinstance(item, list) and len(item) == 1 else item
    return None


def _outside(start: int, end: int, length: int) -> str | None:
    """What is wrong with a region ``[start, end)`` on a text of ``length`` characters, or
    None when the text holds it."""
    if start < 0 or end <= start:
        return "expected 0 <= start < end"
    if end > length:
        return f"it ends past the document's {length} characters"
    return None


def _attribute(
    attribute: Attribute, result: Result, where: str, problems: list[str]
) -> tuple[bool, Any]:
    """``(True, value)`` for a value the schema accepts; else the problem is reported
    (the attribute is left out) and ``(False, None)``."""
    value = _typed(attribute, _payload(result))
    problem = attribute.problem(value)
    if attribute.type == "decimal" and problem is None and not isinstance(value, str):
        problem = "expected a number"
    if problem is None:
        return True, value
    problems.append(
        f"{where}{result.get('from_name')}: value {shown(value)}: {problem}; attribute left out"
    )
    return False, None


def _not_read(result: Result, where: str, why: str) -> str:
    return (
        f"{where}result {result.get('id')!r} (control {shown(result.get('from_name'))}, "
        f"type {shown(result.get('type'))}): {why}; skipped"
    )


def _repeated(result: Result, kept: Result, where: str, problems: list[str]) -> None:
    """A second result of one control for one region (or the document), left out: the first
    is kept (Label Studio stores whatever a client sends); reported when its value differs."""
    what, first = (_payload(r) if r.get("type") != "labels" else r["value"].get("labels")
                   for r in (result, kept))  # fmt: skip
    if what != first:
        problems.append(
            f"{where}control {shown(result.get('from_name'))}: {shown(what)} given again "
            f"(kept the first, {shown(first)}); left out"
        )


def from_results(
    results: Sequence[Result],
    document: Document,
    schema: Schema,
    author: str,
    where: str = "",
    targets: Sequence[Annotation] = (),
) -> Converted:
    """One annotator's Label Studio results on one document, as our records. ``targets``
    are the TARGET items the task gave: they join the set when the annotator judged a
    stance toward them."""
    out = Converted()
    regions: dict[str, Result] = {}
    extras: dict[str, list[Result]] = defaultdict(list)
    document_level: list[Result] = []
    links: list[Result] = []
    foreign: set[str] = set()  # regions of another span control: reported once, with theirs
    for result in results:
        if not isinstance(result, dict) or (
            result.get("type") != "relation" and not isinstance(result.get("value"), dict)
        ):
            out.problems.append(f"{where}result {shown(result)}: expected a Label Studio result")
        elif result.get("type") == "relation":
            links.append(result)
        elif result.get("from_name") == LABELS:
            rid = str(result.get("id"))
            if rid in regions:
                _repeated(result, regions[rid], f"{where}region {rid} ", out.problems)
            else:
                regions[rid] = result
        elif result.get("type") == "labels":
            foreign.add(str(result.get("id")))
            out.problems.append(
                _not_read(
                    result,
                    where,
                    f"span labels are read from the control {LABELS!r} of the configs "
                    "`annotate config` writes",
                )
            )
        elif "start" in result["value"]:
            extras[str(result.get("id"))].append(result)
        else:
            document_level.append(result)
    ids: dict[str, str] = {}
    for rid, region in regions.items():
        value = region.get("value", {})
        start, end, labels = value.get("start"), value.get("end"), value.get("labels") or []
        label = str(labels[0]) if labels else ""
        if (
            label not in schema.labels
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end))
            or len(labels) != 1
        ):
            out.problems.append(
                f"{where}region {rid}: expected one label of the schema and integer offsets, "
                f"got labels {shown(labels)}, start {shown(start)}, end {shown(end)}; skipped"
            )
            continue
        outside = _outside(start, end, len(document.text))
        expected = document.text[start:end]
        if outside is None and value.get("text") not in (None, expected):
            outside = f"its text {value['text']!r} is not the document's text there {expected!r}"
        if outside is not None:
            out.problems.append(
                f"{where}region {rid} ({label}) [{start}, {end}): {outside}; skipped"
            )
            continue
        attributes: dict[str, Any] = {}
        given: dict[str, Result] = {}
        for extra in extras.get(rid, []):
            owner, _, name = str(extra.get("from_name")).partition(SEP)
            attribute = schema.attribute(label, name) if owner == label else None
            if attribute is not None and name in given:
                _repeated(extra, given[name], f"{where}region {rid} ", out.problems)
            elif attribute is not None:
                given[name] = extra
                kept, typed = _attribute(attribute, extra, f"{where}region {rid} ", out.problems)
                if kept:
                    attributes[name] = typed
            elif not (owner == "SOURCE" == label and name.partition(SEP)[0] == "stance"):
                out.problems.append(
                    _not_read(extra, f"{where}region {rid} ({label}) ", "not an attribute of it")
                )
        ann_id = f"{document.id}:{author}-{rid}"
        ids[rid] = ann_id
        out.annotations.append(
            Annotation(
                ann_id,
                document.id,
                schema.labels[label].layer,
                label,
                start,
                end,
                Quote.from_text(document.text, start, end),
                attributes,
                author,
            )
        )
    for rid, group in extras.items():
        if rid not in regions and rid not in foreign:
            out.problems += [_not_read(extra, where, "it belongs to no region") for extra in group]
    out.annotations += _document_items(
        document, document_level, extras, ids, schema, author, where, out.problems
    )
    judged = {a.attributes.get("target") for a in out.annotations if a.label == STANCE_LABEL}
    out.annotations += [replaced(t, author=author) for t in targets if t.id in judged]
    out.relations = _relations(document, links, ids, author, out.problems, where, schema)
    out.relations += _survey_links(out.annotations, schema, author, len(out.relations))
    return out


def _survey_links(
    annotations: list[Annotation], schema: Schema, author: str, numbered: int
) -> list[Relation]:
    """A Label Studio project has one SURVEY per document (document-level choices), so its
    poll figures and evidence spans belong to it: ``from_survey`` and ``evidence_of``."""
    survey = next((a for a in annotations if schema.is_survey(a.label)), None)
    if survey is None:
        return []
    links = []
    for relation in schema.relations.values():
        if relation.tail != (survey.label,):
            continue
        for annotation in annotations:
            if annotation.label in relation.head:
                numbered += 1
                links.append(
                    Relation(
                        f"{survey.doc_id}:{author}-rel-{numbered}",
                        survey.doc_id,
                        relation.name,
                        annotation.id,
                        survey.id,
                        {},
                        author,
                    )
                )
    return links


def _document_items(
    document: Document,
    results: list[Result],
    extras: dict[str, list[Result]],
    ids: dict[str, str],
    schema: Schema,
    author: str,
    where: str,
    problems: list[str],
) -> list[Annotation]:
    items: list[Annotation] = []
    grouped: dict[str, dict[str, Any]] = defaultdict(dict)
    given: dict[str, Result] = {}
    for result in results:
        owner, _, rest = str(result.get("from_name")).partition(SEP)
        name, _, legacy = rest.partition(SEP)
        attribute = schema.attribute(owner, name)
        if owner == ISSUER and name == "stance":
            items += _stances(
                document, ISSUER, "issuer", result, author, schema, legacy, where, problems
            )
        elif attribute is not None and not schema.labels[owner].is_span:
            control = f"{owner}{SEP}{name}"
            if control in given:
                _repeated(result, given[control], where, problems)
                continue
            given[control] = result
            kept, typed = _attribute(attribute, result, where, problems)
            if kept:
                grouped[owner][name] = typed
        else:
            problems.append(_not_read(result, where, "no document-level control of the schema"))
    for owner, attributes in grouped.items():
        items.append(
            Annotation(
                f"{document.id}:{author}-{owner.lower()}",
                document.id,
                schema.labels[owner].layer,
                owner,
                attributes=attributes,
                author=author,
            )
        )
    for rid, group in extras.items():
        for extra in group:
            owner, _, rest = str(extra.get("from_name")).partition(SEP)
            name, _, legacy = rest.partition(SEP)
            if owner == "SOURCE" and name == "stance" and rid in ids:
                items += _stances(
                    document, ids[rid], rid, extra, author, schema, legacy, where, problems
                )
    return items


def _stances(
    document: Document,
    holder: str,
    key: str,
    result: Result,
    author: str,
    schema: Schema,
    legacy: str,
    where: str,
    problems: list[str],
) -> list[Annotation]:
    """The STANCE items of one holder's result: ``<target id>=<stance>`` choices, or the
    one stance of a per-target control (``legacy``: that target). A choice whose stance the
    schema does not know, or that names no target, is reported and left out."""
    items = []
    values = schema.attribute(STANCE_LABEL, "stance")
    choices = result.get("value", {}).get("choices") or []
    for choice in choices if isinstance(choices, list) else [choices]:
        target, stance = (legacy, str(choice)) if legacy else parse_stance_choice(str(choice))
        problem = "names no target" if not target else values and values.problem(stance)
        if problem:
            problems.append(
                f"{where}{result.get('from_name')}: choice {shown(choice)}: {problem}; left out"
            )
            continue
        local = target.rpartition(":")[2]
        items.append(
            Annotation(
                f"{document.id}:{author}-stance-{key}-{local}",
                document.id,
                "stance",
                STANCE_LABEL,
                attributes={"holder": holder, "target": target, "stance": stance},
                author=author,
            )
        )
    return items


def _relations(
    document: Document,
    links: list[Result],
    ids: dict[str, str],
    author: str,
    problems: list[str],
    where: str,
    schema: Schema,
) -> list[Relation]:
    relations: list[Relation] = []
    cues: dict[str, str] = {}
    for link in links:
        if (
            CUE_RELATION in (link.get("labels") or [])
            and link.get("from_id") in ids
            and link.get("to_id") in ids
        ):
            cues[ids[link["from_id"]]] = ids[link["to_id"]]
    for link in links:
        labels = list(link.get("labels") or [])
        head, tail = ids.get(str(link.get("from_id"))), ids.get(str(link.get("to_id")))
        if CUE_RELATION in labels:
            continue
        if head is None or tail is None:
            problems.append(
                f"{where}relation {link.get('from_id')} → {link.get('to_id')}: an end was "
                "skipped or is missing; relation skipped"
            )
            continue
        kind = next((label for label in labels if label in schema.relations), None)
        if kind is None:
            problems.append(
                f"{where}relation {link.get('from_id')} → {link.get('to_id')}: no relation "
                f"type among its labels {labels}; skipped"
            )
            continue
        attributes: dict[str, Any] = {}
        quote_type = schema.relations[kind].attributes.get("quote_type")
        chosen = [
            label for label in labels if quote_type is not None and label in quote_type.values
        ]
        if chosen:
            attributes["quote_type"] = chosen[0]
        if head in cues:
            attributes["cue"] = cues[head]
        relations.append(
            Relation(
                f"{document.id}:{author}-rel-{len(relations) + 1}",
                document.id,
                kind,
                head,
                tail,
                attributes,
                author,
            )
        )
    return relations
