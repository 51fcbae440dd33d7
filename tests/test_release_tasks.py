"""A release carries the task definitions it is scored with: ``corpus build`` ships them in
``tasks/``, listed with their checksums; ``corpus validate`` checks them; ``eval score`` and
``eval check`` use them before the project's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from claimwire.annotation.checks import validate
from claimwire.build import build
from claimwire.corpus.release import (
    DIGEST,
    MANIFEST,
    checksum_problems,
    manifest_digest,
    open_release,
    read_manifest,
)
from claimwire.errors import ClaimwireError
from claimwire.eval.evaluate import Evaluation
from claimwire.files import sha256

from .helpers import REPO, run_cli

TASKS = REPO / "eval" / "tasks"
GOLD = REPO / "annotation" / "gold"
RAW = REPO / "corpus" / "raw"
RULES = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


@pytest.fixture(scope="module")
def own_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tasks, with claims scored under ``exact`` instead of ``strict``."""
    folder = tmp_path_factory.mktemp("tasks")
    for path in TASKS.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    claims = folder / "claims.yaml"
    text = claims.read_text(encoding="utf-8")
    assert "primary: strict" in text
    claims.write_text(text.replace("primary: strict", "primary: exact"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(own_tasks: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    releases = tmp_path_factory.mktemp("releases")
    return build(RAW, releases, "2.0.0", gold=GOLD, tasks=own_tasks).path


@pytest.fixture
def release(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built release that a test may break."""
    return Path(shutil.copytree(built, tmp_path / "2.0.0"))


def _relist(release: Path) -> None:
    """Re-list every file of ``tasks/`` in the manifest, as a forger would."""
    manifest = read_manifest(release)
    for path in sorted((release / "tasks").iterdir()):
        manifest["files"][f"tasks/{path.name}"] = {
            "sha256": sha256(path),
            "bytes": path.stat().st_size,
        }
    manifest[DIGEST] = manifest_digest(manifest)
    (release / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def test_build_ships_the_tasks_listed_with_checksums(built: Path, own_tasks: Path) -> None:
    files = read_manifest(built)["files"]
    shipped = sorted(name for name in files if name.startswith("tasks/"))
    assert shipped == sorted(f"tasks/{p.name}" for p in own_tasks.glob("*.yaml"))
    for name in shipped:
        source = own_tasks / name.removeprefix("tasks/")
        assert (built / name).read_bytes() == source.read_bytes()
        assert files[name]["sha256"] == sha256(source)
    assert checksum_problems(built, read_manifest(built)) == []
    assert validate(built) == []


def test_evaluation_uses_the_release_tasks(built: Path) -> None:
    assert Evaluation.open(built, "claims").task.primary == "exact"
    committed = REPO / "corpus" / "releases" / "1.1.0"  # no tasks/: the project's
    assert Evaluation.open(committed, "claims").task.primary == "strict"


def test_eval_score_and_check_use_the_release_tasks(built: Path) -> None:
    scored = run_cli("eval", "score", RULES, "--task", "claims", "--release", built, "-f", "csv")
    assert scored.returncode == 0, scored.stderr
    assert ",exact F1," in scored.stdout and "|scheme:exact|" in scored.stdout
    checked = run_cli("eval", "check", RULES, "--task", "claims", "--release", built)
    assert checked.returncode == 0, checked.stderr
    for result in (scored, checked):  # said on stderr: it wins over the project's
        assert "task claims: the release's own tasks/claims.yaml" in result.stderr
    project = REPO / "corpus" / "releases" / "1.1.0"
    plain = run_cli("eval", "check", RULES, "--task", "claims", "--release", project)
    assert plain.returncode == 0 and "the release's own" not in plain.stderr


def test_the_project_build_ships_its_tasks_by_default(tmp_path: Path) -> None:
    """Inside a project, ``corpus build`` ships the project's ``eval/tasks``."""
    result = run_cli(
        "corpus", "build", "--version", "0.5.0", "--raw", RAW, "--out", tmp_path, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    files = read_manifest(tmp_path / "0.5.0")["files"]
    assert sorted(n for n in files if n.startswith("tasks/")) == sorted(
        f"tasks/{p.name}" for p in TASKS.glob("*.yaml")
    )


def test_a_bad_task_stops_the_build_before_anything_is_written(
    own_tasks: Path, tmp_path: Path
) -> None:
    tasks = Path(shutil.copytree(own_tasks, tmp_path / "tasks"))
    text = (tasks / "claims.yaml").read_text(encoding="utf-8")
    (tasks / "claims.yaml").write_text(text.replace("[CLAIM]", "[CLAIMZ]"), encoding="utf-8")
    with pytest.raises(ClaimwireError) as raised:
        build(RAW, tmp_path / "releases", "2.0.0", gold=GOLD, tasks=tasks)
    assert raised.value.file == str(tasks / "claims.yaml")
    assert not (tmp_path / "releases" / "2.0.0").exists()


def test_an_unlisted_task_file_is_refused(release: Path) -> None:
    (release / "tasks" / "extra.yaml").write_text("name: extra\n", encoding="utf-8")
    problems = checksum_problems(release, read_manifest(release))
    assert ("tasks/extra.yaml", "unlisted-file") in [(p[0], p[1]) for p in problems]
    with pytest.raises(ClaimwireError, match="not listed"):
        open_release(release)


def test_a_folder_inside_tasks_is_refused(release: Path) -> None:
    (release / "tasks" / "nested").mkdir()
    problems = checksum_problems(release, read_manifest(release))
    assert [(p[0], p[1]) for p in problems] == [("tasks/nested", "unlisted-file")]


def test_an_edited_task_file_fails_its_checksum(release: Path) -> None:
    with (release / "tasks" / "claims.yaml").open("a", encoding="utf-8") as out:
        out.write("# edited\n")
    codes = {p.code for p in validate(release)}
    assert "checksum-mismatch" in codes
    with pytest.raises(ClaimwireError, match="checksum"):
        Evaluation.open(release, "claims")


def test_validate_loads_the_release_tasks(release: Path) -> None:
    """A task the release's schema cannot load (listed, checksums right) is a level-4
    ``bad-task`` naming the file and line."""
    path = release / "tasks" / "claims.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[CLAIM]", "[CLAIMZ]"), encoding="utf-8"
    )
    _relist(release)
    problems = validate(release)
    assert [(p.level, p.code, p.file) for p in problems] == [(4, "bad-task", "tasks/claims.yaml")]
    assert "CLAIMZ" in problems[0].message and problems[0].line is not None
    assert validate(release, max_level=3) == []
    result = run_cli("corpus", "validate", release)
    assert result.returncode == 1
    assert "[tasks/claims.yaml line" in result.stdout and "L4 bad-task" in result.stdout


@pytest.mark.parametrize(
    "name", ["../outside.yaml", "tasks/../../outside.yaml", "/etc/passwd", "tasks/.hidden.yaml"]
)
def test_a_manifest_cannot_list_a_path_outside_the_release(release: Path, name: str) -> None:
    manifest = read_manifest(release)
    manifest["files"][name] = {"sha256": "0" * 64, "bytes": 1}
    problems = checksum_problems(release, manifest)
    assert (MANIFEST, "manifest-invalid") in [(p[0], p[1]) for p in problems]


def test_committed_releases_carry_no_tasks_and_stay_valid() -> None:
    """Releases are never rewritten: 0.1.0, 1.0.0 and 1.1.0 predate shipped tasks."""
    for version in ("0.1.0", "1.0.0", "1.1.0"):
        path = REPO / "corpus" / "releases" / version
        assert not (path / "tasks").exists()
        assert checksum_problems(path, read_manifest(path)) == []


def test_two_task_files_with_one_name_are_refused(release: Path) -> None:
    """A copied task file that keeps its ``name:`` (``zz-variant.yaml`` naming ``claims``)
    shadowed the original in every score, and validate passed; now validate reports it and
    loading the tasks names both files."""
    variant = release / "tasks" / "zz-variant.yaml"
    text = (release / "tasks" / "claims.yaml").read_text(encoding="utf-8")
    variant.write_text(text.replace("split: test", "split: all"), encoding="utf-8")
    _relist(release)
    problems = validate(release)
    assert [(p.code, p.file) for p in problems] == [("bad-task", "tasks/zz-variant.yaml")]
    assert "task 'claims' is also defined by tasks/claims.yaml" in problems[0].message
    with pytest.raises(ClaimwireError, match=r"also defined by claims\.yaml") as caught:
        Evaluation.open(release, "claims")
    assert caught.value.file is not None and caught.value.file.endswith("zz-variant.yaml")
