"""Secrets never reach a message: tokens are cut out of every text claimwire prints.

A server can echo the ``Authorization`` header back in its error page, a URL can carry a
token in its query or user part, and an exception's text can quote either. :func:`redact`
replaces, in any text, the values of the secret environment variables (:data:`SECRET_ENV`),
the values passed to it, and whatever has the shape of a credential (``Token …``,
``Bearer …``, ``hf_…``, ``token=…``, ``user:password@``) by :data:`MASK`.
:func:`redact_url` does the same for a URL that a message names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

MASK = "***"
SECRET_ENV = (
    "LABEL_STUDIO_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_API_TOKEN",
)
"""Environment variables whose values are secrets wherever they appear."""

_MIN_SECRET = 4
# Every pattern is linear: a fixed prefix, then one bounded run of token characters.
_SHAPES = (
    # Authorization: Token abc / Bearer abc / Basic abc (also inside JSON or repr text)
    re.compile(r"(?i)\b(token|bearer|basic)(\s{1,8}|%20|\+)[A-Za-z0-9._~+/=-]{12,4096}"),
    # Hugging Face user and organisation tokens
    re.compile(r"\bhf_[A-Za-z0-9]{10,256}"),
    # token=..., api_key=..., access_token: "..." in query strings, JSON and logs
    re.compile(
        r"(?i)\b(access_token|api_key|apikey|token|password|secret)"
        r"(\"?\s{0,3}[=:]\s{0,3}\"?)[^\s\"'&,;}]{8,4096}"
    ),
    # https://user:password@host
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,20}://)[^\s/@:]{1,256}:[^\s/@]{1,256}@"),
)


def _shape(match: re.Match[str]) -> str:
    groups = match.groups()
    if not groups:
        return MASK
    if len(groups) == 1:  # scheme://user:password@
        return f"{groups[0]}{MASK}@"
    return f"{groups[0]}{groups[1]}{MASK}"


def secrets_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> list[str]:
    """The values of :data:`SECRET_ENV` that are set (and long enough to be worth hiding)."""
    source = os.environ if environ is None else environ
    return [value for name in SECRET_ENV if len(value := source.get(name, "")) >= _MIN_SECRET]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every secret (given, from the environment, or shaped like a token)
    replaced by :data:`MASK`."""
    known = {s for s in (*secrets, *secrets_from_env()) if s and len(s) >= _MIN_SECRET}
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _SHAPES:
        text = pattern.sub(_shape, text)
    return text


def redact_url(url: str, secrets: Iterable[str | None] = ()) -> str:
    """A URL fit to be named in a message: credentials in its user part or query masked."""
    return redact(url, secrets)
