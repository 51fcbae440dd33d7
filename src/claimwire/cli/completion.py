"""Shell completion of command names, answered before Typer is imported.

Completing ``claimwire ev<TAB>`` or ``claimwire eval s<TAB>`` only needs the command tree's
names (:mod:`claimwire.cli.commands`), yet building the Typer commands to answer it costs
half a second (Typer builds a pydantic adapter for every parameter). This module answers
those requests from the static tables, in the output format of Typer's completion classes
for bash, zsh, fish and PowerShell; anything else (options, option values, file names, a
word after a command that is not a group) goes to Typer as before.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from claimwire.cli.commands import COMMANDS, SUBCOMMANDS

COMPLETE_VAR = "_CLAIMWIRE_COMPLETE"
WHITESPACE = re.compile(r"\s")


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


def _zsh_escape(text: str) -> str:
    return (
        text.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def _format(shell: str, items: list[tuple[str, str]], environ: Mapping[str, str]) -> str | int:
    """The text Typer's completion class for ``shell`` prints (fish's ``is-args`` answers
    with an exit code)."""
    if shell == "bash":
        return "\n".join(name for name, _ in items)
    if shell == "zsh":
        if not items:
            return "_files"
        listed = "\n".join(f'"{_zsh_escape(n)}":"{_zsh_escape(h)}"' for n, h in items)
        return f"_arguments '*: :(({listed}))'"
    if shell == "fish":
        action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return 0 if items else 1
        if action == "get-args" and items:
            return "\n".join(f"{n}\t{WHITESPACE.sub(' ', h)}" for n, h in items)
        return ""
    return "\n".join(f"{n}:::{h or ' '}" for n, h in items)


def complete_names(environ: Mapping[str, str]) -> str | int | None:
    """The answer to a completion request for a command name (text to print, or an exit
    code), or None when Typer must answer (not a completion request, an option, a value…)."""
    action, _, shell = environ.get(COMPLETE_VAR, "").partition("_")
    if action != "complete":
        return None
    request = _request(shell, environ)
    if request is None:
        return None
    items = _candidates(*request)
    if items is None or any("[" in text for _, text in items):
        return None  # bracketed help: Typer's rich rendering decides what shows
    return _format(shell, items, environ)
