"""Adjudication: merge annotators' sets into one gold set.

Items are compared by identity — a span by (document, label, start, end), a stance by
(document, holder, target), a survey by document. A document's items are voted on by the sets
that annotated it (:func:`claimwire.eval.coverage.annotators`: those holding a record there or
listing it as completed, :mod:`claimwire.eval.completed`),
as agreement compares sets where they overlap: a document one set annotated alone is taken as
that set's, and counted. The merged set annotated every document any set did: its list of
completed documents names them, records or none. An item every voter agrees on (same
attributes) is accepted.
Otherwise a named policy decides: ``majority`` (an item needs more than half of the voters —
exactly half is not enough; an attribute value without such a majority is left out and
flagged in the conflicts, the item and its relations kept), or ``prefer:NAME`` (that
annotator's version wins, absence included, on the documents NAME annotated; the others are
voted by majority). What the policy cannot decide goes to the conflicts list, never silently
away. Relations are kept when their ends survive and the policy accepts them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet
from claimwire.eval.coverage import annotated, annotators
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
    single: int = 0
    """Items of documents one set annotated alone, taken as that set's."""
    alone: Counter[str] = field(default_factory=Counter)
    """Each set's documents no other set annotated."""
    completed: set[str] = field(default_factory=set)
    """The documents any set annotated: the merged set's completed documents (those without
    a record too); :func:`adjudicate`'s only (the batched merge writes them as it goes)."""

    def count_alone(self, names: Sequence[str], held: Sequence[set[str]]) -> None:
        """Count the documents one of the sets (``held``: each one's documents) annotated
        alone."""
        for doc_id in set().union(*held):
            voters = annotators(doc_id, names, held)
            if len(voters) == 1:
                self.alone[voters[0]] += 1


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
    preferred = unicodedata.normalize("NFC", policy.removeprefix("prefer:"))
    if policy.startswith("prefer:") and preferred in names:  # set names are NFC (set_name)
        return preferred
    raise ClaimwireError(
        f"unknown policy {policy!r}; expected 'majority' or 'prefer:NAME' with NAME one of "
        f"{', '.join(names)}"
    )


Lookup = Callable[[str, str], str | None]
"""The merged id of an item by its set's name and its id in that set (None: not kept)."""
Sink = Callable[[dict[str, Any]], None]
"""Where a conflict goes, in order."""


def adjudicate(
    sets: Sequence[AnnotationSet],
    policy: str = "majority",
    author: str = "adjudicated",
    references: frozenset[str] = frozenset({"cue", "holder"}),
) -> Adjudication:
    """Merge ``sets``; ``references`` names the attributes that hold annotation ids (the
    schema's ``ref`` attributes), which are rewritten to the merged ids."""
    names = [s.name for s in sets]
    preferred = check_policy(policy, names)
    versions = item_versions((s.name, a) for s in sets for a in s.annotations)
    result = Adjudication()
    held = [annotated(s) for s in sets]
    result.count_alone(names, held)
    result.completed = set().union(*held)
    id_of: dict[tuple[str, str], str] = {}
    kept: list[tuple[Annotation, list[Reference]]] = []
    for key, by_set in versions.items():
        voters = annotators(key[0], names, held)
        merged = merge_item(key, by_set, voters, preferred, result, result.conflicts.append)
        if merged is None:
            continue
        new_id = f"{key[0]}:adj-{len(kept) + 1}"
        kept.append(
            (replaced(merged, id=new_id, author=author), origins(merged, by_set, references))
        )
        for name, annotation in by_set.items():
            id_of[(name, annotation.id)] = new_id

    def lookup(name: str, item: str) -> str | None:
        return id_of.get((name, item))

    for merged, refs in kept:
        result.annotations.append(with_references(merged, refs, lookup, result.conflicts.append))
    votes: dict[tuple[str, str, str], list[tuple[str, Relation]]] = defaultdict(list)
    for annotation_set in sets:
        for relation in annotation_set.relations:
            head = id_of.get((annotation_set.name, relation.head))
            tail = id_of.get((annotation_set.name, relation.tail))
            if head and tail:
                votes[(relation.type, head, tail)].append((annotation_set.name, relation))
    for (kind, head, tail), supporters in votes.items():
        chosen = voted_relation(
            (kind, head, tail),
            supporters,
            Voting(preferred, author, references),
            annotators(supporters[0][1].doc_id, names, held),
            len(result.relations) + 1,
            lookup,
            result.conflicts.append,
        )
        if chosen is not None:
            result.relations.append(chosen)
    return result


def check_policy(policy: str, names: Sequence[str]) -> str | None:
    """The preferred set's name (None: majority); an unknown policy, or fewer than two
    sets, raises."""
    if len(names) < 2:
        raise ClaimwireError("adjudication needs at least two annotation sets")
    return _policy(policy, names)


