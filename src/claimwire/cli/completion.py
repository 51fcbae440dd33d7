"""Shell completion of command and option names, answered before Typer is imported.

Completing ``claimwire eval s<TAB>`` or ``claimwire eval score --ta<TAB>`` only needs the
command tree's names (:mod:`claimwire.cli.commands`) and each command's options
(:mod:`claimwire.cli.options`, generated from the real commands), yet building the Typer
commands to answer it costs over half a second (Typer builds a pydantic adapter for every
parameter). This module answers those requests from the static tables, in the output of
Typer's completion classes for bash, zsh, fish and PowerShell; anything else (option values,
file names, a word after a command that is not a group, a help rich would wrap at the
console's width) goes to Typer as before.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping

from claimwire.cli.commands import COMMANDS, SUBCOMMANDS, Option
from claimwire.cli.options import OPTIONS

COMPLETE_VAR = "_CLAIMWIRE_COMPLETE"
WHITESPACE = re.compile(r"\s")
EMOJI = re.compile(r":\S*?:")  # what rich may take for an emoji code
WORD = re.compile(r"\s*\S+\s*")  # a word and the whitespace around it, as rich splits


def split_words(line: str) -> list[str]:
    """Shell words of a command line as click splits them (an unclosed quote ends a word)."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        words.extend(lexer)
    except ValueError:
        words.append(lexer.token)
    return words


def _request(shell: str, environ: Mapping[str, str]) -> tuple[list[str], str] | None:
    """The words before the cursor and the incomplete word, as each shell's script sends them."""
    if shell == "bash":
        words = split_words(environ.get("COMP_WORDS", ""))
        cword = environ.get("COMP_CWORD", "")
        if not cword.isdigit():
            return None
        return words[1 : int(cword)], words[int(cword)] if int(cword) < len(words) else ""
    line = environ.get("_TYPER_COMPLETE_ARGS", "")
    words = split_words(line)[1:]
    if shell in ("zsh", "fish"):
        if words and not line.endswith(" "):
            return words[:-1], words[-1]
        return words, ""
    if shell in ("powershell", "pwsh"):
        incomplete = environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        return (words[:-1] if incomplete else words), incomplete
    return None


def _candidates(args: list[str], incomplete: str) -> list[tuple[str, str]] | None:
    """``(name, help)`` of the (sub)commands that complete ``incomplete`` after ``args``, or
    None when the answer needs the real commands."""
    if incomplete and not incomplete[0].isalnum():
        return None  # an option: Typer lists them
    table: Mapping[str, str] = {name: text for name, (_, text) in COMMANDS.items()}
    tables: Mapping[str, Mapping[str, str]] = SUBCOMMANDS
    for word in args:
        if word not in table or word not in tables:
            return None  # an option, a value, or a command's own arguments
        table, tables = tables[word], {}
    return [(name, text) for name, text in table.items() if name.startswith(incomplete)]


def _parsed(args: list[str]) -> tuple[str, set[str]] | None:
    """The command path ``args`` reach and the options given to that command, parsed as
    click parses them while completing; None when that needs the real commands (an unknown
    word or option, ``--``, ``--opt=value``, an option with a callback…)."""
    path, given, rest = "", set[str](), list(args)
    while rest:
        word = rest.pop(0)
        options = OPTIONS.get(path)
        if options is None or word == "--":
            return None
        if len(word) > 1 and word.startswith("-"):
            option = next((o for o in options if word in o.names), None)
            if option is None or not option.plain:
                return None
            if option.takes_value:
                if not rest:
                    return None
                rest.pop(0)
            given.add(option.param)
        elif path in SUBCOMMANDS or path == "":
            if f"{path} {word}".strip() not in OPTIONS:
                return None
            path, given = f"{path} {word}".strip(), set()
    return path, given


def _option_candidates(args: list[str], incomplete: str) -> list[tuple[str, Option]] | None:
    """``(name, option)`` of the options that complete ``incomplete`` after ``args``, or None
    when the answer needs the real commands."""
    if not incomplete.startswith("-") or "=" in incomplete:
        return None
    parsed = _parsed(args)
    if parsed is None:
        return None
    path, given = parsed
    return [
        (name, option)
        for option in OPTIONS[path]
        if option.multiple or option.param not in given
        for name in (list(set(option.names)) if option.unordered else option.names)
        if name.startswith(incomplete)
    ]


