"""Keys a record line names that its kind does not have.

The typed decoder skips such a key in silence (``"atributes"`` read as no attributes at
all); the fast path's proof sends its block to the strict reader, which calls
:func:`check_keys` on each line (in an open file, the fast path decodes the block again with
the key as one more field and calls :func:`warn_unknown`). Where the format is closed (a
release's own files, read one kind at a time) an unknown key is a located
:class:`~claimwire.errors.RecordError`; elsewhere (predictions, annotators' sets, which
other tools write and may give a ``score``) it is an :class:`UnknownKeyWarning`, once per
key and file, naming the line of its first occurrence and the nearest known key.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from functools import cache
from pathlib import Path
from typing import Any

from claimwire.errors import SHOWN_CHARS, RecordError


class UnknownKeyWarning(UserWarning):
    """A record line names a key its kind does not have; the key was ignored. Its ``args``
    are the message, then what :func:`warn_unknown` was given: a process that reads on
    another's behalf (an engine's worker) hands the warning back, to be warned about again
    where the user sees it (:func:`warn_again`), once per key and file of the whole run."""

    def __str__(self) -> str:
        return str(self.args[0])


_warned: dict[str, set[str]] = {}
"""The keys warned about in this process, by file."""
WARNED_KEYS = 20
"""Unknown keys warned about in one file: a file naming a new key on every line says so
once, not a line at a time."""


def unknown_keys(
    obj: Mapping[str, Any], fields: Sequence[str], nested: Mapping[str, Sequence[str]]
) -> list[tuple[str, Sequence[str]]]:
    """The unknown keys of ``obj`` (sorted; ``quote.x`` for a key of the object ``nested``
    names), each with the keys it could have been."""
    found: list[tuple[str, Sequence[str]]] = []
    if not obj.keys() <= _known(fields):
        found += [(key, fields) for key in sorted(obj.keys() - _known(fields))]
    for name, inner in nested.items():
        value = obj.get(name)
        if isinstance(value, dict) and not value.keys() <= _known(inner):
            known = [f"{name}.{key}" for key in inner]
            found += [(f"{name}.{key}", known) for key in sorted(value.keys() - _known(inner))]
    return found


@cache
def _known(fields: Sequence[str]) -> frozenset[str]:
    return frozenset(fields)


def check_keys(
    path: Path | str,
    lineno: int,
    obj: Mapping[str, Any],
    what: str,
    fields: Sequence[str],
    nested: Mapping[str, Sequence[str]],
    closed: bool,
    *,
    counted_as: str | None = None,
) -> None:
    """Refuse (``closed``: the first) or warn once per file about each unknown key of
    ``obj``, the object of ``path``'s line ``lineno``, a record of ``what`` (``an
    annotation``) with ``fields``; ``counted_as``: the file its warnings count for, when
    ``path`` names a part of it (one batch's answer of a program)."""
    for key, known in unknown_keys(obj, fields, nested):
        if closed:
            raise RecordError(
                f"unknown key{did_you_mean(key, known)}: {what} has only {', '.join(known)}",
                field=_shown(key),
            )
        warn_unknown(path, lineno, key, what, known, counted_as=counted_as)


def warn_unknown(
    path: Path | str,
    lineno: int,
    key: str,
    what: str,
    known: Sequence[str],
    *,
    counted_as: str | None = None,
) -> None:
    """Warn that line ``lineno`` of ``path`` names ``key``, which a record of ``what`` does
    not have (``known`` are its keys): once per key and file (``counted_as``, else
    ``path``), and no more than :data:`WARNED_KEYS` keys a file."""
    warned = _warned.setdefault(counted_as or str(path), set())
    if key in warned or len(warned) > WARNED_KEYS:
        return
    warned.add(key)
    message = (
        f"{path}:{lineno}: field '{_shown(key)}': unknown key, ignored{did_you_mean(key, known)}; "
        f"{what} has {', '.join(known)} (warned once for this key and file)"
    )
    if len(warned) > WARNED_KEYS:
        message = (
            f"{path}:{lineno}: more than {WARNED_KEYS} unknown keys in this file, ignored; "
            "no more are warned about"
        )
    warning = UnknownKeyWarning(message, str(path), lineno, key, what, tuple(known), counted_as)
    warnings.warn(warning, stacklevel=3)


def warn_again(warning: UnknownKeyWarning) -> None:
    """Warn in this process about what ``warning`` (raised in another) says, as
    :func:`warn_unknown` does: not again for a key and file already warned about."""
    path, lineno, key, what, known, counted_as = warning.args[1:]
    warn_unknown(path, lineno, key, what, known, counted_as=counted_as)


def did_you_mean(key: str, known: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` naming the known key nearest ``key``, or nothing."""
    close = get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown(key: str) -> str:
    return key if len(key) <= SHOWN_CHARS else f"{key[:SHOWN_CHARS]}…"
