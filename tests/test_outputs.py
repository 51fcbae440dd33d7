"""The output rule (claimwire.outputs): no command writes into a release, over one of its own
inputs, or over an earlier output without --force — each run as a user would."""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from claimwire.annotation.label_studio.convert import to_results
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release

from .helpers import REPO, one_error_line, run_cli

RELEASE = "corpus/releases/1.1.0"
RUN = "eval/runs/rules/predictions.jsonl"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's project (releases, raw inputs, tasks, runs) and b.jsonl,
    a copy of the rules run."""
    root = tmp_path / "project"
    for name in ("corpus", "annotation", "eval"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "claimwire.toml", root)
    shutil.copy(root / RUN, root / "b.jsonl")  # a second annotation set
    return root


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _export(path: Path, release: Path, emails: list[str]) -> Path:
    """A Label Studio JSON export: one task, one annotation per e-mail (the gold's first spans)."""
    document = next(open_release(release).documents())
    gold = list(open_release(release).annotations())[:3]
    results = to_results(gold, [], load_schema(release / "schema.yaml"), document.text)
    annotations = [
        {"id": n, "completed_by": {"id": n, "email": e}, "result": results}
        for n, e in enumerate(emails)
    ]
    task = {"id": 1, "data": {"text": document.text, "doc_id": document.id}}
    path.write_text(json.dumps([{**task, "annotations": annotations}]), encoding="utf-8")
    return path


WRITERS: dict[str, Callable[[Path], list[str | Path]]] = {
    "annotate adjudicate --out": lambda p: [
        "annotate", "adjudicate", p / RUN, p / "b.jsonl", "--out", p / RELEASE,
        "--release", p / RELEASE,
    ],
    "annotate adjudicate --conflicts": lambda p: [
        "annotate", "adjudicate", p / RUN, p / "b.jsonl", "--out", p / "gold",
        "--conflicts", p / RELEASE / "relations.jsonl", "--release", p / RELEASE,
    ],
    "annotate pull --out": lambda p: [
        "annotate", "pull", "--from-file", _export(p / "ex.json", p / RELEASE, ["annotations"]),
        "--out", p / RELEASE, "--release", p / RELEASE,
    ],
    "run --out --overwrite": lambda p: [
        "run", "rules", "--out", p / RELEASE / "annotations.jsonl", "--overwrite",
        "--release", p / RELEASE,
    ],
    "eval check --out": lambda p: [
        "eval", "check", p / RUN, "--task", "claims", "--fix-offsets", "--release", p / RELEASE,
        "--out", p / RELEASE / "annotations.jsonl", "--force",
    ],
    "eval score --html": lambda p: [
        "eval", "score", p / RUN, "--task", "claims", "--release", p / RELEASE,
        "--html", p / RELEASE / "relations.jsonl",
    ],
    "corpus build --out (the release for the releases folder)": lambda p: [
        "corpus", "build", "--version", "2.0.0", "--out", p / RELEASE
    ],
    "convert --out --force": lambda p: [
        "convert", p / RUN, "--to", "doccano", "--out", p / RELEASE / "annotations.jsonl",
        "--force", "--release", p / RELEASE,
    ],
    "convert --out a release --force": lambda p: [
        "convert", p / RUN, "--to", "brat", "--out", p / RELEASE, "--force",
        "--release", p / RELEASE,
    ],
    "hub export --out": lambda p: ["hub", "export", p / RELEASE, "--out", p / RELEASE / "hub"],
    "benchmark --html": lambda p: [
        "benchmark", "--html", p / RELEASE / "report.html", "--release", p / RELEASE
    ],
    "benchmark --runs": lambda p: ["benchmark", "--runs", p / RELEASE / "runs"],
    "benchmark --leaderboard": lambda p: [
        "benchmark", "--leaderboard", p / RELEASE / "leaderboard.md"
    ],
    "annotate resolve --out": lambda p: [
        "annotate", "resolve", p / "annotation/gold", "--release", p / RELEASE, "--out", p / RELEASE
    ],
    "annotate config --out": lambda p: ["annotate", "config", "--out", p / RELEASE],
    "annotate guidelines --path": lambda p: [
        "annotate", "guidelines", "--path", p / RELEASE / "guidelines.md"
    ],
    "init FOLDER": lambda p: ["init", p / RELEASE / "project"],
}  # fmt: skip


@pytest.mark.parametrize("writer", WRITERS, ids=list(WRITERS))
def test_no_command_writes_into_a_release(project: Path, writer: str) -> None:
    args = WRITERS[writer](project)
    before = _snapshot(project / "corpus")
    result = run_cli(*args, cwd=project)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "inside the release" in result.stderr, result.stderr
    assert _snapshot(project / "corpus") == before


# every parameter that names a path the command only reads; any other is a writer, which needs
# a case in WRITERS (a new output option fails the test below until it follows the rule)
READS = {
    "corpus build --schema", "corpus build --tasks", "annotate resolve GOLD",
    "annotate resolve --release", "annotate resolve --schema", "annotate guidelines --schema",
    "annotate agree SETS", "annotate agree --release", "annotate adjudicate SETS",
    "annotate adjudicate --release", "annotate config --schema", "annotate push RELEASE",
    "annotate push --predictions", "annotate pull --from-file", "annotate pull --release",
    "convert SOURCE", "convert --release", "benchmark --release",
    "corpus stats PATH", "corpus validate PATH",
}  # fmt: skip
OUTPUT_NAMES = {"out", "html", "path", "conflicts", "leaderboard_path", "runs", "folder"}


def _path_parameters() -> set[str]:
    """``"COMMAND OPTION"`` for every parameter of the real commands that takes a local path
    (typed ``Path``) or is named like an output (``--out``, ``--html``…)."""
    import typing

    import typer

    from claimwire.cli.root import app

    root = typer.main.get_command(app)
    context = root.make_context("claimwire", [], resilient_parsing=True)
    found: set[str] = set()

    def walk(command: typing.Any, path: str) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                walk(getattr(sub, "real", sub), f"{path} {name}".strip())
            return
        hints = typing.get_type_hints(command.callback)
        for param in command.get_params(context):
            if "Path" in str(hints.get(param.name)) or param.name in OUTPUT_NAMES:
                option = param.opts[0] if param.opts[0].startswith("-") else param.name.upper()
                found.add(f"{path} {option}")

    walk(root, "")
    return found


def test_every_writer_follows_the_output_rule() -> None:
    """Each path parameter is read-only (READS) or has a case in WRITERS, which runs it
    into a release and expects the refusal."""
    parameters = _path_parameters()
    assert not READS - parameters, sorted(READS - parameters)  # READS is kept current
    untested = {w for w in parameters - READS if not any(c.startswith(w) for c in WRITERS)}
    assert not untested, f"writers without a case in WRITERS: {sorted(untested)}"


def test_an_output_linked_into_a_release_is_refused(project: Path) -> None:
    (project / "report.html").symlink_to(project / RELEASE / "relations.jsonl")
    before = _snapshot(project / "corpus")
    args = ["eval", "score", project / RUN, "--task", "claims", "--html", "report.html"]
    result = run_cli(*args, "--release", project / RELEASE, cwd=project)
    assert result.returncode == 1 and "inside the release" in result.stderr, result.stderr
    assert _snapshot(project / "corpus") == before


def test_an_annotator_never_takes_a_release_file_name(project: Path) -> None:
    export = _export(project / "ex.json", project / RELEASE, ["annotations", "alice"])
    out = project / "sets"
    args = ["annotate", "pull", "--from-file", export, "--out", out, "--release", project / RELEASE]
    result = run_cli(*args, cwd=project)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "annotations.jsonl" not in names and "alice.jsonl" in names, names
    assert any(n.startswith("annotations-") for n in names), names


@pytest.mark.parametrize("command", ["adjudicate", "check"])
def test_an_earlier_output_is_replaced_only_with_force(project: Path, command: str) -> None:
    if command == "adjudicate":
        out = project / "gold"
        args = ["annotate", "adjudicate", project / RUN, project / "b.jsonl", "--out", out]
        args += ["--release", project / RELEASE]
        kept = out / "annotations.jsonl"
    else:
        out = kept = project / "fixed.jsonl"
        args = ["eval", "check", project / RUN, "--task", "claims", "--fix-offsets", "--out", out]
        args += ["--release", project / RELEASE]
    assert run_cli(*args, cwd=project).returncode == 0
    kept.write_text("mine\n", encoding="utf-8")
    refused = run_cli(*args, cwd=project)
    assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
    assert "--force" in refused.stderr and kept.read_text(encoding="utf-8") == "mine\n"
    assert run_cli(*args, "--force", cwd=project).returncode == 0
    assert kept.read_text(encoding="utf-8") != "mine\n"


INPUTS: dict[str, Callable[[Path], list[str | Path]]] = {
    "eval score --html": lambda p: [
        "eval", "score", p / "p.jsonl", "--task", "claims", "--html", p / "p.jsonl"
    ],
    "eval score --html (a link to it)": lambda p: [
        "eval", "score", p / "p.jsonl", "--task", "claims", "--html", p / "link.jsonl"
    ],
    "eval score --html (the gold)": lambda p: [
        "eval", "score", p / RUN, "--gold", p / "p.jsonl", "--task", "claims",
        "--html", p / "p.jsonl",
    ],
    "eval check --out": lambda p: [
        "eval", "check", p / "p.jsonl", "--task", "claims", "--fix-offsets",
        "--out", p / "p.jsonl", "--force",
    ],
    "annotate adjudicate --conflicts": lambda p: [
        "annotate", "adjudicate", p / "p.jsonl", p / RUN, "--out", p / "gold",
        "--conflicts", p / "p.jsonl",
    ],
    "annotate adjudicate --out": lambda p: [
        "annotate", "adjudicate", p / "annotations.jsonl", p / RUN, "--out", p, "--force"
    ],
    "convert --out (import)": lambda p: [
        "convert", p / "p.jsonl", "--from", "doccano", "--out", p / "p.jsonl", "--force"
    ],
    "convert --out (export)": lambda p: [
        "convert", p / "p.jsonl", "--to", "doccano", "--out", p / "p.jsonl", "--force"
    ],
}  # fmt: skip


@pytest.mark.parametrize("writer", INPUTS, ids=list(INPUTS))
def test_an_output_never_replaces_an_input(project: Path, writer: str) -> None:
    shutil.copy(project / RUN, project / "p.jsonl")
    shutil.copy(project / RUN, project / "annotations.jsonl")
    (project / "link.jsonl").symlink_to(project / "p.jsonl")
    before = _snapshot(project)
    result = run_cli(*INPUTS[writer](project), cwd=project)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "is also an input" in result.stderr, result.stderr
    assert _snapshot(project) == before


IN_INPUT_FOLDERS: dict[str, Callable[[Path], list[str | Path]]] = {
    "eval score a --html a/annotations.jsonl": lambda p: [
        "eval", "score", p / "a", "--task", "claims", "--html", p / "a/annotations.jsonl"
    ],
    "eval score a --html a/report.html": lambda p: [
        "eval", "score", p / "a", "--task", "claims", "--html", p / "a/report.html"
    ],
    "annotate adjudicate a b --out a --force": lambda p: [
        "annotate", "adjudicate", p / "a", p / "b", "--out", p / "a", "--force"
    ],
    "eval check a --out a/annotations.jsonl --force": lambda p: [
        "eval", "check", p / "a", "--task", "claims", "--fix-offsets",
        "--out", p / "a/annotations.jsonl", "--force",
    ],
}  # fmt: skip


@pytest.mark.parametrize("writer", IN_INPUT_FOLDERS, ids=list(IN_INPUT_FOLDERS))
def test_an_output_inside_an_input_folder_is_refused(project: Path, writer: str) -> None:
    """Before: a set given as a folder was not looked into, and the file in it replaced."""
    for name in ("a", "b"):
        (project / name).mkdir()
        shutil.copy(project / RUN, project / name / "annotations.jsonl")
    before = _snapshot(project)
    result = run_cli(*IN_INPUT_FOLDERS[writer](project), "--release", project / RELEASE)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "is inside an input folder" in result.stderr, result.stderr
    assert "never written over or among a command's inputs" in result.stderr
    assert _snapshot(project) == before


LINKED: dict[str, Callable[[Path, Path], list[str | Path]]] = {
    "eval score --html --force": lambda p, out: [
        "eval", "score", p / RUN, "--task", "claims", "--html", out, "--force"
    ],
    "eval check --out": lambda p, out: [
        "eval", "check", p / RUN, "--task", "claims", "--fix-offsets", "--out", out, "--force"
    ],
    "run --out --overwrite": lambda p, out: ["run", "rules", "--out", out, "--overwrite"],
    "convert --out --force": lambda p, out: [
        "convert", p / RUN, "--to", "doccano", "--out", out, "--force"
    ],
}  # fmt: skip


@pytest.mark.parametrize("writer", LINKED, ids=list(LINKED))
def test_an_output_through_a_symbolic_link_writes_its_target(project: Path, writer: str) -> None:
    target = project / "site" / "out.txt"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    link = project / "out.txt"
    link.symlink_to(target)
    result = run_cli(*LINKED[writer](project, link), "--release", project / RELEASE, cwd=project)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text(encoding="utf-8") != "old\n"
    assert sorted(p.name for p in target.parent.iterdir() if ".tmp" in p.name) == []


@pytest.mark.parametrize("writer", LINKED, ids=list(LINKED))
def test_an_output_that_is_not_a_regular_file_is_refused(project: Path, writer: str) -> None:
    fifo = project / "pipe.txt"
    os.mkfifo(fifo)
    result = run_cli(*LINKED[writer](project, fifo), "--release", project / RELEASE, cwd=project)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "pipe.txt: is not a regular file" in result.stderr, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("writer", ["eval score --html --force", "eval check --out"])
def test_an_output_that_is_a_folder_is_named_as_given(project: Path, writer: str) -> None:
    (project / "d1").mkdir()
    args = LINKED[writer](project, Path("d1"))
    result = run_cli(*args, "--release", project / RELEASE, cwd=project)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "error: d1: is a folder" in result.stderr and ".tmp" not in result.stderr


def test_a_write_error_names_the_output(project: Path) -> None:
    """A file-size limit (as a full disk) fails the write itself: the error names --out."""
    args = ["convert", project / RUN, "--to", "doccano", "--out", "big.jsonl"]
    limit = (8192, resource.getrlimit(resource.RLIMIT_FSIZE)[1])
    completed = subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", "COLUMNS": "200"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, limit),
        check=False,
    )
    assert completed.returncode == 1 and one_error_line(completed.stderr), completed.stderr
    assert "error: big.jsonl: File too large" in completed.stderr, completed.stderr
    assert not any(project.glob("*big.jsonl*"))


