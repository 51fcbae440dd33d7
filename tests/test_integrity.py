"""Writers that never clobber: locks, no-replace renames, stale staging, protected manifests,
`hub export --force` limits, YAML without aliases."""

from __future__ import annotations

import datetime
import json
import multiprocessing
import shutil
import time
from pathlib import Path

import pytest

from claimwire.annotation.yaml_lines import load_yaml
from claimwire.corpus.release import DIGEST, build_release, manifest_digest
from claimwire.errors import ClaimwireError
from claimwire.files import atomic_directory, clean_stale_staging, folder_lock

from .helpers import REPO, SEED_RAW, CliResult, one_error_line, run_cli

RELEASES = REPO / "corpus" / "releases"


# ---- atomic_directory and locks -----------------------------------------------------------


def test_a_target_that_appears_during_the_body_is_never_moved_aside(tmp_path: Path) -> None:
    final = tmp_path / "1.1.0"
    with pytest.raises(ClaimwireError, match="appeared while"), atomic_directory(final) as staging:
        (staging / "mine").write_text("new", encoding="utf-8")
        final.mkdir()  # another writer finished first
        (final / "theirs").write_text("old", encoding="utf-8")
    assert [p.name for p in final.iterdir()] == ["theirs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.1.0"]


def test_an_empty_target_that_appears_is_not_replaced_either(tmp_path: Path) -> None:
    final = tmp_path / "x"
    with pytest.raises(ClaimwireError, match="appeared while"), atomic_directory(final):
        final.mkdir()
    assert final.is_dir() and not any(final.iterdir())


def test_a_second_writer_in_the_same_folder_is_refused_at_once(tmp_path: Path) -> None:
    final = tmp_path / "x"
    with (
        folder_lock(tmp_path),
        pytest.raises(ClaimwireError, match="another claimwire process"),
        atomic_directory(final),
    ):
        pass
    with atomic_directory(final) as staging:  # free again
        (staging / "a").write_text("a", encoding="utf-8")
    assert (final / "a").exists()


def test_stale_staging_is_cleaned_at_the_next_write(tmp_path: Path) -> None:
    dead = tmp_path / ".1.2.0.claimwire-abcd_123.tmp"
    swapped = tmp_path / ".x.claimwire-zzzz_999.old"
    foreign = tmp_path / ".notes.abcdefgh.tmp"  # not a name claimwire makes
    for folder in (dead, swapped, foreign):
        folder.mkdir()
        (folder / "documents.jsonl").write_text("{}\n", encoding="utf-8")
    with atomic_directory(tmp_path / "1.3.0"):
        pass
    assert not dead.exists() and not swapped.exists() and foreign.exists()
    assert clean_stale_staging(tmp_path) == []


def _slow_build(raw: str, releases: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    def crawl(*_: int) -> None:
        time.sleep(1.5)  # the first build holds its lock long enough to overlap

    try:
        build_release(Path(raw), Path(releases), "1.1.0", progress=crawl)
        results.put("built")
    except ClaimwireError as error:
        results.put(f"error: {error}")


def test_two_builds_at_once_in_two_processes(tmp_path: Path) -> None:
    """Before locks, both reported success and the later one replaced the first."""
    raw = SEED_RAW
    releases = tmp_path / "releases"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_slow_build, args=(str(raw), str(releases), results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
        time.sleep(0.3)
    for worker in workers:
        worker.join(120)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert outcomes[0] == "built", outcomes
    assert outcomes[1].startswith("error:") and (
        "another claimwire process" in outcomes[1] or "already exists" in outcomes[1]
    )
    listed = sorted(p.name for p in releases.iterdir() if not p.name.startswith("."))
    assert listed == ["1.1.0", "CHANGELOG.md"]
    assert not [p for p in releases.iterdir() if p.name.endswith((".tmp", ".old"))]
    assert run_cli("corpus", "validate", releases / "1.1.0").returncode == 0


def test_two_cli_builds_at_once_one_wins_one_says_why(tmp_path: Path) -> None:
    import subprocess
    import sys

    releases = tmp_path / "releases"
    command = [sys.executable, "-m", "claimwire", "corpus", "build", "--version", "1.1.0"]
    command += ["--raw", str(SEED_RAW), "--out", str(releases)]
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [(p.wait(120), p.stderr.read().decode() if p.stderr else "") for p in processes]
    codes = sorted(code for code, _ in outputs)
    assert codes == [0, 1], outputs
    [error] = [err for code, err in outputs if code]
    assert "Traceback" not in error and one_error_line(error), error
    assert run_cli("corpus", "validate", releases / "1.1.0").returncode == 0


# ---- releases: the changelog is part of the build; staging folders never validate ----------


def test_a_build_that_fails_on_the_changelog_leaves_no_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import claimwire.corpus.release as release_module

    def full(*_: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(release_module, "stage_text", full)
    with pytest.raises(OSError):
        build_release(SEED_RAW, tmp_path / "releases", "0.1.0")
    assert list((tmp_path / "releases").iterdir()) == []
    assert not (tmp_path / "releases" / "CHANGELOG.md").exists()


def test_new_builds_carry_their_manifest_digest(seed_releases: Path) -> None:
    manifest = json.loads((seed_releases / "0.1.0" / "MANIFEST.json").read_text())
    assert manifest[DIGEST] == manifest_digest(manifest)
    assert (seed_releases / "CHANGELOG.md").read_text().count("0.1.0") >= 1


def test_a_staging_folder_never_validates(seed_release: Path) -> None:
    staged = seed_release.parent / ".0.1.0.claimwire-abcd1234.tmp"
    shutil.copytree(seed_release, staged)
    result = run_cli("corpus", "validate", staged)
    assert result.returncode == 1 and "staging-folder" in result.stdout


# ---- MANIFEST.json is protected -----------------------------------------------------------


def _edit(release: Path, change: dict[str, object], *, keep_digest: bool = False) -> None:
    path = release / "MANIFEST.json"
    manifest = json.loads(path.read_text())
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        node = manifest
        for parent in parents:
            node = node[parent]
        node[key] = value
    if keep_digest:
        manifest[DIGEST] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"created": "1999-01-01T00:00:00Z"}, "manifest-digest-mismatch"),
        ({"counts.documents": 7}, "manifest-mismatch"),
    ],
)
def test_an_edited_manifest_fails(seed_release: Path, change: dict, code: str) -> None:  # type: ignore[type-arg]
    _edit(seed_release, change)
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1 and code in result.stdout, result.stdout


