"""A text an import gives in another form than the release's (NFD from macOS tools, a
compatibility normalization, Windows line ends) is refused saying so, once per import: it was
a bare ``not the text of document X in the release`` on every line (CRLF had a hint, in BRAT
only)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from claimwire.annotation.label_studio.client import convert_export
from claimwire.errors import ClaimwireError
from claimwire.formats import texts
from claimwire.formats.convert import export_set, import_set
from claimwire.formats.texts import recoding

from .bundled import DOCUMENT, DOCUMENTS, GOLD, RELEASE, SCHEMA
from .helpers import one_error_line, run_cli

NFD = unicodedata.normalize("NFD", DOCUMENT.text)
FULL = "in another Unicode normalization (NFD); the release's is NFC: normalize it"
MATCHED = re.escape(FULL)


def _nfd_doccano(path: Path) -> None:
    """The gold as doccano, text and offsets in NFD, twice: with its doc_id, then without
    (found by its text)."""
    export_set("doccano", path, list(DOCUMENTS.values()), GOLD, SCHEMA)
    [line] = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)

    def moved(offset: int) -> int:
        return len(unicodedata.normalize("NFD", DOCUMENT.text[:offset]))

    for entity in record["entities"]:
        entity["start_offset"] = moved(entity["start_offset"])
        entity["end_offset"] = moved(entity["end_offset"])
    record["text"] = NFD
    anonymous = {key: value for key, value in record.items() if key != "doc_id"}
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (record, anonymous)),
        encoding="utf-8",
    )


def test_a_doccano_file_in_nfd_is_told_once_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "nfd.jsonl"
    _nfd_doccano(path)
    out = tmp_path / "set.jsonl"
    done = run_cli("convert", path, "--from", "doccano", "--release", RELEASE, "--out", out)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "2 problem(s)" in done.stderr
    assert f"{path}:1: field 'text': the text of document {DOCUMENT.id} {FULL}" in done.stderr
    assert f"{path}:2: field 'text': the text of document {DOCUMENT.id} in NFD, as {path}:1" in (
        done.stderr
    )
    assert done.stderr.count("normalize it") == 1 and not out.exists()


def test_brat_and_json_min_say_it_too(tmp_path: Path) -> None:
    folder = tmp_path / "brat"
    export_set("brat", folder, list(DOCUMENTS.values()), GOLD, SCHEMA)
    txt = folder / f"{DOCUMENT.id}.txt"
    txt.write_text(NFD, encoding="utf-8")
    with pytest.raises(ClaimwireError, match=rf"{txt}: the text of document \S+ {MATCHED}"):
        import_set("brat", folder, DOCUMENTS, SCHEMA)
    export = tmp_path / "min.json"
    export_set("label-studio-min", export, list(DOCUMENTS.values()), GOLD, SCHEMA)
    tasks = json.loads(export.read_text(encoding="utf-8"))
    tasks[0]["text"] = NFD
    export.write_text(json.dumps(tasks), encoding="utf-8")
    with pytest.raises(
        ClaimwireError, match=rf"item 1: field 'text': the text of document \S+ {MATCHED}"
    ):
        import_set("label-studio-min", export, DOCUMENTS, SCHEMA)


def test_a_label_studio_export_says_it_too() -> None:
    task = {"id": 7, "data": {"doc_id": DOCUMENT.id, "text": NFD}, "annotations": []}
    pulled = convert_export([task, task | {"id": 8}], DOCUMENTS, SCHEMA, source="export.json")
    assert pulled.problems == [
        f"export.json: task 7: its text is the text of document {DOCUMENT.id} {FULL} (e.g. "
        "`unicodedata.normalize('NFC', text)`) and recount offsets; skipped",
        f"export.json: task 8: its text is the text of document {DOCUMENT.id} in NFD, as "
        "export.json: task 7; skipped",
    ]


def test_each_other_form_is_named() -> None:
    text = DOCUMENT.text  # it holds "ᵉ", which a compatibility normalization replaces
    assert recoding(text.replace("\n", "\r\n"), text) == ("CRLF", "CRLF")
    assert recoding(NFD, text) == ("NFD", "NFD")
    assert recoding(unicodedata.normalize("NFKC", text), text) == ("NFKD", "NFKC")
    assert recoding(unicodedata.normalize("NFKD", text), text) == ("NFKD", "NFKD")
    partly = text.replace("é", "e\u0301", 1)  # one character decomposed, "ᵉ" kept
    assert recoding(partly, text) == ("NFD", "a decomposed form")
    assert recoding(NFD.replace("Astana", "Astana!"), text) is None
    assert recoding("ᵉ", text) is None  # short: the release's text is not normalized for it


def test_a_text_that_is_the_release_costs_one_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gold.jsonl"
    export_set("doccano", path, list(DOCUMENTS.values()), GOLD, SCHEMA)
    monkeypatch.setattr(texts, "recoding", lambda *_: pytest.fail("looked for a cause"))
    assert import_set("doccano", path, DOCUMENTS, SCHEMA).annotation_set.annotations