def test_convert_over_an_existing_file_says_so(project: Path) -> None:
    (project / "x.txt").write_text("mine\n", encoding="utf-8")
    args = ["convert", project / RUN, "--to", "brat", "--out", "x.txt"]
    result = run_cli(*args, "--release", project / RELEASE, cwd=project)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "released versions" not in result.stderr and "--force" in result.stderr


PROTECTED = [
    "deep/er/MANIFEST.json", "sub/claimwire.toml", ".git/HEAD", ".hg/requires", ".svn/wc.db",
    "bare.git/HEAD", "bare.git/objects/", "bare.git/refs/",
]  # fmt: skip


@pytest.mark.parametrize("protected", PROTECTED)
def test_force_never_replaces_a_folder_holding_a_release_project_or_repository(
    tmp_path: Path, protected: str
) -> None:
    """Not even an earlier export (its marker) a repository was put into (before: a bare
    repository, a Mercurial or Subversion checkout were replaced)."""
    out = tmp_path / "out"
    (out / protected).parent.mkdir(parents=True)
    (out / ".claimwire-export").write_text("", encoding="utf-8")
    if protected.startswith("bare.git"):  # the whole of a bare repository
        for name in ("objects", "refs"):
            (out / "bare.git" / name).mkdir(exist_ok=True)
        protected = "bare.git/HEAD"
    (out / protected).write_text("{}", encoding="utf-8")
    args = ["convert", REPO / "corpus/releases/1.1.0", "--to", "brat", "--out", out, "--force"]
    result = run_cli(*args)
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert "--force refused: it holds" in result.stderr
    assert (out / protected).read_text(encoding="utf-8") == "{}"


