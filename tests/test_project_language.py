"""The project's declared language (``claimwire.toml``'s ``lang``) is every document's unless
its input names its own; a detection that disagrees is counted and said, never applied; the
rules read a document's figures with its language, else the release's."""

from __future__ import annotations

import json
from pathlib import Path

from claimwire.corpus.release import open_release
from claimwire.model import Annotation, read_records

from .helpers import make_project, run_cli


def _built(tmp_path: Path, lang: str | None, lines: list[dict[str, str]]) -> tuple[Path, str]:
    root = make_project(tmp_path / "proj")
    if lang is not None:
        (root / "claimwire.toml").write_text(f'name = "proj"\nlang = "{lang}"\n', encoding="utf-8")
    raw = root / "corpus" / "raw"
    raw.mkdir(parents=True)
    (raw / "s.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 0, result.stderr
    return root, result.stderr


def _languages(root: Path) -> dict[str, str | None]:
    release = open_release(root / "corpus" / "releases" / "0.1.0")
    return {str(doc.meta["source_id"]): doc.lang for doc in release.documents()}


def _num_stats(root: Path) -> list[tuple[str, object]]:
    out = root / "r.jsonl"
    result = run_cli("run", "rules", "--split", "all", "--out", out, cwd=root)
    assert result.returncode == 0, result.stderr
    return [
        (record.quote.exact if record.quote else "", record.attributes.get("value"))
        for record in read_records(out, Annotation)
        if isinstance(record, Annotation) and record.label == "NUM_STAT"
    ]


def test_a_french_project_reads_a_short_french_text_as_french(tmp_path: Path) -> None:
    root, stderr = _built(
        tmp_path,
        "fr",
        [
            {"id": "a", "text": "Le CA atteint 3,5 milliards."},
            {"id": "b", "text": "Ventes en hausse de 12,5 %."},
            {"id": "c", "text": "Total 2,500 units sold.", "lang": "en"},  # its own language
        ],
    )
    assert _languages(root) == {"a": "fr", "b": "fr", "c": "en"}
    manifest = open_release(root / "corpus" / "releases" / "0.1.0").manifest
    assert manifest["lang"] == "fr"
    # "Le CA atteint 3,5 milliards." is detected as English: counted and said, not applied
    assert manifest["lang_detected"] == {"en": 1}
    assert "1 document detected as another language than the project's fr (en 1)" in stderr
    assert "(s.jsonl#L1: en)" in stderr
    stats = dict(_num_stats(root))
    assert float(str(stats["3,5 milliards"])) == 3.5e9
    assert float(str(stats["2,500"])) == 2500


def test_an_english_project_reads_figures_the_english_way(tmp_path: Path) -> None:
    root, stderr = _built(tmp_path, "en", [{"id": "a", "text": "Total 2,500 units."}])
    assert _languages(root) == {"a": "en"}
    assert "another language" not in stderr
    stats = dict(_num_stats(root))
    assert float(str(stats["2,500"])) == 2500


def test_a_project_naming_no_language_detects_each_documents(tmp_path: Path) -> None:
    text = "La société annonce que ses ventes ont progressé de douze pour cent cette année."
    root, stderr = _built(tmp_path, None, [{"id": "a", "text": text}])
    assert _languages(root) == {"a": "fr"}
    assert "lang" not in open_release(root / "corpus" / "releases" / "0.1.0").manifest
    assert "another language" not in stderr


def test_a_project_language_not_a_language_code_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    (root / "claimwire.toml").write_text('name = "proj"\nlang = "French"\n', encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "claimwire.toml:2" in result.stderr and "lang" in result.stderr
    assert "expected a language code such as fr, en or pt-BR, got 'French'" in result.stderr
