"""A release's text may hold control characters (a form feed between the pages of a PDF turned
into text; ``corpus build`` keeps them): every export writes them, and XMI, which is XML 1.0
and cannot hold them, gets a space for each, reported, its offsets kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimwire.corpus.release import build_release
from claimwire.formats.cas import xml_text
from claimwire.formats.convert import FORMATS
from claimwire.model import Annotation, Document, Quote, iter_json_lines

from .helpers import run_cli

TEXT = (
    "PDF Turned Text\n\nThe company reported revenues of 5 % in 2024.\f\nPage 2\n\f"
    "The survey found that 45 % agree.\v Bell\x01 and escape\x1b here.\n"
)
CLAIMS = ("revenues of 5 %", "Bell\x01 and")
"""The second holds a character XML cannot hold."""


def claims(documents: list[Document]) -> list[Annotation]:
    found = []
    for document in documents:
        for number, quote in enumerate(CLAIMS):
            start = document.text.find(quote)
            if start >= 0:
                end = start + len(quote)
                found.append(
                    Annotation(
                        f"c{number}",
                        document.id,
                        "claims",
                        "CLAIM",
                        start,
                        end,
                        Quote.from_text(document.text, start, end),
                    )
                )
    return found


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("control")
    (root / "raw").mkdir()
    (root / "raw" / "pdf.txt").write_text(TEXT, encoding="utf-8")
    (root / "raw" / "plain.txt").write_text("Plain\n\nCosts fell 3 % in 2024.\n", "utf-8")
    build_release(root / "raw", root / "releases", "0.1.0", gold=claims)
    return root / "releases" / "0.1.0"


def spans(path: Path) -> set[tuple[str, str, int, int, str]]:
    return {
        (r["doc_id"], r["label"], r["start"], r["end"], r["quote"]["exact"])
        for _, r in iter_json_lines(path)
        if "start" in r
    }


def test_inception_writes_a_space_for_each_and_reads_the_spans_back(
    release: Path, tmp_path: Path
) -> None:
    from cassis import load_cas_from_xmi, load_typesystem

    gold = spans(release / "annotations.jsonl")
    document = next(d for d in iter_json_lines(release / "documents.jsonl") if "\f" in d[1]["text"])
    text, doc_id = document[1]["text"], document[1]["id"]
    assert len(gold) == 2 and any("\x01" in quote for *_, quote in gold)
    out = tmp_path / "xmi"
    exported = run_cli("convert", release, "--to", "inception", "--release", release, "--out", out)
    assert exported.returncode == 0, exported.stderr
    offset = text.index("\f")
    assert "not carried: 1 control-character" in exported.stderr
    assert (
        f"{doc_id}: control-character: 5 character(s) XML 1.0 cannot hold written as spaces "
        f"(offsets kept), the first U+000C (form feed) at offset {offset}"
    ) in exported.stderr
    with (out / "TypeSystem.xml").open("rb") as handle:
        typesystem = load_typesystem(handle)
    with next(out.glob("pdf*.xmi")).open("rb") as handle:
        sofa = load_cas_from_xmi(handle, typesystem=typesystem).sofa_string
    assert sofa == re.sub("[\f\v\x01\x1b]", " ", text) == xml_text(text) != text
    back = tmp_path / "back.jsonl"
    read = run_cli("convert", out, "--from", "inception", "--release", release, "--out", back)
    assert read.returncode == 0, read.stderr
    assert spans(back) == gold


@pytest.mark.parametrize("name", [name for name in FORMATS if name != "inception"])
def test_every_other_export_writes_such_a_text(release: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / f"export.{name}"
    exported = run_cli("convert", release, "--to", name, "--release", release, "--out", out)
    assert exported.returncode == 0 and "control-character" not in exported.stderr
    back = tmp_path / "back.jsonl"
    read = run_cli("convert", out, "--from", name, "--release", release, "--out", back)
    assert read.returncode == 0, read.stderr
    assert spans(back) == spans(release / "annotations.jsonl")