@pytest.mark.parametrize("kind", ["git init --bare", "hg checkout", "a user's folder"])
def test_force_replaces_only_a_folder_an_export_made(tmp_path: Path, kind: str) -> None:
    """Before: `convert --to brat --out X --force` replaced any folder without .git."""
    out = tmp_path / "out"
    if kind == "git init --bare":
        subprocess.run(["git", "init", "-q", "--bare", str(out)], check=True)
    else:
        (out / ".hg" if kind == "hg checkout" else out).mkdir(parents=True)
        (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = _snapshot(out)
    args = ["convert", REPO / RELEASE, "--to", "brat", "--out", out, "--force"]
    result = run_cli(*args, "--release", REPO / RELEASE)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "no claimwire export made it" in result.stderr, result.stderr
    assert _snapshot(out) == before
    shutil.rmtree(out)
    assert run_cli(*args, "--release", REPO / RELEASE).returncode == 0  # a new folder
    assert (out / ".claimwire-export").is_file()
    (out / "stale.ann").write_text("", encoding="utf-8")
    again = run_cli(*args, "--release", REPO / RELEASE)  # an earlier export: replaced
    assert again.returncode == 0, again.stderr
    assert not (out / "stale.ann").exists() and (out / ".claimwire-export").is_file()


@pytest.mark.parametrize("out", ["data", "."])
def test_force_never_replaces_the_folder_holding_an_input(tmp_path: Path, out: str) -> None:
    """Before: `convert data/p.jsonl --to brat --out data --force` deleted data/ with the input
    and everything beside it; `--out .` failed with "Device or resource busy"."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(REPO / RUN, data / "p.jsonl")
    (data / ".claimwire-export").write_text("", encoding="utf-8")  # even an earlier export
    (data / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = _snapshot(data)
    source = "p.jsonl" if out == "." else data / "p.jsonl"
    args = ["convert", source, "--to", "brat", "--out", out, "--force"]
    result = run_cli(*args, "--release", REPO / RELEASE, cwd=data if out == "." else tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    said = "--out is the working folder" if out == "." else "--force refused: it holds the input"
    assert said in result.stderr, result.stderr
    assert _snapshot(data) == before


def _tree(folder: Path) -> list[str]:
    """Every path below ``folder``, folders too (a leftover empty folder counts)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("out", "force", "marked"),
    [(".", True, False), (".", False, False), ("..", True, True), ("../..", True, False)],
    ids=["empty . --force", "empty .", "marked .. --force", "../.."],
)
def test_an_output_is_never_the_working_folder(
    tmp_path: Path, out: str, force: bool, marked: bool
) -> None:
    """Before: `--out .` in an empty working folder failed with "Device or resource busy"
    (the kernel does not rename it) and left a `..claimwire-XXXXXXXX.old` folder in it."""
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    if marked:
        (work.parent / ".claimwire-export").write_text("", encoding="utf-8")
    before = _tree(tmp_path)
    args = ["convert", REPO / RUN, "--to", "brat", "--out", out, "--release", REPO / RELEASE]
    result = run_cli(*args, *(["--force"] if force else []), cwd=work)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    what = "the working folder" if out == "." else "above the working folder"
    assert f"--out is {what}" in result.stderr, result.stderr
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    ("raw", "out"),
    [(None, "corpus/raw"), (None, "corpus/raw/releases"), ("inputs", "inputs/out")],
    ids=["the raw folder", "inside it", "inside --raw"],
)
def test_a_build_never_writes_among_its_raw_inputs(
    project: Path, raw: str | None, out: str
) -> None:
    """Before: `corpus build --out corpus/raw` wrote the release there, and the next build
    read its documents.jsonl as a raw input."""
    if raw is not None:
        shutil.copytree(project / "corpus/raw", project / raw)
    before = _tree(project)
    options = ["--raw", raw] if raw is not None else []
    result = run_cli("corpus", "build", "--version", "9.0.0", "--out", out, *options, cwd=project)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "never written over or among a command's inputs" in result.stderr, result.stderr
    assert _tree(project) == before
