"""A document an annotator completed and found nothing in holds no record, so a set alone
counts it as never annotated: agreement and ``eval score --gold`` left it out, and a system's
spans there were never counted as spurious. The list of completed documents beside a set
(``NAME.completed.txt``) says so: ``annotate pull`` writes it from Label Studio's submitted
annotations, ``convert --from --completed`` from the documents an export holds, and coverage
counts what it lists as annotated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.label_studio.convert import to_results
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.eval.agreement_files import agreement_of_files
from claimwire.eval.completed import completed_path, read_completed, write_completed
from claimwire.model import Document

from .helpers import one_error_line, release_with_test_claims, run_cli


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _claims(release: Path) -> tuple[list[dict[str, Any]], list[str]]:
    claims = [a.to_dict() for a in open_release(release).annotations()]
    return claims, sorted({c["doc_id"] for c in claims})


def _brat_export(tmp_path: Path) -> tuple[Path, Path]:
    """A release of 4 documents with test claims, and its gold exported as BRAT."""
    release = release_with_test_claims(tmp_path, 4, claimed="all")
    exported = tmp_path / "brat"
    made = run_cli(
        "convert", _write(tmp_path / "gold.jsonl", _claims(release)[0]), "--to", "brat",
        "--out", exported, "--release", release,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return release, exported


def test_the_list_is_found_beside_a_set_read_back_and_looked_up(tmp_path: Path) -> None:
    assert completed_path(tmp_path / "alice.jsonl") == tmp_path / "alice.completed.txt"
    assert completed_path(tmp_path / "alice.jsonl.zst") == tmp_path / "alice.completed.txt"
    assert completed_path(tmp_path) == tmp_path / "completed.txt"
    assert read_completed(tmp_path / "alice.jsonl") is None
    written = write_completed(tmp_path / "alice.jsonl", ["d-2", "d-1", "d-2", "é-3"])
    assert written.read_text("utf-8") == "d-2\nd-1\nd-2\né-3\n"
    completed = read_completed(tmp_path / "alice.jsonl")
    assert completed is not None and len(completed) == 3
    assert completed.among(["d-1", "d-4", "é-3", "d-2"]) == {"d-1", "é-3", "d-2"}
    assert completed.among([]) == set()


def test_a_line_that_is_not_a_document_id_is_a_located_error(tmp_path: Path) -> None:
    release = release_with_test_claims(tmp_path, 6, claimed="all")
    claims, documents = _claims(release)
    alice = _write(tmp_path / "alice.jsonl", claims)
    bob = _write(tmp_path / "bob.jsonl", claims)
    completed_path(alice).write_text(f"{documents[0]}\n\ntwo ids\n", encoding="utf-8")
    result = run_cli("annotate", "agree", alice, bob, "--release", release)
    assert result.returncode == 1 and one_error_line(result.stderr)
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {completed_path(alice)}:3: 'two ids' is not a document id")


def test_agreement_counts_a_completed_document_without_records(tmp_path: Path) -> None:
    """Alice completed every document but found nothing in the last one, where Bob marked
    its claim: compared on all of them, Bob's claim there is one Alice missed (before: the
    document was left out and the two agreed fully)."""
    release = release_with_test_claims(tmp_path, 6, claimed="all")
    claims, documents = _claims(release)
    empty = documents[-1]
    alice = _write(tmp_path / "alice.jsonl", [c for c in claims if c["doc_id"] != empty])
    bob = _write(tmp_path / "bob.jsonl", claims)
    before = agreement_of_files([alice, bob], release).to_dict()
    assert before["documents"]["pairs"] == {"alice vs bob": len(documents) - 1}
    assert before["pairwise_f1"]["alice vs bob"]["strict"] == 1.0
    write_completed(alice, documents)
    after = agreement_of_files([alice, bob], release).to_dict()
    assert after["documents"]["pairs"] == {"alice vs bob": len(documents)}
    agreed = len(documents) - 1
    assert after["pairwise_f1"]["alice vs bob"]["strict"] == pytest.approx(
        2 * agreed / (agreed + len(documents))
    )


def test_a_gold_set_counts_its_completed_documents_without_records(tmp_path: Path) -> None:
    """``eval score --gold``: a system's claim on a document the gold set's annotator
    completed without finding one is spurious (before: the document was left out)."""
    release = release_with_test_claims(tmp_path, 8, claimed="all")
    claims, documents = _claims(release)
    half = documents[:4]
    gold = _write(tmp_path / "alice.jsonl", [c for c in claims if c["doc_id"] in half[:3]])
    system = _write(tmp_path / "system.jsonl", claims)

    strict = _score(system, gold, release)
    assert (strict["cor"], strict["spu"]) == (3, 0)
    write_completed(gold, half)
    strict = _score(system, gold, release)
    assert (strict["cor"], strict["spu"]) == (3, 1)


def _task(document: Document, annotations: list[dict[str, Any]], number: int) -> dict[str, Any]:
    return {
        "id": number,
        "data": {"text": document.text, "doc_id": document.id},
        "annotations": annotations,
    }


def test_a_pull_lists_what_each_annotator_submitted_empty_or_not(tmp_path: Path) -> None:
    """Zoe submitted the first document with its claim and the second with nothing; Yan
    skipped the second: Zoe's list names both, Yan has no set."""
    release = release_with_test_claims(tmp_path, 4, claimed="all")
    opened = open_release(release)
    schema = load_schema()
    first, second = sorted(opened.documents(), key=lambda d: d.id)[:2]
    claim = [a for a in opened.annotations() if a.doc_id == first.id]
    zoe = {"id": 3, "email": "zoe@example.org"}
    export = [
        _task(
            first,
            [{"id": 1, "completed_by": zoe, "result": to_results(claim, [], schema, first.text)}],
            1,
        ),
        _task(
            second,
            [
                {"id": 2, "completed_by": zoe, "result": []},
                {"id": 3, "completed_by": {"id": 4}, "was_cancelled": True, "result": []},
            ],
            2,
        ),
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    out = tmp_path / "sets"
    result = run_cli("annotate", "pull", "--from-file", path, "--out", out, "--release", release)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "zoe@example.org.completed.txt",
        "zoe@example.org.jsonl",
    ]
    listed = (out / "zoe@example.org.completed.txt").read_text("utf-8").split()
    assert listed == sorted([first.id, second.id])
    again = run_cli("annotate", "pull", "--from-file", path, "--out", out, "--release", release)
    assert again.returncode == 0, again.stderr  # an earlier pull's lists may be replaced


