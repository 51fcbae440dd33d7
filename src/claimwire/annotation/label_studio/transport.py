"""Bounded HTTP with a Label Studio server.

Every request waits at most ``Limits.timeout`` seconds for an answer (to connect, and for each
read), failures that may pass are retried ``Limits.retries`` times with a capped backoff, and
the whole conversation of one command ends after ``Limits.deadline`` seconds. A listing stops
on a malformed page, on a page that brings nothing new and past the count the server
announced. Every error is one line naming the request that failed (method and URL), and no
message ever shows the token, even when the server echoes it back.

A legacy token is sent as ``Authorization: Token …``; a personal access token (a JWT refresh
token) is exchanged at ``api/token/refresh/`` for a short-lived access token sent as
``Bearer …``, renewed when it expires.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from claimwire import strict_json
from claimwire.errors import ClaimwireError
from claimwire.redact import redact

MAX_ANSWER = 256 * 2**20
"""Bytes of one JSON answer at most (a page, a project): a larger one is refused."""
RETRY_STATUS = frozenset({429, 503})
"""Answers that say the request was not processed: retried for every method."""
BACKOFF = 0.5
BACKOFF_CAP = 8.0
DETAIL_CHARS = 200
"""How much of a server's error text a message quotes."""


@dataclass
class Connection:
    url: str
    token: str

    def __repr__(self) -> str:  # never show the token
        return f"Connection(url={self.url!r}, token=***)"


@dataclass(frozen=True)
class Limits:
    """How long to wait for a Label Studio server, and how often to try again."""

    timeout: float = 30.0
    """Seconds to wait for one answer (to connect, and between two reads)."""
    retries: int = 2
    """How many times a failed connection or a busy answer (429, 503; any 5xx for a read)
    is tried again."""
    deadline: float = 3600.0
    """Seconds for everything one command asks of the server."""


class Refusal(ClaimwireError):
    """An error answer the server gave (after any retries): its status and what it said,
    parsed (None when it is not JSON), for a caller that says more than the status line."""

    def __init__(self, message: str, status: int, answer: Any) -> None:
        super().__init__(message)
        self.status = status
        self.answer = answer


