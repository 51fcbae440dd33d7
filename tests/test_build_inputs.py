"""What ``corpus build`` makes of a user's raw folder: the files it does not read are named
once, on stderr; a sidecar it would not apply is an error; an input too long for one document
is refused where it is read, naming it; a ``--gold`` set on a document the build does not have
is refused at the set's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.corpus.release import open_release
from claimwire.lines import DOCUMENT_LINE
from claimwire.model import Annotation, Quote, write_records

from .helpers import make_project, one_error_line, run_cli


def _project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    raw = root / "corpus" / "raw"
    raw.mkdir(parents=True)
    for i in range(3):
        (raw / f"r{i}.txt").write_text(
            f"Release {i}\n\nAcme said sales rose {i}% in 2024.\n", encoding="utf-8"
        )
    return root


def test_a_text_over_the_document_limit_is_refused_by_name_before_it_is_read(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    annex = root / "corpus" / "raw" / "r2-annex.txt"
    with annex.open("wb") as handle:  # sparse: only a refusal by its size is quick
        handle.write(b"Big Release\n\n")
        handle.truncate(DOCUMENT_LINE.bytes + 1)
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert "corpus/raw/r2-annex.txt: 16.0 MiB of text; a document holds at most 16 MiB" in (
        result.stderr
    )
    assert "manifest" not in result.stderr.lower()
    assert not (root / "corpus" / "releases").exists()


def test_a_document_whose_release_line_is_too_long_is_refused_at_its_input(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    # 2.9 MB of text, but a vertical tab is 6 bytes on the release's line ("\u000b")
    text = "Big Release\n\nAcme said " + "\x0b" * 2_900_000 + ".\n"
    (root / "corpus" / "raw" / "tabs.txt").write_text(text, encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert "corpus/raw/tabs.txt: the document read here takes 17,400,4" in result.stderr
    assert f"a document line holds at most {DOCUMENT_LINE.bytes:,}" in result.stderr
    assert "manifest" not in result.stderr.lower()
    assert not (root / "corpus" / "releases").exists()


def test_the_files_a_build_does_not_read_are_named_once_on_stderr(tmp_path: Path) -> None:
    root = _project(tmp_path)
    raw = root / "corpus" / "raw"
    (raw / "r0.txt.meta.yaml").write_text("lang: en\n", encoding="utf-8")  # read
    for name in ("all.json", "rest.jsonl.xz", "notes.md", "scan.pdf", "b.docx", "c.csv"):
        (raw / name).write_bytes(b"{}")
    (raw / ".hidden.json").write_bytes(b"{}")
    (raw / ".git").mkdir()
    (raw / ".git" / "config").write_bytes(b"")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "documents 3 (added 3" in result.stdout
    assert result.stderr.splitlines() == [
        "warning: left out 6 files it does not read: all.json, b.docx, c.csv, notes.md, "
        "rest.jsonl.xz and 1 more (reads .txt, .text, .html, .htm, .jsonl, .jsonl.gz, "
        ".jsonl.zst and <input>.meta.yaml sidecars)"
    ]


def test_a_folder_with_nothing_a_build_reads_says_what_it_holds(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    raw = root / "corpus" / "raw"
    raw.mkdir(parents=True)
    (raw / "all.json").write_text("[]", encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert (
        "no raw inputs (.txt, .html, .jsonl, .jsonl.gz, .jsonl.zst) found; left out 1 file it "
        "does not "
        "read: all.json" in (result.stderr)
    )


@pytest.mark.parametrize(
    ("sidecar", "says"),
    [
        ("r1.meta.yaml", "r1 is not in the folder: the sidecar of r1.txt is r1.txt.meta.yaml"),
        ("R1.TXT.meta.yaml", "R1.TXT is not in the folder: the sidecar of r1.txt is r1.txt.meta"),
        ("gone.txt.meta.yaml", "gone.txt is not in the folder (remove the sidecar or"),
        ("notes.md.meta.yaml", "the build does not read notes.md (reads .txt"),
        ("feed.jsonl.meta.yaml", "a JSONL input takes these fields on each line"),
    ],
)
def test_a_sidecar_the_build_would_not_apply_is_an_error(
    tmp_path: Path, sidecar: str, says: str
) -> None:
    root = _project(tmp_path)
    raw = root / "corpus" / "raw"
    (raw / "notes.md").write_text("Notes\n", encoding="utf-8")
    (raw / "feed.jsonl").write_text('{"text": "Feed\\n\\nAcme said so."}\n', encoding="utf-8")
    (raw / sidecar).write_text("lang: fr\npublished: 2025-01-02\n", encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert f"error: corpus/raw/{sidecar}: a sidecar that would not be applied: {says}" in (
        result.stderr
    )
    assert not (root / "corpus" / "releases").exists()


def test_a_nul_in_a_raw_text_is_named_with_its_folder(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "corpus" / "raw" / "pdf.txt").write_bytes(b"Title\n\nAcme \x00 said.\n")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert "error: corpus/raw/pdf.txt: NUL character at offset 12: not text" in result.stderr


def test_a_gold_set_on_a_document_this_build_corrected_is_refused_at_its_line(
    tmp_path: Path,
) -> None:
    assert run_cli("init", "proj", "--lang", "en", cwd=tmp_path).returncode == 0
    root = tmp_path / "proj"
    raw = root / "corpus" / "raw"
    for i in range(3):
        (raw / f"r{i}.txt").write_text(
            f"Release {i}\n\nAcme said sales rose {i}% in 2024.\n", encoding="utf-8"
        )
    built = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert built.returncode == 0, built.stderr
    documents = list(open_release(root / "corpus" / "releases" / "0.1.0").documents())
    sets = root / "sets"
    sets.mkdir()
    write_records(
        sets / "gold.jsonl",
        [
            Annotation(f"a{i}", doc.id, "claims", "CLAIM", 0, 7, Quote(doc.text[:7]), {}, "gold")
            for i, doc in enumerate(sorted(documents, key=lambda doc: doc.meta["source_file"]))
        ],
    )
    (raw / "r1.txt").write_text("Release 1\n\nAcme said sales fell 1% in 2024.\n")
    [old] = [doc.id for doc in documents if doc.meta["source_file"] == "r1.txt"]
    result = run_cli(
        "corpus", "build", "--version", "0.2.0", "--parent", "0.1.0", "--gold", "sets/gold.jsonl",
        cwd=root,
    )  # fmt: skip
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert (
        f"error: sets/gold.jsonl:2: field 'doc_id': '{old}' is not a document of this build; "
        "it is one of 0.1.0, which this build changed or removed"
    ) in result.stderr
    assert not (root / "corpus" / "releases" / "0.2.0").exists()
