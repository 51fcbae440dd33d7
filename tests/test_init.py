"""``claimwire init``: a project scaffold from the packaged defaults."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from claimwire.annotation.guidelines import sync_guidelines
from claimwire.annotation.schema import load_schema
from claimwire.errors import ClaimwireError
from claimwire.project import read_project
from claimwire.scaffold import init_project

from .helpers import REPO, run_cli


def test_init_makes_a_project_the_commands_find(tmp_path: Path) -> None:
    result = run_cli("init", "demo", "--lang", "fr", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    demo = tmp_path / "demo"
    project = read_project(demo / "claimwire.toml")
    assert (project.name, project.lang) == ("demo", "fr")
    assert project.raw.is_dir() and project.gold.is_dir()
    for name in ("README.md", ".gitignore"):
        assert (demo / name).is_file()
    stats = run_cli("corpus", "stats", cwd=demo / "corpus" / "raw")
    assert stats.returncode == 1 and "no release in" in stats.stderr  # found the project


def test_the_repository_project_files_are_what_init_produces(tmp_path: Path) -> None:
    """The schema, tasks and Label Studio configs of a new project equal this repository's."""
    init_project(tmp_path / "demo")
    demo = tmp_path / "demo"
    schema = demo / "annotation" / "schema.yaml"
    assert schema.read_bytes() == (REPO / "annotation" / "schema.yaml").read_bytes()
    for folder in ("eval/tasks", "annotation/label_studio"):
        made = {p.name: p.read_bytes() for p in (demo / folder).iterdir()}
        ours = {p.name: p.read_bytes() for p in (REPO / folder).iterdir()}
        assert made == ours, folder
    assert sync_guidelines(demo / "annotation" / "guidelines.md", load_schema(schema), check=True)


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli("init", tmp_path)
    assert result.returncode == 1
    assert "is not empty" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    init_project(empty)
    assert (empty / "claimwire.toml").is_file()


def test_a_bad_language_code_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ClaimwireError, match="language code"):
        init_project(tmp_path / "demo", lang="../x")
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_names_the_file_written_not_the_packaged_one(tmp_path: Path) -> None:
    """A full disk, here a file-size limit (EFBIG): the error names proj/…, not the package's
    defaults/schema.yaml it copies from; nothing is left behind."""
    limit = 4000  # below the schema's size
    result = subprocess.run(
        [sys.executable, "-m", "claimwire", "init", "proj", "--lang", "en"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: proj/annotation/schema.yaml: File too large"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("given", [".", "proj"], ids=["init .", "init of an empty folder"])
def test_an_empty_folder_is_filled_in_place(tmp_path: Path, given: str) -> None:
    """Before: `init .` was refused ("FOLDER is the working folder"; earlier "Device or
    resource busy"), and an empty folder named was replaced by another (a new inode: a shell
    in it was left in a deleted folder)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    inode = folder.stat().st_ino
    result = run_cli("init", given, "--lang", "en", cwd=folder if given == "." else tmp_path)
    assert result.returncode == 0, result.stderr
    assert folder.stat().st_ino == inode
    project = read_project(folder / "claimwire.toml")
    assert (project.name, project.lang) == ("proj", "en")
    assert sorted(p.name for p in folder.iterdir()) == [
        ".gitignore",
        "README.md",
        "annotation",
        "claimwire.toml",
        "corpus",
        "eval",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["proj"]


def test_init_dot_in_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli("init", ".", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "is not empty; claimwire init makes a project in a new or empty folder" in (
        result.stderr
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_write_that_fails_in_place_leaves_the_folder_empty(tmp_path: Path) -> None:
    """A file-size limit while `init .` writes: the error names the file in the folder, not
    the hidden one it was built in; the folder is empty again."""
    folder = tmp_path / "proj"
    folder.mkdir()
    limit = 4000  # below the schema's size
    result = subprocess.run(
        [sys.executable, "-m", "claimwire", "init", ".", "--lang", "en"],
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: annotation/schema.yaml: File too large"
    assert list(folder.iterdir()) == []
