"""A build pairs a document with its parent's by the document's own id first (the id hashes
its text: the same text is the same document), then by the user's id, then by input, where
``x.jsonl``, ``x.jsonl.gz`` and ``x.jsonl.zst`` are one input: compressing or renaming a raw
file keeps the parent's gold, and no id is both added and removed."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from claimwire.corpus.release import build_release, diff_releases, open_release
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Document, Quote

from .helpers import one_error_line, run_cli


def _text(i: int, verb: str = "rose") -> str:
    return (
        f"Release number {i} of Acme\n\nNEW YORK, March 3, 2025 -- Acme said sales {verb} {i}% "
        f"in 2024, according to its own figures for region {i}.\n"
    )


def _lines(texts: list[str]) -> bytes:
    return "".join(json.dumps({"text": text}) + "\n" for text in texts).encode("utf-8")


def _claims(documents: list[Document]) -> list[Annotation]:
    """A CLAIM on each document's word "sales"."""
    found = []
    for doc in documents:
        start = doc.text.index("sales")
        quote = Quote.from_text(doc.text, start, start + 5)
        found.append(Annotation(f"c-{doc.id}", doc.id, "claims", "CLAIM", start, start + 5, quote))
    return found


def _gold_release(tmp_path: Path, texts: list[str]) -> tuple[Path, Path]:
    """``raw/feed.jsonl`` (no ids) built into ``releases/0.1.0``, a claim on each document."""
    raw, releases = tmp_path / "raw", tmp_path / "releases"
    raw.mkdir()
    (raw / "feed.jsonl").write_bytes(_lines(texts))
    build_release(raw, releases, "0.1.0", gold=_claims)
    return raw, releases


def _gzip(path: Path) -> None:
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()


def _zstd(path: Path, name: str = "feed.jsonl.zst") -> None:
    path.with_name(name).write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
    path.unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "gzip": _gzip,
    "zstd": _zstd,
    "zstd, upper case": lambda path: _zstd(path, "feed.JSONL.ZST"),
    "renamed": lambda path: path.rename(path.with_name("r2.jsonl")),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_compressed_or_renamed_raw_file_keeps_the_parents_gold(
    tmp_path: Path, change: str
) -> None:
    """Before: every document was added and removed (the same ids on both lists), every
    annotation removed, and the build exited 0 with no gold."""
    raw, releases = _gold_release(tmp_path, [_text(i) for i in range(12)])
    CHANGES[change](raw / "feed.jsonl")
    report = build_release(raw, releases, "0.2.0", parent="0.1.0")
    documents = report.documents
    assert (list(documents.added), documents.removed, documents.unchanged) == ([], [], 12)
    assert (report.annotations.kept, report.annotations.removed) == (12, [])
    assert report.manifest["counts"]["annotations"] == 12
    old, new = open_release(releases / "0.1.0"), open_release(releases / "0.2.0")
    assert [d.split for d in new.documents()] == [d.split for d in old.documents()]
    assert "- Documents: 0 added, 0 removed, 0 changed, 12 unchanged." in (
        releases / "0.2.0" / "CHANGES.md"
    ).read_text("utf-8")
    diffed, _ = diff_releases(old, new)
    assert diffed.to_dict() == documents.to_dict()


def test_an_edited_line_of_the_compressed_file_is_the_same_documents_next_version(
    tmp_path: Path,
) -> None:
    """Its text (so its id) changed: it pairs by its input, the same line of ``feed.jsonl``
    now compressed, and its gold is re-anchored there."""
    texts = [_text(i) for i in range(12)]
    raw, releases = _gold_release(tmp_path, texts)
    was = {doc.meta["source_line"]: doc for doc in open_release(releases / "0.1.0").documents()}
    texts[4] = _text(4, "climbed")
    (raw / "feed.jsonl").write_bytes(_lines(texts))
    _zstd(raw / "feed.jsonl")
    report = build_release(raw, releases, "0.2.0", parent="0.1.0")
    now = {doc.meta["source_line"]: doc for doc in open_release(releases / "0.2.0").documents()}
    assert report.documents.changed == [(was[5].id, now[5].id)]
    assert (list(report.documents.added), report.documents.removed) == ([], [])
    assert now[5].split == was[5].split
    assert (report.annotations.kept, len(report.annotations.reanchored)) == (12, 0)


