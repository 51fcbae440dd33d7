"""Bounds and clean messages for every call claimwire makes through ``huggingface_hub``.

``huggingface_hub`` 2.x gives its shared HTTP client no timeout: a Hub (or a proxy) that
accepts the connection and never answers would hold ``hub publish`` or ``hub load`` forever.
:func:`bounded` sets one on every client it makes (it makes a new one after a failed connect)
— :data:`TIMEOUT` seconds for each connect, read and write, or ``CLAIMWIRE_HUB_TIMEOUT`` — and
the client's own retries (a few, with backoff, on 429 and 5xx) stay as they are.
:func:`within_deadline` bounds a whole conversation — every request, retry and wait of one
``hub publish`` or ``hub load`` — to :data:`DEADLINE` seconds, or ``CLAIMWIRE_HUB_DEADLINE``: a
server that answers each request in time but slowly (a byte at a time) cannot hold a command
for longer. :func:`failure` turns what the client raised into one
line naming the URL that failed, with every token masked (:mod:`claimwire.redact`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from claimwire.errors import ClaimwireError
from claimwire.redact import redact, redact_url

TIMEOUT = 60.0
"""Seconds for each connect, read or write of a Hub request."""


DEADLINE = 3600.0
"""Seconds for a whole ``hub publish`` or ``hub load`` conversation with the Hub."""


def _seconds(name: str, default: float, most: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not 0 < value <= most:
        raise ClaimwireError(f"{name}={raw!r}: expected seconds, above 0 and at most {most:g}")
    return value


def timeout() -> float:
    """:data:`TIMEOUT`, or ``CLAIMWIRE_HUB_TIMEOUT`` when set to a positive number."""
    return _seconds("CLAIMWIRE_HUB_TIMEOUT", TIMEOUT, 3600)


def deadline() -> float:
    """:data:`DEADLINE`, or ``CLAIMWIRE_HUB_DEADLINE`` when set (at most a week)."""
    return _seconds("CLAIMWIRE_HUB_DEADLINE", DEADLINE, 7 * 24 * 3600)


class _Expired(BaseException):
    """Raised in the main thread when the deadline passes: a BaseException, so that no
    ``except Exception`` on the way (the client's retries, ``datasets``) swallows it."""


_ACTIVE: list[Any] = []
"""The request hook of the conversation under way (:func:`within_deadline`), if any."""


def _on_request(request: Any) -> None:
    for hook in _ACTIVE:
        hook(request)


def _bounded_factory(make: Any) -> Any:
    """``make``, with each client it makes given :func:`timeout` and :func:`_on_request`."""

    def factory() -> Any:
        client = make()
        client.timeout = timeout()
        client.event_hooks["request"] = [*client.event_hooks["request"], _on_request]
        return client

    factory.__wrapped__ = make  # type: ignore[attr-defined]
    return factory


def bounded() -> None:
    """Give every HTTP client ``huggingface_hub`` makes (``datasets`` shares it) a timeout and
    the deadline's hook: the client it remakes after a failed connect included."""
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    current = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)
    make = getattr(current, "__wrapped__", current)
    set_client_factory(_bounded_factory(make))  # the next client is made by the factory


@contextmanager
def within_deadline(what: str, secrets: tuple[str | None, ...] = ()) -> Iterator[None]:
    """Run the body's Hub conversation within :func:`deadline` seconds, or stop it with one
    line naming ``what`` and the request in progress. Each request also gets no more time
    than is left. The body is interrupted by a timer signal (in the main thread, where the
    system has SIGALRM; elsewhere a request that starts after the deadline is refused, and the
    one in flight keeps its own :func:`timeout`). Call :func:`bounded` first."""
    seconds = deadline()
    ends = time.monotonic() + seconds
    current: list[str] = []

    def before(request: Any) -> None:
        current[:] = [f"{request.method} {redact_url(str(request.url), secrets)}"]
        left = ends - time.monotonic()
        if left <= 0:
            raise _Expired
        limits = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            k: left if v is None else min(v, left) for k, v in limits.items()
        } or {k: left for k in ("connect", "read", "write", "pool")}

    def expire(signum: int, frame: Any) -> None:
        raise _Expired

    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    _ACTIVE[:] = [before]
    previous = signal.signal(signal.SIGALRM, expire) if main else None
    if main:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        doing = f" during {current[0]}" if current else ""
        raise ClaimwireError(
            redact(
                f"{what}: stopped after {seconds:g} s, the time allowed for the whole "
                f"conversation with the Hub (CLAIMWIRE_HUB_DEADLINE){doing}",
                secrets,
            )
        ) from None
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        _ACTIVE.clear()


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
