"""Adjudication: merge annotators' sets into one gold set.

Items are compared by identity — a span by (document, label, start, end), a stance by
(document, holder, target), a survey by document. An item every set agrees on (same
attributes) is accepted. Otherwise a named policy decides: ``majority`` (an item needs more
than half of the sets — exactly half is not enough; an attribute value without such a
majority is left out and flagged in the conflicts, the item and its relations kept), or
``prefer:NAME`` (that annotator's
version wins, absence included). What the policy cannot decide goes to the conflicts list,
never silently away. Relations are kept when their ends survive and the policy accepts them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import TOLERATED, AnnotationSet
from claimwire.model import Annotation, Relation, replaced
from claimwire.spool import Spool

Key = tuple[Any, ...]


@dataclass
class Adjudication:
    annotations: list[Annotation] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    conflicts: Spool = field(default_factory=Spool)
    """What the policy could not decide, in order (each a JSON object), on disk: two sets
    that differ much disagree on a large share of their items, each listed with every
    version."""
    accepted: int = 0
    resolved: int = 0


def item_key(annotation: Annotation) -> Key:
    if annotation.is_span:
        return (annotation.doc_id, annotation.label, annotation.start, annotation.end)
    if annotation.label == "STANCE":
        attrs = annotation.attributes
        return (annotation.doc_id, "STANCE", attrs.get("holder"), attrs.get("target"))
    return (annotation.doc_id, annotation.label)


def _policy(policy: str, names: Sequence[str]) -> str | None:
    if policy == "majority":
        return None
    if policy.startswith("prefer:") and policy[7:] in names:
        return policy[7:]
    raise ClaimwireError(
        f"unknown policy {policy!r}; expected 'majority' or 'prefer:NAME' with NAME one of "
        f"{', '.join(names)}"
    )


def adjudicate(
    sets: Sequence[AnnotationSet],
    policy: str = "majority",
    author: str = "adjudicated",
    references: frozenset[str] = frozenset({"cue", "holder"}),
) -> Adjudication:
    """Merge ``sets``; ``references`` names the attributes that hold annotation ids (the
    schema's ``ref`` attributes), which are rewritten to the merged ids."""
    if len(sets) < 2:
        raise ClaimwireError("adjudication needs at least two annotation sets")
    names = [s.name for s in sets]
    preferred = _policy(policy, names)
    versions: dict[Key, dict[str, Annotation]] = defaultdict(dict)
    for annotation_set in sets:
        for annotation in annotation_set.annotations:
            versions[item_key(annotation)][annotation_set.name] = annotation
    result = Adjudication()
    id_of: dict[tuple[str, str], str] = {}
    kept: list[tuple[Annotation, dict[str, Annotation]]] = []
    for key, by_set in versions.items():
        merged = _merge(key, by_set, names, preferred, result)
        if merged is None:
            continue
        new_id = f"{key[0]}:adj-{len(kept) + 1}"
        kept.append((replaced(merged, id=new_id, author=author), by_set))
        for name, annotation in by_set.items():
            id_of[(name, annotation.id)] = new_id
    for merged, by_set in kept:
        attributes = dict(merged.attributes)
        for name in references & set(attributes):
            value = attributes[name]
            origin = next((n for n, a in by_set.items() if a.attributes.get(name) == value), None)
            attributes[name] = _reference(id_of, origin, value, merged.id, name, result)
        result.annotations.append(
            replaced(merged, attributes={k: v for k, v in attributes.items() if v is not None})
        )
    _relations(sets, id_of, preferred, result, author, references)
    return result


def _merge(
    key: Key,
    by_set: dict[str, Annotation],
    names: list[str],
    preferred: str | None,
    result: Adjudication,
) -> Annotation | None:
    if preferred is not None:
        winner = by_set.get(preferred)
        unanimous = len(by_set) == len(names) and len({_frozen(a) for a in by_set.values()}) == 1
        result.accepted += unanimous
        result.resolved += winner is not None and not unanimous
        return winner
    if len(by_set) == len(names) and len({_frozen(a) for a in by_set.values()}) == 1:
        result.accepted += 1
        return next(iter(by_set.values()))
    if len(by_set) * 2 <= len(names):
        result.conflicts.append(_conflict(key, by_set, names, "only a minority of sets has it"))
        return None
    attributes: dict[str, Any] = {}
    undecided = []
    for name in sorted({k for a in by_set.values() for k in a.attributes}):
        votes = Counter(repr(a.attributes.get(name)) for a in by_set.values())
        (best, count), *rest = votes.most_common()
        if count * 2 <= len(names) or (rest and rest[0][1] == count):
            undecided.append(name)
            continue
        attributes[name] = next(
            a.attributes.get(name) for a in by_set.values() if repr(a.attributes.get(name)) == best
        )
    if undecided:  # the item has its majority: keep it, and flag what is left to decide
        listed = ", ".join(repr(n) for n in undecided)
        result.conflicts.append(
            _conflict(key, by_set, names, f"no majority for {listed}: kept without it")
        )
    result.resolved += 1
    base = next(iter(by_set.values()))
    return replaced(base, attributes={k: v for k, v in attributes.items() if v is not None})


def _reference(
    id_of: dict[tuple[str, str], str],
    origin: str | None,
    value: Any,
    owner: str,
    name: str,
    result: Adjudication,
) -> Any:
    """The merged id a reference now points to; an undecided target drops the reference and
    says so in the conflicts (literal values such as ``issuer`` pass through)."""
    if (str(origin), str(value)) in id_of:
        return id_of[(str(origin), str(value))]
    if value == "issuer":
        return value
    result.conflicts.append(
        {
            "key": [owner, name],
            "reason": f"{name!r} pointed to {value!r}, "
            "which was not accepted; the reference was dropped",
            "versions": {},
        }
    )
    return None


def _frozen(annotation: Annotation) -> str:
    return repr(sorted(annotation.attributes.items()))


def _conflict(
    key: Key, by_set: dict[str, Annotation], names: list[str], why: str
) -> dict[str, Any]:
    return {
        "key": list(key),
        "reason": why,
        "versions": {n: (by_set[n].to_dict() if n in by_set else None) for n in names},
    }


def _relations(
    sets: Sequence[AnnotationSet],
    id_of: dict[tuple[str, str], str],
    preferred: str | None,
    result: Adjudication,
    author: str,
    references: frozenset[str],
) -> None:
    votes: dict[tuple[str, str, str], list[tuple[str, Relation]]] = defaultdict(list)
    for annotation_set in sets:
        for relation in annotation_set.relations:
            head = id_of.get((annotation_set.name, relation.head))
            tail = id_of.get((annotation_set.name, relation.tail))
            if head and tail:
                votes[(relation.type, head, tail)].append((annotation_set.name, relation))
    for (kind, head, tail), supporters in votes.items():
        names = [n for n, _ in supporters]
        keep = preferred in names if preferred is not None else len(names) * 2 > len(sets)
        if not keep:
            if preferred is None:
                result.conflicts.append(
                    {
                        "key": [kind, head, tail],
                        "reason": "relation of a minority",
                        "versions": {n: r.to_dict() for n, r in supporters},
                    }
                )
            continue
        origin = preferred if preferred is not None else supporters[0][0]
        relation = dict(supporters)[origin]
        attributes = {
            k: _reference(id_of, origin, v, f"{kind} {head} → {tail}", k, result)
            if k in references
            else v
            for k, v in relation.attributes.items()
        }
        attributes = {k: v for k, v in attributes.items() if v is not None}
        doc_id = relation.doc_id
        result.relations.append(
            Relation(
                f"{doc_id}:adj-rel-{len(result.relations) + 1}",
                doc_id,
                kind,
                head,
                tail,
                attributes,
                author,
            )
        )


def reference_attributes(schema: Schema) -> frozenset[str]:
    """The attributes whose values are annotation ids (``ref``): renamed when sets merge."""
    return frozenset(
        name
        for spec in [
            *(label.attributes for label in schema.labels.values()),
            *(relation.attributes for relation in schema.relations.values()),
        ]
        for name, attribute in spec.items()
        if attribute.type == "ref"
    )


def adjudicate_for(
    sets: Sequence[AnnotationSet],
    policy: str,
    schema: Schema,
    document_ids: Collection[str],
    release: str,
) -> Adjudication:
    """Merge ``sets`` and check the result against the schema and the release's documents;
    a merged set that does not validate raises one error listing its first problems."""
    merged = adjudicate(sets, policy, references=reference_attributes(schema))
    problems = [
        f"{f.record.id}: {f.code}: {f.message}"
        for f in schema.findings(merged.annotations, merged.relations)
        if f.code not in TOLERATED
    ]
    problems += [
        f"{a.id}: not a document of {release}"
        for a in merged.annotations
        if a.doc_id not in document_ids
    ]
    if problems:
        raise ClaimwireError(
            "the merged set does not validate; nothing was written:\n  "
            + "\n  ".join(problems[:10])
        )
    return merged
