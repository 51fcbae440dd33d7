"""`annotate agree` read a batch of documents at a time: exact sums that do not depend on
where batches start nor on the records' order, equal to the peers (scikit-learn's κ, the
``krippendorff`` package's α), and sets never held whole."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from claimwire.errors import ClaimwireError
from claimwire.eval import agreement_files
from claimwire.eval.agreement_files import agreement_of_files
from claimwire.eval.exact_sums import AlphaSums, KappaSums
from claimwire.eval.unitizing import UnitizingSums, category_alpha
from claimwire.grouping import RecordIndex

from .helpers import REPO, run_cli, watch_checks, watch_gold_reads

DOCUMENTS = 40


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Path]]]:
    """A synthetic release of 40 documents and four sets: its gold, the predictions, and
    two variants of them (other claim types, claims dropped), so units are coded two, three
    and four times."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from synthetic_release import build
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    root = tmp_path_factory.mktemp("agree")
    release, predictions = build(root / "syn", DOCUMENTS)
    lines = [json.loads(line) for line in predictions.read_text("utf-8").splitlines()]
    sets = [release, predictions]
    for seed in (1, 2):
        rng = random.Random(seed)
        changed, dropped = [], set()
        for record in lines:
            if record.get("label") == "CLAIM":
                roll = rng.random()
                if roll < 0.15:
                    dropped.add(record["id"])
                    continue  # a claim this annotator did not mark
                if roll < 0.4:
                    kind = rng.choice(["quantity", "prediction", "other"])
                    record = {**record, "attributes": {**record["attributes"], "claim_type": kind}}
            changed.append(record)
        changed = [r for r in changed if not {r.get("head"), r.get("tail")} & dropped]
        path = root / f"variant{seed}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in changed), "utf-8")
        sets.append(path)
    yield release, sets


def _strict_pairs(left: Path, right: Path) -> list[tuple[str, str]]:
    """The claim types of the CLAIMs two sets mark at the same offsets (a peer's view of
    strict matching: the synthetic sets hold one CLAIM per offsets)."""

    def claims(path: Path) -> dict[tuple[str, int, int], str]:
        files = [path / "annotations.jsonl"] if path.is_dir() else [path]
        found = {}
        for file in files:
            for line in file.read_text("utf-8").splitlines():
                record = json.loads(line)
                if record.get("label") == "CLAIM":
                    key = (record["doc_id"], record["start"], record["end"])
                    found[key] = record["attributes"]["claim_type"]
        return found

    a, b = claims(left), claims(right)
    return [(a[key], b[key]) for key in sorted(a.keys() & b.keys())]


def test_agreement_is_the_same_in_batches_of_1_7_and_all_and_equals_the_peers(
    synthetic: tuple[Path, list[Path]],
) -> None:
    release, sets = synthetic
    reports = [
        agreement_of_files(sets, release, batch=size).to_dict() for size in (1, 7, DOCUMENTS)
    ]
    assert reports[0] == reports[1] == reports[2]  # every float, to the last digit
    pairs = agreement_of_files(sets[:2], release, batch=7)
    pairs_whole = agreement_of_files(sets[:2], release, batch=DOCUMENTS)
    assert pairs.to_dict() == pairs_whole.to_dict()
    found = _strict_pairs(sets[0], sets[1])
    kappa = pairs.attributes["CLAIM.claim_type"][f"kappa {sets[0].name} vs predictions"]
    assert kappa.units == len(found)
    assert kappa.value == pytest.approx(cohen_kappa_score(*zip(*found, strict=True)), abs=1e-12)
    codes = {v: i for i, v in enumerate(sorted({v for pair in found for v in pair}))}
    peer = krippendorff.alpha(
        reliability_data=[[codes[a] for a, _ in found], [codes[b] for _, b in found]],
        level_of_measurement="nominal",
    )
    alpha = pairs.attributes["CLAIM.claim_type"]["alpha (nominal)"]
    assert alpha.value == pytest.approx(peer, abs=1e-12) and alpha.value < 1
    strict = reports[0]["pairwise_f1"][f"{sets[0].name} vs predictions"]["strict"]
    assert 0 < strict < 1


