"""Systems scored together are told apart by name in every output: where two prediction files
give one name, each is named by the shortest end of its path that tells it apart."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from claimwire.errors import ClaimwireError
from claimwire.eval.compare import score_systems
from claimwire.eval.evaluate import Evaluation

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
EXAMPLE = REPO / "eval" / "runs" / "example" / "claims.jsonl"


def _files(root: Path, *names: str) -> list[Path]:
    import zstandard

    data = EXAMPLE.read_bytes()
    paths = []
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(data))
        elif name.endswith(".zst"):
            path.write_bytes(zstandard.ZstdCompressor().compress(data))
        else:
            path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return Evaluation.open(RELEASE, "claims", resamples=10)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            ("sys.jsonl", "sys.jsonl.gz", "sys.jsonl.zst"),
            ["sys.jsonl", "sys.jsonl.gz", "sys.jsonl.zst"],
        ),
        (("a/sys.jsonl", "b/sys.jsonl", "a/sys#2.jsonl"), ["a/sys", "b/sys", "sys#2"]),
        (("a/sys.jsonl", "b/sys.jsonl", "sys.jsonl.gz"), ["a/sys", "b/sys", "sys.jsonl.gz"]),
        (
            ("x/rules/predictions.jsonl", "y/rules/predictions.jsonl", "rules.jsonl"),
            ["x/rules", "y/rules", "rules.jsonl"],
        ),
        (("a/solo.jsonl", "b/other.jsonl"), ["solo", "other"]),
    ],
)
def test_every_output_names_each_system_once(
    tmp_path: Path, evaluation: Evaluation, files: tuple[str, ...], expected: list[str]
) -> None:
    comparison = score_systems(evaluation, _files(tmp_path, *files), trials=10)
    shown = comparison.to_json()["systems"]
    assert [s["system"] for s in shown] == expected
    assert [row.split(",")[0] for row in comparison.to_csv().splitlines()[1:]] == expected
    assert all(s["significance"]["baseline"] == expected[0] for s in shown[1:])


def test_one_file_given_twice_gets_two_names(tmp_path: Path, evaluation: Evaluation) -> None:
    (path,) = _files(tmp_path, "sys.jsonl")
    comparison = score_systems(evaluation, [path, path, path], trials=10)
    names = [r.system for r in comparison.results]
    assert len(set(names)) == 3 and names[0].endswith("sys.jsonl"), names


def test_a_name_given_twice_is_refused(tmp_path: Path, evaluation: Evaluation) -> None:
    paths = _files(tmp_path, "a.jsonl", "b.jsonl")
    with pytest.raises(ClaimwireError, match="--name 'x' is given twice"):
        score_systems(evaluation, paths, names=["x", "x"], trials=10)


def test_the_command_prints_each_system_under_its_own_name(tmp_path: Path) -> None:
    paths = _files(tmp_path, "sys.jsonl", "sys.jsonl.gz", "sys.jsonl.zst")
    args = ("eval", "score", *paths, "--task", "claims", "--release", RELEASE)
    shown = run_cli(*args, "--bootstrap", "10", "--trials", "10", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    names = [s["system"] for s in json.loads(shown.stdout)["systems"]]
    assert names == ["sys.jsonl", "sys.jsonl.gz", "sys.jsonl.zst"]
    text = run_cli(*args, "--bootstrap", "10", "--trials", "10")
    assert text.returncode == 0, text.stderr
    assert "sys#2" not in text.stdout and "sys.jsonl.zst" in text.stdout
