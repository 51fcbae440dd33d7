"""Shell completion of command and option names answers from static tables, exactly as Typer
would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from claimwire.cli.commands import COMMANDS, SUBCOMMANDS
from claimwire.cli.completion import COMPLETE_VAR, complete_names, split_words, wrapped
from claimwire.cli.option_table import TARGET, build, regenerate
from claimwire.cli.options import OPTIONS
from claimwire.cli.root import app

from .helpers import REPO

LINES = [
    "claimwire ",
    "claimwire e",
    "claimwire eval ",
    "claimwire eval s",
    "claimwire annotate p",
    "claimwire corpus ",
    "claimwire hub zz",
    "claimwire  hub   l",
    "claimwire 'ev",
]
FALLBACK = [  # answered by Typer: a command's own arguments, unknown words
    "claimwire --project . eval s",
    "claimwire run x",
    "claimwire nosuch s",
    "claimwire eval score ",
]


def _environ(shell: str, line: str, fish_action: str = "get-args") -> dict[str, str]:
    environ = {COMPLETE_VAR: f"complete_{shell}"}
    if shell == "bash":
        words = line.split()
        cword = len(words) if line.endswith(" ") else len(words) - 1
        environ |= {"COMP_WORDS": line, "COMP_CWORD": str(cword)}
    elif shell == "powershell":
        incomplete = "" if line.endswith(" ") else split_words(line)[-1]
        environ |= {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_WORD_TO_COMPLETE": incomplete}
    else:
        environ |= {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": fish_action}
    return environ


def _typer_answer(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[str, int]:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        app(prog_name="claimwire")
    return capsys.readouterr().out, int(exited.value.code or 0)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
@pytest.mark.parametrize("line", LINES)
def test_names_are_completed_as_typer_would(
    shell: str, line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Character for character, helps wrapped at the console's width as rich wraps them."""
    for width in ("80", "30"):
        monkeypatch.setenv("COLUMNS", width)
        environ = _environ(shell, line)
        answer = complete_names(environ)
        assert isinstance(answer, str)
        assert _typer_answer(environ, monkeypatch, capsys) == (answer + "\n", 0)


