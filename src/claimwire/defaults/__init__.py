"""The packaged defaults: the annotation schema, the benchmark tasks and the Label Studio
configs a new project starts from (``claimwire init``) and that commands fall back to
outside a project.

In the repository these are links to the repository's own project files
(``annotation/schema.yaml``, ``eval/tasks/``, ``annotation/label_studio/``), so there is one
copy to edit; building the wheel or the sdist copies their contents in.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from claimwire.errors import ClaimwireError


def default_file(name: str) -> Path:
    """A packaged default (``schema.yaml``, ``tasks``, ``label_studio``) as a path on disk."""
    found = files(__name__) / name
    if not isinstance(found, Path) or not found.exists():
        raise ClaimwireError(
            f"the packaged default {name!r} is missing: reinstall claimwire from its wheel"
        )
    return found
