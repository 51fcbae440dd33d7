"""A release's documents by id, read back when asked for: ``annotate pull`` finds the
documents its tasks name without holding every document of the release."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus.document_index import DocumentIndex
from claimwire.corpus.release import build_release, open_release
from claimwire.errors import ClaimwireError
from claimwire.model import Document, write_records

from .helpers import REPO, SEED_RAW, release_with_test_claims, watch_document_reads

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
JSON_MIN = REPO / "tests" / "data" / "formats" / "label_studio_json_min.json"


def test_the_index_gives_what_the_release_holds(tmp_path: Path) -> None:
    release = open_release(RELEASE)
    every = {d.id: d for d in release.documents()}
    with release.document_index() as index:
        assert len(index) == len(every) and list(index) == list(every)
        assert all(index[doc_id] == document for doc_id, document in every.items())
        assert index.get("not-a-document") is None and index.get(3) is None  # type: ignore[call-overload]


def test_ids_sharing_a_hash_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from claimwire.corpus import document_index

    monkeypatch.setattr(document_index, "hash", lambda key: 5, raising=False)
    documents = [Document(f"d{k}", f"texte {k}.", "fr", "train", (), ()) for k in range(4)]
    write_records(tmp_path / "documents.jsonl", documents)
    with DocumentIndex([tmp_path / "documents.jsonl"]) as index:
        assert [index[f"d{k}"].text for k in (3, 0, 2)] == ["texte 3.", "texte 0.", "texte 2."]
        assert index.get("d9") is None


def test_a_bad_line_is_located(tmp_path: Path) -> None:
    path = tmp_path / "documents.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "x"}) + "\nnot json\n", "utf-8")
    with pytest.raises(ClaimwireError, match=r"documents\.jsonl:2"):
        DocumentIndex([path])


def _four_documents(path: Path) -> Path:
    write_records(path, [Document(f"d{k}", f"texte {k}.", "fr", "train", (), ()) for k in range(4)])
    return path


def test_a_file_changed_since_it_was_indexed_is_refused(tmp_path: Path) -> None:
    path = _four_documents(tmp_path / "documents.jsonl")
    with DocumentIndex([path]) as index:
        assert index["d0"].text == "texte 0."
        with path.open("r+b") as handle:  # the same size, other bytes at the noted offsets
            text = handle.read()
            handle.seek(0)
            handle.write(text.replace(b"texte", b"TEXTE"))
        with pytest.raises(ClaimwireError, match=r"documents\.jsonl: changed while this command"):
            index.get("d1")
        with pytest.raises(ClaimwireError, match="changed while"):
            list(index)


def test_an_edit_in_place_that_sets_the_time_back_is_refused(tmp_path: Path) -> None:
    """The same size, the modification time restored: only the change time (which the
    kernel sets on the write and on the utime) tells the file is not the one indexed."""
    path = _four_documents(tmp_path / "documents.jsonl")
    with DocumentIndex([path]) as index:
        assert index["d0"].text == "texte 0."
        noted = path.stat()
        with path.open("r+b") as handle:
            text = handle.read()
            handle.seek(0)
            handle.write(text.replace(b"texte", b"TEXTE"))
        os.utime(path, ns=(noted.st_atime_ns, noted.st_mtime_ns))
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (noted.st_size, noted.st_mtime_ns)
        with pytest.raises(ClaimwireError) as raised:
            index.get("d1")
        start = len(path.read_bytes().split(b"\n")[0]) + 1
        end = start + len(path.read_bytes().split(b"\n")[1])
        assert str(raised.value) == (
            f"{path}:2: changed while this command was reading it: its bytes {start}-{end} "
            "differ from when they were indexed (its size and modification time are the same): "
            "leave inputs as they are until the command ends, and rerun it"
        )


def test_one_byte_edited_in_place_is_refused_where_it_is_read(tmp_path: Path) -> None:
    """One byte of one line changed, the size and the modification time kept: the lines
    around it are still the ones indexed and read; that line is refused."""
    path = _four_documents(tmp_path / "documents.jsonl")
    with DocumentIndex([path]) as index:
        noted = path.stat()
        time.sleep(0.05)  # past the clock tick of the file's change time
        data = path.read_bytes()
        at = data.index(b"texte 2.")
        with path.open("r+b") as handle:
            handle.seek(at)
            handle.write(b"T")
        os.utime(path, ns=(noted.st_atime_ns, noted.st_mtime_ns))
        assert path.stat().st_ctime_ns != noted.st_ctime_ns
        assert [index[k].text for k in ("d0", "d1", "d3")] == ["texte 0.", "texte 1.", "texte 3."]
        with pytest.raises(ClaimwireError, match=r"documents\.jsonl:3: changed while"):
            index.get("d2")


def _touch_access_time(path: Path) -> None:
    subprocess.run(["touch", "-a", str(path)], check=True)


def _chmod(path: Path) -> None:
    path.chmod(path.stat().st_mode ^ stat.S_IWGRP)


def _hard_link(path: Path) -> None:
    os.link(path, path.with_name("link.jsonl"))  # as a backup's cp -al or rsync --link-dest


@pytest.mark.parametrize("change", [_touch_access_time, _chmod, _hard_link])
def test_a_change_of_metadata_only_is_not_refused(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    """touch -a, chmod or a hard link move the change time and no byte: what is read back
    is checked against what was indexed, and passes."""
    path = _four_documents(tmp_path / "documents.jsonl")
    with DocumentIndex([path]) as index:
        assert index["d0"].text == "texte 0."
        noted = path.stat()
        time.sleep(0.05)  # past the clock tick of the file's change time
        change(path)
        assert path.stat().st_ctime_ns != noted.st_ctime_ns
        assert [index[f"d{k}"].text for k in range(1, 4)] == ["texte 1.", "texte 2.", "texte 3."]
        assert list(index) == ["d0", "d1", "d2", "d3"]


def test_a_file_replaced_or_removed_since_it_was_indexed_is_refused(tmp_path: Path) -> None:
    path = _four_documents(tmp_path / "documents.jsonl")
    with DocumentIndex([path]) as index:
        other = tmp_path / "other.jsonl"
        other.write_bytes(path.read_bytes().replace(b"texte", b"TEXTE"))
        noted = path.stat()
        os.utime(other, ns=(noted.st_atime_ns, noted.st_mtime_ns))  # size and time alike
        other.replace(path)
        with pytest.raises(ClaimwireError, match=r"documents\.jsonl: replaced by another file"):
            index.get("d2")
        path.unlink()
        with pytest.raises(ClaimwireError, match=r"documents\.jsonl: removed while"):
            index.get("d3")


@pytest.fixture
def six_documents(tmp_path: Path) -> Path:
    """A release of the seed document and five others."""
    raw = tmp_path / "raw"
    shutil.copytree(SEED_RAW, raw)
    for k in range(5):
        (raw / f"autre-{k}.txt").write_text(f"Communiqué {k}.\n\nLe PIB a crû de {k} %.\n", "utf-8")
    build_release(raw, tmp_path / "releases", "1.0.0")
    return tmp_path / "releases" / "1.0.0"


def _arguments(monkeypatch: pytest.MonkeyPatch, method: str) -> list[Any]:
    """The argument of each call of a :class:`DocumentIndex` method, from now on."""
    called: list[Any] = []
    original = getattr(DocumentIndex, method)

    def spy(self: DocumentIndex, argument: Any) -> Document:
        called.append(argument)
        return original(self, argument)  # type: ignore[no-any-return]

    monkeypatch.setattr(DocumentIndex, method, spy)
    return called


def _watch(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[str]]:
    """Documents read through the release's readers, and ids asked of an index."""
    return watch_document_reads(monkeypatch), _arguments(monkeypatch, "__getitem__")


