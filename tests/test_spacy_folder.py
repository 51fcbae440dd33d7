"""``claimwire convert --to spacy`` to a folder: one DocBin per few hundred documents, what
``spacy train`` reads (``--paths.train folder/``), written without holding the corpus; and
``--from spacy`` reading such a folder one DocBin at a time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.eval.checker import load_annotation_set
from claimwire.formats import spacy_docbin
from claimwire.formats.convert import Batch, export_batches, set_batches

from .helpers import one_error_line, release_with_test_claims, run_cli

DOCUMENTS = 20
PER_FILE = 3


def _convert(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> None:
    from claimwire.cli import main

    monkeypatch.setattr(sys, "argv", ["claimwire", "convert", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0


@pytest.fixture
def release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(spacy_docbin, "FILE_DOCUMENTS", PER_FILE)
    return release_with_test_claims(tmp_path, DOCUMENTS)


def _export(monkeypatch: pytest.MonkeyPatch, release: Path, out: Path) -> Path:
    _convert(monkeypatch, release, "--to", "spacy", "--out", out, "--release", release)
    return out


def _spans(docs: Iterator[object]) -> list[tuple[str, list[tuple[str, int, int]]]]:
    return [
        (
            d.user_data["doc_id"],  # type: ignore[attr-defined]
            [(s.label_, s.start_char, s.end_char) for s in d.spans["sc"]],  # type: ignore[attr-defined]
        )
        for d in docs
    ]


def test_a_folder_export_is_a_training_corpus_equal_to_the_single_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: Path
) -> None:
    import spacy
    from spacy.training import Corpus

    folder = _export(monkeypatch, release, tmp_path / "train")
    single = _export(monkeypatch, release, tmp_path / "train.spacy")
    names = [p.name for p in sorted(folder.glob("*.spacy"))]  # beside the export marker
    files = -(-DOCUMENTS // PER_FILE)
    assert names == [f"docs-{n:05d}.spacy" for n in range(files)]
    assert single.is_file()
    nlp = spacy.blank("fr")
    from_folder = _spans(e.reference for e in Corpus(str(folder))(nlp))  # what spacy train reads
    from_file = _spans(e.reference for e in Corpus(str(single))(nlp))
    assert len(from_folder) == DOCUMENTS
    assert from_folder == from_file
    assert [d for d, _ in from_folder] == [d.id for d in open_release(release).documents()]
    assert sum(len(spans) for _, spans in from_folder) == len(
        load_annotation_set(release).annotations
    )


def test_a_folder_import_is_the_single_file_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: Path
) -> None:
    folder = _export(monkeypatch, release, tmp_path / "train")
    single = _export(monkeypatch, release, tmp_path / "train.spacy")
    for source in (folder, single):
        out = tmp_path / f"{source.name}.jsonl"
        _convert(monkeypatch, source, "--from", "spacy", "--out", out, "--release", release)
    assert (tmp_path / "train.jsonl").read_bytes() == (tmp_path / "train.spacy.jsonl").read_bytes()
    assert len((tmp_path / "train.jsonl").read_text("utf-8").splitlines()) == len(
        load_annotation_set(release).annotations
    )


def test_a_folder_export_holds_one_file_of_docs_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: Path
) -> None:
    held: list[int] = []
    flush = spacy_docbin.DocBinWriter._flush

    def noted(self: spacy_docbin.DocBinWriter) -> None:
        held.append(len(self._docbin))
        flush(self)

    monkeypatch.setattr(spacy_docbin.DocBinWriter, "_flush", noted)
    _export(monkeypatch, release, tmp_path / "train")
    assert sum(held) == DOCUMENTS and max(held) == PER_FILE, held


def test_an_error_midway_leaves_no_folder(tmp_path: Path, release: Path) -> None:
    schema = load_schema()

    def failing() -> Iterator[Batch]:
        for number, batch in enumerate(set_batches(release, open_release(release).documents(), 4)):
            if number == 3:  # files were written already
                raise OSError("disk full")
            yield batch

    out = tmp_path / "out" / "train"
    with pytest.raises(OSError, match="disk full"):
        export_batches("spacy", out, failing(), schema)
    assert not (tmp_path / "out").exists()  # neither the folder, its staging, nor its parent
    (tmp_path / "kept").mkdir()
    with pytest.raises(OSError, match="disk full"):
        export_batches("doccano", tmp_path / "kept" / "a" / "b.jsonl", failing(), schema)
    assert list((tmp_path / "kept").iterdir()) == []  # a folder that was there stays


def test_an_empty_export_is_one_empty_docbin(tmp_path: Path, release: Path) -> None:
    schema = load_schema()
    export_batches("spacy", tmp_path / "train", iter(()), schema)
    [file] = (tmp_path / "train").glob("*.spacy")
    assert (tmp_path / "train" / ".claimwire-export").is_file()
    from spacy.tokens import DocBin

    assert file.name == "docs-00000.spacy" and len(DocBin().from_disk(file)) == 0


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.txt", b"hello", "notes.txt: not a .spacy file"),
        ("docs-00001.spacy", b"", "docs-00001.spacy: empty file"),
        ("docs-00001.spacy", b"\x00garbage", "docs-00001.spacy:"),
        ("nested", None, "nested/notes.txt: not a .spacy file"),
    ],
)
def test_a_hostile_folder_is_one_located_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    release: Path,
    name: str,
    content: bytes | None,
    expected: str,
) -> None:
    folder = _export(monkeypatch, release, tmp_path / "train")
    bad = folder / name
    bad.unlink(missing_ok=True)
    if content is None:  # a subfolder is read, and refused as the folder would be
        bad.mkdir()
        (bad / "notes.txt").write_bytes(b"hello")
    else:
        bad.write_bytes(content)
    out = tmp_path / "imported.jsonl"
    done = run_cli("convert", folder, "--from", "spacy", "--out", out, "--release", release)
    assert done.returncode == 1, done
    assert one_error_line(done.stderr) or "nothing written" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr
    assert not out.exists()


def test_file_numbers_are_ordered_as_numbers_past_five_digits() -> None:
    names = ["docs-100000.spacy", "docs-99999.spacy", "docs-00002.spacy", "docs-10.spacy"]
    ordered = sorted(map(Path, names), key=spacy_docbin.number_order)
    assert [p.name for p in ordered] == [
        "docs-00002.spacy",
        "docs-10.spacy",
        "docs-99999.spacy",
        "docs-100000.spacy",
    ]
    assert sorted(names) != [p.name for p in ordered]  # name order alone puts 100000 first


def _imported(monkeypatch: pytest.MonkeyPatch, release: Path, source: Path, out: Path) -> bytes:
    _convert(monkeypatch, source, "--from", "spacy", "--out", out, "--release", release)
    return out.read_bytes()


def test_a_folder_of_more_files_than_its_digits_is_read_in_the_docs_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: Path
) -> None:
    import spacy
    from spacy.training import Corpus

    monkeypatch.setattr(spacy_docbin, "FILE_DOCUMENTS", 1)
    monkeypatch.setattr(spacy_docbin, "NAME_DIGITS", 1)
    folder = _export(monkeypatch, release, tmp_path / "train")
    names = [p.name for p in sorted(folder.glob("*.spacy"))]  # beside the export marker
    assert names == [f"docs-{n:02d}.spacy" for n in range(DOCUMENTS)]  # widened: 00 … 19
    ids = [d.id for d in open_release(release).documents()]
    read = _spans(e.reference for e in Corpus(str(folder))(spacy.blank("fr")))
    assert [doc_id for doc_id, _ in read] == ids  # spaCy's name order is the docs' order
    single = _export(monkeypatch, release, tmp_path / "train.spacy")
    expected = _imported(monkeypatch, release, single, tmp_path / "single.jsonl")
    assert _imported(monkeypatch, release, folder, tmp_path / "a.jsonl") == expected
    for file in folder.glob("*.spacy"):  # numbers of one digit past 9: docs-10 after docs-9
        file.rename(folder / f"docs-{int(file.stem[5:])}.spacy")
    assert _imported(monkeypatch, release, folder, tmp_path / "b.jsonl") == expected


def test_a_folder_is_read_as_spacy_reads_it_hidden_entries_skipped_subfolders_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: Path
) -> None:
    import spacy
    from spacy.training import Corpus

    folder = _export(monkeypatch, release, tmp_path / "train")
    single = _export(monkeypatch, release, tmp_path / "train.spacy")
    expected = _imported(monkeypatch, release, single, tmp_path / "single.jsonl")
    (folder / "part").mkdir()
    for file in sorted(folder.glob("*.spacy"))[3:]:
        file.rename(folder / "part" / file.name)  # later files in a subfolder
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "docs-00000.spacy").write_bytes(single.read_bytes())  # skipped
    (folder / "part" / ".docs-00009.spacy.swp").write_bytes(b"")
    ids = [d.id for d in open_release(release).documents()]
    read = _spans(e.reference for e in Corpus(str(folder))(spacy.blank("fr")))
    assert [doc_id for doc_id, _ in read] == ids  # what spaCy reads…
    assert _imported(monkeypatch, release, folder, tmp_path / "out.jsonl") == expected  # …we do


@pytest.mark.parametrize("first", ["ext", "zz"])
def test_a_folder_linked_under_two_names_is_read_under_both_as_spacy_reads_it(
    tmp_path: Path, first: str
) -> None:
    """Two links to one folder outside: its files under each name, as spaCy's ``walk_corpus``
    lists them, in name order whichever link was made first; a link up to a folder it is in
    is not followed (spaCy would follow it for ever)."""
    from spacy.training.corpus import walk_corpus

    outside, corpus = tmp_path / "outside", tmp_path / "corpus"
    outside.mkdir()
    (outside / "o.spacy").write_bytes(b"x")
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.spacy").write_bytes(b"x")
    for name in dict.fromkeys([first, "ext", "zz"]):  # made in this order
        (corpus / name).symlink_to(outside, target_is_directory=True)
    names = ["ext/o.spacy", "sub/a.spacy", "zz/o.spacy"]
    spacy_reads = [str(p.relative_to(corpus)) for p in walk_corpus(corpus, ".spacy")]
    assert spacy_reads == names
    listed = spacy_docbin.docbin_files(corpus)
    assert [str(p.relative_to(corpus)) for p in listed] == names
    (corpus / "sub" / "up").symlink_to(corpus, target_is_directory=True)
    (outside / "back").symlink_to(corpus, target_is_directory=True)
    listed = spacy_docbin.docbin_files(corpus)
    assert [str(p.relative_to(corpus)) for p in listed] == names  # the loops end
