"""JSON read strictly: an object that names a key twice is an error, not "last one wins".

RFC 8259 leaves duplicate names undefined, and readers disagree on which value counts, so a
file with ``{"label": "CLAIM", "label": "X"}`` means different things to different tools.
:func:`loads` is :func:`json.loads` refusing such objects (:class:`DuplicateKeyError`, a
``ValueError`` naming the key).

A typed decoder (msgspec) keeps the last value of a repeated key. :func:`quoted_strings` lets
its caller prove that a block had none: each JSON string, key or value, is written between two
unescaped quotes, so the block's unescaped quotes are twice the strings it holds. If that
equals twice the keys and string values the decoded records hold (the keys of a decoded object
are distinct), no key was named twice and none went unread; anything else (a repeated key, an
unknown key) sends the block to the strict reader, which decides and names the key.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any, TextIO

from claimwire.errors import shown


class DuplicateKeyError(ValueError):
    """An object names ``key`` more than once."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"key {shown(key)} appears twice in one object (expected each key once: "
            "readers disagree on which value counts)"
        )
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return obj


class NotStandardJSONError(ValueError):
    """Text Python's reader takes but JSON does not allow: ``NaN``, ``Infinity`` or half of
    a surrogate pair (other readers refuse it, and it cannot be written back as UTF-8)."""


class TooDeepError(ValueError):
    """Arrays or objects nested past the interpreter's recursion limit (about 1,000 deep),
    where Python's reader raises a ``RecursionError`` that names nothing."""

    def __init__(self) -> None:
        super().__init__(
            "arrays or objects nested too deeply to read (about 1,000 levels; a record needs a few)"
        )


def _no_constant(name: str) -> Any:
    raise NotStandardJSONError(f"{name} is not a JSON number (expected a number, or null)")


def _finite(text: str) -> float:
    """A JSON number with a fraction or an exponent, refused if no float holds it (Python's
    reader would make ``1e400`` infinity, which JSON cannot write back)."""
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 24 else f"{text[:20]}…"
        raise NotStandardJSONError(f"{shown} is too large for a number (expected a finite one)")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class StrictDecoder(json.JSONDecoder):
    """Python's JSON decoder refusing duplicate keys (:class:`DuplicateKeyError`), ``NaN``,
    ``Infinity`` and numbers no float holds (:class:`NotStandardJSONError`): the one set of
    hooks :func:`loads` and :func:`list_items` decode with."""

    def __init__(self) -> None:
        super().__init__(
            object_pairs_hook=_unique, parse_constant=_no_constant, parse_float=_finite
        )


def loads(text: str | bytes) -> Any:
    """:func:`json.loads` with :class:`StrictDecoder`, also refusing half of a surrogate
    pair (:class:`NotStandardJSONError`) and nesting too deep (:class:`TooDeepError`)."""
    try:
        obj = json.loads(text, cls=StrictDecoder)
        raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
        if _SURROGATE_ESCAPE.search(raw):  # a pair decodes to one character; half of one cannot
            try:
                json.dumps(obj, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise NotStandardJSONError(
                    "a \\u escape names half of a surrogate pair (expected a whole character)"
                ) from None
    except RecursionError:
        raise TooDeepError from None
    return obj


_DECODER = StrictDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")
_NUMBER_GOES_ON = re.compile(r"[0-9.eE+-]*")
"""What a number cut at the end of the text read so far may still be followed by."""
CHUNK = 1 << 20


class NotJSONError(ValueError):
    """Text that is not the JSON list :func:`list_items` reads, and where: ``line`` and
    ``column`` (from 1) of the fault in the whole text."""

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(f"{reason} (line {line} column {column})")
        self.reason, self.line, self.column = reason, line, column


class NotUTF8Error(NotJSONError):
    """A :class:`NotJSONError` for bytes that are not UTF-8, at about where the decoder met
    them (it reads ahead): the file's reader may find the exact byte again."""


def list_items(handle: TextIO, size: int = CHUNK) -> Iterator[Any]:
    """The items of the JSON list ``handle`` holds, read ``size`` characters at a time, each
    checked as :func:`loads` checks a text: a file of one list is never held whole. A fault
    in an item is :func:`loads`'s error; a fault of the list (not JSON, cut short, not
    UTF-8) a :class:`NotJSONError` naming its line and column in the whole text."""
    text, at, done = "", 0, False
    line, column = 1, 1  # where text[0] is in the whole text

    def more(grow: bool = False) -> None:
        """Read ``size`` characters more, or (``grow``: an item did not end in the text)
        as many as are left unparsed: a large item is parsed again a few times, not once
        per ``size`` characters."""
        nonlocal text, at, done, line, column
        try:
            chunk = handle.read(max(size, len(text) - at) if grow else size)
        except UnicodeDecodeError as error:
            reason = f"not UTF-8 ({error.reason}) past this point"
            raise NotUTF8Error(reason, *place(len(text))) from None
        line, column = place(at)
        done = not chunk
        text, at = text[at:] + chunk, 0

    def place(index: int) -> tuple[int, int]:
        """The line and column of ``text[index]`` in the whole text."""
        breaks = text.count("\n", 0, index)
        if not breaks:
            return line, column + index
        return line + breaks, index - text.rfind("\n", 0, index)

    def fault(reason: str, index: int) -> NotJSONError:
        return NotJSONError(reason, *place(index))

    def skip() -> str:
        """The next character that is not blank ("" at the end)."""
        nonlocal at
        while True:
            at = _BLANK.match(text, at).end()  # type: ignore[union-attr]
            if at < len(text) or done:
                return text[at : at + 1]
            more()

    if skip() != "[":
        raise fault("expected a JSON list", at)
    at += 1
    first = True
    while True:
        mark = skip()
        if mark == "]":
            at += 1
            if skip():
                raise fault("extra data after the list", at)
            return
        if not first:
            if mark != ",":
                raise fault("Expecting ',' delimiter", at)  # as Python's reader says
            at += 1
            skip()
        while True:
            try:
                item, end = _DECODER.raw_decode(text, at)
            except json.JSONDecodeError as error:
                if done:
                    raise fault(error.msg, error.pos) from None
                more(grow=True)
                continue
            except RecursionError:
                raise TooDeepError from None
            if done or not _NUMBER_GOES_ON.fullmatch(text, end):
                break
            more()  # a number may go on in the next characters ("-1." + "5", "2e" + "9")
        if _SURROGATE_ESCAPE.search(text, at, end):
            loads(text[at:end])
        at, first = end, False
        yield item


QUOTE, BACKSLASH = ord('"'), ord("\\")


def quoted_strings(data: bytes) -> int:
    """Twice the JSON strings (keys and values) of ``data``, if it is valid JSON: its quotes
    minus the escaped ones (after an odd run of backslashes). Counted with numpy, a few
    bytes a cycle: the bytes are compared, never walked one by one in Python."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = int(np.count_nonzero(raw == QUOTE))
    if b"\\" not in data:
        return quotes
    slashes = np.flatnonzero(raw == BACKSLASH)
    runs = np.ones(len(slashes), dtype=bool)  # where a run of backslashes starts
    runs[1:] = slashes[1:] != slashes[:-1] + 1
    first = np.flatnonzero(runs)
    last = np.append(first[1:], len(slashes)) - 1
    after = slashes[last] + 1  # the byte after each run
    quoted = after < len(raw)
    quoted[quoted] = raw[after[quoted]] == QUOTE
    odd = (last - first) % 2 == 0
    return quotes - int(np.count_nonzero(quoted & odd))