def test_pull_reads_the_documents_its_tasks_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, six_documents: Path
) -> None:
    """Before: every document of the release was read into a ``{id: Document}`` first."""
    from claimwire.cli.label_studio import pull_command

    read, asked = _watch(monkeypatch)
    out = tmp_path / "sets"
    pull_command(
        out=out,
        project=None,
        from_file=JSON_MIN,
        release=six_documents,
        force=False,
        url=None,
        api_key=None,
        timeout=30.0,
        retries=0,
        deadline=60.0,
    )
    assert read[0] == 0 and set(asked) == {"cgtn-a-publie-un-article-sur-bf5a7044b3"}
    assert sum(1 for _ in open_release(six_documents).documents()) == 6
    assert (out / "user1.jsonl").exists()


def test_an_import_reads_the_documents_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, six_documents: Path
) -> None:
    """``convert --from`` finds each document its records name by id (before: the release's
    documents were all read into a ``{id: Document}`` first)."""
    from claimwire.cli.convert import convert_command

    read, asked = _watch(monkeypatch)
    out = tmp_path / "imported.jsonl"
    # this release's schema refuses some of the export's values: nothing is written
    with pytest.raises(ClaimwireError, match="nothing written"):
        convert_command(
            source=JSON_MIN,
            out=out,
            from_format="label-studio-min",
            to_format=None,
            release=six_documents,
            author="gold",
            split="all",
            labels=None,
            scheme="IOB2",
            force=False,
            completed=False,
        )
    assert read[0] == 0 and set(asked) == {"cgtn-a-publie-un-article-sur-bf5a7044b3"}
    assert not out.exists()


@pytest.mark.parametrize("by", ["id", "file name"])
def test_a_cas_import_reads_each_document_it_names_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    """Before: every XMI file made a stem and a text table of the whole release, each entry
    a document read back from disk (files × documents reads: 30 minutes for a 10,000-file
    import); the tables are now made once, the stems from the ids alone."""
    from claimwire.cli.convert import convert_command
    from claimwire.corpus import document_index
    from claimwire.formats.cas import METADATA

    release = release_with_test_claims(tmp_path, 24)
    gold = release / "annotations.jsonl"
    export, imported = tmp_path / "xmi", tmp_path / "imported.jsonl"
    options: dict[str, Any] = dict(
        author="gold", split="all", labels=None, scheme="IOB2", completed=False
    )
    convert_command(gold, export, None, "inception", release, force=False, **options)
    files = sorted(export.glob("*.xmi"))
    if by == "file name":  # no document id in the files: each is found by its file's stem
        for path in files:
            text = path.read_text("utf-8")
            for field in ("documentId", "documentTitle"):
                text = text.replace(f'{field}="{path.stem}"', "")
            assert METADATA.rsplit(".", 1)[1] in text and path.stem not in text
            path.write_text(text, "utf-8")
    reads = _arguments(monkeypatch, "_read")
    monkeypatch.setattr(document_index, "RECENT", 4)  # fewer kept than the release's documents
    convert_command(export, imported, "inception", None, release, force=False, **options)
    assert len(files) == 24 and len(reads) <= 2 * len(files)  # before: 1,170
    claims = [json.loads(line) for line in imported.read_text("utf-8").splitlines()]
    expected = [json.loads(line) for line in gold.read_text("utf-8").splitlines()]
    assert sorted((c["doc_id"], c["start"], c["end"]) for c in claims) == sorted(
        (c["doc_id"], c["start"], c["end"]) for c in expected
    )
