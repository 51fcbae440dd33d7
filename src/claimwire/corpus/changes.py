"""What changed between two releases: documents and annotations, and the changelog entry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from claimwire.model import Annotation
from claimwire.spool import Mapped, Spool, paired, spilled_sorted


class DocumentKey(NamedTuple):
    """How a document is recognised across releases: its id and text hash (and its split,
    which its next version keeps)."""

    doc_id: str
    text_sha256: str
    split: str = ""


@dataclass(slots=True)
class DocumentChanges:
    added: Sequence[str] = field(default_factory=list)
    """In input order (a :class:`claimwire.spool.Spool` for a release without a parent)."""
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self, ids: Callable[[Sequence[str]], Any] = list) -> dict[str, Any]:
        """``ids``: what a list that grows with the corpus becomes (:func:`id_summary` in a
        manifest: the list is never built)."""
        return {
            "added": ids(self.added),
            "removed": self.removed,
            "changed": [{"old": old, "new": new} for old, new in self.changed],
            "unchanged": self.unchanged,
        }


class Repeated(NamedTuple):
    """An annotation whose id an earlier annotation of its side has: where it is, as
    ``corpus validate`` says it (the file, a shard in a sharded release, and its line)."""

    file: str
    line: int
    id: str
    doc_id: str

    def where(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


def every_repeat(repeated: Sequence[Repeated]) -> Sequence[dict[str, Any]]:
    """Every repeat, as ``corpus diff --json`` lists them (each made as it is read)."""
    return Mapped(repeated, Repeated.to_dict)


def repeat_summary(repeated: Sequence[Repeated]) -> dict[str, Any]:
    """A bounded stand-in for a list of repeats, as a manifest records them: how many, and
    the first few."""
    return {"count": len(repeated), "first": [r.to_dict() for r in repeated[:LISTED_IDS]]}


@dataclass(slots=True)
class AnnotationChanges:
    added: Sequence[str] = field(default_factory=list)
    """In file order (a :class:`claimwire.spool.Spool` when compared from files: it grows
    with the corpus)."""
    removed: list[str] = field(default_factory=list)
    kept: int = 0
    reanchored: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Same offsets, other attributes: ``id (name: old → new, …)``."""
    relations_added: int = 0
    relations_removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """(old id, new id) of annotations matched by content (document, label, span), not id."""
    duplicates: dict[str, Sequence[Repeated]] = field(default_factory=dict)
    """``"old"``/``"new"``: each side's annotations whose id an earlier one of that side has
    (file order), left out of the comparison (a release ``corpus validate`` refuses): on disk
    when compared from files (a :class:`claimwire.spool.Spooled`)."""

    def to_dict(
        self,
        ids: Callable[[Sequence[str]], Any] = list,
        repeats: Callable[[Sequence[Repeated]], Any] = every_repeat,
    ) -> dict[str, Any]:
        """``ids``: as :meth:`DocumentChanges.to_dict`; ``duplicates`` only when a side has
        some, each side given by ``repeats``."""
        found = {
            "added": ids(self.added),
            "removed": self.removed,
            "renamed": [{"old": old, "new": new} for old, new in self.renamed],
            "kept": self.kept,
            "reanchored": ids(self.reanchored),
            "orphaned": self.orphaned,
            "changed": self.changed,
            "relations_added": self.relations_added,
            "relations_removed": self.relations_removed,
        }
        if any(self.duplicates.values()):
            found["duplicates"] = {
                side: repeats(self.duplicates.get(side, [])) for side in ("old", "new")
            }
        return found


LISTED_IDS = 20
"""How many ids of a long list a manifest shows beside its count and digest."""