def console_width() -> int:
    """The width rich gives Typer's console in this process, which wraps the helps it prints."""
    environ = os.environ
    for variable in ("TERMINAL_WIDTH", "COLUMNS"):
        if environ.get(variable, "").isdigit():
            return int(environ[variable])
    width = 0
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    if environ.get("TERM", "").lower() in ("dumb", "unknown"):
        width = min(width or 80, 80)
    return width or 80


def wrapped(text: str, width: int) -> str | None:
    """``text`` as rich prints it on a console ``width`` columns wide (``Text.wrap``: words
    wrapped, a word longer than a line folded, whitespace kept up to the edge), or None for
    a text whose wrapping this does not reproduce (outside printable ASCII, several lines)."""
    if all(len(line) <= width for line in text.split("\n")) and (
        text.isascii() or len(text) * 2 <= width
    ):
        return text
    if not (text.isascii() and text.isprintable()):
        return None
    breaks: list[int] = []
    offset = 0
    match = WORD.match(text)
    while match is not None:
        start, end = match.span()
        word = match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            pieces = [word[i : i + width] for i in range(0, len(word), width)]
            for piece in pieces:
                if start:
                    breaks.append(start)
                offset = len(piece)
                start += len(piece)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
        match = WORD.match(text, end)
    lines = []
    for begin, stop in zip([0, *breaks], [*breaks, len(text)], strict=True):
        line = text[begin:stop]
        if len(line) > width:
            line = line[: len(line) - min(len(line) - len(line.rstrip()), len(line) - width)]
        lines.append(line[:width])
    return "\n".join(lines)


def _zsh_escape(text: str) -> str:
    return (
        text.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


HELP_FIELD = {"zsh": "zsh", "fish": "fish", "powershell": "powershell", "pwsh": "powershell"}
"""The shell's rendering of the helps in :class:`claimwire.cli.commands.Option`."""


def _rendered(shell: str, text: str) -> str | None:
    """A command's help as Typer's completion class for ``shell`` hands it to rich (the
    caller keeps helps holding rich markup for Typer)."""
    if not text:
        return None
    if shell == "zsh":
        return _zsh_escape(text)
    return WHITESPACE.sub(" ", text) if shell == "fish" else text


def _format(
    shell: str, items: list[tuple[str, str | None]], environ: Mapping[str, str]
) -> str | int | None:
    """The text Typer's completion class for ``shell`` prints for these ``(name, help as
    rendered for the shell)`` (fish's ``is-args`` answers with an exit code); the helps are
    wrapped at the console's width as rich wraps them; None when a help's wrapping is not
    reproduced."""
    if shell == "bash":
        return "\n".join(name for name, _ in items)
    width = console_width()
    shown: list[tuple[str, str | None]] = []
    for name, text in items:
        shown_text = None if text is None else wrapped(text, width)
        if text is not None and shown_text is None:
            return None
        shown.append((name, shown_text))
    if shell == "zsh":
        if not shown:
            return "_files"
        listed = "\n".join(
            f'"{_zsh_escape(n)}":"{h}"' if h else f'"{_zsh_escape(n)}"' for n, h in shown
        )
        return f"_arguments '*: :(({listed}))'"
    if shell == "fish":
        action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return 0 if shown else 1
        if action == "get-args" and shown:
            return "\n".join(f"{n}\t{h}" if h else n for n, h in shown)
        return ""
    return "\n".join(f"{n}:::{h or ' '}" for n, h in shown)


def complete_names(environ: Mapping[str, str]) -> str | int | None:
    """The answer to a completion request for a command or option name (text to print, or
    an exit code), or None when Typer must answer (not a completion request, a value…)."""
    action, _, shell = environ.get(COMPLETE_VAR, "").partition("_")
    if action != "complete":
        return None
    request = _request(shell, environ)
    if request is None:
        return None
    options = _option_candidates(*request)
    if options is not None:
        field = HELP_FIELD.get(shell)
        return _format(
            shell, [(n, getattr(o, field) if field else None) for n, o in options], environ
        )
    items = _candidates(*request)
    if items is None or any(EMOJI.search(text) for _, text in items):
        return None  # emoji codes: rich's rendering decides what shows
    return _format(shell, [(n, _rendered(shell, h)) for n, h in items], environ)
