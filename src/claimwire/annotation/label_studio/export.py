"""A project's tasks in Label Studio's full JSON export, through an export snapshot.

The snapshot is created on the server (``POST api/projects/ID/exports/``), polled until it is
completed (within the session's deadline), downloaded and read as a stream (one task at a
time: memory does not grow with the export's size), then deleted. Without Redis, Label Studio
builds the snapshot while it answers the creation request: that one request may take until
the deadline. A server without snapshots (404 or 405 on that endpoint) is read through the
synchronous export (``GET api/projects/ID/export``) instead, with the same bounds.

The snapshot carries every task and every annotation, cancelled and ground-truth ones
included, annotators by id: what the synchronous export gives, key for key.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from typing import Any

from claimwire import strict_json
from claimwire.annotation.label_studio.client import Progress, find_project
from claimwire.annotation.label_studio.transport import Session
from claimwire.errors import ClaimwireError

SNAPSHOT = {
    "title": "claimwire pull",
    "task_filter_options": {},
    "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True},
    "serialization_options": {
        "drafts": {"only_id": True},
        "predictions": {"only_id": True},
        "annotations__completed_by": {"only_id": True},
        "include_annotation_history": False,
    },
}
"""What the snapshot holds (Label Studio's own defaults leave out skipped and ground-truth
annotations)."""
POLL_FIRST, POLL_CAP = 0.25, 5.0


class _Stream(io.RawIOBase):
    """A file-like view (``read``) of an answer's chunks, for the streaming JSON reader."""

    def __init__(self, chunks: Iterator[bytes], progress: Progress | None, total: int | None):
        self._chunks = chunks
        self._buffer = b""
        self._read = 0
        self._progress = progress
        self._total = total

    def peek(self) -> bytes:
        """The first byte that is not white space (b"" for an empty body)."""
        while not self._buffer.strip():
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer += chunk
        return self._buffer.lstrip()[:1]

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = chunk
        size = len(self._buffer) if size < 0 else size
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        self._read += len(out)
        if self._progress:
            self._progress("downloading (bytes)", self._read, self._total)
        return out

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        out = self.read(len(buffer))
        buffer[: len(out)] = out
        return len(out)


def _tasks(
    session: Session, response: Any, url: str, progress: Progress | None
) -> Iterator[dict[str, Any]]:
    length = response.headers.get("content-length", "")
    stream = _Stream(
        session.chunks(response, "GET", url),
        progress,
        int(length) if length.isdigit() else None,
    )
    if stream.peek() != b"[":
        raise session.error("GET", url, "the export is not a JSON list of tasks")
    text = io.TextIOWrapper(io.BufferedReader(stream, 1 << 16), encoding="utf-8")
    try:  # a task at a time, as a JSON-MIN file is read (ijson took memory quadratic in the
        # nesting depth: 258 MB for a task 10,000 deep, gigabytes for one of 200 KB)
        for task in strict_json.list_items(text):
            if not isinstance(task, dict):
                raise session.error("GET", url, "the export holds something else than tasks")
            yield task
    except ValueError as error:  # not JSON, not UTF-8, nested too deeply
        raise session.error("GET", url, f"the export is not valid JSON ({error})") from None


def _snapshot(session: Session, project_id: int, progress: Progress | None) -> int | None:
    """A completed snapshot's id, or None when the server has no snapshots."""
    path = f"api/projects/{project_id}/exports/"
    url = session.url(path)
    if progress:
        progress("exporting", 0, None)
    created = session.json(
        "POST", path, body=SNAPSHOT, wait=session.remaining("POST", url), missing_ok=True
    )
    if created is None:
        return None
    if not isinstance(created, dict) or not isinstance(created.get("id"), int):
        raise session.error("POST", url, "the answer is not an export snapshot")
    snapshot: int = created["id"]
    status = created.get("status")
    pause = POLL_FIRST
    detail = f"api/projects/{project_id}/exports/{snapshot}"
    try:
        while status != "completed":
            if status == "failed":
                raise session.error("GET", session.url(detail), "the export failed on the server")
            time.sleep(min(pause, session.remaining("GET", session.url(detail))))
            pause = min(pause * 2, POLL_CAP)
            answer = session.json("GET", detail)
            status = answer.get("status") if isinstance(answer, dict) else None
            if status not in ("created", "queued", "in_progress", "completed", "failed"):
                raise session.error(
                    "GET", session.url(detail), f"unexpected export status {status!r}"
                )
    except BaseException:
        _delete(session, detail)
        raise
    return snapshot


def _delete(session: Session, path: str) -> None:
    """Remove a snapshot from the server (best effort: a failure here hides nothing)."""
    with contextlib.suppress(ClaimwireError):
        session.json("DELETE", path, wait=min(session.limits.timeout, 10.0), cleanup=True)


@contextlib.contextmanager
def exported_tasks(
    session: Session, title: str, progress: Progress | None = None
) -> Iterator[Iterator[dict[str, Any]]]:
    """The tasks of the project called ``title``, streamed from an export snapshot (deleted
    afterwards), or from the synchronous export when the server has no snapshots."""
    project = find_project(session, title)
    if project is None:
        raise ClaimwireError(f"no Label Studio project named {title!r} at {session.connection.url}")
    project_id = project["id"]
    snapshot = _snapshot(session, project_id, progress)
    wait: float | None = None  # a snapshot is a file: it answers at once
    if snapshot is None:  # the server builds the whole export before it answers
        path = f"api/projects/{project_id}/export"
        params: dict[str, Any] = {"exportType": "JSON", "download_all_tasks": "true"}
        wait = session.remaining("GET", session.url(path, params))
    else:
        path = f"api/projects/{project_id}/exports/{snapshot}/download"
        params = {"exportType": "JSON"}
    url = session.url(path, params)
    try:
        with session.open("GET", path, params=params, wait=wait) as response:
            assert response is not None
            yield _tasks(session, response, url, progress)
    finally:
        if snapshot is not None:
            _delete(session, f"api/projects/{project_id}/exports/{snapshot}")