def test_agree_never_holds_a_set_whole(
    synthetic: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each set is checked a batch at a time (before: every record of both sets was read
    into a list, then checked whole); the release's gold, a set here, is never read whole."""
    release, sets = synthetic
    whole, _ = watch_gold_reads(monkeypatch)
    calls = watch_checks(monkeypatch, agreement_files)
    agreement_of_files(sets[:2], release, batch=4)
    checked = [len(call) for call in calls]
    total = sum(1 for _ in (sets[1]).open()) + sum(
        1 for name in ("annotations.jsonl", "relations.jsonl") for _ in (release / name).open()
    )
    assert sum(checked) == total and whole == []
    assert len(checked) == 2 * DOCUMENTS // 4 and max(checked) < total / 8


def test_a_shuffled_set_gives_the_same_report_through_the_index(
    synthetic: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, sets = synthetic
    lines = sets[1].read_text("utf-8").splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    shuffled = tmp_path / "predictions.jsonl"
    shuffled.write_text("".join(lines), "utf-8")
    expected = agreement_of_files(sets, release, batch=7).to_dict()
    indexed: list[int] = []
    init = RecordIndex.__init__

    def counted(self: RecordIndex, *args: Any, **kwargs: Any) -> None:
        indexed.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(RecordIndex, "__init__", counted)
    assert agreement_of_files([sets[0], shuffled, *sets[2:]], release, batch=7).to_dict() == (
        expected
    )
    assert indexed  # the in-order reading gave way to the index
    result = run_cli("annotate", "agree", sets[0], shuffled, "--release", release, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == agreement_of_files(sets[:2], release).to_dict()


def test_exact_sums_equal_the_peers_in_any_order() -> None:
    """κ and α (nominal, interval) from sums added unit by unit in two orders: one value to
    the last digit, the peers' up to their float rounding; four coders, so units coded three
    times divide by 2 and four times by 3."""
    rng = np.random.default_rng(5)
    data = rng.integers(0, 4, size=(4, 300)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    columns = [[None if np.isnan(v) else v for v in column] for column in data.T]
    for level in ("nominal", "interval"):
        values = []
        for order in (columns, columns[::-1]):
            sums = AlphaSums(level)  # type: ignore[arg-type]
            for column in order:
                sums.add(column)
            values.append(sums.result().value)
        peer = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert values[0] == values[1] == pytest.approx(peer, abs=1e-12)
    left, right = (rng.integers(0, 3, 500).tolist() for _ in range(2))
    table = KappaSums()
    for x, y in zip(left, right, strict=True):
        table.add(x, y)
    assert table.result().value == pytest.approx(cohen_kappa_score(left, right), abs=1e-12)
    one = KappaSums()
    one.add("a", "a")
    assert one.result().value is None and "only 'a'" in one.result().reason


def test_unitizing_sums_over_stretches_equal_the_whole_continuum() -> None:
    """Units of three coders over a continuum of 1,000 characters: summed in stretches cut
    between units (gaps then run across stretches) or whole, the same α_u to the last digit."""
    rng = random.Random(3)
    coders = []
    for _ in range(3):
        units, at = [], 0
        while at < 950:
            at += rng.randint(0, 60)
            length = rng.randint(1, 30)
            units.append((at, min(at + length, 1000)))
            at += length
        coders.append([u for u in units if u[0] < 1000])
    whole = category_alpha(coders, 0, 1000)
    for cuts in ([0, 1000], [0, 333, 1000], list(range(0, 1001, 10))):
        cuts = [c for c in cuts if not any(s < c < e for units in coders for s, e in units)]
        cuts = sorted({0, *cuts, 1000})
        sums = UnitizingSums(3)
        for begin, end in itertools.pairwise(cuts):
            inside = [[(s, e) for s, e in units if begin <= s < end] for units in coders]
            sums.add(inside, begin, end - begin)
        assert sums.result(1000) == whole
    assert len(cuts) > 4 and whole.alpha is not None


def test_a_label_outside_the_schema_is_only_absent() -> None:
    """Labels asked for that the schema lacks are left out, as labels no set uses."""
    from claimwire.annotation.schema import load_schema
    from claimwire.corpus.release import open_release
    from claimwire.eval.agreement import AgreementStudy
    from claimwire.eval.checker import AnnotationSet

    release = open_release(REPO / "corpus" / "releases" / "1.0.0")
    gold = AnnotationSet("a", tuple(release.annotations()), tuple(release.relations()))
    other = AnnotationSet("b", gold.annotations, gold.relations)
    schema = load_schema(REPO / "corpus" / "releases" / "1.0.0" / "schema.yaml")
    study = AgreementStudy([gold, other], release.documents(), schema, ["CLAIM", "NO_SUCH"])
    assert list(study.report().per_label_f1["a vs b"]) == ["CLAIM"]


def _with_figures(release: Path, path: Path, values: list[str]) -> Path:
    """The release's gold plus one NUM_STAT per value, each on a CLAIM's span of the
    documents in order (the value written as given)."""
    gold = (release / "annotations.jsonl").read_text("utf-8").splitlines(keepends=True)
    claims, seen = [], set()
    for line in gold:
        record = json.loads(line)
        if record["label"] == "CLAIM" and record["doc_id"] not in seen:
            seen.add(record["doc_id"])
            claims.append(record)
    figures = [
        {
            **claim,
            "id": f"{claim['id']}:figure",
            "layer": "statistics",
            "label": "NUM_STAT",
            "attributes": {"value": value, "unit": "count", "qualifier": "exact"},
        }
        for claim, value in zip(claims, values, strict=False)
    ]
    path.write_text("".join(gold) + "".join(json.dumps(r) + "\n" for r in figures), "utf-8")
    return path


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_decimal_that_is_not_finite_is_one_located_error(
    synthetic: tuple[Path, list[Path]], tmp_path: Path, value: str
) -> None:
    """The format checker refuses "NaN" or "Infinity" for a decimal attribute, so agree and
    eval score stop on one located line (before: agree crashed with an internal error on
    Fraction(nan), eval score with decimal.InvalidOperation)."""
    release, _ = synthetic
    a = _with_figures(release, tmp_path / "a.jsonl", [value, "3", "7"])
    b = _with_figures(release, tmp_path / "b.jsonl", ["12.5", "4", "7"])
    line = len((release / "annotations.jsonl").read_text("utf-8").splitlines()) + 1
    expected = f"a.jsonl:{line}: bad-attribute-value: 'value' = {value!r}"
    for args in (
        ("annotate", "agree", a, b, "--release", release, "--json"),
        ("eval", "score", a, "--release", release, "--task", "statistics"),
    ):
        result = run_cli(*args)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert expected in result.stderr and "not a finite decimal number" in result.stderr
    assert run_cli("annotate", "agree", release, b, "--release", release).returncode == 0


def test_alpha_sums_leave_out_a_value_beyond_a_float() -> None:
    """A finite decimal too large for a float ("1e999") counts as not coded: the sums never
    see an infinity."""
    sums, peer = AlphaSums("interval"), AlphaSums("interval")
    for column, kept in (([float("inf"), 12.5, 1.0], [12.5, 1.0]), ([3.0, 4.0], [3.0, 4.0])):
        sums.add(column)
        peer.add(kept)
    assert sums.result() == peer.result() and sums.result().units == 2


def _across_documents(release: Path, path: Path, holder: str) -> Path:
    """The release's gold where the first relation's ``cue`` and a STANCE's ``holder`` of
    the first document name a CUE and a SOURCE (id ``holder``) in the last document."""
    gold = [json.loads(line) for line in (release / "annotations.jsonl").open(encoding="utf-8")]
    relations = [json.loads(line) for line in (release / "relations.jsonl").open(encoding="utf-8")]
    first, last = gold[0]["doc_id"], gold[-1]["doc_id"]
    span = next(r for r in gold if r["doc_id"] == last and r["label"] == "SOURCE")
    cue = {**span, "id": "cue-elsewhere", "label": "CUE", "attributes": {}}
    relations[0] = {**relations[0], "attributes": {**relations[0]["attributes"], "cue": cue["id"]}}
    assert relations[0]["doc_id"] == first != last
    stance = {
        "id": "stance-here",
        "doc_id": first,
        "layer": "stance",
        "label": "STANCE",
        "attributes": {"holder": holder, "target": "BRI", "stance": "FAVOR"},
    }
    records = [*gold, cue, {**span, "id": holder}, stance, *relations]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def test_a_reference_to_another_document_is_dangling_whatever_the_batches(
    synthetic: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """A cue or a stance holder naming an annotation of another document resolves in the
    record's own document only, so it counts as unresolved at every batch size (before: it
    counted only when both documents fell in one batch)."""
    release, _ = synthetic
    sets = [
        _across_documents(release, tmp_path / "a.jsonl", "holder-a"),
        _across_documents(release, tmp_path / "b.jsonl", "holder-b"),
    ]
    reports = [
        agreement_of_files(sets, release, batch=size).to_dict() for size in (1, 7, DOCUMENTS)
    ]
    assert reports[0] == reports[1] == reports[2]
    cue = reports[0]["relations"]["cue"]["F1 a vs b"]
    assert cue["value"] is None and cue["units"] == 0
    stance = reports[0]["stance"]
    assert stance["alpha (nominal)"]["value"] is None and stance["alpha (nominal)"]["units"] == 0


def test_the_first_problem_named_is_the_first_in_the_file(
    synthetic: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """The error names the set's first problem in file order (before: in the release's
    document order, records naming no document of the release last)."""
    release, sets = synthetic
    lines = [json.loads(line) for line in sets[1].read_text("utf-8").splitlines()]
    last = max(i for i, r in enumerate(lines) if r.get("label") == "CLAIM")
    lines[last] = {**lines[last], "quote": {**lines[last]["quote"], "exact": "qq"}}
    stray = {**lines[0], "id": "stray", "doc_id": "nodoc"}
    path = tmp_path / "errors.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [stray, *lines]), "utf-8")
    for batch in (1, DOCUMENTS):
        with pytest.raises(ClaimwireError) as error:
            agreement_of_files([sets[0], path], release, batch=batch)
        assert f"format checker: {path}:1: field 'doc_id': 'nodoc'" in str(error.value)
        assert str(error.value).endswith("(and 1 more)")


@pytest.mark.parametrize("size", [7, DOCUMENTS])
def test_a_relation_to_another_batch_s_rejected_annotation_counts_as_in_the_whole_check(
    synthetic: tuple[Path, list[Path]], tmp_path: Path, size: int
) -> None:
    """The annotation it names has a span outside its text: the whole check has none, so the
    relation's end is missing, not in another document."""
    release, sets = synthetic
    lines = sets[1].read_text("utf-8").splitlines()
    at, far = next((k, json.loads(x)) for k, x in enumerate(lines) if '"head"' not in x)
    relation = next(json.loads(x) for x in reversed(lines) if '"head"' in x)
    assert far["doc_id"] != relation["doc_id"]
    lines[at] = json.dumps({**far, "end": 10**6})
    lines.insert(0, json.dumps({**relation, "id": "r-far", "tail": far["id"]}))  # shown first
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(ClaimwireError) as error:
        agreement_of_files([release, broken], release, batch=size)
    shown = f"{broken}:1: field 'tail': no annotation with id {far['id']!r} (and 1 more)"
    assert str(error.value) == f"the set fails the format checker: {shown}"