def id_summary(ids: Iterable[str]) -> dict[str, Any]:
    """A bounded stand-in for a list of ids: how many, the SHA-256 of the sorted ids (one per
    line), and the first few; the full list is what the changelog and ``corpus diff`` give.
    The ids are sorted a run at a time (:func:`claimwire.spool.spilled_sorted`)."""
    digest = hashlib.sha256()
    first: list[str] = []
    count = 0
    for doc_id in spilled_sorted(ids):
        digest.update((b"\n" if count else b"") + doc_id.encode("utf-8"))
        if count < LISTED_IDS:
            first.append(doc_id)
        count += 1
    return {"count": count, "sha256": digest.hexdigest(), "first": first}


def manifest_changes(
    documents: DocumentChanges, annotations: AnnotationChanges
) -> dict[str, dict[str, Any]]:
    """The changes as a manifest records them: added and re-anchored ids and repeated ids
    summarized (they grow with the corpus); removed and orphaned ids listed in full
    (validation explains with them)."""
    return {
        "documents": documents.to_dict(id_summary),
        "annotations": annotations.to_dict(id_summary, repeat_summary),
    }


SORTED_AT_ONCE = 10_000
"""Documents :func:`compare_document_streams` sorts in memory at a time (the rest on disk)."""
_Place = list[Any]
"""``[key, position, [doc_id, text_sha256], [further keys]]``: one document of one side by
the key it is looked for by (further keys: those it is looked for by next, if unpaired)."""


def _by_key(places: Iterable[_Place], others: Spool) -> Iterator[_Place]:
    """The places by key, the first of each key (by position); the others of a key, which
    cannot pair by it, go to ``others``."""
    earlier: _Place | None = None
    for place in spilled_sorted(places, key=lambda p: (p[0], p[1]), run=SORTED_AT_ONCE):
        if earlier is not None and earlier[0] == place[0]:
            others.append(place)
            continue
        earlier = place
        yield place


def _next(place: _Place) -> _Place:
    """``place`` looked for by its next key, if it has one."""
    return [place[3][0], place[1], place[2], place[3][1:]] if place[3] else place


def _matched(old: Iterable[_Place], new: Iterable[_Place]) -> Iterator[tuple[_Place, _Place]]:
    """Each document of either side once: ``(old, new)`` for a pair, a side empty (``[]``)
    for a document the other side lacks. Unpaired by its key, a document is looked for by its
    next key among those of the other side still unpaired (an old one with no next key keeps
    its own), round after round, as the build's look-ups give
    (:class:`claimwire.corpus.pairing.ParentDocuments`)."""
    while True:
        old_left, new_left = Spool(), Spool()
        for before, now in paired(
            _by_key(old, old_left), _by_key(new, new_left), key=lambda place: place[0]
        ):
            if before is not None and now is not None:
                yield before, now
            else:
                (old_left if now is None else new_left).append(before or now)
        new_next = Spool()
        for now in new_left:
            if now[3]:
                new_next.append(_next(now))
            else:
                yield [], now
        if not new_next:
            yield from ((place, []) for place in old_left)
            return
        old, new = (_next(place) for place in old_left), new_next


def compare_document_streams(
    old: Iterable[tuple[Sequence[str], DocumentKey]],
    new: Iterable[tuple[Sequence[str], DocumentKey]],
) -> DocumentChanges:
    """What changed from the documents ``old`` to ``new``, each ``(keys, document)`` (the
    keys it is paired by, tried in turn), holding only what changed: both sides sorted by
    key on disk (:func:`claimwire.spool.spilled_sorted`), then walked side by side; each
    list in its side's order."""
    changes = DocumentChanges()
    added: list[tuple[int, str]] = []
    changed: list[tuple[int, tuple[str, str]]] = []
    removed: list[tuple[int, str]] = []
    befores = ([keys[0], at, list(doc), list(keys[1:])] for at, (keys, doc) in enumerate(old))
    nows = ([keys[0], at, list(doc), list(keys[1:])] for at, (keys, doc) in enumerate(new))
    for before, now in _matched(befores, nows):
        if not now:
            removed.append((before[1], before[2][0]))
        elif not before:
            added.append((now[1], now[2][0]))
        elif before[2][1] != now[2][1]:
            changed.append((now[1], (before[2][0], now[2][0])))
        else:
            changes.unchanged += 1
    changes.added = [doc_id for _, doc_id in sorted(added)]
    changes.changed = [pair for _, pair in sorted(changed)]
    changes.removed = [doc_id for _, doc_id in sorted(removed)]
    return changes