@pytest.mark.parametrize("line", ["claimwire e", "claimwire hub zz"])
def test_fish_asks_whether_there_are_arguments(
    line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = _environ("fish", line, fish_action="is-args")
    code = complete_names(environ)
    assert isinstance(code, int)
    assert _typer_answer(environ, monkeypatch, capsys) == ("", code)


@pytest.mark.parametrize("line", FALLBACK)
def test_other_requests_go_to_typer(line: str) -> None:
    assert complete_names(_environ("bash", line)) is None
    assert complete_names(_environ("zsh", line)) is None


def test_not_a_completion_request() -> None:
    assert complete_names({}) is None
    assert complete_names({COMPLETE_VAR: "source_bash"}) is None
    assert complete_names({COMPLETE_VAR: "complete_bash", "COMP_WORDS": "claimwire"}) is None


def test_the_tables_are_the_command_tree() -> None:
    """SUBCOMMANDS lists each group's commands, in order, with the short help click shows."""
    root = typer.main.get_command(app)
    context = root.make_context("claimwire", [], resilient_parsing=True)
    assert root.list_commands(context) == list(COMMANDS)
    tree = {}
    for name in COMMANDS:
        real = root.get_command(context, name).real  # type: ignore[union-attr]
        if isinstance(real, typer.core.TyperGroup):
            tree[name] = {
                sub: real.get_command(context, sub).get_short_help_str()  # type: ignore[union-attr]
                for sub in real.list_commands(context)
                if not real.get_command(context, sub).hidden  # type: ignore[union-attr]
            }
    assert tree == SUBCOMMANDS, f"paste into src/claimwire/cli/commands.py: {tree!r}"
    assert [list(v) for v in tree.values()] == [list(v) for v in SUBCOMMANDS.values()]


PREFIXES = ["-", "--", "--x", "-h"]
GIVEN = [  # options already on the line are left out (unless repeatable), as click does
    "claimwire --project . eval score x.jsonl --task claims --",
    "claimwire eval score a.jsonl b.jsonl --name a --n",
    "claimwire corpus build --version 1.0.0 --v",
    "claimwire eval score -f json -",
    "claimwire run rules --env A --env B --e",
    "claimwire eval -",
    "claimwire eval score x.jsonl -b --s",
    "claimwire corpus build --no-compress --c",
    "claimwire hub publish 1.0.0 --dry-run --private -",
]
OPTION_FALLBACK = [  # values, "--", unknown options, eager options: Typer answers
    "claimwire eval score --format ",
    "claimwire eval score --format=",
    "claimwire eval score -- --",
    "claimwire eval score --nosuch --",
    "claimwire eval score --task --",
    "claimwire --version --",
    "claimwire nosuch --",
]


def _lines(path: str, prefixes: list[str]) -> list[str]:
    return [" ".join(["claimwire", *path.split(), prefix]) for prefix in prefixes]


def _same_as_typer(
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shells: tuple[str, ...] = ("bash", "zsh", "fish", "powershell"),
) -> int:
    """Check the fast answer for ``line`` is Typer's, character for character, in every
    shell; the number of shells answered without Typer."""
    answered = 0
    for shell in shells:
        for action in ("get-args", "is-args") if shell == "fish" else ("get-args",):
            environ = _environ(shell, line, fish_action=action)
            answer = complete_names(environ)
            if answer is None:
                continue
            out, code = _typer_answer(environ, monkeypatch, capsys)
            if isinstance(answer, int):
                assert (out, code) == ("", answer), (shell, line)
            else:
                assert (out, code) == (answer + "\n", 0), (shell, line)
            answered += 1
    return answered


@pytest.mark.parametrize("path", list(OPTIONS))
def test_options_are_completed_as_typer_would(
    path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command's options, for each prefix and shell, helps included (rendered as rich
    renders them: "[default: …]" is taken for markup and dropped, as Typer prints it)."""
    monkeypatch.setenv("COLUMNS", "1000")  # rich wraps nothing
    for line in _lines(path, PREFIXES):
        assert _same_as_typer(line, monkeypatch, capsys) == 5, line


@pytest.mark.parametrize("line", GIVEN)
def test_options_given_are_left_out_as_typer_does(
    line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")
    assert _same_as_typer(line, monkeypatch, capsys) == 5


@pytest.mark.parametrize("width", ["80", "37", "12"])
def test_helps_are_wrapped_as_rich_wraps_them(
    width: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typer prints the helps through rich, which wraps them at the console's width (a
    newline inside a help; at 12 columns long words are folded): the same answer, for every
    command."""
    monkeypatch.setenv("COLUMNS", width)
    for path in OPTIONS:
        assert _same_as_typer(_lines(path, ["-"])[0], monkeypatch, capsys) == 5, path


def test_a_help_whose_wrapping_is_not_reproduced_goes_to_typer() -> None:
    assert wrapped("short", 10) == "short"
    assert wrapped("a\tb c d e f g h", 5) is None
    assert wrapped("é " * 10, 5) is None
    assert wrapped("é " * 10, 40) == "é " * 10


@pytest.mark.parametrize("line", OPTION_FALLBACK)
def test_option_values_and_odd_lines_go_to_typer(line: str) -> None:
    for shell in ("bash", "zsh", "fish", "powershell"):
        assert complete_names(_environ(shell, line)) is None


def test_the_option_table_is_the_commands() -> None:
    """cli/options.py is what the real commands define: a changed option or help fails here
    until ``python -m claimwire.cli.option_table`` regenerates it."""
    assert build() == OPTIONS, "run: python -m claimwire.cli.option_table"


def test_the_option_table_is_written_only_when_it_changed(tmp_path: Path) -> None:
    """Regenerating a current table leaves the file alone (not even its modification time);
    ``--check`` says a stale one is stale without writing; a regeneration restores it."""
    current = TARGET.read_text(encoding="utf-8")
    copy = tmp_path / "options.py"
    copy.write_text(current, encoding="utf-8")
    os.utime(copy, ns=(1, 1))
    assert not regenerate(copy)
    assert copy.stat().st_mtime_ns == 1
    stale = current.replace('"eval score"', '"eval scores"', 1)
    copy.write_text(stale, encoding="utf-8")
    assert regenerate(copy, check=True)
    assert copy.read_text(encoding="utf-8") == stale
    assert regenerate(copy)
    assert copy.read_text(encoding="utf-8") == current


def test_the_option_table_check_exits_0_when_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "claimwire.cli.option_table", "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_only_the_root_command_offers_to_install_completion(name: str) -> None:
    runner = CliRunner()
    assert "--install-completion" in runner.invoke(app, ["--help"]).output
    assert "--install-completion" not in runner.invoke(app, [name, "--help"]).output


@pytest.mark.parametrize("shell", ["zsh", "fish", "powershell"])
def test_bracketed_notes_are_kept(
    shell: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typer took "[env LABEL_STUDIO_URL]" and "[default: …]" for rich markup and dropped
    them ("Label Studio URL ."): the process's answer, Typer's and the fast one, keeps them."""
    environ = _environ(shell, "claimwire annotate push --u") | {"COLUMNS": "1000"}
    answer = subprocess.run(
        [sys.executable, "-m", "claimwire"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **environ, "PYTHONPATH": str(REPO / "src")},
    ).stdout
    assert "Label Studio URL [env LABEL_STUDIO_URL]." in answer
    monkeypatch.setenv("COLUMNS", "1000")
    assert _typer_answer(environ, monkeypatch, capsys) == (answer, 0)
    typer_only = _environ(shell, "claimwire annotate push --nosuch --u")  # Typer answers
    assert complete_names(typer_only) is None
    assert _typer_answer(typer_only, monkeypatch, capsys) == (answer, 0)
