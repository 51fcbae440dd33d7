"""A project's tasks on the server: the listing a push works from, and its repairs.

Label Studio finishes a bulk import whose client is gone (a push ended by SIGTERM or SIGKILL
while its request was in flight), so a push re-run at once may see none of those tasks and
import the documents again. A push therefore waits until the project's task count is stable
before it imports (:func:`wait_until_settled`), and afterwards removes the copies a document
has beyond its first task (:func:`remove_idle`), never one that holds someone's work.

A task whose document the pushed release does not hold (:func:`outdated`: the document changed
since, and its new version got a task of its own, or it was withdrawn) is named to the user,
and removed only when asked and nobody worked on it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from claimwire.annotation.label_studio.transport import Refusal, Session
from claimwire.errors import ClaimwireError

PAGE = 1000
"""Tasks per page when listing a project."""
SETTLE = 60.0
"""Seconds a push waits for an earlier import still running on the server."""
POLL = 1.0
"""Seconds between two reads of the project's task count."""
WORK = ("total_annotations", "cancelled_annotations", "annotations_ids", "drafts", "draft_exists")
"""A task's fields that show a person's work on it. Label Studio fills ``drafts`` (the
token's own) and ``draft_exists`` (anyone's) only in a ``fields=all`` listing; otherwise
``drafts`` is an empty list whatever the task holds: a task a listing calls idle is checked
again before it is deleted (:func:`remove_idle`)."""

Progress = Callable[[str, int, int | None], None]
"""Called as ``progress(stage, done, total)`` while a long step runs."""


@dataclass(frozen=True)
class Existing:
    """A document's task: its id, its predictions' model versions, whether someone worked on it."""

    task_id: int
    versions: frozenset[str]
    worked: bool


@dataclass(frozen=True)
class Task:
    """A task named: its document, its id, whether someone worked on it."""

    doc_id: str
    task_id: int
    worked: bool


@dataclass
class Listing:
    """A project's tasks: the first of each document by ``doc_id``, and the other copies."""

    tasks: dict[str, Existing] = field(default_factory=dict)
    copies: list[Task] = field(default_factory=list)
    """Each document's tasks beyond its first (lowest id) one."""
    predicted: bool = False
    """Whether a task listed has (or may have) a prediction, when their number was asked."""


def _worked(task: dict[str, Any]) -> bool:
    """Whether someone worked on ``task``: an annotation (cancelled too) or a draft; also
    when the server's listing says nothing of either (never delete what cannot be seen)."""
    if not any(name in task for name in WORK):
        return True
    return any(task.get(name) for name in WORK)


def _versions(task: dict[str, Any]) -> frozenset[str]:
    predictions = task.get("predictions") or []
    return frozenset(
        str(p.get("model_version"))
        for p in (predictions if isinstance(predictions, list) else [])
        if isinstance(p, dict)
    )


def list_tasks(
    session: Session, project_id: int, versions: bool, progress: Progress | None = None
) -> Listing:
    """The project's tasks: each document's lowest-id task (with its predictions' model
    versions when ``versions``) and every other copy. The predictions (``fields=all``: a
    page's time doubled, and each prediction's whole result) are asked for only when a first
    listing shows a task that has one: pushing a run onto tasks without predictions lists
    them once, cheaply (5,000 tasks: 70 s of a 170 s push was the listing with predictions)."""
    if not versions:
        return _listing(session, project_id, "", progress)
    first = _listing(session, project_id, ",total_predictions", progress)
    return _listing(session, project_id, ",predictions", progress) if first.predicted else first


def _listing(session: Session, project_id: int, more: str, progress: Progress | None) -> Listing:
    """One paged listing of the project's tasks, ``more`` fields included."""
    params: dict[str, Any] = {"project": project_id, "include": "id,data," + ",".join(WORK) + more}
    if "predictions" in more.split(","):
        params["fields"] = "all"  # what brings the predictions themselves
    listing = Listing()
    pages = session.listing(
        "api/tasks/",
        params,
        "tasks",
        page_size=PAGE,
        progress=(lambda done, total: progress("listing tasks", done, total)) if progress else None,
    )
    for page in pages:
        for task in page:
            # a task whose count is not given may have predictions: they are asked for
            listing.predicted = listing.predicted or task.get("total_predictions") != 0
            data = task.get("data")
            doc_id = data.get("doc_id") if isinstance(data, dict) else None
            if not doc_id:
                continue
            this = Existing(task["id"], _versions(task), _worked(task))
            first = listing.tasks.setdefault(str(doc_id), this)
            if first is not this:
                later, listing.tasks[str(doc_id)] = (
                    (this, first) if this.task_id > first.task_id else (first, this)
                )
                listing.copies.append(Task(str(doc_id), later.task_id, later.worked))
    return listing


def task_count(session: Session, project_id: int) -> int:
    """The project's task count as the server reports it."""
    path = f"api/projects/{project_id}/"
    answer = session.json("GET", path)
    count = answer.get("task_number") if isinstance(answer, dict) else None
    if not isinstance(count, int) or isinstance(count, bool):
        raise session.error("GET", session.url(path), "the answer has no task_number")
    return count


