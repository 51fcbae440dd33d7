"""Why a text an import gives is not its document's text in the release, in words a user can
act on.

A release's texts are NFC with LF line ends (:mod:`claimwire.corpus.normalize`). A tool that
saved the text another way (Windows line ends; macOS's NFD; a compatibility normalization)
gave offsets into that text, not the release's: the import is refused, and the first such
text of an import says how it differs and what to do; the others say so in short, pointing at
it. The causes are looked for only when a text differs (a normal import pays one comparison),
in time linear in the texts compared.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from claimwire.model import Document

COMPATIBILITY: tuple[Literal["NFKD", "NFKC"], ...] = ("NFKD", "NFKC")
"""Normalizations that replace characters (a no-break space by a space, a ligature by its
letters): the release's text cannot be had back from them."""
_FULL = {
    "CRLF": "with Windows line ends (CRLF) where the release has LF; restore LF line ends "
    "(offsets count the characters of the text they were made on)",
    "NFD": "in another Unicode normalization ({form}); the release's is NFC: normalize it "
    "(e.g. `unicodedata.normalize('NFC', text)`) and recount offsets",
    "NFKD": "in Unicode's compatibility normalization {form}, which replaced characters the "
    "release keeps (a no-break space, a ligature…); take the release's text again (e.g. "
    "`claimwire convert RELEASE --to doccano`) and recount offsets",
}
_SHORT = {"CRLF": "with Windows line ends (CRLF)", "NFD": "in {form}", "NFKD": "in {form}"}


def recoding(given: str, text: str) -> tuple[str, str] | None:
    """``(cause, form)`` when ``given`` is ``text`` saved another way: ``("CRLF", "CRLF")``,
    ``("NFD", "NFD")`` (or, decomposed in part, ``"a decomposed form"``), ``("NFKD", "NFKC")``
    or ``("NFKD", "NFKD")``; else None."""
    if "\r" in given and given.replace("\r\n", "\n") == text:
        return "CRLF", "CRLF"
    if not unicodedata.is_normalized("NFC", given) and unicodedata.normalize("NFC", given) == text:
        return "NFD", "NFD" if unicodedata.is_normalized("NFD", given) else "a decomposed form"
    if 2 * len(given) >= len(text):  # normalizing at most halves a text: `text` costs ≤ 2 `given`
        for form in COMPATIBILITY:
            if (
                unicodedata.is_normalized(form, given)
                and unicodedata.normalize(form, text) == given
            ):
                return "NFKD", form
    return None


def release_form(text: str) -> str:
    """``text`` with LF line ends and in NFC, as a release's texts are (itself when it is)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


class TextCheck:
    """One import's comparison of the texts it gives with the release's: each way a text was
    saved differently is told in full once, then in short naming where it was told."""

    def __init__(self) -> None:
        self._told: dict[tuple[str, str], str] = {}

    def problem(self, where: str, given: object, document: Document) -> str | None:
        """None when ``given`` is ``document``'s text; else why not (``where``: the place the
        problem is reported at, named by later texts that differ the same way)."""
        if given == document.text:
            return None
        found = recoding(given, document.text) if isinstance(given, str) else None
        if found is None:
            return f"not the text of document {document.id} in the release"
        cause, form = found
        told = self._told.setdefault(found, where)
        if told == where:
            return f"the text of document {document.id} {_FULL[cause].format(form=form)}"
        return f"the text of document {document.id} {_SHORT[cause].format(form=form)}, as {told}"
