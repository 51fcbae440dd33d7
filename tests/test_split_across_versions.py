"""A document keeps its split from release to release: a new version the build pairs with a
parent document (by the user's id, kept as ``meta.source_id``, else by input) stays in the
parent's split, however its text was corrected; an input that chooses a split still wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwire.corpus.release import build_release, diff_releases, open_release
from claimwire.corpus.validate import validate_release
from claimwire.errors import ClaimwireError

from .helpers import make_project, one_error_line, run_cli


def _release(i: int, verb: str = "rose") -> str:
    return (
        f"Release number {i} of Acme\n\nNEW YORK, March 3, 2025 -- Acme said sales {verb} {i}% "
        f"in 2024, according to its own figures for region {i}.\n"
    )


def _splits(releases: Path, version: str) -> dict[str, str]:
    """Each document's split, by its title."""
    return {doc.meta["title"]: doc.split for doc in open_release(releases / version).documents()}


def _jsonl(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_a_corrected_document_keeps_its_parents_split(tmp_path: Path) -> None:
    raw, releases = tmp_path / "raw", tmp_path / "releases"
    raw.mkdir()
    for i in range(40):
        (raw / f"r{i:02}.txt").write_text(_release(i), encoding="utf-8")
    build_release(raw, releases, "0.1.0")
    for i in range(40):  # a one-word correction of every release: every id changes
        (raw / f"r{i:02}.txt").write_text(_release(i, "climbed"), encoding="utf-8")
    report = build_release(raw, releases, "0.2.0", parent="0.1.0")
    assert len(report.documents.changed) == 40
    before, after = _splits(releases, "0.1.0"), _splits(releases, "0.2.0")
    assert len(set(before.values())) == 3  # the hash spreads them over every split
    assert after == before
    assert report.manifest["splits"] == open_release(releases / "0.1.0").manifest["splits"]
    assert [p for p in validate_release(releases / "0.2.0") if not p.is_warning] == []


def test_a_split_the_input_chooses_wins_over_the_parents(tmp_path: Path) -> None:
    raw, releases = tmp_path / "raw", tmp_path / "releases"
    raw.mkdir()
    (raw / "a.txt").write_text(_release(1), encoding="utf-8")
    build_release(raw, releases, "0.1.0")
    [was] = _splits(releases, "0.1.0").values()
    chosen = "dev" if was != "dev" else "test"
    (raw / "a.txt").write_text(_release(1, "climbed"), encoding="utf-8")
    (raw / "a.txt.meta.yaml").write_text(f"split: {chosen}\n", encoding="utf-8")
    build_release(raw, releases, "0.2.0", parent="0.1.0")
    assert list(_splits(releases, "0.2.0").values()) == [chosen]


def test_a_jsonl_id_is_kept_and_pairs_the_documents_new_version(tmp_path: Path) -> None:
    raw, releases = tmp_path / "raw", tmp_path / "releases"
    raw.mkdir()
    records = [{"id": f"ACME-2025-{i:03}", "text": _release(i)} for i in range(30)]
    _jsonl(raw / "feed.jsonl", records)
    build_release(raw, releases, "0.1.0")
    old = {doc.meta["source_id"]: doc for doc in open_release(releases / "0.1.0").documents()}
    assert sorted(old) == [f"ACME-2025-{i:03}" for i in range(30)]
    # the next export: another order, every text corrected, one release gone, one new
    records = [{"id": r["id"], "text": str(r["text"]).replace("rose", "fell")} for r in records]
    records = [*records[:0:-1], {"id": "ACME-2025-900", "text": _release(900)}]
    _jsonl(raw / "feed.jsonl", records)
    report = build_release(raw, releases, "0.2.0", parent="0.1.0")
    changes = report.documents
    assert (len(changes.changed), len(changes.added), changes.unchanged) == (29, 1, 0)
    assert changes.removed == [old["ACME-2025-000"].id]
    new = {doc.meta["source_id"]: doc for doc in open_release(releases / "0.2.0").documents()}
    assert {(old[i].id, new[i].id) for i in old if i in new} == set(changes.changed)
    assert all(new[i].split == old[i].split for i in old if i in new)
    listed, _ = diff_releases(open_release(releases / "0.1.0"), open_release(releases / "0.2.0"))
    assert (sorted(listed.changed), listed.removed) == (sorted(changes.changed), changes.removed)


def test_ids_given_to_a_release_built_without_them_pair_by_input(tmp_path: Path) -> None:
    raw, releases = tmp_path / "raw", tmp_path / "releases"
    raw.mkdir()
    _jsonl(raw / "feed.jsonl", [{"text": _release(i)} for i in range(20)])
    build_release(raw, releases, "0.1.0")
    records = [{"id": f"A{i}", "text": _release(i, "climbed")} for i in range(20)]
    _jsonl(raw / "feed.jsonl", records)
    report = build_release(raw, releases, "0.2.0", parent="0.1.0")
    assert (len(report.documents.changed), report.documents.added) == (20, [])
    assert _splits(releases, "0.2.0") == _splits(releases, "0.1.0")
    # corpus diff pairs them as the build did: each is changed (was: 20 removed, 20 added)
    listed, _ = diff_releases(open_release(releases / "0.1.0"), open_release(releases / "0.2.0"))
    assert listed.to_dict() == report.documents.to_dict()
    assert (len(listed.changed), len(listed.added), listed.removed) == (20, 0, [])


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "got ''"),
        ("   ", "got '   '"),
        (17, "got 17"),
        ("a\nb", "got 'a\\nb'"),
        ("x" * 257, "(257 characters)"),
    ],
)
def test_an_id_that_is_not_a_short_string_is_refused_at_its_line(
    tmp_path: Path, value: object, says: str
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _jsonl(raw / "feed.jsonl", [{"id": "A1", "text": _release(1)}, {"id": value, "text": "B."}])
    with pytest.raises(ClaimwireError) as caught:
        build_release(raw, tmp_path / "releases", "0.1.0")
    message = str(caught.value)
    assert message.startswith(f"{raw / 'feed.jsonl'}:2: field 'id': expected your id")
    assert says in message
    assert not (tmp_path / "releases" / "0.1.0").exists()


def test_an_id_that_names_two_documents_is_one_error_naming_both(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    raw = root / "corpus" / "raw"
    raw.mkdir()
    _jsonl(raw / "a.jsonl", [{"id": f"A{i}", "text": _release(i)} for i in range(3)])
    _jsonl(raw / "b.jsonl", [{"id": "B1", "text": _release(7)}, {"id": "A2", "text": _release(8)}])
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert (
        "error: corpus/raw/b.jsonl:2: field 'id': 'A2' is already the id of corpus/raw/a.jsonl "
        "line 3: an id names one document"
    ) in result.stderr
    assert not (root / "corpus" / "releases").exists()


def test_a_new_version_without_parent_is_refused_naming_the_newest_release(
    tmp_path: Path,
) -> None:
    """Before: `corpus build --version 0.3.0` without --parent silently started a new lineage,
    the newest release's gold dropped and its documents' splits drawn again."""
    root = make_project(tmp_path / "proj")
    raw, releases = root / "corpus" / "raw", root / "corpus" / "releases"
    raw.mkdir()
    for i in range(3):
        (raw / f"r{i}.txt").write_text(_release(i), encoding="utf-8")
    build_release(raw, releases, "0.1.0")
    build_release(raw, releases, "0.2.0", parent="0.1.0")
    refused = run_cli("corpus", "build", "--version", "0.3.0", cwd=root)
    assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
    assert (
        "error: 0.2.0 exists: pass --parent 0.2.0 to continue it, or --no-parent to start a "
        "new lineage (splits are drawn again)"
    ) in refused.stderr
    both = run_cli(
        "corpus", "build", "--version", "0.3.0", "--parent", "0.2.0", "--no-parent", cwd=root
    )
    assert "--parent 0.2.0 and --no-parent exclude each other" in both.stderr
    assert both.returncode == 1 and one_error_line(both.stderr), both.stderr
    assert not (releases / "0.3.0").exists()
    started = run_cli("corpus", "build", "--version", "0.3.0", "--no-parent", cwd=root)
    assert started.returncode == 0, started.stderr
    assert open_release(releases / "0.3.0").manifest.get("parent") is None


def test_a_new_lineage_older_than_the_newest_release_is_refused(tmp_path: Path) -> None:
    """Before: `--version 0.1.5 --no-parent` beside 0.2.0 was built without a word, a release
    no command would default to, listed between 0.2.0 and 0.1.0 in the changelog; the next
    build without --parent named 0.2.0 as the one to continue. A new lineage starts after the
    newest release, as a version is newer than its parent; an older line's next release, with
    its --parent, stays possible."""
    root = make_project(tmp_path / "proj")
    raw, releases = root / "corpus" / "raw", root / "corpus" / "releases"
    raw.mkdir()
    (raw / "r0.txt").write_text(_release(0), encoding="utf-8")
    build_release(raw, releases, "0.1.0")
    build_release(raw, releases, "0.2.0", parent="0.1.0")
    changelog = (releases / "CHANGELOG.md").read_bytes()
    older = run_cli("corpus", "build", "--version", "0.1.5", "--no-parent", cwd=root)
    assert older.returncode == 1 and one_error_line(older.stderr), older.stderr
    assert (
        "error: version 0.1.5 is older than 0.2.0, the newest release here: a new lineage "
        "(--no-parent) must start after it (commands default to the newest release and would "
        "never use this one); pick a version above 0.2.0, such as 1.0.0"
    ) in older.stderr
    assert sorted(p.name for p in releases.iterdir()) == ["0.1.0", "0.2.0", "CHANGELOG.md"]
    assert (releases / "CHANGELOG.md").read_bytes() == changelog
    fix = run_cli("corpus", "build", "--version", "0.1.1", "--parent", "0.1.0", cwd=root)
    assert fix.returncode == 0, fix.stderr
    newer = run_cli("corpus", "build", "--version", "1.0.0", "--no-parent", cwd=root)
    assert newer.returncode == 0, newer.stderr
    assert open_release(releases / "1.0.0").manifest.get("parent") is None
