"""Building, reading and diffing releases; every user error is located and writes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from claimwire.corpus.release import build_release, open_release
from claimwire.corpus.validate import validate_release
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Quote, write_records

from .helpers import make_project, run_cli


def test_seed_release_contents(seed_releases: Path) -> None:
    release = open_release(seed_releases / "0.1.0")
    [document] = list(release.documents())
    assert document.id.startswith("cgtn-a-publie-un-article")
    assert document.lang == "fr"
    assert document.split == "test"  # from the sidecar
    assert document.text.startswith("CGTN a publié")  # the date marker is metadata
    meta = document.meta
    assert meta["date_marker"] == "2025-06"
    assert (meta["dateline_city"], meta["published"], meta["wire"]) == (
        "PÉKIN",
        "2025-06-19",
        "GLOBE NEWSWIRE",
    )
    assert meta["distribution_id"] == "9471272"
    assert meta["issuer"] == "CGTN"
    assert meta["urls"][0].startswith("https://news.cgtn.com/news/2025-06-18/")
    manifest = release.manifest
    assert manifest["counts"]["documents"] == 1
    assert manifest["counts"]["sentences"] == len(document.sentences)
    assert manifest["files"]["documents.jsonl"]["records"] == 1
    changelog = (seed_releases / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## 0.1.0" in changelog and "1 added" in changelog


def test_released_versions_are_immutable(seed_releases: Path, raw_dir: Path) -> None:
    before = sorted(p.name for p in seed_releases.iterdir())
    result = run_cli(
        "corpus", "build", "--version", "0.1.0", "--raw", raw_dir, "--out", seed_releases
    )
    assert result.returncode == 1
    assert "already exists" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in seed_releases.iterdir()) == before


def test_reading_a_tampered_release_fails_loudly(seed_release: Path) -> None:
    with (seed_release / "documents.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    with pytest.raises(ClaimwireError, match="checksum"):
        open_release(seed_release)
    result = run_cli("corpus", "stats", seed_release)
    assert result.returncode == 1
    assert "documents.jsonl" in result.stderr and "checksum" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.txt", b"Bonjour\n\xe9t\xe9 2025", "bad.txt:2: not valid UTF-8: byte 0xe9 at byte"),
        ("bad.jsonl", b'{"text": "Un."}\n{"text": \n', "bad.jsonl:2: not valid JSON"),
        ("bad.jsonl", b'{"text": "Un."}\n{"txt": "Deux."}\n', "bad.jsonl:2: field 'text'"),
        ("bad.jsonl", b'{"text": "Un.", "split": "x"}\n', "bad.jsonl:1: field 'split'"),
        ("empty.txt", b" date 2025-06\n\n", "empty.txt: no text found"),
    ],
)
def test_bad_raw_input_is_located_and_nothing_is_written(
    raw_dir: Path, tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    path = raw_dir / name
    path.write_bytes(content if content is not None else (raw_dir / "release-fr.txt").read_bytes())
    out = tmp_path / "out" / "releases"
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw_dir, "--out", out)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "0.1.0").exists()
    assert not out.exists() or not any(out.iterdir())  # no staging folder left behind


def test_missing_inputs_are_clear(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", "nope", cwd=tmp_path)
    assert result.returncode == 1 and "nope: raw input folder not found" in result.stderr
    assert not (tmp_path / "corpus" / "releases").exists()
    result = run_cli("corpus", "validate", tmp_path / "nope")
    assert result.returncode == 1 and "release folder not found" in result.stderr
    result = run_cli("corpus", "build", "--version", "1.0", cwd=tmp_path)
    assert result.returncode == 1 and "MAJOR.MINOR.PATCH" in result.stderr
    result = run_cli("corpus", "build", "--version", "0.2.0", "--parent", "0.1.0", cwd=tmp_path)
    assert (
        result.returncode == 1
        and "corpus/releases/0.1.0: release folder not found" in result.stderr
    )


def test_jsonl_and_html_inputs(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        {
            "text": "date 2025-01\nLONDON, 5 March 2025 /PRNewswire/ -- Foo Ltd said hello. "
            "It was raining.",
            "issuer": "Foo Ltd",
            "split": "dev",
        },
        {"text": "Deuxième communiqué.\r\nAvec deux lignes.", "lang": "fr"},
    ]
    (raw / "batch.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    (raw / "page.html").write_text(
        "<html><head><title>Acme lance un produit</title></head><body><nav>Menu</nav>"
        "<article><h1>Acme lance un produit</h1><p>PARIS, 3 mars 2025 (GLOBE NEWSWIRE) — "
        "M. Dupont a présenté le produit. Il coûte 12,5&nbsp;€ soit 3\u202f000&#8239;F.</p>"
        "<p>Un texte avec &lt;script&gt; en clair.</p></article>"
        "<footer>© GlobeNewswire</footer></body></html>",
        encoding="utf-8",
    )
    report = build_release(raw, tmp_path / "releases", "0.1.0")
    documents = {
        d.meta["source_file"] + str(d.meta["source_line"]): d
        for d in open_release(report.path).documents()
    }
    first, second, page = (
        documents["batch.jsonl1"],
        documents["batch.jsonl2"],
        documents["page.htmlNone"],
    )
    assert first.meta["date_marker"] == "2025-01" and first.text.startswith("LONDON")
    assert first.meta["issuer"] == "Foo Ltd" and first.split == "dev"
    assert first.meta["wire"] == "PR Newswire" and len(first.sentences) == 2
    assert "\r" not in second.text and second.lang == "fr"
    assert page.meta["title"] == "Acme lance un produit"
    assert page.meta["wire"] == "GLOBE NEWSWIRE" and page.meta["published"] == "2025-03-03"
    assert (
        "<script>" in page.text
        and "Menu" not in page.text
        and "12,5\u00a0€ soit 3\u202f000\u202fF." in page.text
    )
    assert validate_release(report.path) == []


def test_child_release_reanchors_gold_and_reports_changes(tmp_path: Path, raw_dir: Path) -> None:
    releases = tmp_path / "releases"
    build_release(raw_dir, releases, "0.1.0")
    [document] = list(open_release(releases / "0.1.0").documents())
    text = document.text

    def span(exact: str, ann_id: str) -> Annotation:
        start = text.index(exact)
        end = start + len(exact)
        return Annotation(
            ann_id,
            document.id,
            "statistics",
            "SURVEY_STAT",
            start,
            end,
            Quote.from_text(text, start, end),
        )

    gold = [span("92,4 %", "fig"), span("90 % des personnes interrogées", "poll")]
    build_release(raw_dir, releases, "0.2.0", parent="0.1.0", gold=lambda docs: gold)
    # A corrected version of the raw release: one sentence added, one figure edited.
    seed = (raw_dir / "release-fr.txt").read_text(encoding="utf-8")
    edited = seed.replace("PÉKIN, 19 juin", "Mise à jour du 20 juin.\n\nPÉKIN, 19 juin")
    (raw_dir / "release-fr.txt").write_text(edited.replace("90 % des", "91 % des"), "utf-8")
    report = build_release(raw_dir, releases, "0.3.0", parent="0.2.0")
    assert len(report.documents.changed) == 1
    assert report.annotations.reanchored == ["fig"]
    assert report.annotations.orphaned == ["poll"]
    [moved] = list(open_release(report.path).annotations())
    [new_doc] = list(open_release(report.path).documents())
    assert moved.doc_id == new_doc.id != document.id
    assert moved.start is not None and new_doc.text[moved.start : moved.end] == "92,4 %"
    assert validate_release(report.path) == []
    changes = (report.path / "CHANGES.md").read_text(encoding="utf-8")
    assert "1 re-anchored, 1 orphaned" in changes and "`poll`" in changes
    changelog = (releases / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 0.3.0") < changelog.index("## 0.2.0") < changelog.index("## 0.1.0")

    result = run_cli("corpus", "diff", releases / "0.2.0", releases / "0.3.0", "--json")
    diff = json.loads(result.stdout)
    assert diff["documents"]["changed"] == [{"old": document.id, "new": new_doc.id}]
    assert diff["annotations"]["removed"] == ["poll"]
    assert diff["annotations"]["reanchored"] == ["fig"]
    table = run_cli("corpus", "diff", releases / "0.2.0", releases / "0.3.0")
    assert "documents changed" in table.stdout and table.returncode == 0


def test_invalid_gold_aborts_the_build(tmp_path: Path, raw_dir: Path) -> None:
    bad = Annotation("x", "no-such-doc", "claims", "CLAIM", 0, 3)
    with pytest.raises(ClaimwireError, match="does not validate"):
        build_release(
            raw_dir,
            tmp_path / "releases",
            "0.1.0",
            gold=lambda documents: [bad],
            validate=lambda path: [str(p) for p in validate_release(path)],
        )
    assert not (tmp_path / "releases" / "0.1.0").exists()


def test_stats_command(seed_releases: Path) -> None:
    result = run_cli("corpus", "stats", seed_releases / "0.1.0", "--json")
    stats = json.loads(result.stdout)
    assert stats["splits"]["all"]["documents"] == 1
    assert stats["splits"]["test"]["sentences"] == stats["splits"]["all"]["sentences"]
    table = run_cli("corpus", "stats", seed_releases / "0.1.0")
    assert "sentences" in table.stdout and "test" in table.stdout


def test_write_records_output_is_what_validate_reads(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    write_records(path, [Annotation("a", "d", "l", "L")])
    assert json.loads(path.read_text())["quote"] is None


def test_manifest_summarizes_added_ids_instead_of_listing_them(tmp_path: Path) -> None:
    """A release of many documents keeps a bounded manifest: added ids become a count, the
    digest of the sorted ids and the first few (the changelog lists them)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        json.dumps({"text": f"Communiqué numéro {i}. Le texte {i} est court."}) for i in range(60)
    ]
    (raw / "docs.jsonl").write_text("\n".join(lines), encoding="utf-8")
    report = build_release(raw, tmp_path / "releases", "0.1.0")
    added = report.manifest["changes"]["documents"]["added"]
    ids = sorted(report.documents.added)
    assert len(ids) == 60
    assert added == {
        "count": 60,
        "sha256": hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest(),
        "first": ids[:20],
    }
    manifest = json.loads((report.path / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["changes"]["documents"]["added"]["count"] == 60
    assert validate_release(report.path) == []


def test_build_writes_nothing_outside_its_out_folder(raw_dir: Path, tmp_path: Path) -> None:
    """Before: `corpus build --out X` replaced X/../CHANGELOG.md, a user's own file."""
    mine = tmp_path / "CHANGELOG.md"
    mine.write_text("# my project's changelog\n", encoding="utf-8")
    out = tmp_path / "releases"
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw_dir, "--out", out)
    assert result.returncode == 0, result.stderr
    assert mine.read_text(encoding="utf-8") == "# my project's changelog\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "releases"])
    assert "## 0.1.0" in (out / "CHANGELOG.md").read_text(encoding="utf-8")
    # a changelog in the releases folder that claimwire did not write is never replaced
    (out / "CHANGELOG.md").write_text("notes of mine\n", encoding="utf-8")
    refused = run_cli(
        "corpus", "build", "--version", "0.2.0", "--parent", "0.1.0", "--raw", raw_dir, "--out", out
    )
    assert refused.returncode == 1
    assert "CHANGELOG.md: exists and was not written by `claimwire corpus build`" in refused.stderr
    assert (out / "CHANGELOG.md").read_text(encoding="utf-8") == "notes of mine\n"
    assert not (out / "0.2.0").exists()


def test_removed_documents_and_renumbered_annotations_in_diff_and_changelog(
    tmp_path: Path,
) -> None:
    """A document dropped from the raw folder is listed as removed (before, no test removed
    one); an annotation re-numbered on the same span is kept, not removed and added."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("a", "b"):
        (raw / f"{name}.txt").write_text(f"Communiqué {name}.\n\nLe PIB a crû de 2 %.\n", "utf-8")

    def gold(prefix: str):  # type: ignore[no-untyped-def]
        def resolve(documents):  # type: ignore[no-untyped-def]
            found = []
            for doc in documents:
                start = doc.text.index("2 %")
                found.append(
                    Annotation(
                        f"{prefix}-{doc.id}",
                        doc.id,
                        "statistics",
                        "NUM_STAT",
                        start,
                        start + 3,
                        Quote.from_text(doc.text, start, start + 3),
                    )
                )
            return found

        return resolve

    releases = tmp_path / "releases"
    build_release(raw, releases, "0.1.0", gold=gold("old"))
    docs = {d.meta["source_file"]: d.id for d in open_release(releases / "0.1.0").documents()}
    (raw / "b.txt").unlink()
    report = build_release(raw, releases, "0.2.0", parent="0.1.0", gold=gold("new"))
    assert report.documents.removed == [docs["b.txt"]]
    assert report.annotations.removed == [f"old-{docs['b.txt']}"]
    assert report.annotations.renamed == [(f"old-{docs['a.txt']}", f"new-{docs['a.txt']}")]
    assert report.annotations.added == [] and report.annotations.kept == 1
    assert validate_release(report.path) == []
    changes = (report.path / "CHANGES.md").read_text(encoding="utf-8")
    assert f"  - removed: `{docs['b.txt']}`" in changes
    assert "1 removed. 1 of the kept have a new id" in changes
    assert f"  - removed: `old-{docs['b.txt']}`" in changes
    assert "## 0.2.0" in (releases / "CHANGELOG.md").read_text(encoding="utf-8")
    result = run_cli("corpus", "diff", releases / "0.1.0", releases / "0.2.0", "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    assert diff["documents"]["removed"] == [docs["b.txt"]]
    assert diff["annotations"]["removed"] == [f"old-{docs['b.txt']}"]
    assert diff["annotations"]["renamed"] == [
        {"old": f"old-{docs['a.txt']}", "new": f"new-{docs['a.txt']}"}
    ]
