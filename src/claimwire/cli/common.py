"""What every command shares: consoles, error reports, progress bars, JSON output."""

from __future__ import annotations

import errno
import json
import os
import re
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from claimwire.errors import ClaimwireError
from claimwire.project import SEMVER, Project, current_project
from claimwire.storage import as_given, fetch, fetch_parent, is_uri

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (escape sequences that retitle the
    window or clear the screen, bidi overrides) shown as ``\\xNN`` instead of obeyed."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class _Console(Console):
    """A console that shows control characters from data instead of obeying them: every
    string it prints (tables' cells included) goes through :func:`printable`."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(printable(text), **options)


console = _Console(emoji=False)  # ":100:" in "p.jsonl:100:" is no emoji code
err_console = _Console(stderr=True, emoji=False)
if not console.is_terminal and "COLUMNS" not in os.environ:
    console.width = 120  # logs and pipes get whole tables, not 80-column ones


def report_error(error: ClaimwireError) -> None:
    """One line on stderr: ``error: FILE:LINE: field 'F': what was expected``, after the
    error's details, one a line."""
    for detail in error.details:
        text = printable(as_given(detail)).replace("\n", " ")
        err_console.print(escape(text), highlight=False, soft_wrap=True)
    message = printable(as_given(str(error))).replace("\n", " ")
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def report_warning(message: str) -> None:
    """One line on stderr: ``warning: FILE:LINE: field 'F': what was found``."""
    text = printable(as_given(message)).replace("\n", " ")
    err_console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True)


def show_warnings() -> None:
    """Print claimwire's warnings (its own classes: :class:`UnknownKeyWarning`, a written
    output's :class:`~claimwire.files.HardLinkWarning`) as :func:`report_warning` lines;
    others as Python shows them."""
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *where: Any, **more: Any) -> None:
        if category.__module__.startswith("claimwire."):
            report_warning(str(message))
        else:
            shown(message, category, *where, **more)

    warnings.showwarning = show


def user_error(exception: BaseException) -> ClaimwireError | None:
    """The failures a user causes or meets (a full disk, a file they may not write, a folder
    where a file was expected…) as a located one-line error; None for a real bug."""
    if isinstance(exception, ClaimwireError):
        return exception
    if isinstance(exception, OSError):
        where = exception.filename
        reason = exception.strerror or str(exception) or type(exception).__name__
        if exception.errno == errno.ENOSPC:
            from claimwire.spool import temporary_files

            there = (
                "free space there or set TMPDIR to a folder on a larger disk"
                if where == str(temporary_files())
                else "free space and rerun"
            )
            reason = f"no space left on the device; nothing was half-written, {there}"
        elif exception.errno == errno.EMFILE:
            reason = too_many_open_files()
        return ClaimwireError(reason, file=where)
    if isinstance(exception, UnicodeError):
        return ClaimwireError(f"a file is not valid UTF-8 ({exception})")
    if isinstance(exception, RecursionError):
        return ClaimwireError("an input is nested too deeply to read")
    if isinstance(exception, MemoryError):
        return ClaimwireError("out of memory: an input is far larger than expected")
    return None


def too_many_open_files() -> str:
    """What to do when the process may not open one more file."""
    try:
        import resource

        limit = f" (the limit is {resource.getrlimit(resource.RLIMIT_NOFILE)[0]:,})"
    except ImportError:
        limit = ""
    return (
        f"too many files open at once{limit}: a release is read with one open file a shard;"
        " raise the limit (`ulimit -Hn` as the system allows) or build the release with"
        " larger shards (`corpus build --shard-records`)"
    )


def print_json(data: Any) -> None:
    """Machine-readable output on stdout (never mixed with progress or colour): the text of
    ``json.dumps(data, ensure_ascii=False, indent=2)``, written as it is made, so a list that
    grows with the corpus (a :class:`claimwire.spool.Spool`) is never held as one string."""
    pending: list[str] = []
    size = 0
    for chunk in json_chunks(data):
        pending.append(chunk)
        size += len(chunk)
        if size >= _WRITE:
            sys.stdout.write("".join(pending))
            pending, size = [], 0
    sys.stdout.write("".join(pending) + "\n")
    sys.stdout.flush()


_WRITE = 1 << 16
"""Characters of JSON gathered before each write."""


def json_chunks(value: Any, level: int = 0) -> Iterator[str]:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` in pieces: objects and arrays
    (lists, tuples, and other sequences such as spools) an item at a time."""
    inner = "\n" + "  " * (level + 1)
    if isinstance(value, Mapping):  # a lazy one's items are made as they are written
        if not value:
            yield "{}"
            return
        for number, (key, item) in enumerate(value.items()):
            yield ("{" if number == 0 else ",") + inner + _key(key) + ": "
            yield from json_chunks(item, level + 1)
        yield "\n" + "  " * level + "}"
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        if not len(value):
            yield "[]"
            return
        for number, item in enumerate(value):
            yield ("[" if number == 0 else ",") + inner
            yield from json_chunks(item, level + 1)
        yield "\n" + "  " * level + "]"
    else:
        yield json.dumps(value, ensure_ascii=False)


def _key(key: Any) -> str:
    """An object's key as ``json.dumps`` writes it (numbers, booleans and null as strings)."""
    if isinstance(key, str):
        return json.dumps(key, ensure_ascii=False)
    text = json.dumps({key: 0}, ensure_ascii=False)
    return text[1 : text.rindex(":")]


def progress_bar() -> Progress:
    """A progress bar on stderr that disappears when done."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def project() -> Project:
    """The project the command runs in (``--project``, else found from the cwd)."""
    return current_project()


def version_or_path(given: str | Path) -> Path:
    """``given`` as a path: a version X.Y.Z that is no path names the project's release."""
    path = Path(given)
    if not path.exists() and SEMVER.fullmatch(str(given)):
        return current_project().releases / str(given)
    return path


def chosen_release(given: str | Path | None, *, with_parent: bool = False) -> Path:
    """The release a command works on: the one given (a folder, a URI such as
    ``s3://bucket/releases/1.0.0`` read into a local copy — ``with_parent``: with its parent
    release beside it, for validation —, or a version X.Y.Z of the project), else the
    project's newest. Says which on stderr."""
    if given is None:
        release = current_project().newest_release()
    elif is_uri(given):
        release = fetch(str(given))
        if with_parent:
            fetch_parent(str(given), release)
    else:
        release = version_or_path(given)
    where = as_given(str(release))
    err_console.print(f"release {escape(release.name)} ({escape(where)})", style="dim")
    return release
