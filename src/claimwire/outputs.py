"""The rule every command's output path follows, checked before any work is done.

An output is never inside a release (a folder holding ``MANIFEST.json``, or any folder below
one: releases are immutable), never one of the command's own inputs, and never an existing
file or folder replaced without ``--force`` where the command has one; ``--force`` never
replaces a folder holding a release, a project or a repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from claimwire.corpus.release import MANIFEST
from claimwire.errors import ClaimwireError
from claimwire.storage import is_uri, refuse_remote_out

# what ``--force`` never replaces: a release, a project, a repository
PROTECTED = (MANIFEST, "claimwire.toml", ".git")


def release_holding(path: Path) -> Path | None:
    """The release folder that ``path`` (resolved through symbolic links) is, or is inside."""
    resolved = Path(os.path.realpath(path))
    return next((f for f in (resolved, *resolved.parents) if (f / MANIFEST).is_file()), None)


def check_not_in_release(path: Path, option: str = "--out") -> None:
    """Refuse an output inside (or being) a release folder."""
    inside = release_holding(path)
    if inside is not None:
        raise ClaimwireError(
            f"{option} is inside the release {inside}: releases are never written into; "
            "choose a path outside it",
            file=path,
        )


def check_not_an_input(path: Path, inputs: Iterable[str | Path], option: str = "--out") -> None:
    """Refuse an output that is one of the command's inputs (the same file, by inode)."""
    for given in inputs:
        if is_uri(given):
            continue
        try:
            same = os.path.samefile(path, given)
        except OSError:  # either is absent (or unreadable): not the same file
            continue
        if same:
            raise ClaimwireError(
                f"{option} is also an input ({given}): an output never replaces an input; "
                "choose another path",
                file=path,
            )


def check_replaceable(path: Path, force: bool | None, option: str = "--out") -> None:
    """Refuse an existing ``path`` unless ``force`` (None: the command replaces its outputs
    without asking), and a folder ``--force`` would replace that holds a release, a project
    or a repository."""
    if not os.path.lexists(path) or force is None:
        return
    if os.path.isdir(path) and not any(Path(path).iterdir()):
        return
    if not force:
        what = "exists and is not empty" if os.path.isdir(path) else "already exists"
        raise ClaimwireError(f"{option} {what}; pass --force to replace it", file=path)
    if os.path.isdir(path):
        found = _protected_inside(Path(path))
        if found is not None:
            raise ClaimwireError(
                f"--force refused: it holds {found.relative_to(path)}, which is never replaced",
                file=path,
            )


def _protected_inside(folder: Path) -> Path | None:
    """The first entry named in :data:`PROTECTED` below ``folder``, in one walk of it."""
    for top, folders, files in os.walk(folder):
        named = next((n for n in (*files, *folders) if n in PROTECTED), None)
        if named is not None:
            return Path(top) / named
    return None


def check_output(
    path: Path | str | None,
    *,
    inputs: Iterable[str | Path] = (),
    force: bool | None = None,
    option: str = "--out",
) -> None:
    """The output rule for ``path`` (None: no output asked): a local path, outside every
    release, none of ``inputs``, and replaced only with ``force`` when not None."""
    if path is None:
        return
    refuse_remote_out(path, option)
    path = Path(path)
    check_not_in_release(path, option)
    check_not_an_input(path, inputs, option)
    check_replaceable(path, force, option)
