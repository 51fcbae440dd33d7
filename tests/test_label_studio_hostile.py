"""Hostile Label Studio servers (a local HTTP server on 127.0.0.1): every `annotate push` and
`annotate pull` ends in bounded time with one error line naming the request that failed,
exit 1, the token never printed, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from .helpers import REPO

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
TOKEN = "hostile-secret-token-0123456789"
HANG = 10_000.0
"""How long a silent handler waits (the server's shutdown releases it)."""

Answer = tuple[int, object]
"""A status and a JSON body (bytes are sent as they are)."""


@dataclass
class Hostile:
    """A scripted server: ``behave(method, path, query, headers)`` answers each request."""

    url: str
    behave: Callable[[BaseHTTPRequestHandler, str], Answer | None] = lambda *_: (404, {})
    requests: list[str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    state = Hostile("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _answer(self) -> None:
            state.requests.append(f"{self.command} {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            answer = state.behave(self, body)
            if answer is None:  # the handler wrote (or withheld) its own answer
                return
            status, payload = answer
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()


def route(handler: BaseHTTPRequestHandler) -> tuple[str, dict[str, list[str]]]:
    parsed = urlparse(handler.path)
    return parsed.path, parse_qs(parsed.query)


PROJECT = {"id": 5, "title": "wires", "label_config": "<View/>", "task_number": 0}


def a_project(handler: BaseHTTPRequestHandler) -> Answer | None:
    """The honest part of a server: the project `wires` and one user."""
    path, _ = route(handler)
    if path == "/api/projects/" and handler.command == "GET":
        return 200, {"count": 1, "next": None, "results": [PROJECT]}
    if path == "/api/projects/5/":  # the label config updated
        return 200, PROJECT
    if path == "/api/users/":
        return 200, [{"id": 1, "email": "a@example.org"}]
    return None


def run(
    hostile: Hostile, command: str, tmp_path: Path, *options: str, limit: float = 120
) -> subprocess.CompletedProcess[str]:
    """``claimwire annotate COMMAND`` against the hostile server, with small bounds."""
    args = ["--project", "wires", "--timeout", "1", "--retries", "1", "--deadline", "6"]
    if command == "pull":
        args += ["--out", str(tmp_path / "out"), "--release", str(RELEASE)]
    else:
        args = [str(RELEASE), *args]
    env = {
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "PYTHONPATH": str(REPO / "src"),
        "LABEL_STUDIO_URL": hostile.url,
        "LABEL_STUDIO_API_KEY": TOKEN,
    }
    return subprocess.run(
        [sys.executable, "-m", "claimwire", "annotate", command, *args, *options],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=limit,  # a hang fails the test instead of blocking the suite
        check=False,
    )


def assert_one_clear_line(
    result: subprocess.CompletedProcess[str], hostile: Hostile, tmp_path: Path, names: str
) -> str:
    output = result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1, output
    assert len(errors) == 1, output
    assert f"{hostile.url}/{names}" in errors[0], errors[0]
    assert "Traceback" not in output
    assert TOKEN not in output and TOKEN[:12] not in output
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    return errors[0]


def test_a_page_that_is_not_a_list_ends_the_listing(hostile: Hostile, tmp_path: Path) -> None:
    """It made `pull` page forever (4,835 requests in 120 s)."""
    hostile.behave = lambda handler, _: (200, {"results": "nope"})
    result = run(hostile, "pull", tmp_path)
    line = assert_one_clear_line(result, hostile, tmp_path, "api/")
    assert "malformed page" in line and len(hostile.requests) == 1


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (lambda n: {"count": 50, "next": "more", "results": [{"id": 1, "title": "x"}]}, "repeats"),
        (
            lambda n: {"count": 5, "next": "more", "results": [{"id": 2 * n}, {"id": 2 * n + 1}]},
            "past the 5 objects it announced",
        ),
        (lambda n: {"count": 3, "results": [{"title": "no id"}]}, "malformed page"),
        (lambda n: {"count": "many", "results": []}, "no count"),
        (lambda n: [1, 2, 3], "malformed page"),
    ],
    ids=["repeating", "past-the-count", "no-ids", "no-count", "not-objects"],
)
def test_a_listing_is_bounded(
    hostile: Hostile,
    tmp_path: Path,
    page: Callable[[int], object],
    reason: str,
) -> None:
    def behave(handler: BaseHTTPRequestHandler, _: str) -> Answer:
        number = int(route(handler)[1].get("page", ["1"])[0])
        return 200, page(number)

    hostile.behave = behave
    for command in ("pull", "push"):
        hostile.requests.clear()
        result = run(hostile, command, tmp_path)
        assert reason in assert_one_clear_line(result, hostile, tmp_path, "api/")
        assert len(hostile.requests) <= 3


def test_a_silent_server_fails_within_the_timeout(hostile: Hostile, tmp_path: Path) -> None:
    """It took 253 s; with --timeout 1 --retries 1, two waits of a second and a pause."""

    def silent(handler: BaseHTTPRequestHandler, _: str) -> None:
        hostile.released.wait(HANG)

    hostile.behave = silent
    start = time.monotonic()
    result = run(hostile, "pull", tmp_path, limit=60)
    line = assert_one_clear_line(result, hostile, tmp_path, "api/")
    assert "no answer within 1 s (--timeout) after 2 attempts" in line
    assert time.monotonic() - start < 30  # the guard against a hang, not a measurement
    assert len(hostile.requests) == 2


def test_a_dripping_answer_is_cut_at_the_deadline(hostile: Hostile, tmp_path: Path) -> None:
    """A server that sends a byte at a time, never too slow for --timeout."""

    def drip(handler: BaseHTTPRequestHandler, _: str) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b"[")
        while not hostile.released.wait(0.2):
            handler.wfile.write(b" ")
            handler.wfile.flush()

    hostile.behave = drip
    result = run(hostile, "pull", tmp_path, limit=60)
    assert "deadline" in assert_one_clear_line(result, hostile, tmp_path, "api/")


@pytest.mark.parametrize("status", [401, 403, 500])
def test_a_server_echoing_the_token_never_gets_it_printed(
    hostile: Hostile, tmp_path: Path, status: int
) -> None:
    def echo(handler: BaseHTTPRequestHandler, _: str) -> Answer:
        header = handler.headers.get("Authorization", "")
        return status, {"detail": f"bad credentials {header} ({header.split()[-1]})"}

    hostile.behave = echo
    for command in ("pull", "push"):
        hostile.requests.clear()
        line = assert_one_clear_line(run(hostile, command, tmp_path), hostile, tmp_path, "api/")
        assert f"HTTP {status}" in line and "bad credentials" in line and "***" in line
        assert len(hostile.requests) == (2 if status == 500 else 1)  # a 5xx read is retried


def test_an_html_error_page_is_not_quoted(hostile: Hostile, tmp_path: Path) -> None:
    hostile.behave = lambda handler, _: (502, b"<!doctype html><html>" + b"x" * 100_000)
    line = assert_one_clear_line(run(hostile, "pull", tmp_path), hostile, tmp_path, "api/")
    assert "HTTP 502: (an HTML page) after 2 attempts" in line and len(line) < 300


def test_an_export_that_never_completes_ends_at_the_deadline(
    hostile: Hostile, tmp_path: Path
) -> None:
    def behave(handler: BaseHTTPRequestHandler, _: str) -> Answer | None:
        path, _ = route(handler)
        if path.startswith("/api/projects/5/exports/"):
            return (
                (204, b"")
                if handler.command == "DELETE"
                else (200, {"id": 9, "status": "in_progress"})
            )
        return a_project(handler)

    hostile.behave = behave
    line = assert_one_clear_line(
        run(hostile, "pull", tmp_path), hostile, tmp_path, "api/projects/5/exports/9"
    )
    assert "deadline" in line
    assert "DELETE /api/projects/5/exports/9" in hostile.requests  # the snapshot is removed


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"results": []}', "not a JSON list of tasks"),
        (b"[1, 2]", "something else than tasks"),
        (b'[{"id": 1, "data": {', "not valid JSON"),
        (b"", "not a JSON list of tasks"),
        (  # ijson's memory grew with the square of the depth: 258 MB, no error
            b'[{"id": 1, "data": {"doc_id": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}]",
            "arrays or objects nested too deeply to read",
        ),
    ],
    ids=["object", "numbers", "cut", "empty", "nested too deeply"],
)
def test_a_malformed_export_is_refused(
    hostile: Hostile, tmp_path: Path, body: bytes, reason: str
) -> None:
    def behave(handler: BaseHTTPRequestHandler, _: str) -> Answer | None:
        path, _ = route(handler)
        if path == "/api/projects/5/exports/9/download":
            return 200, body
        if path.startswith("/api/projects/5/exports/"):
            return (
                (204, b"")
                if handler.command == "DELETE"
                else (201, {"id": 9, "status": "completed"})
            )
        return a_project(handler)

    hostile.behave = behave
    line = assert_one_clear_line(
        run(hostile, "pull", tmp_path), hostile, tmp_path, "api/projects/5/exports/9/download"
    )
    assert reason in line
    assert "DELETE /api/projects/5/exports/9" in hostile.requests


