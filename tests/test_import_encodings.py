"""Imports of files a tool or an editor saved in another encoding than UTF-8: one located
error naming the file and line (UTF-16 by name, with what to do), nothing written — never
garbage lines dropped, characters replaced or an error naming no file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import load_annotation_set
from claimwire.formats.cas import METADATA, SPAN, type_system
from claimwire.formats.convert import export_set, import_set
from claimwire.model import Document

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
SCHEMA = load_schema(RELEASE / "schema.yaml")
DOCUMENTS = list(open_release(RELEASE).documents())
GOLD = load_annotation_set(RELEASE)

UTF16 = "not valid UTF-8: the file is UTF-16"
"""What the error says of a file saved as UTF-16 (Notepad's 'Unicode')."""


def _saved_as(path: Path, encoding: str) -> None:
    """``path`` saved again in ``encoding`` (a character it lacks replaced)."""
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode(encoding, "replace"))


@pytest.mark.parametrize(
    ("name", "member", "encoding", "expected"),
    [
        ("brat", ".ann", "utf-16", rf"\.ann:1: {UTF16}"),
        ("brat", ".ann", "latin-1", r"\.ann:\d+: not valid UTF-8: byte 0x[0-9a-f]{2} at byte"),
        ("brat", ".txt", "latin-1", r"\.txt:\d+: not valid UTF-8: byte 0x[0-9a-f]{2} at byte"),
        ("conll", "", "utf-16", rf"\.conll:1: {UTF16}"),
        ("conll", "", "latin-1", r"\.conll:\d+: not valid UTF-8: byte 0x[0-9a-f]{2} at byte"),
        ("label-studio-min", "", "utf-16", rf"\.json:1: {UTF16}"),
        ("label-studio-min", "", "latin-1", r"\.json:\d+: not valid UTF-8: byte 0x"),
    ],
)
def test_an_import_not_in_utf8_is_one_located_error_and_nothing_written(
    tmp_path: Path, name: str, member: str, encoding: str, expected: str
) -> None:
    suffix = {"brat": "", "conll": ".conll", "label-studio-min": ".json"}[name]
    exported = tmp_path / f"export{suffix}"
    export_set(name, exported, DOCUMENTS, GOLD, SCHEMA)
    _saved_as(next(exported.glob(f"*{member}")) if member else exported, encoding)
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", exported, "--from", name, "--release", RELEASE, "--out", out)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [exported.name]


def test_a_cas_offset_inside_a_surrogate_pair_is_a_located_error_not_a_moved_span(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    """XMI offsets are UTF-16 units: a ``begin`` between the two units of 𝑥 (U+1D465) is no
    character's start. cassis warns and keeps the number as a code point (the span moved
    two characters, "nothing lost", its warning printed); the import names the element."""
    from cassis import Cas

    text = "Acme said 𝑥 rose 45% in 2024."
    document = Document("astral", text, "en", "test", ((0, len(text)),), ((0, len(text)),))
    ts = type_system(SCHEMA)
    cas = Cas(typesystem=ts)
    cas.sofa_string = text
    cas.add(ts.get_type(METADATA)(begin=0, end=len(text), documentId=document.id))
    start = text.index("𝑥")
    cas.add(ts.get_type(SPAN)(begin=start, end=len(text) - 1, label="CLAIM"))
    folder = tmp_path / "cas"
    folder.mkdir()
    (folder / "TypeSystem.xml").write_text(ts.to_xml(), encoding="utf-8")
    xmi = folder / "astral.xmi"
    cas.to_xmi(xmi)
    saved = xmi.read_text(encoding="utf-8")
    assert f'begin="{start}"' in saved  # 𝑥's two units: start and start + 1
    xmi.write_text(saved.replace(f'begin="{start}"', f'begin="{start + 1}"'), encoding="utf-8")
    with pytest.raises(ClaimwireError) as raised:
        import_set("inception", folder, {document.id: document}, SCHEMA)
    assert re.search(
        rf"astral\.xmi:\d+:\d+: Claimwire xmi:id '\d+': begin {start + 1} falls inside a "
        r"character \(a UTF-16 surrogate pair\)",
        str(raised.value),
    ), raised.value
    assert not [w for w in recwarn if "offset" in str(w.message)]  # cassis's, not shown


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_a_conll_file_with_other_line_ends_imports_the_same_spans(
    tmp_path: Path, line_end: bytes
) -> None:
    """Lines end as Python's text files end them: CRLF (Windows) and a lone CR (old Mac)
    give the spans LF gives (a lone CR made the whole file one line: "'' is not a
    document of the release")."""
    exported = tmp_path / "export.conll"
    export_set("conll", exported, DOCUMENTS, GOLD, SCHEMA)
    resaved = tmp_path / "resaved.conll"
    resaved.write_bytes(exported.read_bytes().replace(b"\n", line_end))
    by_id = {document.id: document for document in DOCUMENTS}
    plain, other = (
        import_set("conll", path, by_id, SCHEMA).annotation_set.annotations
        for path in (exported, resaved)
    )
    assert plain and other == plain
