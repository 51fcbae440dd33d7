"""Agreement and adjudication: Krippendorff's worked examples, the peers' numbers, and
degenerate cases that must be stated rather than NaN."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import krippendorff
import pytest
from sklearn.metrics import cohen_kappa_score

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.adjudication import adjudicate
from claimwire.eval.agreement import AgreementStudy
from claimwire.eval.checker import AnnotationSet
from claimwire.eval.unitizing import category_alpha, unitizing_alpha
from claimwire.model import Document, replaced

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"


def krippendorff_2004() -> dict[str, list[list[tuple[int, int]]]]:
    """Content Analysis (2004), p. 254: two observers, continuum [150, 450)."""
    return {
        "c": [[(225, 295), (370, 400)], [(220, 300), (355, 375), (400, 420)]],
        "k": [[(180, 240), (300, 350)], [(180, 240), (300, 350)]],
    }


def krippendorff_1995(stretch: float) -> tuple[dict[str, list[list[tuple[int, int]]]], int]:
    """Sociological Methodology 25 (1995), p. 57: four pairs of coders on 24 positions."""

    def span(begin: int, length: int) -> tuple[int, int]:
        return int(begin * stretch), int(begin * stretch) + int(length * stretch)

    return {
        "A": [[span(2, 8), span(14, 6)], [span(4, 4), span(15, 2)]],
        "B": [
            [span(0, 18)],
            [span(0, 2), span(2, 1), span(3, 1), span(4, 1), span(5, 1), span(6, 3), span(9, 1)],
        ],
        "C": [
            [span(2, 6), span(10, 2), span(14, 4), span(20, 2)],
            [span(0, 2), span(4, 4), span(10, 4), span(16, 2), span(20, 2)],
        ],
        "D": [
            [span(0, 2), span(2, 8), span(10, 4), span(14, 6), span(20, 4)],
            [span(0, 4), span(4, 4), span(8, 7), span(15, 2), span(17, 7)],
        ],
    }, int(24 * stretch)


def test_unitizing_alpha_reproduces_krippendorff_2004() -> None:
    overall, per_category = unitizing_alpha(krippendorff_2004(), 150, 300)
    c, k = per_category
    assert (c.observed, c.expected, c.alpha) == (
        pytest.approx(0.0144, abs=1e-4),
        pytest.approx(0.0532, abs=1e-4),
        pytest.approx(0.7286, abs=1e-4),
    )
    assert (k.observed, k.expected, k.alpha) == (0.0, pytest.approx(0.0490, abs=1e-4), 1.0)
    assert overall == pytest.approx(0.8591, abs=5e-4)


@pytest.mark.parametrize(
    ("category", "observed", "expected", "alpha"),
    [
        ("A", 0.03125, 0.06990, 0.553),
        ("B", 2.26736, 1.17731, -0.926),
        ("C", 0.02777, 0.08642, 0.679),
        ("D", 0.38715, 0.41445, 0.066),
    ],
)
def test_unitizing_alpha_reproduces_krippendorff_1995(
    category: str, observed: float, expected: float, alpha: float
) -> None:
    units, length = krippendorff_1995(1)
    assert category_alpha(units[category], 0, length).observed == pytest.approx(observed, abs=1e-5)
    units, length = krippendorff_1995(1_200_000 / 24)  # the paper's large-continuum limit
    result = category_alpha(units[category], 0, length)
    assert result.expected == pytest.approx(expected, abs=5e-3)  # the paper's stated precision
    assert result.alpha == pytest.approx(alpha, abs=0.02)


def two_annotators() -> tuple[AnnotationSet, AnnotationSet, list]:  # type: ignore[type-arg]
    release = open_release(RELEASE)
    gold = list(release.annotations())
    relations = list(release.relations())
    alice = AnnotationSet("alice", tuple(gold), tuple(relations))
    changed = []
    for i, annotation in enumerate(gold):
        if annotation.label == "CLAIM" and i % 3 == 0:
            changed.append(
                replaced(annotation, attributes=dict(annotation.attributes, claim_type="other"))
            )
        elif annotation.label == "STANCE" and annotation.attributes["stance"] == "NONE":
            changed.append(
                replaced(annotation, attributes=dict(annotation.attributes, stance="FAVOR"))
            )
        elif annotation.label == "CUE" and i % 2 == 0:
            continue  # bob missed some cues
        else:
            changed.append(annotation)
    kept = {a.id for a in changed}
    bob = AnnotationSet(
        "bob", tuple(changed), tuple(r for r in relations if r.head in kept and r.tail in kept)
    )
    return alice, bob, list(release.documents())


def test_agreement_equals_the_peers() -> None:
    alice, bob, documents = two_annotators()
    report = AgreementStudy([alice, bob], documents, load_schema(RELEASE / "schema.yaml")).report()
    pair = report.pairwise_f1["alice vs bob"]
    cues = sum(1 for a in alice.annotations if a.is_span)
    assert pair["strict"] == pytest.approx(
        2
        * (cues - (cues - sum(1 for a in bob.annotations if a.is_span)))
        / (cues + sum(1 for a in bob.annotations if a.is_span))
    )
    claims_alice = {
        a.id: a.attributes["claim_type"] for a in alice.annotations if a.label == "CLAIM"
    }
    claims_bob = {a.id: a.attributes["claim_type"] for a in bob.annotations if a.label == "CLAIM"}
    ids = sorted(claims_alice)
    expected_kappa = cohen_kappa_score([claims_alice[i] for i in ids], [claims_bob[i] for i in ids])
    assert report.attributes["CLAIM.claim_type"]["kappa alice vs bob"].value == pytest.approx(
        expected_kappa
    )
    codes = {
        v: n for n, v in enumerate(sorted(set(claims_alice.values()) | set(claims_bob.values())))
    }
    expected_alpha = krippendorff.alpha(
        reliability_data=[
            [codes[claims_alice[i]] for i in ids],
            [codes[claims_bob[i]] for i in ids],
        ],
        level_of_measurement="nominal",
    )
    assert report.attributes["CLAIM.claim_type"]["alpha (nominal)"].value == pytest.approx(
        expected_alpha
    )
    stance = report.stance["kappa alice vs bob"]
    assert stance.value is not None and stance.value < 1
    assert report.unitizing["CLAIM"].value == 1.0 and report.unitizing["CUE"].value < 1.0
    assert report.disclosure["conductor"]["agreement"].value == 1.0
    assert (
        report.disclosure["conductor"]["alpha"].value is None
        and "one value" in report.disclosure["conductor"]["alpha"].reason
    )


def test_degenerate_cases_are_stated() -> None:
    alice, _, documents = two_annotators()
    with pytest.raises(ClaimwireError, match="at least two annotation sets"):
        AgreementStudy([alice], documents, load_schema())
    report = AgreementStudy([alice, alice], documents, load_schema()).report()
    assert report.stance["kappa alice vs alice"].value == pytest.approx(1.0)
    empty = AnnotationSet("empty", (), ())
    report = AgreementStudy([empty, empty], documents, load_schema()).report()
    assert report.notes and "not defined" in report.notes[0]
    json.dumps(report.to_dict())  # no NaN, no objects


def _written(annotation_set: AnnotationSet, path: Path) -> Path:
    """``annotation_set``'s records written to ``path`` as a set file."""
    records = [*annotation_set.annotations, *annotation_set.relations]
    lines = (json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_agree_and_adjudicate_commands(tmp_path: Path) -> None:
    alice, bob, _ = two_annotators()
    carol = AnnotationSet("carol", alice.annotations, alice.relations)
    paths = []
    for annotation_set in (alice, bob, carol):
        paths.append(_written(annotation_set, tmp_path / f"{annotation_set.name}.jsonl"))
    result = run_cli("annotate", "agree", *paths[:2], "--release", RELEASE)
    assert result.returncode == 0, result.stderr
    assert "alice vs bob" in result.stdout and "unitizing α per label" in result.stdout
    assert "F1 per label, alice vs bob" in result.stdout and "relations" in result.stdout
    skipped = run_cli("annotate", "agree", *paths[:2], "--release", RELEASE, "--missing", "skip")
    assert skipped.returncode == 0 and "empty as a value" not in skipped.stdout
    wrong = run_cli("annotate", "agree", *paths[:2], "--release", RELEASE, "--missing", "drop")
    assert wrong.returncode == 1 and "--missing must be one of skip, value, both" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    data = json.loads(run_cli("annotate", "agree", *paths, "--release", RELEASE, "--json").stdout)
    assert set(data["pairwise_f1"]) == {"alice vs bob", "alice vs carol", "bob vs carol"}
    out = tmp_path / "gold"
    merged = run_cli("annotate", "adjudicate", *paths, "--release", RELEASE, "--out", out)
    assert merged.returncode == 0, merged.stderr
    records = [json.loads(line) for line in (out / "annotations.jsonl").read_text().splitlines()]
    assert len(records) == len(alice.annotations)  # two of three agree on everything
    assert (
        run_cli("eval", "score", out, "--task", "claims", "--release", RELEASE, "--json").returncode
        == 0
    )
    two = run_cli(
        "annotate", "adjudicate", *paths[:2], "--release", RELEASE, "--out", tmp_path / "g2"
    )
    assert two.returncode == 0, two.stderr
    conflicts = [json.loads(line) for line in (tmp_path / "g2" / "conflicts.jsonl").open()]
    # alice vs bob: every difference is listed, exactly once, with its reason
    bob_by_id = {a.id: a for a in bob.annotations}
    missed = [a for a in alice.annotations if a.id not in bob_by_id]
    retyped = Counter(
        a.label for a in alice.annotations if a.id in bob_by_id and a != bob_by_id[a.id]
    )
    reasons = Counter(c["reason"] for c in conflicts)
    assert reasons["only a minority of sets has it"] == len(missed) > 0
    assert reasons["no majority for 'claim_type': kept without it"] == retyped["CLAIM"] > 0
    assert reasons["no majority for 'stance': kept without it"] == retyped["STANCE"] > 0
    dropped = [r for r in reasons if r.startswith("'cue' pointed to")]
    missed_ids = {m.id for m in missed}
    cited = [r for r in alice.relations if r.attributes.get("cue") in missed_ids]
    assert sum(reasons[r] for r in dropped) == len(cited) > 0
    assert sum(reasons.values()) == len(conflicts)
    preferred = run_cli(
        "annotate",
        "adjudicate",
        *paths[:2],
        "--release",
        RELEASE,
        "--out",
        tmp_path / "g3",
        "--policy",
        "prefer:bob",
    )
    assert preferred.returncode == 0
    # bob's relations cite cues bob never marked: the references are dropped, and said so
    notes = [
        json.loads(line) for line in (tmp_path / "g3" / "conflicts.jsonl").read_text().splitlines()
    ]
    assert notes and all("reference was dropped" in n["reason"] for n in notes)
    bad = run_cli(
        "annotate",
        "adjudicate",
        *paths[:2],
        "--release",
        RELEASE,
        "--out",
        tmp_path / "g4",
        "--policy",
        "prefer:dave",
    )
    assert bad.returncode == 1 and "unknown policy" in bad.stderr


def test_adjudication_never_drops_a_minority_item_silently() -> None:
    alice, bob, _ = two_annotators()
    merged = adjudicate([alice, bob, AnnotationSet("carol", bob.annotations, bob.relations)])
    alice_only = {a.id for a in alice.annotations} - {a.id for a in bob.annotations}
    reasons = [c["reason"] for c in merged.conflicts]
    assert len([r for r in reasons if r == "only a minority of sets has it"]) == len(alice_only)


def _source_pair() -> tuple[AnnotationSet, AnnotationSet]:
    release = open_release(RELEASE)
    gold = list(release.annotations())
    source = next(a for a in gold if a.label == "SOURCE" and a.attributes.get("named") is True)
    claim_ids = {r.head for r in release.relations() if r.tail == source.id}
    links = tuple(r for r in release.relations() if r.tail == source.id and r.head in claim_ids)
    cues = {str(r.attributes.get("cue")) for r in links}
    keep = [a for a in gold if a.id == source.id or a.id in claim_ids or a.id in cues]
    assert links, "the SOURCE must carry a relation"
    alice = AnnotationSet("alice", tuple(keep), links)
    flipped = replaced(source, attributes=dict(source.attributes, named=False))
    bob_items = tuple(flipped if a.id == source.id else a for a in keep)
    return alice, AnnotationSet("bob", bob_items, links)


def test_majority_tie_on_one_attribute_keeps_the_span_and_flags_it() -> None:
    """Before: a tie on `named` between two annotators dropped the SOURCE and its relation."""
    alice, bob = _source_pair()
    merged = adjudicate([alice, bob])
    [source] = [a for a in merged.annotations if a.label == "SOURCE"]
    assert "named" not in source.attributes
    original = next(a for a in alice.annotations if a.label == "SOURCE")
    assert source.attributes == {k: v for k, v in original.attributes.items() if k != "named"}
    assert len(merged.relations) == len(alice.relations)
    assert all(r.tail == source.id for r in merged.relations)
    [flag] = merged.conflicts
    assert flag["reason"] == "no majority for 'named': kept without it"
    assert flag["versions"]["alice"]["attributes"]["named"] is True
    assert flag["versions"]["bob"]["attributes"]["named"] is False


def test_exactly_half_of_the_sets_is_not_a_majority() -> None:
    """Two annotators, an item only one of them marked: dropped and listed, not accepted."""
    alice, bob = _source_pair()
    extra = replaced(alice.annotations[0], id="only-alice", start=0, end=5)
    merged = adjudicate([AnnotationSet("alice", (*alice.annotations, extra), ()), bob])
    assert not [a for a in merged.annotations if (a.start, a.end) == (0, 5)]
    assert [c["reason"] for c in merged.conflicts].count("only a minority of sets has it") == 1
    three = adjudicate(
        [
            AnnotationSet("alice", (*alice.annotations, extra), ()),
            AnnotationSet("carol", (*alice.annotations, extra), ()),
            bob,
        ]
    )
    assert [a for a in three.annotations if (a.start, a.end) == (0, 5)]  # 2 of 3 is a majority


NEW = REPO / "corpus" / "releases" / "1.1.0"


def _gold_set(name: str) -> tuple[AnnotationSet, list]:  # type: ignore[type-arg]
    release = open_release(NEW)
    return (
        AnnotationSet(name, tuple(release.annotations()), tuple(release.relations())),
        list(release.documents()),
    )


def test_agree_reports_per_label_relations_and_survey_fields() -> None:
    gold, documents = _gold_set("a")
    annotations = [
        replaced(a, attributes=dict(a.attributes, sampling_type="self_selected"))
        if a.label == "SURVEY"
        else a
        for a in gold.annotations
        if a.label != "CUE"
    ]
    kept = {a.id for a in annotations}
    relations = [
        r for r in gold.relations if r.type != "evidence_of" and r.head in kept and r.tail in kept
    ]
    other = AnnotationSet("b", tuple(annotations), tuple(relations))
    report = AgreementStudy([gold, other], documents, load_schema(NEW / "schema.yaml")).report()
    per_label = report.per_label_f1["a vs b"]
    assert per_label["CLAIM"]["strict"] == 1.0 and per_label["CUE"]["strict"] == 0.0
    assert set(per_label["CLAIM"]) == {"strict", "exact", "partial", "type", "overlap"}
    relations_report = report.relations
    assert relations_report["attributed_to"]["F1 a vs b"].value == 1.0
    assert relations_report["from_survey"]["F1 a vs b"].value == 1.0  # SURVEY ends match
    assert relations_report["evidence_of"]["F1 a vs b"].value == 0.0
    assert relations_report["cue"]["F1 a vs b"].value == 0.0  # b has no cues
    assert report.survey["sampling_type"]["agreement"].value == 0.0
    assert report.survey["sponsor_is_interested_party"]["agreement"].value == 1.0
    assert report.survey["name"]["agreement"].value == 1.0
    json.dumps(report.to_dict())


def test_missing_optional_attributes_are_skipped_or_counted() -> None:
    """numeric_category is optional: one side leaving it empty is skipped, or is a value."""
    gold, documents = _gold_set("a")
    claims = [a for a in gold.annotations if a.label == "CLAIM"]
    numeric = [a.id for a in claims if a.attributes.get("numeric_category")]
    emptied = set(numeric[:2])  # two numerical claims b leaves without a category
    other = AnnotationSet(
        "b",
        tuple(
            replaced(
                a,
                attributes={k: v for k, v in a.attributes.items() if k != "numeric_category"},
            )
            if a.id in emptied
            else a
            for a in gold.annotations
        ),
        gold.relations,
    )
    schema = load_schema(NEW / "schema.yaml")
    report = AgreementStudy([gold, other], documents, schema).report()
    stats = report.attributes["CLAIM.numeric_category"]
    left = [a.attributes.get("numeric_category") for a in claims]
    right = [None if a.id in emptied else a.attributes.get("numeric_category") for a in claims]
    skip = [(x, y) for x, y in zip(left, right, strict=True) if x is not None and y is not None]
    assert stats["kappa a vs b"].value == pytest.approx(
        cohen_kappa_score([x for x, _ in skip], [y for _, y in skip])
    )
    as_value = [(x or "(empty)", y or "(empty)") for x, y in zip(left, right, strict=True)]
    assert stats["kappa a vs b, empty as a value"].value == pytest.approx(
        cohen_kappa_score([x for x, _ in as_value], [y for _, y in as_value])
    )
    assert stats["kappa a vs b"].value == 1.0 > stats["kappa a vs b, empty as a value"].value
    only_skip = AgreementStudy([gold, other], documents, schema, missing="skip").report()
    assert "kappa a vs b, empty as a value" not in only_skip.attributes["CLAIM.numeric_category"]
    with pytest.raises(ClaimwireError, match="missing must be one of"):
        AgreementStudy([gold, other], documents, schema, missing="drop")  # type: ignore[arg-type]


def _unannotated(n: int) -> Document:
    text = "Un texte que personne n'a annoté. " * 20
    return Document(f"other-{n}", text, "fr", "test", ((0, len(text)),), ((0, len(text)),))


def test_the_study_keeps_only_the_documents_the_sets_name() -> None:
    """A release of many documents, two annotators on a few of them: the release's
    documents stream through the study (it held them all), with the same report, and what
    it holds does not grow with the documents nobody annotated."""
    alice, bob, documents = two_annotators()
    schema = load_schema(RELEASE / "schema.yaml")
    expected = AgreementStudy([alice, bob], documents, schema).report().to_dict()
    middle = 250

    def release_documents(others: int) -> Iterator[Document]:
        for n in range(others):  # documents nobody annotated, before and after the named
            yield _unannotated(n)
            if n == middle:
                yield from documents

    def held(others: int) -> tuple[int, AgreementStudy]:
        tracemalloc.start()  # records are not gc-tracked: what the study holds is measured
        try:
            before = tracemalloc.get_traced_memory()[0]
            study = AgreementStudy([alice, bob], release_documents(others), schema)
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before, study
        finally:
            tracemalloc.stop()

    others = 500
    small, study = held(others)
    large, _ = held(10 * others)
    text = sum(len(_unannotated(n).text) for n in range(others))  # 340,000 characters
    assert large - small < text / 10, (small, large)  # before: every document, texts and all
    report = study.report().to_dict()
    assert report == expected  # a document no set annotated is not compared, nor in α_u's continuum
    padded = [
        *map(_unannotated, range(middle + 1)),
        *documents,
        *map(_unannotated, range(middle + 1, others)),
    ]
    assert report == AgreementStudy([alice, bob], padded, schema).report().to_dict()


def test_adjudication_keeps_its_conflicts_on_disk() -> None:
    """Two sets that differ much conflict on a large share of their items, each listed with
    every version: the conflicts wait on disk (a few held), and read back as they were made,
    in order (before: a list of dicts, every one of them in memory, then one string)."""
    from claimwire.spool import HELD

    alice, bob, _ = two_annotators()
    extra = [
        replaced(alice.annotations[0], id=f"alice-{k}", start=k, end=k + 3) for k in range(2 * HELD)
    ]
    merged = adjudicate([AnnotationSet("alice", (*alice.annotations, *extra), ()), bob])
    conflicts = list(merged.conflicts)
    minority = [c for c in conflicts if c["reason"] == "only a minority of sets has it"]
    assert len(conflicts) > HELD and len(merged.conflicts.first) == HELD
    assert [c["versions"]["alice"]["id"] for c in minority[-2 * HELD :]] == [e.id for e in extra]
    assert all(c["versions"]["bob"] is None for c in minority)


def test_many_sets_are_summarised_and_streamed(tmp_path: Path) -> None:
    """Past ten pairs, the printed report gives the distribution of pairwise F1 and the worst
    pairs by name (before: a table per pair, 66 of them for 12 sets); the JSON holds every
    pair, the same as the report held whole."""
    from claimwire.eval.agreement_files import agreement_of_files

    alice, bob, _ = two_annotators()
    paths = []
    for number in range(12):
        chosen = bob if number % 4 == 3 else alice
        paths.append(_written(chosen, tmp_path / f"a{number:02}.jsonl"))
    printed = run_cli("annotate", "agree", *paths, "--release", RELEASE)
    assert printed.returncode == 0, printed.stderr
    assert "pairwise F1 over 66 pairs" in printed.stdout and "median" in printed.stdout
    assert "worst: a00 vs a03" in printed.stdout and "F1 per label," not in printed.stdout
    assert "66 pairs: per pair, F1 and κ are in --json" in printed.stdout
    streamed = run_cli("annotate", "agree", *paths, "--release", RELEASE, "--json")
    assert streamed.returncode == 0, streamed.stderr
    held = agreement_of_files(paths, RELEASE).to_dict()
    assert json.loads(streamed.stdout) == json.loads(json.dumps(held))
    assert len(held["pairwise_f1"]) == 66