LISTED_AT_MOST = 20
"""Ids, or duplicates, a changelog entry or a build's summary names; more are counted (the
manifest holds every id, the release's ``duplicates.jsonl`` every duplicate)."""


def _listing(ids: Sequence[str], limit: int = LISTED_AT_MOST) -> str:
    shown = ", ".join(f"`{i}`" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def changelog_entry(
    version: str,
    parent: str | None,
    created: str,
    documents: DocumentChanges,
    annotations: AnnotationChanges,
    totals: Mapping[str, int],
    duplicates: Sequence[str] = (),
    left_out: int | None = None,
) -> str:
    """A Markdown changelog entry, generated from the diff with the parent release:
    ``duplicates`` names the first duplicates left out, of ``left_out`` (as many as it names,
    if not given)."""
    lines = [
        f"## {version} ({created[:10]})",
        "",
        f"Parent: {parent or 'none'}. Totals: documents {totals['documents']}, "
        f"annotations {totals['annotations']}, relations {totals['relations']}.",
        "",
        f"- Documents: {len(documents.added)} added, {len(documents.removed)} removed, "
        f"{len(documents.changed)} changed, {documents.unchanged} unchanged.",
    ]
    for label, ids in (("added", documents.added), ("removed", documents.removed)):
        if ids:
            lines.append(f"  - {label}: {_listing(ids)}")
    if documents.changed:
        lines.append(f"  - changed: {_listing([f'{a} → {b}' for a, b in documents.changed])}")
    left_out = len(duplicates) if left_out is None else left_out
    if left_out:
        named = duplicates[:LISTED_AT_MOST]
        lines.append(f"- Duplicates left out: {left_out}.")
        lines += [f"  - {duplicate}" for duplicate in named]
        if left_out > len(named):
            more = left_out - len(named)
            lines.append(f"  - … and {more} more (`duplicates.jsonl` lists them all)")
    lines.append(
        f"- Annotations: {len(annotations.added)} added, {annotations.kept} kept, "
        f"{len(annotations.reanchored)} re-anchored, {len(annotations.orphaned)} orphaned, "
        f"{len(annotations.removed)} removed."
        + (
            f" {len(annotations.changed)} of the kept have other attributes."
            if annotations.changed
            else ""
        )
        + (
            f" {len(annotations.renamed)} of the kept have a new id (same label and span)."
            if annotations.renamed
            else ""
        )
    )
    listed: tuple[tuple[str, Sequence[str]], ...] = (
        ("added", annotations.added),
        ("removed", annotations.removed),
        ("re-anchored", annotations.reanchored),
        ("orphaned (quote no longer in the text)", annotations.orphaned),
    )
    for label, spans in listed:
        if spans:
            lines.append(f"  - {label}: {_listing(spans)}")
    if annotations.changed:
        lines.append(f"  - attributes changed: {len(annotations.changed)}")
        lines += [f"    - {change}" for change in annotations.changed[:20]]
    lines.append(
        f"- Relations: {annotations.relations_added} added, "
        f"{len(annotations.relations_removed)} removed."
    )
    return "\n".join(lines) + "\n"


def attribute_changes(old: Annotation, new: Annotation) -> str:
    """``name: old → new`` for every attribute that differs (absent shown as ∅)."""
    names = dict.fromkeys([*old.attributes, *new.attributes])
    return ", ".join(
        f"{name}: {old.attributes.get(name, '∅')} → {new.attributes.get(name, '∅')}"
        for name in names
        if old.attributes.get(name) != new.attributes.get(name)
    )