def test_an_import_lists_its_documents_only_when_asked(tmp_path: Path) -> None:
    """A BRAT export with an empty ``.ann``: ``--completed`` lists that document too; without
    it, nothing is written beside ``--out``."""
    release, exported = _brat_export(tmp_path)
    documents = _claims(release)[1]
    emptied = sorted(exported.glob("*.ann"))[0]
    emptied.write_text("", encoding="utf-8")
    plain = run_cli(
        "convert", exported, "--from", "brat", "--out", tmp_path / "a.jsonl", "--release", release
    )
    assert plain.returncode == 0, plain.stderr
    assert not completed_path(tmp_path / "a.jsonl").exists()
    listed = run_cli(
        "convert", exported, "--from", "brat", "--out", tmp_path / "b.jsonl", "--release",
        release, "--completed",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    names = completed_path(tmp_path / "b.jsonl").read_text("utf-8").split()
    assert sorted(names) == documents
    records = (tmp_path / "b.jsonl").read_text("utf-8").splitlines()
    assert len(records) == len(documents) - 1
    refused = run_cli(
        "convert", tmp_path / "b.jsonl", "--to", "brat", "--out", tmp_path / "c", "--release",
        release, "--completed",
    )  # fmt: skip
    assert refused.returncode == 1 and one_error_line(refused.stderr)
    assert "--completed lists the documents of an import" in refused.stderr


def test_adjudication_votes_a_completed_document_among_its_annotators(tmp_path: Path) -> None:
    """Bob marked a claim on the last document, which Alice completed finding nothing: with
    her list, the claim has one vote of two (a conflict, not gold); without it, the document
    was Bob's alone and his claim was taken. The batched merge (the CLI) and the one in
    memory (``adjudicate`` on loaded sets) agree."""
    from claimwire.eval.adjudication import adjudicate
    from claimwire.eval.checker import load_annotation_set

    release = release_with_test_claims(tmp_path, 6, claimed="all")
    claims, documents = _claims(release)
    empty = documents[-1]
    alice = _write(tmp_path / "alice.jsonl", [c for c in claims if c["doc_id"] != empty])
    bob = _write(tmp_path / "bob.jsonl", claims)

    def merged() -> set[str]:
        out = tmp_path / "gold"
        args = ("annotate", "adjudicate", alice, bob, "--release", release, "--out", out)
        result = run_cli(*args, "--force") if out.exists() else run_cli(*args)
        assert result.returncode == 0, result.stderr
        lines = (out / "annotations.jsonl").read_text("utf-8").splitlines()
        in_memory = adjudicate([load_annotation_set(p, p.stem) for p in (alice, bob)])
        assert {a.doc_id for a in in_memory.annotations} == {
            json.loads(line)["doc_id"] for line in lines
        }
        return {json.loads(line)["doc_id"] for line in lines}

    assert merged() == set(documents)
    write_completed(alice, documents)
    assert merged() == set(documents) - {empty}


def _score(system: Path, gold: Path, release: Path) -> dict[str, Any]:
    result = run_cli(
        "eval", "score", system, "--gold", gold, "--release", release, "--task", "claims",
        "--split", "all", "--format", "json", "--bootstrap", "20",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["systems"][0]["schemes"]["strict"]  # type: ignore[no-any-return]


def test_an_adjudicated_set_lists_the_documents_its_annotators_completed(
    tmp_path: Path,
) -> None:
    """Alice and Bob both completed the last document and found nothing there: the merged
    gold lists it, so a system's claim there is spurious when the merge is gold (before: the
    merge wrote no list, and the document was left out of the score)."""
    from claimwire.eval.adjudication import adjudicate
    from claimwire.eval.checker import load_annotation_set

    release = release_with_test_claims(tmp_path, 6, claimed="all")
    claims, documents = _claims(release)
    empty = documents[-1]
    kept = [c for c in claims if c["doc_id"] != empty]
    alice = _write(tmp_path / "alice.jsonl", kept)
    bob = _write(tmp_path / "bob.jsonl", kept)
    for annotator in (alice, bob):
        write_completed(annotator, documents)
    out = tmp_path / "gold"
    result = run_cli("annotate", "adjudicate", alice, bob, "--release", release, "--out", out)
    assert result.returncode == 0, result.stderr
    assert (out / "completed.txt").read_text("utf-8").split() == [
        d.id for d in open_release(release).documents()
    ]
    in_memory = adjudicate([load_annotation_set(p, p.stem) for p in (alice, bob)])
    assert in_memory.completed == set(documents)
    system = _write(tmp_path / "system.jsonl", claims)
    strict = _score(system, out, release)
    assert (strict["cor"], strict["spu"]) == (len(documents) - 1, 1)


@pytest.mark.parametrize("command", ["agree", "adjudicate", "score", "check"])
def test_a_listed_id_the_release_lacks_is_a_located_error(command: str, tmp_path: Path) -> None:
    """As a record naming a document the release lacks is refused, so is a listed id (before:
    ignored, uncounted): the list's file and line, and how many more there are."""
    release = release_with_test_claims(tmp_path, 6, claimed="all")
    claims, documents = _claims(release)
    alice = _write(tmp_path / "alice.jsonl", claims)
    bob = _write(tmp_path / "bob.jsonl", claims)
    listed = completed_path(alice)
    listed.write_text(f"{documents[0]}\nno-such-doc\n{documents[1]}\nnor-this\n", "utf-8")
    release_args = ("--release", release)
    task = ("--task", "claims", "--split", "all")
    args = {
        "agree": ("annotate", "agree", alice, bob, *release_args),
        "adjudicate": (
            "annotate",
            "adjudicate",
            bob,
            alice,
            *release_args,
            "--out",
            tmp_path / "o",
        ),
        "score": ("eval", "score", bob, "--gold", alice, *release_args, *task),
        "check": ("eval", "check", alice, *release_args, *task),
    }[command]
    result = run_cli(*args)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"error: {listed}:2: 'no-such-doc' is not a document of the release {release} "
        "(1 more listed ids are not either)"
    ), line
    assert not (tmp_path / "o").exists()


def test_an_import_whose_list_cannot_be_written_writes_no_set(tmp_path: Path) -> None:
    """The list is put in place before the set: when it cannot be written (here its path is a
    folder), neither appears (before: the set was renamed into place first, and stayed
    without its list)."""
    from claimwire.errors import ClaimwireError
    from claimwire.formats.convert import import_to

    release, exported = _brat_export(tmp_path)
    out = tmp_path / "imported.jsonl"
    completed_path(out).mkdir()
    opened = open_release(release)
    with opened.document_index() as documents, pytest.raises(ClaimwireError, match="a folder"):
        import_to("brat", exported, out, documents, load_schema(), completed=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("imported")) == [
        "imported.completed.txt"
    ]
    assert not any(completed_path(out).iterdir())


def test_an_import_over_an_earlier_one_leaves_no_list_of_the_other_export(
    tmp_path: Path,
) -> None:
    """An import with ``--completed`` then another into the same ``--out`` without it: the
    first one's list is removed as the second set is put in place (before: it stayed, and
    named as completed-empty the documents the second export does not hold)."""
    release, exported = _brat_export(tmp_path)
    out = tmp_path / "a.jsonl"
    args = ("convert", exported, "--from", "brat", "--out", out, "--release", release)
    first = run_cli(*args, "--completed")
    assert first.returncode == 0, first.stderr
    assert completed_path(out).exists()
    for ann in sorted(exported.glob("*.ann"))[2:]:
        ann.unlink()
        ann.with_suffix(".txt").unlink()
    refused = run_cli(*args)
    assert refused.returncode == 1 and one_error_line(refused.stderr)
    second = run_cli(*args, "--force")
    assert second.returncode == 0, second.stderr
    assert not completed_path(out).exists()
    assert len(out.read_text("utf-8").splitlines()) == 2


def test_a_set_re_anchored_by_eval_check_keeps_its_list(tmp_path: Path) -> None:
    """``eval check --fix-offsets --out``: the set written carries the list of the set read
    (before: written without it, so its completed-empty documents were lost)."""
    release = release_with_test_claims(tmp_path, 6, claimed="all")
    claims, documents = _claims(release)
    alice = _write(tmp_path / "alice.jsonl", claims[1:])
    write_completed(alice, documents)
    out = tmp_path / "fixed.jsonl"
    result = run_cli(
        "eval", "check", alice, "--release", release, "--task", "claims", "--split", "all",
        "--fix-offsets", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert completed_path(out).read_text("utf-8").split() == documents
    assert len(out.read_text("utf-8").splitlines()) == len(claims) - 1


def test_a_set_whose_list_name_cannot_exist_has_no_list(tmp_path: Path) -> None:
    """A set file named with 251 bytes (legal: NAME_MAX is 255) has no list beside it: the
    list's name would be past NAME_MAX, so it is none (before: 'File name too long', exit 1)."""
    release = release_with_test_claims(tmp_path, 4, claimed="all")
    claims = _claims(release)[0]
    long = _write(tmp_path / f"{'n' * 245}.jsonl", claims)
    bob = _write(tmp_path / "bob.jsonl", claims)
    assert read_completed(long) is None
    result = run_cli("annotate", "agree", long, bob, "--release", release, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pairwise_f1"][f"{'n' * 245} vs bob"]["strict"] == 1.0
    checked = run_cli("eval", "check", long, "--task", "claims", "--release", release)
    assert checked.returncode == 0, checked.stderr
