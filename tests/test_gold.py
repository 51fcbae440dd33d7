"""Gold resolution: quotes to offsets, located errors, nothing written on failure; releases 1.0.0 and 1.1.0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from claimwire.annotation.checks import validate
from claimwire.annotation.gold import GoldError, resolve_gold
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.files import sha256
from claimwire.model import Annotation

from .helpers import REPO, run_cli

GOLD = REPO / "annotation" / "gold" / "release-fr.yaml"
RELEASE = REPO / "corpus" / "releases" / "1.1.0"
HEADER = "source: release-fr.txt\nannotations:\n"


def _resolve(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "gold.yaml"
    path.write_text(HEADER + body, encoding="utf-8")
    documents = open_release(REPO / "corpus" / "releases" / "0.1.0").documents()
    return path, resolve_gold([path], documents, load_schema())


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('  - {id: a, label: CUE, quote: "a dit que"}\n', 3, "quote not found"),
        ('  - {id: a, label: CUE, quote: "a déclaré"}\n', 3, "occurs 4 times; add 'occurrence"),
        (
            '  - {id: a, label: CUE, quote: "a déclaré", occurrence: 9}\n',
            3,
            "occurrence must be 1 to 4",
        ),
        ('  - {id: a, label: RUMOUR, quote: "CGTN"}\n', 3, "unknown label 'RUMOUR'"),
        (
            '  - {id: a, label: CUE, quote: "a ajouté"}\n'
            '  - id: b\n    label: CLAIM\n    quote: "Ce Traité vise"\n'
            "    attributes: {claim_type: rumour, checkworthy: true}\n",
            4,
            "b: bad-attribute-value: 'claim_type' = 'rumour'",
        ),
        ('  - {id: s, label: SURVEY, quote: "CGTN", attributes: {}}\n', 3, "document-level label"),
        (
            '  - {id: a, label: CUE, quote: "a ajouté"}\n  - {id: a, label: CUE, quote: "a salué"}\n',
            4,
            "id 'a' is used twice",
        ),
        (
            "  - {id: a, label: CUE, quote: 2025-02-28}\n",
            3,
            "got date 2025-02-28: put it in quotes",
        ),
    ],
)
def test_gold_errors_name_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    with pytest.raises(GoldError) as caught:
        _resolve(tmp_path, body)
    problems = [str(p) for p in caught.value.problems]
    assert any(
        p.startswith(f"{tmp_path / 'gold.yaml'}:{line}: ") and message in p for p in problems
    ), problems


@pytest.mark.parametrize("author", ["x" * 121, "alice\\u202e", "a\\tb", "' '"])
def test_a_gold_file_s_author_is_a_name_on_one_visible_line(tmp_path: Path, author: str) -> None:
    """The author is every record's ``author`` and part of its id (before: any string, a
    10,000-character one or one with a direction override kept in every record)."""
    path = tmp_path / "gold.yaml"
    quoted = author if author.startswith("'") else f'"{author}"'
    body = '  - {id: a, label: CUE, quote: "a ajouté"}\n'
    path.write_text(f"source: release-fr.txt\nauthor: {quoted}\nannotations:\n{body}", "utf-8")
    documents = open_release(REPO / "corpus" / "releases" / "0.1.0").documents()
    with pytest.raises(GoldError) as caught:
        resolve_gold([path], documents, load_schema())
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith(f"{path}:2: author: expected a name of 1 to 120 characters")


def test_relations_to_unknown_ids_are_reported(tmp_path: Path) -> None:
    body = '  - {id: a, label: CUE, quote: "a ajouté"}\nrelations:\n  - {type: from_survey, head: a, tail: zz}\n'
    with pytest.raises(GoldError) as caught:
        _resolve(tmp_path, body)
    assert any("tail 'zz' is not an annotation id" in str(p) for p in caught.value.problems)


def test_resolved_offsets_slice_their_quotes(tmp_path: Path) -> None:
    _, (annotations, relations) = _resolve(
        tmp_path, '  - {id: a, label: CUE, quote: "a déclaré", occurrence: 4}\n'
    )
    [cue] = annotations
    assert cue.id.endswith(":a") and cue.layer == "attribution" and cue.author == "gold"
    [document] = open_release(REPO / "corpus" / "releases" / "0.1.0").documents()
    assert cue.start is not None and document.text[cue.start : cue.end] == "a déclaré"
    assert document.text[cue.end : cue.end + 10] == " Cui Zheng"
    assert relations == []


def test_resolve_cli_writes_nothing_on_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEADER + '  - {id: a, label: CUE, quote: "introuvable"}\n', encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        "annotate", "resolve", bad, "--release", REPO / "corpus/releases/0.1.0", "--out", out
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{bad}:3: quote not found" in result.stderr
    assert not out.exists()
    result = run_cli(
        "annotate", "resolve", GOLD, "--release", REPO / "corpus/releases/0.1.0", "--out", out
    )
    assert result.returncode == 0, result.stderr
    lines = (out / "annotations.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(list(open_release(RELEASE).annotations()))


def test_release_1_1_0_is_the_resolved_gold() -> None:
    release = open_release(RELEASE)
    assert release.manifest["parent"] == "1.0.0"
    assert release.manifest["schema_version"] == "1.1.0"
    assert validate(RELEASE, warnings=True) == []
    documents = list(release.documents())
    expected, relations = resolve_gold(
        [GOLD], iter(documents), load_schema(RELEASE / "schema.yaml")
    )
    assert list(release.annotations()) == expected
    assert list(release.relations()) == relations
    labels = {a.label for a in expected}
    assert labels == set(load_schema().labels)  # every label is used at least once
    survey = release.manifest["gold_summary"]["surveys"][0]
    assert survey["disclosure"]["core"] == pytest.approx(2 / 6)
    assert set(survey["flags"]) == {"sponsor_is_publisher"}


def _gold_of(release: Path) -> dict[str, Annotation]:
    return {a.id.split(":", 1)[1]: a for a in open_release(release).annotations()}


def test_release_1_1_0_fixes_the_gold_errors() -> None:
    """Each error the blind re-annotation found in 1.0.0, fixed in 1.1.0 and listed."""
    old, new = _gold_of(RELEASE.parent / "1.0.0"), _gold_of(RELEASE)
    assert "num-five-nations" in old and "num-five-nations" not in new
    assert new["claim-presidents-attended"].attributes["checkworthy"] is False
    for claim in ("claim-treaty-signed", "claim-three-centres"):
        assert "numeric_category" not in old[claim].attributes
        assert new[claim].attributes["numeric_category"] == "statistical"
    assert new["survey-cgtn"].attributes["sponsor_is_interested_party"] == "unknown"
    wording = [a for a in new.values() if a.attributes.get("field") == "question_wording"]
    assert [a.quote.exact.endswith("l’avenir") for a in wording if a.quote] == [True, False]
    assert len(wording) == 2  # one evidence span per poll figure, each a whole proposition
    # stance-xi-bri stays FAVOR: the verbless sentence on the BRI is Xi's content now
    [link] = [
        r for r in open_release(RELEASE).relations() if r.head.endswith(":content-bri-dynamic")
    ]
    assert link.tail.endswith(":src-xi-5") and link.type == "attributed_to"
    assert new["stance-xi-bri"].attributes["target"] == new["target-bri"].id
    assert {a.attributes["name"] for a in new.values() if a.label == "TARGET"} == {
        "the Belt and Road Initiative",
        "China–Central Asia cooperation",
        "the Treaty of Eternal Good-Neighbourliness, Friendship and Cooperation",
    }
    changes = (RELEASE / "CHANGES.md").read_text(encoding="utf-8")
    for fix in (
        "removed: `cgtn-a-publie-un-article-sur-bf5a7044b3:num-five-nations`",
        "claim-presidents-attended` (checkworthy: True → False)",
        "claim-treaty-signed` (numeric_category: ∅ → statistical)",
        "survey-cgtn` (sponsor_is_interested_party: True → unknown)",
        "re-anchored: `cgtn-a-publie-un-article-sur-bf5a7044b3:disclosure-wording`",
        "content-bri-dynamic",
    ):
        assert fix in changes, fix


@pytest.mark.parametrize(
    ("version", "digest"),
    [
        ("0.1.0", "438536532d580fa26504b78fe000fa8fed0a28dbbab5fede19bf46b16bcb344f"),
        ("1.0.0", "e4173767837ac86a9dc3ddee0be2d710a474e80e6e4376e6c3e257496415a478"),
    ],
)
def test_published_releases_stay_byte_identical(version: str, digest: str) -> None:
    """A release is immutable: its manifest (which checksums every file) never changes."""
    path = RELEASE.parent / version
    assert sha256(path / "MANIFEST.json") == digest
    assert validate(path, max_level=1) == []


def test_stats_show_layers_and_disclosure_scores() -> None:
    result = run_cli("corpus", "stats", RELEASE)
    assert "statistics/SURVEY_STAT" in result.stdout and "0.33" in result.stdout
    data = json.loads(run_cli("corpus", "stats", RELEASE, "--json").stdout)
    assert (
        data["gold_summary"]["layers"]["claims"] == data["splits"]["all"]["labels"]["claims/CLAIM"]
    )


def test_schema_problems_in_a_release_are_level_4(tmp_path: Path) -> None:
    copy = tmp_path / "releases" / "1.0.0"
    shutil.copytree(RELEASE.parent / "1.0.0", copy)
    shutil.copytree(RELEASE.parent / "0.1.0", copy.parent / "0.1.0")
    path = copy / "annotations.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    claim = next(r for r in records if r["label"] == "CLAIM")
    claim["attributes"]["claim_type"] = "rumour"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    manifest = json.loads((copy / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest["files"]["annotations.jsonl"]["sha256"] = sha256(path)
    (copy / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_cli("corpus", "validate", copy)
    assert result.returncode == 1
    line = records.index(claim) + 1
    assert (
        f"[annotations.jsonl line {line} doc {claim['doc_id']} ann {claim['id']}] L4 bad-attribute-value"
        in result.stdout
    )
    assert run_cli("corpus", "validate", copy, "--level", "3").returncode == 0


def test_quotes_match_whole_words_only(tmp_path: Path) -> None:
    """``il`` occurs inside "ville", "milliards"…: occurrence counts whole words only."""
    _, (annotations, _) = _resolve(
        tmp_path,
        '  - {id: s, label: SOURCE, quote: "il", occurrence: 1,'
        " attributes: {source_kind: person, named: false}}\n",
    )
    [document] = open_release(REPO / "corpus" / "releases" / "0.1.0").documents()
    [source] = annotations
    assert source.start is not None
    assert document.text[source.start - 20 : source.end + 10] == "Dans cette optique, il a déclaré"


def test_a_quote_inside_a_word_is_refused_unless_marked(tmp_path: Path) -> None:
    body = '  - {id: c, label: CUE, quote: "illiards de"%s}\n'
    with pytest.raises(GoldError) as caught:
        _resolve(tmp_path, body % "")
    assert "starts or ends inside a word" in str(caught.value.problems[0])
    assert "partial_word: true" in str(caught.value.problems[0])
    _, (annotations, _) = _resolve(tmp_path, body % ", partial_word: true, occurrence: 1")
    assert annotations[0].quote is not None and annotations[0].quote.exact == "illiards de"


def test_validation_warns_on_spans_that_cut_words(tmp_path: Path) -> None:
    copy = tmp_path / "releases" / "1.0.0"
    shutil.copytree(RELEASE.parent / "1.0.0", copy)
    shutil.copytree(RELEASE.parent / "0.1.0", copy.parent / "0.1.0")
    path = copy / "annotations.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    cue = next(r for r in records if r["id"].endswith(":cue-added"))  # "a ajouté"
    cue["start"] += 3  # "jouté"
    cue["quote"]["exact"] = cue["quote"]["exact"][3:]
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    manifest = json.loads((copy / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest["files"]["annotations.jsonl"]["sha256"] = sha256(path)
    (copy / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert validate(copy) == []  # a warning does not fail validation
    [warning] = validate(copy, warnings=True)
    assert warning.code == "span-not-on-word-boundary" and warning.ann == cue["id"]
    result = run_cli("corpus", "validate", copy)
    assert result.returncode == 0, result.stdout
    assert "L4 warning span-not-on-word-boundary" in result.stdout
    assert "PASSED (1 warnings)" in result.stdout
    assert run_cli("corpus", "validate", copy, "--level", "3").stdout.strip() == "PASSED"
