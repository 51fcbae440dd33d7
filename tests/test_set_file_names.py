"""``annotate pull`` names each annotator's set file distinctly also where a file system
compares names in any case and Unicode form (macOS, Windows): ``Alice@x.org`` and
``alice@x.org``, or one e-mail composed and decomposed, never take one file there."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from claimwire.eval.checker import load_annotation_set
from claimwire.names import FileNames, folded

from .helpers import run_cli
from .test_formats import RELEASE
from .test_json_min_annotators import export

COMPOSED = unicodedata.normalize("NFC", "josé@x.org")
DECOMPOSED = unicodedata.normalize("NFD", "josé@x.org")
AUTHORS = ("ALICE@X.ORG", "Alice@x.org", "alice@x.org", COMPOSED, DECOMPOSED)


def test_names_are_distinct_in_any_case_and_unicode_form() -> None:
    names = FileNames({"annotations", "relations"})
    given = [names(author) for author in AUTHORS]
    assert given[0] == "ALICE@X.ORG"  # the first keeps its plain name
    assert len({folded(name) for name in given}) == len(AUTHORS), given
    again = FileNames({"annotations", "relations"})
    assert [again(author) for author in AUTHORS] == given  # the same names on every pull
    assert folded(names("Annotations")) != "annotations"  # never a reserved file's name


def test_a_pull_writes_one_file_per_annotator_in_any_case(tmp_path: Path) -> None:
    path, out = export(tmp_path, *AUTHORS), tmp_path / "sets"
    pulled = run_cli("annotate", "pull", "--from-file", path, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert "5 tasks, 5 annotators, 0 problems" in pulled.stdout
    files = sorted(out.glob("*.jsonl"))
    assert len({folded(p.name) for p in files}) == 5, [p.name for p in files]
    listed = sorted(out.glob("*.completed.txt"))
    assert len({folded(p.name) for p in listed}) == 5, [p.name for p in listed]
    authors = {next(iter({a.author for a in load_annotation_set(p).annotations})) for p in files}
    assert authors == set(AUTHORS)
