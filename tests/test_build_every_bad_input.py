"""``corpus build`` names every raw input it cannot read in one run (the first 20, then how
many more), and writes nothing; a single bad input is its own error line as before."""

from __future__ import annotations

from pathlib import Path

from .helpers import make_project, one_error_line, run_cli

GOOD = "Release\n\nAcme said sales rose 4% in 2024.\n"


def _raw(tmp_path: Path) -> tuple[Path, Path]:
    root = make_project(tmp_path / "proj")
    raw = root / "corpus" / "raw"
    raw.mkdir(parents=True)
    (raw / "good.txt").write_text(GOOD, encoding="utf-8")
    return root, raw


def test_every_bad_raw_input_is_named_in_one_run_and_nothing_is_written(tmp_path: Path) -> None:
    root, raw = _raw(tmp_path)
    (raw / "empty.txt").write_bytes(b"")
    (raw / "whitespace.txt").write_bytes(b"  \n\t\n")
    (raw / "latin1.txt").write_bytes("Communiqué de presse sur les ventes.".encode("latin-1"))
    (raw / "nul.txt").write_text("Release\n\nAcme said\x00 sales rose.\n", encoding="utf-8")
    (raw / "utf16.txt").write_bytes(GOOD.encode("utf-16"))
    (raw / "lines.jsonl").write_text(
        '{"text": "Acme said sales rose 5% in 2024."}\n{"text": ""}\n', encoding="utf-8"
    )
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: corpus/raw: 6 raw inputs cannot be read (each named above); nothing was written"
    )
    named = result.stderr.strip().splitlines()[:-1]
    for name in ("empty.txt", "whitespace.txt", "latin1.txt", "nul.txt", "utf16.txt"):
        assert any(line.startswith(f"corpus/raw/{name}:") for line in named), name
    assert "corpus/raw/lines.jsonl:2: field 'text': expected a non-empty string" in result.stderr
    assert "good.txt" not in result.stderr
    assert not (root / "corpus" / "releases").exists()


def test_past_twenty_bad_inputs_the_rest_are_counted(tmp_path: Path) -> None:
    root, raw = _raw(tmp_path)
    for i in range(23):
        (raw / f"empty-{i:02}.txt").write_bytes(b"")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: corpus/raw: 23 raw inputs cannot be read")
    named = [line for line in lines if line.startswith("corpus/raw/empty-")]
    assert len(named) == 20 and lines[-2] == "… and 3 more"
    assert not (root / "corpus" / "releases").exists()


def test_one_bad_input_is_its_own_error_line(tmp_path: Path) -> None:
    root, raw = _raw(tmp_path)
    (raw / "empty.txt").write_bytes(b"")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: corpus/raw/empty.txt: no text found in this input"
    ]
