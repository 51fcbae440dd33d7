"""User-facing errors: every one names where the problem is and what was expected."""

from __future__ import annotations

from pathlib import Path


class ClaimwireError(Exception):
    """An error caused by the user's input or request, reported without a traceback."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        """Lines shown before the error, one a line (e.g. the first problems of many)."""
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field

    def located(self, *, file: str | Path | None = None, line: int | None = None) -> ClaimwireError:
        """Return this error with a file and line filled in where they are still unknown."""
        if self.file is None and file is not None:
            self.file = str(file)
        if self.line is None and line is not None:
            self.line = line
        return self

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        field = f"field '{self.field}': " if self.field else ""
        return f"{where}{field}{self.message}"


class RecordError(ClaimwireError):
    """A JSON record that does not have the expected shape."""


SHOWN_CHARS = 60
"""How much of a value a message quotes."""


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long it was: a message never
    echoes a huge value in full."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}…{size}"
