"""``eval score --gold SET`` where the set covers part of the split (the documents annotated
so far): before, every prediction on a document the set never saw was a spurious span (the
predictions scored 0.436 strict F1 where, cut to the set's documents, they scored 0.819).
Now scored on the documents the set annotated, as agreement compares sets
(:mod:`claimwire.eval.coverage`), and said in a note."""

from __future__ import annotations

import json
from pathlib import Path

from claimwire.corpus.release import open_release

from .helpers import release_with_test_claims, run_cli


def _score(release: Path, predictions: Path, gold: Path) -> dict:  # type: ignore[type-arg]
    result = run_cli(
        "eval", "score", predictions, "--gold", gold, "--release", release,
        "--task", "claims", "--split", "all", "--format", "json", "--bootstrap", "50",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["systems"][0]  # type: ignore[no-any-return]


def _write(path: Path, records: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_gold_set_is_compared_on_the_documents_it_annotated(tmp_path: Path) -> None:
    release = release_with_test_claims(tmp_path, 12, claimed="all")
    claims = [a.to_dict() for a in open_release(release).annotations()]
    documents = sorted({c["doc_id"] for c in claims})
    half = set(documents[: len(documents) // 2])
    gold = _write(tmp_path / "alice.jsonl", [c for c in claims if c["doc_id"] in half])
    everywhere = _write(tmp_path / "system.jsonl", claims)
    on_half = _write(tmp_path / "system-half.jsonl", [c for c in claims if c["doc_id"] in half])
    scored = _score(release, everywhere, gold)
    assert scored["schemes"]["strict"]["f1"] == 1.0
    assert scored["schemes"]["strict"]["spu"] == 0
    cut = _score(release, on_half, gold)
    assert scored["schemes"] == cut["schemes"]  # the same as the predictions cut to its documents
    left = len(documents) - len(half)
    for result, predicted in ((scored, left), (cut, 0)):
        note = next(n for n in result["notes"] if n.startswith("Compared on the "))
        assert note.startswith(f"Compared on the {len(half)} documents of split 'all' the gold")
        said = f"the {left} it holds no record for (nor lists as completed) were left out, with "
        assert f"{said}the {predicted} predicted annotations on them" in note
