"""Which documents each annotation set annotated, and what agreement and adjudication
are computed on.

A set annotated a document when it holds a record there (an annotation or a relation), or
when its list of completed documents names it (:mod:`claimwire.eval.completed`: a document
its annotator completed and found nothing in).
Agreement compares sets on the documents they annotated in common, as DKPro Agreement,
brat-eval and Krippendorff's α_u compare only units every coder coded: each pair on the
documents both annotated (pairwise F1, κ, relation F1), every set on the documents all of
them annotated (Krippendorff's α, unitizing α_u, the SURVEY shares). A document only some
sets annotated is left out, and counted, never scored as the others' "nothing here".
Adjudication votes on a document's items among the sets that annotated it
(:func:`annotators`).

A set without such a list cannot say "seen, nothing found": a document its annotator
completed without a record counts as not annotated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Set
from typing import Any

import numpy as np

from claimwire.eval.checker import PAIR_JOIN, AnnotationSet
from claimwire.eval.pair_totals import Lazy, LazyList, PairTotals, pair_ends, pair_starts
from claimwire.model import Annotation, Relation

__all__ = ["Coverage", "annotated", "annotated_documents", "annotators"]

Pair = tuple[int, int]

EMPTY_NOTE = (
    "A document its annotator completed and found nothing in counts as annotated only if "
    "the set's list of completed documents names it (NAME.completed.txt beside NAME.jsonl, "
    "which annotate pull and convert --from write; docs/evaluation.md, agreement)."
)


def annotated(annotation_set: AnnotationSet) -> set[str]:
    """The documents where the set holds a record, or which its annotator completed."""
    records: Iterable[Annotation | Relation] = itertools.chain(
        annotation_set.annotations, annotation_set.relations
    )
    return annotated_documents(records, annotation_set.completed)


def annotated_documents(
    records: Iterable[Annotation | Relation], completed: Iterable[str] = ()
) -> set[str]:
    """The documents a set annotated: where its ``records`` are, and those listed
    ``completed``."""
    return {record.doc_id for record in records}.union(completed)


def annotators(doc_id: str, names: Sequence[str], held: Sequence[Set[str]]) -> list[str]:
    """The sets among ``names`` that annotated ``doc_id`` (``held``: each one's documents)."""
    return [name for name, documents in zip(names, held, strict=True) if doc_id in documents]


class Coverage:
    """Documents counted, a batch at a time: each set's, every set's, and each pair's — only
    pairs that annotated a document in common are held (:class:`PairTotals`), so the pairs of
    many sets that never meet cost nothing."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.each = [0] * len(self.names)
        self.every = 0
        self.pairs = len(self.names) * (len(self.names) - 1) // 2
        self.both = PairTotals(self.pairs, 1)
        """Per pair (numbered in ``itertools.combinations`` order), the documents both
        sets annotated."""
        self.starts = pair_starts(len(self.names))

    def add(
        self,
        held: Sequence[set[str]],
        every: set[str],
        pairs: Sequence[int] = (),
        shared: Sequence[int] = (),
    ) -> None:
        """One batch: each set's annotated documents, those every set annotated, and the
        pairs (by number) that annotated documents in common, with how many."""
        for index, documents in enumerate(held):
            self.each[index] += len(documents)
        self.every += len(every)
        for pair, count in zip(pairs, shared, strict=True):
            self.both.add(pair, 0, (count,))

    def shared(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """The pairs (by number, ascending) that annotated a document in common, and how many
        documents each."""
        self.both.merge()
        return self.both.keys // self.both.stride, self.both.values[:, 0]

    def pair_name(self, pair: Pair) -> str:
        return PAIR_JOIN.join((self.names[pair[0]], self.names[pair[1]]))

    def _every_pair(self) -> Iterator[tuple[Pair, int]]:
        """Every pair, in order, with the documents both annotated."""
        numbers, counts = self.shared()
        at, following = 0, int(numbers[0]) if len(numbers) else -1
        for number, pair in enumerate(itertools.combinations(range(len(self.names)), 2)):
            if number != following:
                yield pair, 0
                continue
            yield pair, int(counts[at])
            at += 1
            following = int(numbers[at]) if at < len(numbers) else -1

    def notes(self) -> Sequence[str]:
        """What was left out, and pairs or sets with nothing in common, in words (a note per
        pair, made as they are read)."""
        notes: list[str] = []
        alone = ", ".join(
            f"{name} {count - self.every}"
            for name, count in zip(self.names, self.each, strict=True)
        )
        if len(self.names) == 2:
            if not self.every:
                notes.append(
                    f"No document annotated by both sets ({alone} documents): "
                    "agreement is not defined."
                )
            elif any(count > self.every for count in self.each):
                notes.append(
                    f"Compared on the {self.every} documents both sets annotated; left out "
                    f"the documents only one set annotated: {alone}."
                )
            return [*notes, EMPTY_NOTE] if notes else notes
        if not self.every:
            notes.append(
                "No document annotated by every set: α over all sets is not defined "
                f"(documents each set annotated: {self._counts()})."
            )
        elif any(count > self.every for count in self.each):
            notes.append(
                f"α over all sets: compared on the {self.every} documents every set "
                f"annotated; left out the documents not every set annotated: {alone}."
            )
        numbers, counts = self.shared()
        x, y = pair_ends(self.starts, numbers)
        each = np.array(self.each, np.int64)
        partial = int(np.count_nonzero((each[x] > counts) | (each[y] > counts)))
        length = len(notes) + self.pairs - len(numbers) + partial
        length += 1 if length else 0

        def lines() -> Iterator[str]:
            yield from notes
            for pair, both in self._every_pair():
                x, y = (self.each[i] - both for i in pair)
                if not both:
                    yield (
                        f"{self.pair_name(pair)}: no document annotated by both; "
                        "no pairwise number."
                    )
                elif x or y:
                    yield (
                        f"{self.pair_name(pair)}: compared on the {both} documents both "
                        f"annotated; left out {self.names[pair[0]]} {x}, "
                        f"{self.names[pair[1]]} {y} annotated by one of them only."
                    )
            if length:
                yield EMPTY_NOTE

        return LazyList(lines, length)

    def _counts(self) -> str:
        return ", ".join(f"{n} {c}" for n, c in zip(self.names, self.each, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """The counts, each pair's made as it is read."""
        return {
            "annotated": dict(zip(self.names, self.each, strict=True)),
            "every": self.every,
            "pairs": Lazy(
                lambda: ((self.pair_name(pair), both) for pair, both in self._every_pair()),
                self.pairs,
            ),
        }