def test_counts_are_recomputed_even_when_the_digest_is_forged(seed_release: Path) -> None:
    _edit(seed_release, {"counts.sentences": 1, "splits": {"train": 1}}, keep_digest=True)
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1 and result.stdout.count("manifest-mismatch") == 2


def test_an_edited_gold_summary_fails_in_the_committed_release(tmp_path: Path) -> None:
    """1.0.0 is a legacy release (no digest): its summary is recomputed from its gold."""
    copy = tmp_path / "1.0.0"
    shutil.copytree(RELEASES / "1.0.0", copy)
    manifest = json.loads((copy / "MANIFEST.json").read_text())
    manifest["gold_summary"]["surveys"][0]["disclosure"]["core"] = 1.0
    (copy / "MANIFEST.json").write_text(json.dumps(manifest))
    result = run_cli("corpus", "validate", copy)
    assert result.returncode == 1 and "gold_summary differs" in result.stdout
    assert run_cli("corpus", "stats", copy).returncode == 0  # stats trusts checksums only


def test_committed_releases_validate_as_legacy_and_are_untouched() -> None:
    before = {p: p.read_bytes() for p in RELEASES.rglob("*") if p.is_file()}
    for version in ("0.1.0", "1.0.0"):
        result = run_cli("corpus", "validate", RELEASES / version)
        assert result.returncode == 0, result.stdout
        assert f"release {version} is a legacy release" in result.stderr
    assert {p: p.read_bytes() for p in RELEASES.rglob("*") if p.is_file()} == before


def test_an_unlisted_schema_is_refused_and_never_used(seed_release: Path) -> None:
    (seed_release / "schema.yaml").write_text("not: [a schema", encoding="utf-8")
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1 and "unlisted-file" in result.stdout
    assert "Traceback" not in result.stderr and "not valid YAML" not in result.stdout


# ---- hub export --force -------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "corpus", root / "corpus", ignore=shutil.ignore_patterns("raw"))
    return root