def wait_until_settled(
    session: Session,
    project_id: int,
    progress: Progress | None = None,
    limit: float | None = None,
    poll: float | None = None,
) -> None:
    """Return once the project's task count is the same in two reads ``poll`` seconds apart
    (:data:`POLL`); an error when it is still changing after ``limit`` seconds
    (:data:`SETTLE`: an import still running)."""
    limit = SETTLE if limit is None else limit
    poll = POLL if poll is None else poll
    start = time.monotonic()
    count = task_count(session, project_id)
    while True:
        time.sleep(poll)
        now = task_count(session, project_id)
        if now == count:
            return
        waited = time.monotonic() - start
        if waited >= limit:
            raise ClaimwireError(
                f"project {project_id}: its task count is still changing after {limit:.0f} s "
                f"({count:,} → {now:,}): an earlier import is still running on the server; "
                "re-run the push once it has finished"
            )
        if progress:
            progress("waiting for an earlier import to finish", int(waited), int(limit))
        count = now


def outdated(tasks: Mapping[str, Existing], release: Container[str]) -> list[Task]:
    """The tasks of documents ``release`` does not hold (doc id → each document's first task)."""
    return [
        Task(doc_id, task.task_id, task.worked)
        for doc_id, task in tasks.items()
        if doc_id not in release
    ]


def remove_idle(session: Session, project_id: int, tasks: Iterable[Task], batch: int) -> int:
    """Delete the tasks nobody worked on, ``batch`` at a time; how many were deleted. Just
    before each batch is deleted, the server is asked which of its tasks hold an annotation
    or anyone's draft (a cheap listing cannot see a draft): those are kept."""
    idle = [t.task_id for t in tasks if not t.worked]
    deleted = 0
    for start in range(0, len(idle), batch):
        chosen = _unworked(session, project_id, idle[start : start + batch])
        if not chosen:  # never an empty list: it means every task
            continue
        failure, left = _delete(session, project_id, chosen)
        if left:
            untried = max(0, len(idle) - start - batch)
            ids = ", ".join(map(str, left[:SHOWN])) + (" …" if len(left) > SHOWN else "")
            raise ClaimwireError(
                f"{failure}; not deleted: {len(left):,} tasks (ids {ids})"
                + (f", and {untried:,} more not tried" if untried else "")
                + (f"; {deleted:,} deleted before them" if deleted else "")
                + " — Label Studio on SQLite refuses writes while another request (an import) "
                "holds its database: re-run the push once it is done"
            )
        deleted += len(chosen)
    return deleted


CHECKED = 250
"""Task ids one listing of :func:`_unworked` names (in its URL: a few KB)."""
WORKED = [
    {"filter": "filter:tasks:draft_exists", "operator": "equal", "type": "Boolean", "value": True},
    *(
        {"filter": f"filter:tasks:{name}", "operator": "greater", "type": "Number", "value": 0}
        for name in ("total_annotations", "cancelled_annotations")
    ),
]
"""Label Studio's Data Manager filters for a task someone worked on: a draft (anyone's:
``draft_exists`` is evaluated for a filter, unlike ``drafts``, the token's own) or an
annotation, cancelled too."""


def _unworked(session: Session, project_id: int, ids: list[int]) -> list[int]:
    """Those of ``ids`` that hold no annotation and no draft now: the server lists, for
    :data:`CHECKED` of them at a time, the ids among them its work filters match."""
    worked: set[int] = set()
    for start in range(0, len(ids), CHECKED):
        query = {
            "filters": {"conjunction": "or", "items": WORKED},
            "selectedItems": {"all": False, "included": ids[start : start + CHECKED]},
        }
        params = {"project": project_id, "include": "id", "query": json.dumps(query)}
        for page in session.listing("api/tasks/", params, "tasks", page_size=PAGE):
            worked.update(task["id"] for task in page)
    return [task_id for task_id in ids if task_id not in worked]


SHOWN = 10
"""Task ids an error about a deletion names."""


def _delete(session: Session, project_id: int, chosen: list[int]) -> tuple[str, list[int]]:
    """Delete the tasks ``chosen``; what failed last and the ids still in the project (none:
    all deleted). An error answer of the server (SQLite's "database is locked" is an HTTP
    500, and may come after the tasks were unlinked from the project), an answer lost, or a
    count short of ``chosen`` is checked by listing those of ``chosen`` still there, which
    are asked again, with backoff, ``--retries`` times: the action matches only the
    project's tasks, so asking again deletes nothing twice."""
    path = "api/dm/actions"
    params = {"project": project_id, "id": "delete_tasks"}
    url = session.url(path, params)
    failure = ""
    for attempt in range(session.limits.retries + 1):
        if attempt:
            session.pause("POST", url, attempt - 1)
        body = {"project": project_id, "selectedItems": {"all": False, "included": chosen}}
        try:
            answer = session.json("POST", path, params=params, body=body)
        except Refusal as refusal:
            if refusal.status < 500:
                raise
            failure = refusal.message
        except ClaimwireError as error:  # no answer: it may have been done
            failure = error.message
        else:
            deleted = answer.get("processed_items") if isinstance(answer, dict) else None
            if deleted == len(chosen):
                return "", []
            failure = session.error(
                "POST", url, f"asked to delete {len(chosen)} tasks, the server says {deleted!r}"
            ).message
        chosen = _still_there(session, project_id, chosen)
        if not chosen:
            return "", []
    return f"{failure} (tried {session.limits.retries + 1} times)", chosen


def _still_there(session: Session, project_id: int, ids: list[int]) -> list[int]:
    """Those of ``ids`` that are tasks of the project (one listing of those ids alone)."""
    chosen = json.dumps({"selectedItems": {"all": False, "included": ids}})
    params = {"project": project_id, "include": "id", "query": chosen}
    pages = session.listing("api/tasks/", params, "tasks", page_size=PAGE)
    return sorted(task["id"] for page in pages for task in page)
