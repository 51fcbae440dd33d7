"""JSON read strictly: an object that names a key twice is an error, not "last one wins".

RFC 8259 leaves duplicate names undefined, and readers disagree on which value counts, so a
file with ``{"label": "CLAIM", "label": "X"}`` means different things to different tools.
:func:`loads` is :func:`json.loads` refusing such objects (:class:`DuplicateKeyError`, a
``ValueError`` naming the key).
"""

from __future__ import annotations

import json
from typing import Any

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


def loads(text: str | bytes) -> Any:
    """:func:`json.loads`, refusing duplicate keys (:class:`DuplicateKeyError`)."""
    return json.loads(text, object_pairs_hook=_unique)