def _answer(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _jwt_payload(token: str) -> dict[str, Any] | None:
    """The claims of a JWT (unverified: only to know its type and expiry), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _detail(response: httpx.Response, body: bytes) -> str:
    """What a server said in an error answer, on one line (an HTML page is not quoted)."""
    text = body.decode("utf-8", "replace").strip()
    if "html" in response.headers.get("content-type", "") or text.lower().startswith(
        ("<!doctype", "<html")
    ):
        return "(an HTML page)"
    try:
        answer = json.loads(text)
    except ValueError:
        return text
    if isinstance(answer, dict):
        parts = [answer.get("detail"), answer.get("validation_errors")]
        kept = [json.dumps(p) if not isinstance(p, str) else p for p in parts if p]
        if kept:
            return " ".join(kept)
    return text


class Session:
    """One command's conversation with a Label Studio server (a context manager)."""

    def __init__(self, connection: Connection, limits: Limits | None = None) -> None:
        self.connection = connection
        self.limits = limits or Limits()
        self._end = time.monotonic() + self.limits.deadline
        self._http = httpx.Client(
            base_url=connection.url.rstrip("/") + "/",
            follow_redirects=False,
            headers={"User-Agent": "claimwire"},
        )
        payload = _jwt_payload(connection.token)
        refresh = payload is not None and payload.get("token_type") == "refresh"
        self._refresh = connection.token if refresh else None
        self._scheme = "Bearer" if payload else "Token"
        self._access: str | None = None if self._refresh else connection.token
        self._access_expires = float("inf")

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    # ---- messages -------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` without the token (nor the access token it was exchanged for)."""
        return redact(text, [self.connection.token, self._access])

    def error(self, method: str, url: str, reason: str) -> ClaimwireError:
        """One line: what failed, where, and why; never a token."""
        return ClaimwireError(self.redact(f"Label Studio: {method} {url}: {reason}"))

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.connection.url.rstrip('/')}/{path}{query}"

    # ---- time -----------------------------------------------------------------------------

    def remaining(self, method: str, url: str) -> float:
        """Seconds left before the deadline (an error once it has passed)."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise self.error(
                method, url, f"gave up after the {self.limits.deadline:g} s deadline (--deadline)"
            )
        return left

    def _seconds(self, method: str, url: str, wait: float | None, cleanup: bool) -> float:
        """How long one request may wait: its own wait, never past the deadline (a cleanup
        request: its wait alone)."""
        wanted = wait or self.limits.timeout
        return wanted if cleanup else min(wanted, self.remaining(method, url))

    def pause(self, method: str, url: str, attempt: int, retry_after: str | None = None) -> None:
        """Wait before try ``attempt + 1`` (capped backoff, or the server's Retry-After; never
        past the deadline)."""
        delay = min(BACKOFF * 2**attempt, BACKOFF_CAP)
        if retry_after and retry_after.strip().isdigit():
            delay = min(float(retry_after), BACKOFF_CAP * 4)
        time.sleep(min(delay, self.remaining(method, url)))

    # ---- authentication -------------------------------------------------------------------

    def _authorization(self, method: str, url: str) -> str:
        if self._access is None or time.monotonic() > self._access_expires:
            self._access = self._exchange(method, url)
        return f"{self._scheme} {self._access}"

    def _exchange(self, method: str, url: str) -> str:
        """A fresh access token for the personal access token (one bounded request)."""
        path = "api/token/refresh/"
        where = self.url(path)
        try:
            response = self._http.post(
                path,
                json={"refresh": self._refresh},
                timeout=self._seconds("POST", where, None, cleanup=False),
            )
        except httpx.HTTPError as error:
            reason = f"cannot reach Label Studio ({type(error).__name__})"
            raise self.error("POST", where, reason) from None
        access = None
        with contextlib.suppress(ValueError):
            access = response.json().get("access") if response.status_code == 200 else None
        if not isinstance(access, str) or not access:
            raise self.error(
                "POST",
                where,
                f"HTTP {response.status_code}: the personal access token was refused "
                "(check LABEL_STUDIO_API_KEY)",
            )
        claims = _jwt_payload(access) or {}
        expiry = claims.get("exp")
        if isinstance(expiry, int | float):  # renew a little before it expires
            self._access_expires = time.monotonic() + max(0.0, expiry - time.time() - 30)
        return access

    # ---- requests -------------------------------------------------------------------------

    @contextlib.contextmanager
    def open(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        wait: float | None = None,
        missing_ok: bool = False,
        cleanup: bool = False,
    ) -> Iterator[httpx.Response | None]:
        """The server's answer to one request, streamed (None when ``missing_ok`` and the
        server has no such thing: 404, or 405 for an endpoint it does not have).

        Connections that fail are retried; a request that may have been processed (a POST that
        timed out or got a 5xx) is not, so an import is never sent twice. ``wait`` replaces
        the per-request timeout for a request the server answers slowly by design. A
        ``cleanup`` request (removing what the command left on the server) is tried once, for
        ``wait`` seconds, even past the deadline."""
        url = self.url(path, params)
        reads = method in ("GET", "DELETE")
        refreshed = False
        attempt = 0
        while True:
            last = cleanup or attempt >= self.limits.retries
            seconds = self._seconds(method, url, wait, cleanup)
            request = self._http.build_request(
                method,
                path,
                params=params,
                json=body,
                headers={"Authorization": self._authorization(method, url)},
                timeout=httpx.Timeout(seconds),
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx.TimeoutException as error:
                connecting = isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout)
                if last or not (reads or connecting):
                    self.remaining(method, url)  # the deadline, if that is what ended it
                    option = "--timeout" if wait is None else "--deadline"
                    raise self.error(
                        method,
                        url,
                        f"no answer within {seconds:g} s ({option}) after {attempt + 1} "
                        f"attempt{'s' * (attempt > 0)}",
                    ) from None
            except httpx.HTTPError as error:
                if last or not (reads or isinstance(error, httpx.ConnectError)):
                    raise self.error(
                        method,
                        url,
                        f"cannot reach Label Studio ({type(error).__name__}) after "
                        f"{attempt + 1} attempt{'s' * (attempt > 0)}",
                    ) from None
            else:
                status = response.status_code
                if status < 400:
                    try:
                        yield response
                    finally:
                        response.close()
                    return
                body_bytes = self.read(response, method, url, limit=64 * 1024, cleanup=cleanup)
                response.close()
                if status in (404, 405) and missing_ok:
                    yield None
                    return
                if status == 401 and self._refresh and not refreshed:
                    self._access, refreshed = None, True
                    continue
                busy = status in RETRY_STATUS or (reads and status >= 500)
                if last or not busy:
                    reason = self._http_reason(response, body_bytes) + (
                        f" after {attempt + 1} attempts" if busy and attempt else ""
                    )
                    message = self.error(method, url, reason).message
                    raise Refusal(message, status, _answer(body_bytes))
                self.pause(method, url, attempt, response.headers.get("retry-after"))
                attempt += 1
                continue
            self.pause(method, url, attempt)
            attempt += 1

    def _http_reason(self, response: httpx.Response, body: bytes) -> str:
        detail = " ".join(self.redact(_detail(response, body)).split())
        if len(detail) > DETAIL_CHARS:
            detail = detail[:DETAIL_CHARS] + "…"
        hint = " (check LABEL_STUDIO_API_KEY)" if response.status_code in (401, 403) else ""
        return f"HTTP {response.status_code}" + (f": {detail}" if detail else "") + hint

    def chunks(
        self, response: httpx.Response, method: str, url: str, cleanup: bool = False
    ) -> Iterator[bytes]:
        """The body of an answer, chunk by chunk, cut at the deadline."""
        try:
            for chunk in response.iter_bytes():
                if not cleanup:
                    self.remaining(method, url)
                yield chunk
        except httpx.TimeoutException:
            raise self.error(
                method, url, f"the answer stalled for {self.limits.timeout:g} s (--timeout)"
            ) from None
        except httpx.HTTPError as error:
            raise self.error(method, url, f"the answer was cut ({type(error).__name__})") from None

    def read(
        self,
        response: httpx.Response,
        method: str,
        url: str,
        limit: int = MAX_ANSWER,
        cleanup: bool = False,
    ) -> bytes:
        """The whole body of an answer (at most ``limit`` bytes: an error past it)."""
        body = bytearray()
        for chunk in self.chunks(response, method, url, cleanup):
            body += chunk
            if len(body) > limit:
                if limit < MAX_ANSWER:  # an error page: its beginning says enough
                    return bytes(body[:limit])
                raise self.error(method, url, f"the answer is larger than {limit:,} bytes")
        return bytes(body)

    def json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        wait: float | None = None,
        missing_ok: bool = False,
        cleanup: bool = False,
    ) -> Any:
        """The JSON answer to one request (None when there is no body, or as :meth:`open`)."""
        url = self.url(path, params)
        with self.open(
            method,
            path,
            params=params,
            body=body,
            wait=wait,
            missing_ok=missing_ok,
            cleanup=cleanup,
        ) as response:
            if response is None:
                return None
            raw = self.read(response, method, url, cleanup=cleanup)
        if not raw.strip():
            return None
        try:
            return strict_json.loads(raw)
        except strict_json.DuplicateKeyError as error:
            raise self.error(method, url, f"the answer is not usable: {error}") from None
        except (ValueError, RecursionError):
            raise self.error(method, url, "the answer is not JSON") from None

    def listing(
        self,
        path: str,
        params: Mapping[str, Any],
        key: str,
        *,
        page_size: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The objects of a listing, a page at a time (new objects only).

        Pages are Django REST framework's (``count``, ``next``, ``results``) or the task
        API's (``total``, ``tasks``); a plain list is a listing of one page. The listing ends
        with an empty page, a 404 past the last page, ``next: null``, or once the announced
        count is reached; a page that is not a list of objects with an ``id``, that brings
        no new object, or a listing longer than announced is an error."""
        seen: set[int] = set()
        announced: int | None = None
        page = 1
        while True:
            query = {**params, "page": page, "page_size": page_size}
            url = self.url(path, query)
            answer = self.json("GET", path, params=query, missing_ok=page > 1)
            if answer is None and page > 1:
                return
            if isinstance(answer, list) and page == 1:
                items, count, more = answer, len(answer), False
            else:
                items, count, more = _page(answer, key, self, url)
            if announced is None:
                announced = count
            if not all(isinstance(i, dict) and _is_id(i.get("id")) for i in items):
                raise self.error(
                    "GET", url, f"malformed page: {key!r} holds other things than objects with ids"
                )
            new = [i for i in items if i["id"] not in seen]
            if items and not new:
                raise self.error("GET", url, f"page {page} repeats objects of earlier pages")
            seen.update(i["id"] for i in new)
            if len(seen) > announced:
                raise self.error(
                    "GET", url, f"the listing goes past the {announced:,} objects it announced"
                )
            if progress:
                progress(len(seen), announced)
            if new:
                yield new
            if not items or not more or len(seen) >= announced:
                return
            page += 1


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _page(answer: object, key: str, session: Session, url: str) -> tuple[list[Any], int, bool]:
    """A page's objects, the count it announces, and whether another page may follow."""
    if not isinstance(answer, dict):
        raise session.error("GET", url, "malformed page: not a JSON object")
    items = answer.get(key)
    count = answer.get("count", answer.get("total"))
    if not isinstance(items, list):
        raise session.error("GET", url, f"malformed page: {key!r} is not a list")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise session.error("GET", url, "malformed page: no count of objects ('count' or 'total')")
    return items, count, answer.get("next", "") is not None
