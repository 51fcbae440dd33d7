"""Hostile inputs and faults, driven through the CLI as a user would meet them.

Every case must end with one error line on stderr, an exit code other than 0, no traceback,
and no new file outside the output folder it names. Cases that need a server, two processes
or a full disk follow the table. docs/security.md says what each command guarantees.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.annotation.numbers import find_quantities

from .helpers import REPO, SEED_RAW, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


@dataclass(frozen=True)
class Case:
    """``setup(tmp)`` writes the hostile input and returns the CLI arguments."""

    name: str
    setup: Callable[[Path], list[str | Path]]
    says: str = ""  # a fragment the error line must contain
    report: bool = False  # the error is a line of a report on stdout (corpus validate)


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _gold_lines() -> list[str]:
    return (RELEASE / "annotations.jsonl").read_text(encoding="utf-8").splitlines()


def _agree(tmp: Path, lines: list[str]) -> list[str | Path]:
    good = _write(tmp / "a.jsonl", "\n".join(_gold_lines()) + "\n")
    bad = _write(tmp / "b.jsonl", "\n".join(lines) + "\n")
    return ["annotate", "agree", good, bad, "--release", RELEASE]


def _raw_with_sidecar(tmp: Path, sidecar: str | bytes | None, as_folder: bool = False) -> Path:
    raw = tmp / "raw"
    shutil.copytree(SEED_RAW, raw)
    meta = next(raw.glob("*.meta.yaml"))
    if as_folder:
        meta.unlink()
        meta.mkdir()
    elif sidecar is not None:
        _write(meta, sidecar)
    return raw


def _build(tmp: Path, raw: Path) -> list[str | Path]:
    return ["corpus", "build", "--version", "2.0.0", "--raw", raw, "--out", tmp / "out"]


def _task(tmp: Path, change: str) -> list[str | Path]:
    text = (REPO / "eval" / "tasks" / "claims.yaml").read_text(encoding="utf-8") + change
    task = _write(tmp / "claims.yaml", text)
    return ["eval", "check", RUN, "--task", task, "--release", RELEASE]


def _release_with_manifest(tmp: Path, manifest: str) -> Path:
    copy = tmp / "1.0.0"
    shutil.copytree(RELEASE, copy)
    _write(copy / "MANIFEST.json", manifest)
    return copy


def _manifest_edit(tmp: Path, replacement: str, count: int) -> Path:
    text = (RELEASE / "MANIFEST.json").read_text(encoding="utf-8")
    return _release_with_manifest(tmp, text.replace("{", replacement, count))


def _cut_manifest(tmp: Path, command: str) -> list[Path]:
    copy = _release_with_manifest(tmp, '{"files": [')
    return [RELEASE, copy] if command == "diff" else [copy]


def _linked(tmp: Path, name: str, target: str) -> Path:
    """A copy of the seed's raw folder with a symbolic link ``name`` → ``target``; two
    links naming each other when ``target`` is a bare name ending in .txt (a loop)."""
    raw = tmp / "raw"
    shutil.copytree(SEED_RAW, raw)
    (raw / name).symlink_to(target)
    if target.endswith(".txt") and target.startswith("l"):
        (raw / target).symlink_to(name)
    return raw


def _broken_export(tmp: Path, breaking: str) -> Path:
    out = tmp / "export"
    assert run_cli("hub", "export", RELEASE, "--out", out).returncode == 0
    parquet = out / "data" / "claims" / "test-00000-of-00001.parquet"
    if breaking == "parquet":
        parquet.write_bytes(parquet.read_bytes()[:100])
    elif breaking == "card":
        _write(out / "README.md", "---\nconfigs: [\n---\n")
    else:
        for path in out.rglob("*"):
            if path.is_file() and path.name != ".claimwire-export":
                path.unlink()
    return out


def _repeated(line: str) -> str:
    """A record line whose label is named twice (JSON readers disagree on which counts)."""
    return line.replace('"label":', '"label":"SOURCE","label":', 1)


def _repeated_run(tmp: Path) -> Path:
    lines = RUN.read_text(encoding="utf-8").splitlines()
    return _write(
        tmp / "run.jsonl", "\n".join([*lines[:3], _repeated(lines[3]), *lines[4:]]) + "\n"
    )


def _release_with_repeat(tmp: Path) -> Path:
    """A copy of the release whose third annotation names its label twice, with the
    MANIFEST's checksum of the file brought up to date (only the repeat is wrong)."""
    copy = tmp / "1.0.0"
    shutil.copytree(RELEASE, copy)
    lines = _gold_lines()
    data = ("\n".join([*lines[:2], _repeated(lines[2]), *lines[3:]]) + "\n").encode("utf-8")
    _write(copy / "annotations.jsonl", data)
    manifest = json.loads((copy / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest["files"]["annotations.jsonl"].update(
        sha256=hashlib.sha256(data).hexdigest(), bytes=len(data)
    )
    _write(copy / "MANIFEST.json", json.dumps(manifest, indent=2) + "\n")
    return copy


def _first_doc() -> str:
    return str(json.loads(_gold_lines()[0])["doc_id"])


def _pull_file(tmp: Path, export: object) -> list[str | Path]:
    source = _write(tmp / "export.json", json.dumps(export))
    return ["annotate", "pull", "--from-file", source, "--out", tmp / "out", "--release", RELEASE]


def _gold_yaml(tmp: Path, body: str) -> list[str | Path]:
    gold = _write(tmp / "gold" / "g.yaml", "source: release-fr.txt\nauthor: x\n" + body)
    return [
        "corpus",
        "build",
        "--version",
        "2.0.0",
        "--raw",
        SEED_RAW,
        "--out",
        tmp / "out",
        "--gold",
        gold.parent,
    ]


CASES = [
    # annotate agree: every set passes the format checker first
    Case(
        "agree: a duplicated line",
        lambda t: _agree(t, _gold_lines() + _gold_lines()[:1]),
        "duplicate",
    ),
    Case(
        "agree: an empty folder",
        lambda t: [
            "annotate",
            "agree",
            RELEASE,
            (t / "empty").mkdir() or t / "empty",
            "--release",
            RELEASE,
        ],
    ),
    # corpus inputs of the wrong type or encoding
    Case(
        "sidecar: not UTF-8",
        lambda t: _build(t, _raw_with_sidecar(t, b"title: \xe9t\xe9\n")),
        "UTF-8",
    ),
    Case(
        "sidecar: UTF-16",
        lambda t: _build(t, _raw_with_sidecar(t, "title: x\n".encode("utf-16"))),
        "UTF-8",
    ),
    Case("sidecar: a folder", lambda t: _build(t, _raw_with_sidecar(t, None, as_folder=True))),
    Case(
        "sidecar: nested 10,000 deep",
        lambda t: _build(t, _raw_with_sidecar(t, "title: " + "[" * 10000 + "]" * 10000)),
    ),
    Case(
        "sidecar: alias bomb",
        lambda t: _build(t, _raw_with_sidecar(t, "a: &a [x, x]\nb: &b [*a, *a]\ntitle: *b\n")),
        "aliases",
    ),
    # gold and task YAML with values of the wrong type
    Case(
        "raw: a NUL character in the text",
        lambda t: _build(t, _write(t / "raw" / "a.txt", "Bonjour\x00 le monde.\n").parent),
        "NUL",
    ),
    Case(
        "raw: a JSONL file with no line",
        lambda t: _build(t, _write(t / "raw" / "a.jsonl", "\n").parent),
        "no document",
    ),
    Case(
        "build: a version with non-ASCII digits",
        lambda t: [
            "corpus",
            "build",
            "--version",
            "1\u0662.0.0",
            "--raw",
            SEED_RAW,
            "--out",
            t / "out",
        ],
        "MAJOR.MINOR.PATCH",
    ),
    Case(
        "gold: occurrence is a boolean",
        lambda t: _gold_yaml(
            t,
            "annotations:\n  - {id: a, label: CLAIM, quote: le, occurrence: true}\n",
        ),
        "occurrence",
    ),
    Case(
        "sidecar: title is a list",
        lambda t: _build(t, _raw_with_sidecar(t, "title: [a, b]\n")),
        "title",
    ),
    Case(
        "sidecar: urls is a number",
        lambda t: _build(t, _raw_with_sidecar(t, "urls: 5\n")),
        "urls",
    ),
    Case(
        "jsonl: title is a number",
        lambda t: _build(
            t, _write(t / "raw" / "a.jsonl", '{"text": "Bonjour.", "title": 5}\n').parent
        ),
        "title",
    ),
    Case(
        "sidecar: title is a number",
        lambda t: _build(t, _raw_with_sidecar(t, "title: 5\n")),
        "title",
    ),
    Case(
        "jsonl: title is a list",
        lambda t: _build(
            t, _write(t / "raw" / "a.jsonl", '{"text": "Bonjour.", "title": ["a"]}\n').parent
        ),
        "title",
    ),
    Case(
        "gold: annotations is a number", lambda t: _gold_yaml(t, "annotations: 5\n"), "annotations"
    ),
    Case(
        "task: value_tolerance is text",
        lambda t: _task(t, "value_tolerance: abc\n"),
        "value_tolerance",
    ),
    Case("task: relations are not mappings", lambda t: _task(t, "relations: [abc]\n"), "relations"),
    # files and folders in the wrong place
    Case(
        "score --html is a folder",
        lambda t: [
            "eval",
            "score",
            RUN,
            "--task",
            "claims",
            "--release",
            RELEASE,
            "--html",
            (t / "dir").mkdir() or t / "dir",
        ],
    ),
    Case(
        "stats: malformed MANIFEST",
        lambda t: ["corpus", "stats", _release_with_manifest(t, "[1, 2]")],
    ),
    Case(
        "diff: MANIFEST without files",
        lambda t: ["corpus", "diff", RELEASE, _release_with_manifest(t, '{"version": "1.0.0"}')],
    ),
    Case(
        "hub load: a folder that is not an export",
        lambda t: ["hub", "load", _write(t / "x" / "a.csv", "a\n1\n").parent],
        "hub export",
    ),
    *(
        Case(
            f"hub load: an export with {what}",
            lambda t, b=breaking: ["hub", "load", _broken_export(t, b), "--config", "claims"],
            "cannot load",
        )
        for what, breaking in (
            ("a cut parquet file", "parquet"),
            ("a card whose YAML is broken", "card"),
            ("no data file", "empty"),
        )
    ),
    # absurd numbers
    # Label Studio exports of the wrong shape
    Case("pull: an object, not a list", lambda t: _pull_file(t, {"results": "nope"})),
    Case(
        "pull: annotations is a string",
        lambda t: _pull_file(t, [{"id": 1, "data": {"doc_id": "x"}, "annotations": "x"}]),
    ),
    Case("pull: a list of numbers", lambda t: _pull_file(t, [1, 2]), "task 1"),
    Case("pull: data is a number", lambda t: _pull_file(t, [{"id": 1, "data": 5}]), "data"),
    # symbolic links that would leave inputs out in silence
    Case("raw: a symbolic link loop", lambda t: _build(t, _linked(t, "l1.txt", "l2.txt")), "loops"),
    Case(
        "raw: a symbolic link to nothing",
        lambda t: _build(t, _linked(t, "gone.txt", "missing.txt")),
        "points to nothing",
    ),
    Case(
        "raw: a symbolic link to a folder outside",
        lambda t: _build(t, _linked(t, "more", str((t / "elsewhere").mkdir() or t / "elsewhere"))),
        "not followed",
    ),
    # a key named twice: readers disagree on which value counts
    Case(
        "duplicate key: a task's YAML",
        lambda t: _task(t, "primary: strict\nprimary: exact\n"),
        "appears twice",
    ),
    Case(
        "duplicate key: raw JSONL",
        lambda t: _build(
            t, _write(t / "raw" / "a.jsonl", '{"text": "Bonjour.", "text": "Adieu."}\n').parent
        ),
        "appears twice",
    ),
    Case(
        "duplicate key: MANIFEST (validate)",
        lambda t: ["corpus", "validate", _manifest_edit(t, '{\n  "version": "9.9.9",', 1)],
        "appears twice",
        report=True,
    ),
    Case(
        "duplicate key: MANIFEST (stats)",
        lambda t: ["corpus", "stats", _manifest_edit(t, '{\n  "version": "9.9.9",', 1)],
        "appears twice",
    ),
    Case(
        "duplicate key: Label Studio export",
        lambda t: [
            "annotate",
            "pull",
            "--from-file",
            _write(t / "e.json", '[{"id": 1, "id": 2, "data": {}, "annotations": []}]'),
            "--out",
            t / "out",
            "--release",
            RELEASE,
        ],
        "appears twice",
    ),
    # the same in record lines (the typed decoder would keep the last value in silence)
    Case(
        "duplicate key: eval score predictions",
        lambda t: ["eval", "score", _repeated_run(t), "--task", "claims", "--release", RELEASE],
        "run.jsonl:4: field 'label': key 'label' appears twice",
    ),
    Case(
        "duplicate key: eval check predictions",
        lambda t: ["eval", "check", _repeated_run(t), "--task", "claims", "--release", RELEASE],
        "run.jsonl:4: field 'label': key 'label' appears twice",
    ),
    Case(
        "duplicate key: annotate agree",
        lambda t: _agree(
            t, [_repeated(line) if i == 5 else line for i, line in enumerate(_gold_lines())]
        ),
        "b.jsonl:6: field 'label': key 'label' appears twice",
    ),
    *(
        Case(
            f"duplicate key: gold of a release ({' '.join(command)})",
            lambda t, c=command: [
                *c,
                _release_with_repeat(t),
                *(["--out", t / "out"] if c[0] == "hub" else []),
            ],
            "annotations.jsonl:3: field 'label': key 'label' appears twice",
        )
        for command in (("corpus", "validate"), ("corpus", "stats"), ("hub", "export"))
    ),
    # a MANIFEST cut short
    *(
        Case(
            f"{command}: MANIFEST cut short",
            lambda t, c=command: ["corpus", c, *_cut_manifest(t, c)],
            "MANIFEST.json",
            report=command == "validate",
        )
        for command in ("validate", "stats", "diff")
    ),
    # annotate agree on a set naming a document the release does not have
    Case(
        "agree: an unknown document",
        lambda t: _agree(t, [line.replace(_first_doc(), "no-such-doc") for line in _gold_lines()]),
        "no-such-doc",
    ),
    # names from data
    Case(
        "hub publish: repo id ../x",
        lambda t: ["hub", "publish", RELEASE, "--repo-id", "../x", "--dry-run"],
        "ORG/NAME",
    ),
    Case(
        "hub load: repo id ../../x",
        lambda t: ["hub", "load", "1.0.0", "--repo-id", "../../x"],
        "ORG/NAME",
    ),
]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_gives_one_line(case: Case, tmp_path: Path) -> None:
    args = case.setup(tmp_path)
    before = _files(tmp_path)
    repo_before = _files(REPO / "corpus")
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode not in (0, 2), (result.returncode, result.stderr)
    said = result.stdout if case.report else result.stderr
    if case.report:
        assert "Traceback" not in result.stderr + result.stdout
        assert len([line for line in said.splitlines() if "manifest-invalid" in line]) == 1
    else:
        assert one_error_line(said), said
    assert case.says.lower() in said.lower(), said
    out = tmp_path / "out"
    new = {p for p in _files(tmp_path) - before if out not in p.parents and p != out}
    assert not new, new
    assert _files(REPO / "corpus") == repo_before


# ---- faults: a full disk, two writers, a hostile server ------------------------------------


def _tmpfs_cli(mount: Path, size_kb: int, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``mount`` a tmpfs of ``size_kb`` (a private mount namespace)."""
    command = [sys.executable, "-m", "claimwire", *map(str, args)]
    script = f'mount -t tmpfs -o size={size_kb}k tmpfs "{mount}" && exec "$@"'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", *command],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    mount = tmp_path / "disk"
    mount.mkdir()
    probe = _tmpfs_cli(mount, 64, "--version")
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip(f"no private tmpfs here: {probe.stderr.strip()[:100]}")
    return mount


@pytest.mark.parametrize(
    "args",
    [
        ["corpus", "build", "--version", "0.1.0", "--raw", SEED_RAW, "--out", "{disk}/releases"],
        ["hub", "export", RELEASE, "--out", "{disk}/export"],
        [
            "eval",
            "score",
            RUN,
            "--task",
            "claims",
            "--release",
            REPO / "corpus" / "releases" / "1.1.0",
            "--html",
            "{disk}/report.html",
        ],
    ],
    ids=["build", "export", "score --html"],
)
def test_a_full_disk_is_one_line_and_leaves_nothing(small_disk: Path, args: list) -> None:  # type: ignore[type-arg]
    """24 KB hold no release and no export; 4 KB (one page) hold no HTML report."""
    filled = [str(a).format(disk=small_disk) for a in args]
    result = _tmpfs_cli(small_disk, 4 if "--html" in args else 24, *filled)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr) and "no space left" in result.stderr, result.stderr
    assert not list(small_disk.iterdir())  # the mount is private: this is the real folder


# ---- the number finder is linear on adversarial text (timings: benchmarks/bench_regex.py) --

_PIECES = st.sampled_from(
    [
        "1",
        ".000",
        ",5",
        "\u202f000",
        "a",
        "@",
        ".",
        "http://",
        " ",
        "deux",
        "-et-",
        "%",
        "M",
        "€",
        "www.",
    ]
)


@settings(max_examples=30, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=4), st.integers(1000, 8000))
def test_number_finder_on_long_adversarial_text(pieces: list[str], repeat: int) -> None:
    text = "".join(pieces) * repeat
    found = find_quantities(text)
    ends = [0]
    for quantity in found:
        assert 0 <= quantity.start < quantity.end <= len(text)
        assert text[quantity.start : quantity.end] == quantity.text
        assert quantity.start >= ends[-1]
        ends.append(quantity.end)


@pytest.mark.parametrize(("option", "value"), [("--bootstrap", "100000000"), ("--seed", "-1")])
def test_absurd_resampling_options_are_refused(option: str, value: str) -> None:
    result = run_cli("eval", "score", RUN, "--task", "claims", "--release", RELEASE, option, value)
    assert result.returncode == 2 and f"Invalid value for '{option}'" in result.stderr
    assert "Traceback" not in result.stderr
