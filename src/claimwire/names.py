"""Names built from data (annotators' e-mails, layer names, repository ids) made safe.

Data never becomes a path: :func:`safe_name` turns any string into one file name (unique per
input), :func:`child` refuses a name that would leave the folder it is joined to, and
:func:`check_repo_id` accepts only the Hub's ``ORG/NAME`` grammar. An author's name (an
annotator's, ``convert --author``) goes into every record's ``author`` and ``id`` and into
what is printed: :func:`author_name` caps it and keeps it on one visible line.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path

from claimwire.errors import ClaimwireError

_KEEP = re.compile(r"[^A-Za-z0-9._@+-]")
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")
_MAX = 120
AUTHOR_MAX = _MAX
"""Characters of an author's name, as of a file name made of it (an e-mail may have 254): a
longer name keeps its first 109 and a digest of the whole."""
_UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Unicode categories an author's name may not hold: control characters (line breaks, tabs,
terminal escapes), format characters (direction overrides, zero-width), line and paragraph
separators, lone surrogates."""
# The Hub's grammar: ORG/NAME, letters, digits, '-', '_', '.', no '--' or '..', ≤ 96 each.
_REPO_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


def safe_name(text: str, reserved: Collection[str] = ()) -> str:
    """A file name (no folder part, no leading dot) standing for ``text``; distinct inputs
    give distinct names: when anything had to be replaced, or ``text`` is one of ``reserved``
    (names the caller's own files take), a digest of the input is appended."""
    normal = unicodedata.normalize("NFKC", text)
    cleaned = _KEEP.sub("_", normal).replace("..", "_").lstrip("._-+@")[:_MAX] or "unnamed"
    if cleaned == text and _PLAIN.fullmatch(cleaned) and cleaned not in reserved:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned}-{digest}"


def folded(name: str) -> str:
    """``name`` as a case-insensitive file system compares it (macOS, Windows): ``Alice`` and
    ``alice``, a composed and a decomposed ``é``, are one file there."""
    return unicodedata.normalize("NFC", name).casefold()


class FileNames:
    """One folder's file names made of data (:func:`safe_name`), distinct also where names
    are compared in any case and Unicode form: the first text (in the caller's order) keeps
    its plain name, a later one whose name folds to a name already given (``alice@x.org``
    after ``Alice@x.org``), or to one of ``reserved`` (the caller's own files), gets a
    digest of its text appended."""

    def __init__(self, reserved: Collection[str] = ()) -> None:
        self.reserved = set(reserved)
        self.given = {folded(name) for name in reserved}

    def __call__(self, text: str) -> str:
        name = safe_name(text, self.reserved)
        if folded(name) in self.given:
            name = safe_name(text, {*self.reserved, name})  # its digest appended
        plain, number = name, 2
        while folded(name) in self.given:  # two digests alike in every case: never seen
            name, number = f"{plain}-{number}", number + 1
        self.given.add(folded(name))
        return name


def author_name(text: str) -> str:
    """``text`` as an author's name: itself when it has at most :data:`AUTHOR_MAX` characters
    and none of the :data:`_UNSEEN` categories; else each of those as ``_``, cut to 109
    characters, and ``-`` with a digest of the whole appended (distinct names stay distinct)."""
    seen = "".join("_" if unicodedata.category(c) in _UNSEEN else c for c in text)
    if seen == text and len(text) <= AUTHOR_MAX:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{seen[: AUTHOR_MAX - len(digest) - 1]}-{digest}"


def author_problem(text: str) -> str | None:
    """What is expected of an author's name the user wrote (an option, a gold file), when
    ``text`` is blank or not a name :func:`author_name` keeps as it is; None when it is."""
    if text.strip() and author_name(text) == text:
        return None
    shown = repr(text[:40]) + ("…" if len(text) > 40 else "")
    return (
        f"expected a name of 1 to {AUTHOR_MAX} characters, with no control or format "
        f"character (line break, tab, escape, direction override), got {shown} "
        f"({len(text)} characters)"
    )


def check_author(text: str, option: str) -> str:
    """``text``, given as ``option``, if :func:`author_problem` finds nothing; a one-line
    error saying what is expected otherwise."""
    problem = author_problem(text)
    if problem is not None:
        raise ClaimwireError(problem, field=option)
    return text


def child(folder: Path, name: str, *, what: str = "name") -> Path:
    """``folder / name`` after checking ``name`` is one plain file name that stays inside."""
    if not _PLAIN.fullmatch(name) or ".." in name:
        raise ClaimwireError(
            f"{what} {name!r} cannot be a file name: expected letters, digits and . _ @ + - "
            "(starting with a letter or digit)"
        )
    path = folder / name
    root = os.path.realpath(folder)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise ClaimwireError(f"{what} {name!r} would be written outside {folder}")
    return path


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` if it is a Hub dataset id ``ORG/NAME``; a clear error otherwise."""
    parts = repo_id.split("/")
    if (
        len(parts) != 2
        or not all(_REPO_PART.fullmatch(part) for part in parts)
        or ".." in repo_id
        or "--" in repo_id
        or repo_id.endswith(".git")
    ):
        raise ClaimwireError(
            f"--repo-id must be a Hub id ORG/NAME (letters, digits, '-', '_', '.'; no '..' or "
            f"'--'), got {repo_id!r}"
        )
    return repo_id