def test_a_text_moved_to_another_line_is_paired_by_its_id_not_its_old_line(
    tmp_path: Path,
) -> None:
    """Line 1 edited, its old text now on line 2 and line 2's on line 3: the texts are their
    documents (unchanged, in their splits), the edited one is new; the build and the diff
    agree. Before: line 1 "changed", line 2's document "changed" into line 1's old text, and
    line 2's old text "added" under an id the parent has."""
    raw, releases = _gold_release(tmp_path, [_text(i) for i in range(3)])
    old = list(open_release(releases / "0.1.0").documents())
    (raw / "feed.jsonl").write_bytes(_lines([_text(0, "fell"), _text(0), _text(1), _text(2)]))
    report = build_release(raw, releases, "0.2.0", parent="0.1.0")
    new = list(open_release(releases / "0.2.0").documents())
    changes = report.documents
    assert (changes.added, changes.removed, changes.changed) == ([new[0].id], [], [])
    assert changes.unchanged == 3
    assert [d.split for d in new[1:]] == [d.split for d in old]
    assert report.annotations.kept == 3
    diffed, _ = diff_releases(open_release(releases / "0.1.0"), open_release(releases / "0.2.0"))
    assert diffed.to_dict() == changes.to_dict()


@pytest.mark.parametrize("other", ["feed.jsonl.gz", "feed.JSONL"])
def test_two_files_that_are_one_input_are_refused(tmp_path: Path, other: str) -> None:
    """Their lines would pair by the same keys: the build names both, writes nothing."""
    raw, releases = tmp_path / "raw", tmp_path / "releases"
    raw.mkdir()
    (raw / "feed.jsonl").write_bytes(_lines([_text(1)]))
    data = _lines([_text(2)])
    (raw / other).write_bytes(gzip.compress(data) if other.endswith(".gz") else data)
    with pytest.raises(ClaimwireError) as caught:
        build_release(raw, releases, "0.1.0")
    first, second = sorted(["feed.jsonl", other])
    assert str(caught.value) == (
        f"{raw / second}: {first} and {second} are one "
        "input (the same JSONL file, compressed or not): keep one of them in the raw folder"
    )
    assert not releases.exists()


def _edited_and_renamed(raw: Path, texts: list[str], edited: int) -> None:
    """``feed.jsonl`` renamed to ``r2.jsonl``, its first ``edited`` lines edited: those no
    longer pair (neither their text nor their input is the parent's)."""
    (raw / "feed.jsonl").unlink()
    now = [_text(i, "fell") if i < edited else text for i, text in enumerate(texts)]
    (raw / "r2.jsonl").write_bytes(_lines(now))


@pytest.mark.parametrize(("edited", "refused"), [(2, False), (3, True), (4, True)])
def test_a_build_that_drops_most_of_the_parents_gold_is_refused(
    tmp_path: Path, edited: int, refused: bool
) -> None:
    """More than half of the gold lost (here 3 or 4 of 4 claims: their documents no longer
    pair) is refused, nothing written, the count and the documents named; half is built.
    Before: built, exit 0, the gold gone."""
    texts = [_text(i) for i in range(4)]
    raw, releases = _gold_release(tmp_path, texts)
    old = [doc.id for doc in open_release(releases / "0.1.0").documents()]
    _edited_and_renamed(raw, texts, edited)
    if not refused:
        report = build_release(raw, releases, "0.2.0", parent="0.1.0")
        assert (report.annotations.kept, len(report.annotations.removed)) == (2, 2)
        return
    with pytest.raises(ClaimwireError) as caught:
        build_release(raw, releases, "0.2.0", parent="0.1.0")
    assert str(caught.value) == (
        f"this build would drop {edited} of 0.1.0's 4 gold annotations: {edited} of its "
        "documents pair with none of this build (neither their text, your id nor their input, "
        f"file and line, is there: {', '.join(old[:edited])}); nothing was written. Restore the "
        "raw inputs that held them, or pass --allow-gold-loss to build without that gold"
    )
    assert sorted(p.name for p in releases.iterdir()) == ["0.1.0", "CHANGELOG.md"]
    report = build_release(raw, releases, "0.2.0", parent="0.1.0", allow_gold_loss=True)
    assert report.manifest["counts"]["annotations"] == 4 - edited


def test_the_cli_refuses_the_loss_in_one_line_and_builds_with_allow_gold_loss(
    tmp_path: Path,
) -> None:
    texts = [_text(i) for i in range(4)]
    raw, releases = _gold_release(tmp_path, texts)
    _edited_and_renamed(raw, texts, 4)
    args = ("corpus", "build", "--version", "0.2.0", "--parent", "0.1.0", "--raw", raw,
            "--out", releases)  # fmt: skip
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "would drop 4 of 0.1.0's 4 gold annotations" in result.stderr
    assert not (releases / "0.2.0").exists()
    result = run_cli(*args, "--allow-gold-loss", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        json.loads((releases / "0.2.0" / "MANIFEST.json").read_text("utf-8"))["counts"][
            "annotations"
        ]
        == 0
    )
