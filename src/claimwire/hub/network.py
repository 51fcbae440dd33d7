"""Bounds and clean messages for every call claimwire makes through ``huggingface_hub``.

``huggingface_hub`` 2.x gives its shared HTTP client no timeout: a Hub (or a proxy) that
accepts the connection and never answers would hold ``hub publish`` or ``hub load`` forever.
:func:`bounded` sets one on that client — :data:`TIMEOUT` seconds for each connect, read and
write, or ``CLAIMWIRE_HUB_TIMEOUT`` — and the client's own retries (a few, with backoff, on
429 and 5xx) stay as they are. :func:`failure` turns what the client raised into one line
naming the URL that failed, with every token masked (:mod:`claimwire.redact`).
"""

from __future__ import annotations

import os

from claimwire.errors import ClaimwireError
from claimwire.redact import redact, redact_url

TIMEOUT = 60.0
"""Seconds for each connect, read or write of a Hub request."""


def timeout() -> float:
    """:data:`TIMEOUT`, or ``CLAIMWIRE_HUB_TIMEOUT`` when set to a positive number."""
    raw = os.environ.get("CLAIMWIRE_HUB_TIMEOUT", "")
    try:
        value = float(raw) if raw else TIMEOUT
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ClaimwireError(
            f"CLAIMWIRE_HUB_TIMEOUT={raw!r}: expected seconds, above 0 and at most 3600"
        )
    return value


def bounded() -> None:
    """Give ``huggingface_hub``'s shared client (also used by ``datasets``) a timeout."""
    from huggingface_hub import get_session

    get_session().timeout = timeout()


def _url(error: BaseException) -> str | None:
    for holder in (getattr(error, "response", None), error):
        request = getattr(holder, "request", None) if holder is not None else None
        try:
            url = getattr(request, "url", None)
        except RuntimeError:  # httpx: an error raised before a request existed
            url = None
        if url is not None:
            return str(url)
    return None


def failure(error: BaseException, what: str, secrets: tuple[str | None, ...] = ()) -> str:
    """One line: ``what`` failed, the URL (credentials masked), why — tokens masked."""
    url = _url(error)
    status = getattr(getattr(error, "response", None), "status_code", None)
    lines = str(error).strip().splitlines()
    said = lines[0] if lines else type(error).__name__
    server = getattr(error, "server_message", None)  # the Hub's own words, if it gave any
    if server:
        said += f"; the server said: {' '.join(str(server).split())}"
    parts = [what]
    if status is not None:
        parts.append(f"(HTTP {status})")
    if url:
        parts.append(f"at {redact_url(url, secrets)}")
    return redact(" ".join(parts) + f": {type(error).__name__}: {said}"[:600], secrets)