def item_versions(
    annotations: Iterable[tuple[str, Annotation]],
) -> dict[Key, dict[str, Annotation]]:
    """Each item's version in each set (a set's later annotation with the same identity
    wins), items in the order first named."""
    versions: dict[Key, dict[str, Annotation]] = defaultdict(dict)
    for name, annotation in annotations:
        versions[item_key(annotation)][name] = annotation
    return versions


def merge_item(
    key: Key,
    by_set: dict[str, Annotation],
    names: list[str],
    preferred: str | None,
    result: Adjudication,
    conflict: Sink,
) -> Annotation | None:
    """The item as the policy merges it (None: not kept) among ``names``, the sets that
    annotated its document; what it cannot decide goes to ``conflict``; ``result`` counts the
    unanimous, the resolved and those of one set alone."""
    if len(names) == 1:  # only that set annotated the document
        result.single += 1
        return by_set[names[0]]
    if preferred in names:
        winner = by_set.get(preferred)
        unanimous = len(by_set) == len(names) and len({_frozen(a) for a in by_set.values()}) == 1
        result.accepted += unanimous
        result.resolved += winner is not None and not unanimous
        return winner
    if len(by_set) == len(names) and len({_frozen(a) for a in by_set.values()}) == 1:
        result.accepted += 1
        return next(iter(by_set.values()))
    if len(by_set) * 2 <= len(names):
        conflict(_conflict(key, by_set, names, "only a minority of sets has it"))
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
        conflict(_conflict(key, by_set, names, f"no majority for {listed}: kept without it"))
    result.resolved += 1
    base = next(iter(by_set.values()))
    return replaced(base, attributes={k: v for k, v in attributes.items() if v is not None})


Reference = tuple[str, str | None, Any]
"""A reference attribute of a merged item: its name, the first set whose version has the
merged value, and that value (an id of that set)."""


def origins(
    merged: Annotation, by_set: dict[str, Annotation], references: frozenset[str]
) -> list[Reference]:
    """The merged item's references, each with the set its value comes from."""
    attributes = merged.attributes
    return [
        (
            name,
            next(
                (n for n, a in by_set.items() if a.attributes.get(name) == attributes[name]), None
            ),
            attributes[name],
        )
        for name in attributes
        if name in references  # the record's order: never the hash seed's
    ]


def with_references(
    merged: Annotation, refs: Sequence[Reference], lookup: Lookup, conflict: Sink
) -> Annotation:
    """The merged item with its references renamed to merged ids (or dropped, and said)."""
    attributes = dict(merged.attributes)
    for name, origin, value in refs:
        attributes[name] = _reference(lookup, origin, value, merged.id, name, conflict)
    return replaced(merged, attributes={k: v for k, v in attributes.items() if v is not None})


def _reference(
    lookup: Lookup,
    origin: str | None,
    value: Any,
    owner: str,
    name: str,
    conflict: Sink,
) -> Any:
    """The merged id a reference now points to; an undecided target drops the reference and
    says so in the conflicts (literal values such as ``issuer`` pass through)."""
    found = lookup(str(origin), str(value))
    if found is not None:
        return found
    if value == "issuer":
        return value
    conflict(
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


@dataclass(frozen=True)
class Voting:
    """How relations are decided: the preferred set (None: majority), the merged records'
    author and the reference attributes."""

    preferred: str | None
    author: str
    references: frozenset[str]


def voted_relation(
    vote: tuple[str, str, str],
    supporters: Sequence[tuple[str, Relation]],
    voting: Voting,
    voters: Sequence[str],
    number: int,
    lookup: Lookup,
    conflict: Sink,
) -> Relation | None:
    """The merged relation ``adj-rel-NUMBER`` between two merged items, when the policy
    keeps it among ``voters``, the sets that annotated its document; ``supporters`` are the
    sets' relations between them, in the sets' order."""
    kind, head, tail = vote
    names = [n for n, _ in supporters]
    preferred = voting.preferred if voting.preferred in voters else None
    keep = preferred in names if preferred is not None else len(names) * 2 > len(voters)
    if not keep:
        if preferred is None:
            conflict(
                {
                    "key": [kind, head, tail],
                    "reason": "relation of a minority",
                    "versions": {n: r.to_dict() for n, r in supporters},
                }
            )
        return None
    origin = preferred if preferred is not None else supporters[0][0]
    relation = dict(supporters)[origin]
    attributes = {
        k: _reference(lookup, origin, v, f"{kind} {head} → {tail}", k, conflict)
        if k in voting.references
        else v
        for k, v in relation.attributes.items()
    }
    attributes = {k: v for k, v in attributes.items() if v is not None}
    doc_id = relation.doc_id
    return Relation(
        f"{doc_id}:adj-rel-{number}", doc_id, kind, head, tail, attributes, voting.author
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
