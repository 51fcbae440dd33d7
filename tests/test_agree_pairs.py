"""Agreement among many sets where each document is annotated by a few (a crowd): the sums
hold only the pairs that share a document, packed, and each pair's numbers are those of the
two sets compared alone."""

from __future__ import annotations

import gc
import tracemalloc

from claimwire.annotation.checks import schema_of
from claimwire.corpus.release import open_release
from claimwire.eval.agreement import AgreementStudy, AgreementSums
from claimwire.eval.checker import AnnotationSet
from claimwire.model import Annotation, Document, Relation, replaced

from .helpers import REPO

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
SETS = 300
DOCUMENTS = 20


def _crowd() -> tuple[list[Document], list[AnnotationSet]]:
    """The release's document copied under 20 ids; document k annotated by three of 300
    sets (5k, 5k + 100 and 5k + 200), each set dropping a share of the gold of its own."""
    release = open_release(RELEASE)
    (document,) = release.documents()
    gold, links = list(release.annotations()), list(release.relations())
    documents = [replaced(document, id=f"{document.id}-{k}") for k in range(DOCUMENTS)]
    records: list[tuple[list[Annotation], list[Relation]]] = [([], []) for _ in range(SETS)]
    for k, copy in enumerate(documents):
        for who in (5 * k, 5 * k + 100, 5 * k + 200):
            kept = [
                replaced(a, id=f"{a.id}-{k}", doc_id=copy.id)
                for i, a in enumerate(gold)
                if a.label not in ("CLAIM", "CUE") or (i + who // 100) % 4
            ]
            ids = {a.id for a in kept}
            annotations, relations = records[who]
            annotations += kept
            relations += [
                replaced(
                    r, id=f"{r.id}-{k}", doc_id=copy.id, head=f"{r.head}-{k}", tail=f"{r.tail}-{k}"
                )
                for r in links
                if f"{r.head}-{k}" in ids and f"{r.tail}-{k}" in ids
            ]
    sets = [
        AnnotationSet(f"s{who:03}", tuple(annotations), tuple(relations))
        for who, (annotations, relations) in enumerate(records)
    ]
    return documents, sets


def test_the_sums_hold_only_pairs_that_share_a_document() -> None:
    """300 sets are 44,850 pairs, of which the 60 that share a document are held: the sums
    take under 1.5 MB (before: every pair was visited each batch and left four link totals,
    besides its document count and its place in a list of every pair — 41 MB here, and about
    2.5 GB for 500 sets of a real crowd)."""
    documents, sets = _crowd()
    schema = schema_of(RELEASE)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sums = AgreementSums([s.name for s in sets], schema)
        sums.add(documents, sets)
        sums.streamed()  # what waited to be merged is merged
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert sums.streamed()["documents"]["pairs"]["s000 vs s100"] == 1
    print(f"{held:,} bytes held")
    assert held < 1_500_000, f"{held:,} bytes held for 60 pairs of {SETS} sets"


def test_each_pair_of_a_crowd_is_the_pair_compared_alone() -> None:
    """Every pair's F1 (pooled, per label), relation F1 and κ are those of the two sets
    compared alone; pairs that share no document have no number and a note."""
    documents, sets = _crowd()
    schema = schema_of(RELEASE)
    crowd = AgreementStudy(sets, documents, schema).report().to_dict()
    assert len(crowd["pairwise_f1"]) == 3 * DOCUMENTS
    assert len(crowd["documents"]["pairs"]) == SETS * (SETS - 1) // 2
    assert "s000 vs s001: no document annotated by both; no pairwise number." in crowd["notes"]
    for k in (0, 7, 19):
        for x, y in ((5 * k, 5 * k + 100), (5 * k, 5 * k + 200), (5 * k + 100, 5 * k + 200)):
            name = f"s{x:03} vs s{y:03}"
            alone = AgreementStudy([sets[x], sets[y]], documents, schema).report().to_dict()
            assert crowd["pairwise_f1"][name] == alone["pairwise_f1"][name]
            assert crowd["per_label_f1"][name] == alone["per_label_f1"][name]
            for group, found in alone["relations"].items():
                for statistic, value in found.items():
                    assert crowd["relations"][group][statistic] == value
            for attribute, found in alone["attributes"].items():
                for statistic, value in found.items():
                    if statistic.startswith("kappa"):
                        assert crowd["attributes"][attribute][statistic] == value
            assert crowd["stance"][f"kappa {name}"] == alone["stance"][f"kappa {name}"]
            assert crowd["documents"]["pairs"][name] == 1
    assert 0 < crowd["pairwise_f1"]["s000 vs s100"]["strict"] < 1