@pytest.mark.parametrize("out", ["corpus/releases/1.0.0", "corpus", ".", "corpus/releases"])
def test_export_force_never_replaces_a_release_or_its_parents(project: Path, out: str) -> None:
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    result = run_cli(
        "hub", "export", project / "corpus/releases/1.0.0", "--out", project / out, "--force"
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert one_error_line(result.stderr), result.stderr
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_export_force_replaces_an_earlier_export_only(project: Path) -> None:
    release = project / "corpus/releases/1.0.0"
    out = project / "hub"
    assert run_cli("hub", "export", release, "--out", out).returncode == 0
    assert (out / ".claimwire-export").is_file()
    assert run_cli("hub", "export", release, "--out", out).returncode == 1  # not without --force
    assert run_cli("hub", "export", release, "--out", out, "--force").returncode == 0
    inside = run_cli("hub", "export", release, "--out", release / "hub")
    assert inside.returncode == 1 and "inside the release" in inside.stderr
    assert not (release / "hub").exists()
    foreign = project / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep", encoding="utf-8")
    refused = run_cli("hub", "export", release, "--out", foreign, "--force")
    assert refused.returncode == 1 and (foreign / "mine.txt").read_text() == "keep"


def test_hub_load_refuses_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = run_cli("hub", "load", tmp_path)
    assert result.returncode == 1 and "hub export" in result.stderr
    assert "Traceback" not in result.stderr


# ---- YAML without aliases -----------------------------------------------------------------

BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
title: *d
"""


def test_yaml_aliases_are_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(ClaimwireError, match=r"x.yaml:2: .*aliases"):
        load_yaml(path)
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(ClaimwireError, match=r"nested too deeply|not valid YAML"):
        load_yaml(path)


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "2025-02-28 25:00:00"])
def test_an_impossible_date_is_a_located_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(f"title: ok\npublished: {value}\n", encoding="utf-8")
    with pytest.raises(ClaimwireError, match=rf"x.yaml:2: .*'{value}' is not a valid date"):
        load_yaml(path)
    path.write_text(f"published: '{value}'\nday: 2025-02-28\n", encoding="utf-8")
    assert load_yaml(path) == {"published": value, "day": datetime.date(2025, 2, 28)}


def test_a_sidecar_with_an_impossible_date_does_not_build(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SEED_RAW, raw)
    sidecar = next(raw.glob("*.meta.yaml"))
    sidecar.write_text("published: 2025-02-30\n", encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", tmp_path / "r")
    assert result.returncode == 1 and one_error_line(result.stderr)
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and f"{sidecar.name}:1: " in line
    assert "'2025-02-30' is not a valid date" in line
    assert not (tmp_path / "r" / "0.1.0").exists()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("lang: ../../etc", "field 'lang': expected a language tag"),
        ("lang: ''", "field 'lang': expected a language tag"),
        ("published: not-a-date", "field 'published': expected an ISO 8601 date"),
        ("published: '2025-13-45'", "field 'published': expected an ISO 8601 date"),
    ],
)
def test_sidecar_language_and_date_are_checked(tmp_path: Path, line: str, expected: str) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SEED_RAW, raw)
    sidecar = next(raw.glob("*.meta.yaml"))
    sidecar.write_text(line + "\n", encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", tmp_path / "r")
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert expected in result.stderr
    for fine in ("lang: pt-BR\npublished: 2025-06-17", "published: '2025-06-17T09:30:00+02:00'"):
        sidecar.write_text(fine + "\n", encoding="utf-8")
        out = tmp_path / f"r{len(fine)}"
        built = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", out)
        assert built.returncode == 0, built.stderr


def test_a_sidecar_bomb_does_not_build(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SEED_RAW, raw)
    sidecar = next(raw.glob("*.meta.yaml"))
    sidecar.write_text(BOMB, encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", tmp_path / "r")
    assert result.returncode == 1 and "aliases" in result.stderr
    assert not (tmp_path / "r" / "0.1.0").exists()


def test_a_task_bomb_is_refused_by_eval_check(tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text(BOMB.replace("title", "name"), encoding="utf-8")
    result = run_cli("eval", "check", "--task", task, REPO / "eval/runs/rules/predictions.jsonl")
    assert result.returncode != 0 and "Traceback" not in result.stderr


@pytest.mark.parametrize("number", ["NaN", "-Infinity", "1e400"])
def test_a_number_json_does_not_have_in_a_manifest_is_located(
    seed_release: Path, number: str
) -> None:
    """Before: every command, validate included, ended in an internal error."""
    _edit(seed_release, {"counts.documents": "@number"})
    path = seed_release / "MANIFEST.json"
    path.write_text(path.read_text().replace('"@number"', number))
    for command in ("stats", "validate"):
        result = run_cli("corpus", command, seed_release)
        assert result.returncode == 1, result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        said = result.stderr + result.stdout
        assert "MANIFEST.json" in said and f"not valid JSON: {number} is" in said


def _scored(release: Path) -> CliResult:
    predictions = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
    task = ("--task", "claims", "--unit", "document")
    return run_cli("eval", "score", predictions, "--release", release, *task)


def test_a_split_count_that_is_not_a_count_is_located(tmp_path: Path) -> None:
    """Before: ``eval score`` ended in an internal error (``'>=' not supported``)."""
    copy = tmp_path / "1.1.0"
    shutil.copytree(RELEASES / "1.1.0", copy)
    _edit(copy, {"splits": {"test": "1"}}, keep_digest=True)
    result = _scored(copy)
    assert result.returncode == 1 and "internal error" not in result.stderr
    assert "MANIFEST.json: field 'splits.test': expected a count" in result.stderr


def test_a_huge_split_count_is_a_hint_not_an_allocation(tmp_path: Path) -> None:
    """A manifest's split count sizes nothing: before, 10¹⁰ made ``eval score`` allocate for
    10¹⁰ units at once and fail out of memory."""
    copy = tmp_path / "1.1.0"
    shutil.copytree(RELEASES / "1.1.0", copy)
    expected = _scored(copy)
    _edit(copy, {"splits": {"test": 10**10}, "counts.documents": 10**10}, keep_digest=True)
    result = _scored(copy)
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("\n")[-12:-2]  # the same scores (the signature names the edit)
    assert table == expected.stdout.split("\n")[-12:-2]
