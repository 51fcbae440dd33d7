"""`hub load FOLDER` reads only what `hub export` writes: a `convert` export carries the same
marker, and `datasets` failed on it with one obscure line ("BuilderConfig 'claims' not
found. Available: ['default']")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus/releases/1.1.0"


@pytest.fixture(scope="module")
def hub_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hub") / "export"
    assert run_cli("hub", "export", RELEASE, "--out", out).returncode == 0
    return out


def _refused(folder: Path, config: str) -> str:
    result = run_cli("hub", "load", folder, "--config", config)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"error: {folder}: " in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize("to", ["brat", "inception"])
def test_a_convert_export_is_not_loaded(tmp_path: Path, to: str) -> None:
    out = tmp_path / "export"
    run = REPO / "eval/runs/rules/predictions.jsonl"
    made = run_cli("convert", run, "--to", to, "--out", out, "--release", RELEASE)
    assert made.returncode == 0, made.stderr
    stderr = _refused(out, "claims")
    assert "not a `hub export` folder" in stderr and "README.md" in stderr, stderr
    assert "BuilderConfig" not in stderr


def test_a_hub_export_without_its_card_is_not_loaded(hub_export: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(hub_export, tmp_path / "export")
    (copy / "README.md").write_text("# a card without its YAML header\n", encoding="utf-8")
    assert "not a `hub export` folder" in _refused(copy, "claims")


def test_a_config_the_export_lacks_is_named(hub_export: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(hub_export, tmp_path / "export")
    shutil.rmtree(copy / "data" / "claims")
    stderr = _refused(copy, "claims")
    assert "cannot load config 'claims': data/claims/ holds no parquet file" in stderr, stderr


def test_a_hub_export_still_loads(hub_export: Path) -> None:
    result = run_cli("hub", "load", hub_export, "--config", "claims")
    assert result.returncode == 0, result.stderr