def test_a_server_without_snapshots_is_read_through_the_synchronous_export(
    hostile: Hostile, tmp_path: Path
) -> None:
    """An older server (404 on the snapshots endpoint): the documented fallback."""

    def behave(handler: BaseHTTPRequestHandler, _: str) -> Answer | None:
        path, _ = route(handler)
        if path == "/api/projects/5/exports/":
            return 404, {"detail": "Not found."}
        if path == "/api/projects/5/export":
            return 200, []
        return a_project(handler)

    hostile.behave = behave
    result = run(hostile, "pull", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "0 tasks, 0 annotators, 0 problems" in result.stdout
    assert any(r.startswith("GET /api/projects/5/export?") for r in hostile.requests)


def test_an_import_the_server_does_not_confirm_is_an_error(
    hostile: Hostile, tmp_path: Path
) -> None:
    def behave(handler: BaseHTTPRequestHandler, _: str) -> Answer | None:
        path, _ = route(handler)
        if path == "/api/tasks/":
            return 200, {"total": 0, "tasks": []}
        if path == "/api/projects/5/import":
            return 201, {"task_count": 0}
        return a_project(handler)

    hostile.behave = behave
    line = assert_one_clear_line(
        run(hostile, "push", tmp_path), hostile, tmp_path, "api/projects/5/import"
    )
    assert "sent 1, the server says it created 0" in line
    assert sum(r.startswith("POST /api/projects/5/import") for r in hostile.requests) == 1


def test_an_import_that_times_out_is_not_sent_twice(hostile: Hostile, tmp_path: Path) -> None:
    """The server may have imported the tasks: resending would duplicate them."""

    def behave(handler: BaseHTTPRequestHandler, _: str) -> Answer | None:
        path, _ = route(handler)
        if path == "/api/tasks/":
            return 200, {"total": 0, "tasks": []}
        if path == "/api/projects/5/import":
            hostile.released.wait(HANG)
            return None
        return a_project(handler)

    hostile.behave = behave
    line = assert_one_clear_line(
        run(hostile, "push", tmp_path), hostile, tmp_path, "api/projects/5/import"
    )
    assert "no answer within 1 s (--timeout) after 1 attempt" in line
    assert sum(r.startswith("POST /api/projects/5/import") for r in hostile.requests) == 1


def test_bounds_have_sane_defaults_and_limits() -> None:
    from claimwire.annotation.label_studio.transport import Limits

    limits = Limits()
    assert limits.timeout == 30 and limits.retries == 2 and limits.deadline == 3600
    refused = subprocess.run(
        [sys.executable, "-m", "claimwire", "annotate", "pull", "--out", "x", "--timeout", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"},
        check=False,
    )
    assert refused.returncode == 2 and "--timeout" in refused.stderr


def test_a_busy_answer_is_tried_again_even_for_an_import(hostile: Hostile, tmp_path: Path) -> None:
    """429 and 503 say the request was not processed: an import is sent again after the
    server's Retry-After, and the push succeeds."""
    imports: list[str] = []

    def behave(handler: BaseHTTPRequestHandler, body: str) -> Answer | None:
        path, _ = route(handler)
        if path == "/api/tasks/":
            return 200, {"total": 0, "tasks": []}
        if path == "/api/projects/5/import":
            imports.append(body)
            if len(imports) == 1:
                return 429, {"detail": "slow down"}
            return 201, {"task_count": len(json.loads(body))}
        return a_project(handler)

    hostile.behave = behave
    result = run(hostile, "push", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 tasks imported" in result.stdout and len(imports) == 2 and imports[0] == imports[1]


def test_an_answer_naming_a_key_twice_is_refused(hostile: Hostile, tmp_path: Path) -> None:
    """A page ``{"results": [...], "results": [...]}`` was read last-wins, in silence."""
    page = b'{"count": 1, "results": [{"id": 1, "title": "wires"}], "results": []}'
    hostile.behave = lambda handler, _: (200, page)
    for command in ("pull", "push"):
        result = run(hostile, command, tmp_path)
        line = assert_one_clear_line(result, hostile, tmp_path, "api/")
        assert "key 'results' appears twice" in line, line


def test_a_task_listed_without_its_work_counts_as_worked_on() -> None:
    """A push removes a document's extra task copies only when the listing shows nobody
    worked on them; a listing that names none of the work fields (another server version)
    keeps the copy (before: it was deleted as idle)."""
    from claimwire.annotation.label_studio.tasks import _worked

    idle = {"id": 2, "total_annotations": 0, "cancelled_annotations": 0, "drafts": []}
    assert not _worked(idle)
    assert _worked({**idle, "drafts": [{"id": 9}]}) and _worked({**idle, "total_annotations": 1})
    assert _worked({"id": 2, "data": {"doc_id": "d"}})
