"""The bundled release 1.0.0 as the format tests use it (loaded once, on first import), and a
BRAT collection of its first document."""

from __future__ import annotations

from pathlib import Path

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.eval.checker import load_annotation_set

from .helpers import DATA, REPO

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
SCHEMA = load_schema(RELEASE / "schema.yaml")
DOCUMENTS = {d.id: d for d in open_release(RELEASE).documents()}
DOCUMENT = next(iter(DOCUMENTS.values()))
GOLD = load_annotation_set(RELEASE)
JSON_MIN = DATA / "formats" / "label_studio_json_min.json"


def brat_folder(folder: Path, ann: str | list[str]) -> Path:
    """``folder``, made: a BRAT collection as brat saves it, ``DOCUMENT``'s ``.txt`` (its
    text, untouched) and an ``.ann`` holding ``ann`` (a list: its lines)."""
    if isinstance(ann, list):
        ann = "\n".join(ann) + "\n"
    folder.mkdir()
    (folder / f"{DOCUMENT.id}.txt").write_bytes(DOCUMENT.text.encode("utf-8"))
    (folder / f"{DOCUMENT.id}.ann").write_text(ann, encoding="utf-8")
    return folder
