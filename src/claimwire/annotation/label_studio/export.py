"""A project's tasks in Label Studio's full JSON export, through an export snapshot.

The snapshot is created on the server (``POST api/projects/ID/exports/``), polled until it is
completed (within the session's deadline), downloaded and read as a stream (one task at a
time: memory does not grow with the export's size), then deleted. Without Redis, Label Studio
builds the snapshot while it answers the creation request: that one request may take until
the deadline. A server without snapshots (404 or 405 on that endpoint) is read through the
synchronous export (``GET api/projects/ID/export``) instead, with the same bounds.

The snapshot carries every task and every annotation, cancelled and ground-truth ones
included, annotators by id: what the synchronous export gives, key for key, so it is removed
also when the pull ends early (an error, Ctrl-C, SIGTERM), within :data:`CLEANUP` seconds; a
snapshot still being built is waited for (Label Studio writes one deleted while it builds it
again once built). Each pull titles its snapshot with a nonce and the time its deadline ends:
the pull removes the snapshots of earlier pulls whose deadline has passed (those a SIGKILL
left), never one a running pull may still read.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import re
import secrets
import time
import warnings
from collections.abc import Iterator
from typing import Any

from claimwire import strict_json
from claimwire.annotation.label_studio.client import Progress, find_project
from claimwire.annotation.label_studio.transport import Session
from claimwire.errors import ClaimwireError

TITLE = "claimwire pull"
"""How every snapshot a pull makes is titled (then its nonce and deadline)."""
STAMP = "%Y-%m-%dT%H:%M:%SZ"
_OURS = re.compile(rf"{TITLE}(?: [0-9a-f]{{8}}, until (\S+))?")
BUILDING = frozenset({"created", "queued", "in_progress"})
"""A snapshot's status while the server still writes it."""
CLEANUP = 10.0
"""Seconds at most spent removing a snapshot on the way out (a dead server must not hang the
exit)."""
SNAPSHOT = {
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


class SnapshotWarning(UserWarning):
    """What a pull did about export snapshots on the server besides its own (or failed to)."""


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


def _title(until: float) -> str:
    """A new snapshot's title: ours, this pull's own, and when this pull gives up."""
    return f"{TITLE} {secrets.token_hex(4)}, until {time.strftime(STAMP, time.gmtime(until))}"


def _expired(title: object, now: float) -> bool:
    """Whether a snapshot so titled is a pull's that no pull may still read: its deadline has
    passed (one titled as earlier versions did, without a deadline: always)."""
    match = _OURS.fullmatch(title) if isinstance(title, str) else None
    if match is None:
        return False
    if match[1] is None:
        return True
    try:
        return calendar.timegm(time.strptime(match[1], STAMP)) < now
    except ValueError:
        return False


def _snapshots(
    session: Session, project_id: int, until: float | None = None
) -> list[dict[str, Any]]:
    """The project's export snapshots, each with an id (``until``: a cleanup request,
    answered by that monotonic time or given up)."""
    path = f"api/projects/{project_id}/exports/"
    wait = None if until is None else max(until - time.monotonic(), 0.01)
    answer = session.json("GET", path, wait=wait, cleanup=until is not None, missing_ok=True)
    if answer is None:  # a server without snapshots
        return []
    if not isinstance(answer, list) or not all(
        isinstance(s, dict) and type(s.get("id")) is int for s in answer
    ):
        raise session.error("GET", session.url(path), "the answer is not a list of snapshots")
    return answer


def _delete(session: Session, project_id: int, snapshot: int, until: float | None = None) -> None:
    """Remove one snapshot (already gone: done)."""
    wait = None if until is None else max(until - time.monotonic(), 0.01)
    path = f"api/projects/{project_id}/exports/{snapshot}"
    session.json("DELETE", path, wait=wait, cleanup=until is not None, missing_ok=True)


def _remove_expired(session: Session, project_id: int) -> None:
    """Remove the snapshots earlier pulls left (killed before they could), saying how many
    (housekeeping: a listing the server does not give as Label Studio does is left alone)."""
    now = time.time()
    removed = failed = 0
    try:
        listed = _snapshots(session, project_id)
    except ClaimwireError:
        return
    for snapshot in listed:
        if not _expired(snapshot.get("title"), now) or snapshot.get("status") in BUILDING:
            continue
        try:
            _delete(session, project_id, snapshot["id"])
            removed += 1
        except ClaimwireError:
            failed += 1
    if removed or failed:
        warnings.warn(
            SnapshotWarning(
                f"Label Studio project {project_id}: removed {removed} export snapshot"
                f"{'s' * (removed != 1)} that earlier, interrupted pulls left on the server"
                + (f"; {failed} could not be removed" if failed else "")
            ),
            stacklevel=1,
        )


def _state(
    session: Session, project_id: int, title: str, snapshot: int | None, until: float
) -> tuple[int, bool] | None:
    """This pull's snapshot (by id, else by title) and whether it is built; None: not there."""
    if snapshot is None:
        mine = [s for s in _snapshots(session, project_id, until) if s.get("title") == title]
        found = mine[0] if mine else None
    else:
        path = f"api/projects/{project_id}/exports/{snapshot}"
        wait = max(until - time.monotonic(), 0.01)
        found = session.json("GET", path, wait=wait, cleanup=True, missing_ok=True)
    if not isinstance(found, dict):
        return None
    return found["id"] if snapshot is None else snapshot, found.get("status") not in BUILDING


def _remove(
    session: Session, project_id: int, title: str, snapshot: int | None, built: bool
) -> None:
    """Remove this pull's snapshot (``snapshot``: its id once known) within :data:`CLEANUP`
    seconds, else warn naming it. One the server still builds is waited for (deleted
    earlier, Label Studio writes it again once built), then deleted all the same."""
    until = time.monotonic() + min(session.limits.timeout, CLEANUP)
    try:
        while not built and time.monotonic() + POLL_FIRST < until:
            state = _state(session, project_id, title, snapshot, until)
            if state is None:
                return  # never made, or already gone
            snapshot, built = state
            if not built:
                time.sleep(POLL_FIRST)
        if snapshot is None:
            raise ClaimwireError(f"not found within {CLEANUP:g} s")
        _delete(session, project_id, snapshot, until)
        if not built:
            raise ClaimwireError("deleted while the server was still building it")
    except ClaimwireError as error:
        named = f"{snapshot} " if snapshot is not None else ""
        warnings.warn(
            SnapshotWarning(
                f"Label Studio project {project_id}: export snapshot {named}({title!r}) may be "
                f"left on the server ({error}); delete it there, or a pull after its deadline "
                "removes it"
            ),
            stacklevel=1,
        )


def _snapshot(
    session: Session, project_id: int, title: str, progress: Progress | None
) -> int | None:
    """A completed snapshot's id, or None when the server has no snapshots. Removed again if
    anything (an error, Ctrl-C, SIGTERM) ends this before it is done."""
    path = f"api/projects/{project_id}/exports/"
    url = session.url(path)
    if progress:
        progress("exporting", 0, None)
    snapshot: int | None = None
    try:
        created = session.json(
            "POST",
            path,
            body={**SNAPSHOT, "title": title},
            wait=session.remaining("POST", url),
            missing_ok=True,
        )
        if created is None:
            return None
        if not isinstance(created, dict) or not isinstance(created.get("id"), int):
            raise session.error("POST", url, "the answer is not an export snapshot")
        status = created.get("status")
        snapshot = created["id"]
        detail = f"api/projects/{project_id}/exports/{snapshot}"
        pause = POLL_FIRST
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
        _remove(session, project_id, title, snapshot, built=False)
        raise
    return snapshot


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
    exports = session.url(f"api/projects/{project_id}/exports/")
    named = _title(time.time() + session.remaining("POST", exports))
    _remove_expired(session, project_id)
    snapshot = _snapshot(session, project_id, named, progress)
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
            _remove(session, project_id, named, snapshot, built=True)
