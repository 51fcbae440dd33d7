"""Projects: packaged defaults, ``claimwire.toml`` discovery, the newest release by default."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from claimwire.annotation.schema import default_schema_path, load_schema
from claimwire.defaults import default_file
from claimwire.errors import ClaimwireError
from claimwire.eval.tasks import default_tasks_dir, find_task, load_tasks
from claimwire.project import find_project, read_project, use_project

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
SRC = REPO / "src" / "claimwire"


def test_the_packaged_defaults_are_the_repository_project_files() -> None:
    """One source of truth: the package's defaults are this repository's own files."""
    assert (
        default_file("schema.yaml").read_bytes() == (REPO / "annotation/schema.yaml").read_bytes()
    )
    for name, folder in (("tasks", "eval/tasks"), ("label_studio", "annotation/label_studio")):
        packaged = sorted(p.name for p in default_file(name).iterdir())
        assert packaged == sorted(p.name for p in (REPO / folder).iterdir())
        for file in default_file(name).iterdir():
            assert file.read_bytes() == (REPO / folder / file.name).read_bytes()
    schema = load_schema(default_file("schema.yaml"))
    assert sorted(load_tasks(schema, default_file("tasks"))) == sorted(
        p.stem for p in (REPO / "eval/tasks").glob("*.yaml")
    )


def test_no_module_finds_data_relative_to_its_own_file() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "parents[" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_outside_a_project_the_packaged_defaults_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLAIMWIRE_SCHEMA", raising=False)
    assert find_project() is None
    assert default_schema_path() == default_file("schema.yaml")
    assert default_tasks_dir() == default_file("tasks")


def _project(root: Path, toml: str = "") -> Path:
    for folder in ("corpus/releases", "annotation", "eval/tasks"):
        (root / folder).mkdir(parents=True)
    (root / "claimwire.toml").write_text(toml or 'name = "demo"\n', encoding="utf-8")
    return root


def test_commands_find_the_project_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "demo")
    (root / "corpus" / "raw").mkdir()
    monkeypatch.chdir(root / "corpus" / "raw")
    project = find_project()
    assert project is not None
    assert project.name == "demo"
    assert project.releases.resolve() == (root / "corpus" / "releases").resolve()


def test_project_option_overrides_the_search(tmp_path: Path) -> None:
    other = _project(tmp_path / "other")
    use_project(other)
    try:
        project = find_project(REPO)
        assert project is not None and project.root == other
    finally:
        use_project(None)


def test_the_newest_release_is_chosen_in_semantic_version_order(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for version in ("1.9.0", "1.10.0", "0.20.1", ".1.11.0.x.tmp", "notes"):
        (root / "corpus" / "releases" / version).mkdir()
    project = read_project(root / "claimwire.toml")
    assert project.release_versions() == ["0.20.1", "1.9.0", "1.10.0"]
    assert project.newest_release().name == "1.10.0"
    empty = read_project(_project(tmp_path / "empty") / "claimwire.toml")
    with pytest.raises(ClaimwireError, match=r"no release in .*claimwire corpus build"):
        empty.newest_release()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('name = "x"\ncorpus_dir = "c"\n', r"claimwire.toml:2: field 'corpus_dir': unknown key"),
        ('[paths]\nraw = "r"\n', r"claimwire.toml:2: field 'paths.raw': unknown key"),
        (
            '[paths]\ncorpus = "nowhere"\n',
            r"claimwire.toml:2: field 'paths.corpus': folder 'nowhere' does not exist",
        ),
        ("name = \n", r"claimwire.toml: not valid TOML"),
        ('paths = "corpus"\n', r"claimwire.toml:1: field 'paths': expected a table"),
    ],
)
def test_a_bad_project_file_is_one_line_naming_file_and_key(
    tmp_path: Path, toml: str, expected: str
) -> None:
    _project(tmp_path, toml)
    result = run_cli("corpus", "stats", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(expected, result.stderr), result.stderr


def test_outside_any_project_a_command_says_how_to_make_one(tmp_path: Path) -> None:
    result = run_cli("eval", "score", "x.jsonl", "--task", "claims", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "not inside a claimwire project" in result.stderr
    assert "claimwire init" in result.stderr


def test_commands_say_which_release_they_used(tmp_path: Path) -> None:
    newest = run_cli("corpus", "stats", "--json")
    assert newest.returncode == 0, newest.stderr
    assert "release 1.1.0 (corpus/releases/1.1.0)" in newest.stderr
    by_version = run_cli("--project", REPO, "corpus", "stats", "1.0.0", "--json", cwd=tmp_path)
    assert by_version.returncode == 0, by_version.stderr
    assert "release 1.0.0 (" in by_version.stderr


def test_tasks_a_release_carries_come_before_the_projects(tmp_path: Path) -> None:
    release = tmp_path / "1.0.0"
    (release / "tasks").mkdir(parents=True)
    shutil.copy(REPO / "eval" / "tasks" / "claims.yaml", release / "tasks" / "claims.yaml")
    assert default_tasks_dir(release) == release / "tasks"
    assert find_task("claims", load_schema(), release).path == release / "tasks" / "claims.yaml"
    assert default_tasks_dir(RELEASE).resolve() == (REPO / "eval" / "tasks").resolve()


def test_label_studio_is_found_in_the_project_and_else_named_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimwire.annotation.label_studio import server

    monkeypatch.delenv("CLAIMWIRE_LABEL_STUDIO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(REPO / "eval")
    if (REPO / ".venv-ls" / "bin" / "label-studio").exists():
        assert server.binary() == Path("..") / ".venv-ls" / "bin" / "label-studio"
    monkeypatch.chdir(tmp_path)
    assert server.binary() is None
    assert "CLAIMWIRE_LABEL_STUDIO" in server.MISSING and "PATH" in server.MISSING
    fake = tmp_path / "label-studio"
    fake.write_text("#!/bin/sh\n", encoding="utf-8")
    fake.chmod(0o755)
    assert server.binary() == fake
