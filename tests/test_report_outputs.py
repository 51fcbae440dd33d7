"""A report rewritten on each run (``eval score --html``, ``benchmark --leaderboard /
--html``) replaces only a report claimwire wrote, or any file with ``--force``; two outputs of
one command are never one file."""

from __future__ import annotations

from pathlib import Path

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
SCORE = ("eval", "score", RUN, "--task", "claims", "--release", RELEASE, "--bootstrap", "10")


def test_eval_score_html_keeps_a_users_file_unless_forced(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep\n", encoding="utf-8")
    refused = run_cli(*SCORE, "--html", notes, cwd=tmp_path)
    assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
    assert "--html already exists and is not an HTML report claimwire wrote" in refused.stderr
    assert "notes.txt" in refused.stderr and "--force" in refused.stderr
    assert notes.read_text(encoding="utf-8") == "keep\n"
    forced = run_cli(*SCORE, "--html", notes, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert notes.read_text(encoding="utf-8").startswith("<!doctype html>")
    again = run_cli(*SCORE, "--html", notes, cwd=tmp_path)  # its own report: rewritten
    assert again.returncode == 0, again.stderr


def test_benchmark_refuses_one_file_for_both_outputs(tmp_path: Path) -> None:
    thesis = tmp_path / "thesis.tex"
    args = ("benchmark", "--release", RELEASE, "--runs", tmp_path / "runs", "--system", "rules")
    same = run_cli(*args, "--html", thesis, "--leaderboard", thesis, cwd=tmp_path)
    assert same.returncode == 1 and one_error_line(same.stderr), same.stderr
    assert "--leaderboard and --html are the same file" in same.stderr
    link = tmp_path / "link.md"
    link.symlink_to(thesis)
    linked = run_cli(*args, "--html", link, "--leaderboard", thesis, cwd=tmp_path)
    assert linked.returncode == 1 and "are the same file" in linked.stderr, linked.stderr
    assert not (tmp_path / "runs").exists() and not thesis.exists()


def test_benchmark_keeps_a_users_files_unless_forced(tmp_path: Path) -> None:
    thesis = tmp_path / "thesis.tex"
    thesis.write_text("\\chapter{Results}\n", encoding="utf-8")
    args = ("benchmark", "--release", RELEASE, "--runs", tmp_path / "runs", "--system", "rules")
    for option, what in (("--leaderboard", "a leaderboard"), ("--html", "an HTML report")):
        other = "--html" if option == "--leaderboard" else "--leaderboard"
        refused = run_cli(*args, option, thesis, other, tmp_path / "other", cwd=tmp_path)
        assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
        assert f"{option} already exists and is not {what} claimwire wrote" in refused.stderr
        assert thesis.read_text(encoding="utf-8") == "\\chapter{Results}\n"
    assert not (tmp_path / "runs").exists()
