"""The annotation-project round trip with a Label Studio server (label-studio-sdk 2.x).

``push`` creates or updates the project called NAME (same name, same project), imports one
task per document that is not there yet (matched by ``doc_id``: re-running never duplicates),
with optional pre-annotations as predictions whose ``model_version`` is the run's signature.
``pull`` exports the project in full JSON (not JSON_MIN, which drops relations) and turns it
into one annotation set per annotator. Network errors are retried with backoff, then
reported; the token is never printed.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from claimwire.annotation.label_studio.config import (
    STANCE_CHOICES,
    STANCE_LABEL,
    TARGETS,
    stance_options,
)
from claimwire.annotation.label_studio.convert import Converted, from_results, to_results
from claimwire.annotation.schema import Schema
from claimwire.annotation.targets import TARGET, targets_of
from claimwire.errors import ClaimwireError, RecordError
from claimwire.model import Annotation, Document, Relation

T = TypeVar("T")
BATCH = 500


@dataclass
class Connection:
    url: str
    token: str

    def __repr__(self) -> str:  # never show the token
        return f"Connection(url={self.url!r}, token=***)"


def _transient() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, ConnectionError, TimeoutError)


def with_retries(
    call: Callable[[], T], connection: Connection, attempts: int = 4, delay: float = 0.5
) -> T:
    """Run ``call``, retrying network failures with exponential backoff, then a clear error."""
    from label_studio_sdk.core.api_error import ApiError

    for attempt in range(attempts):
        try:
            return call()
        except _transient() as error:
            if attempt == attempts - 1:
                raise ClaimwireError(
                    f"cannot reach Label Studio at {connection.url} after {attempts} attempts: "
                    f"{type(error).__name__}"
                ) from None
            time.sleep(delay * 2**attempt)
        except ApiError as error:
            detail = error.body if isinstance(error.body, str | dict) else ""
            raise ClaimwireError(
                f"Label Studio answered HTTP {error.status_code}: {str(detail)[:300]}"
                + (" (check LABEL_STUDIO_API_KEY)" if error.status_code in (401, 403) else "")
            ) from None
    raise AssertionError("unreachable")


def client(connection: Connection) -> Any:
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=connection.url, api_key=connection.token)  # type: ignore[no-untyped-call]


@dataclass
class PushReport:
    project_id: int
    created: bool
    imported: int
    skipped: int
    predictions: int


def find_project(ls: Any, title: str, connection: Connection) -> Any | None:
    projects = with_retries(lambda: list(ls.projects.list()), connection)
    return next((p for p in projects if p.title == title), None)


def _task(
    document: Document,
    predictions: Mapping[str, tuple[list[Annotation], list[Relation]]] | None,
    model_version: str | None,
    schema: Schema,
    targets: Sequence[Annotation] = (),
) -> dict[str, Any]:
    stance = schema.attribute(STANCE_LABEL, "stance")
    named = [(t.id, t.name) for t in targets_of(targets, schema, document.text)]
    payload: dict[str, Any] = {
        "data": {
            "text": document.text,
            "doc_id": document.id,
            "title": document.meta.get("title") or document.id,
            TARGETS: [t.to_dict() for t in targets],
            STANCE_CHOICES: stance_options(named, stance.values if stance else ()),
        }
    }
    if predictions is not None and document.id in predictions:
        annotations, relations = predictions[document.id]
        payload["predictions"] = [
            {
                "model_version": model_version or "claimwire",
                "result": to_results(annotations, relations, schema, document.text),
            }
        ]
    return payload


def push(
    connection: Connection,
    title: str,
    label_config: str,
    documents: Sequence[Document],
    predictions: Mapping[str, tuple[list[Annotation], list[Relation]]] | None,
    model_version: str | None,
    schema: Schema,
    progress: Callable[[int, int], None] | None = None,
    targets: Mapping[str, Sequence[Annotation]] | None = None,
) -> PushReport:
    """Create or update the project and import one task per new document; each task carries
    its document's TARGET items (``targets``: doc id → items) and their stance options."""
    ls = client(connection)
    project = find_project(ls, title, connection)
    created = project is None
    if project is None:
        project = with_retries(
            partial(ls.projects.create, title=title, label_config=label_config), connection
        )
    elif project.label_config != label_config:
        with_retries(
            partial(ls.projects.update, id=project.id, label_config=label_config), connection
        )
    tasks = with_retries(partial(_all_tasks, ls, project.id), connection)
    existing = {str((t.data or {}).get("doc_id")): t for t in tasks if (t.data or {}).get("doc_id")}
    new = [d for d in documents if d.id not in existing]
    for start in range(0, len(new), BATCH):
        batch = [
            _task(d, predictions, model_version, schema, (targets or {}).get(d.id, ()))
            for d in new[start : start + BATCH]
        ]
        with_retries(
            partial(ls.projects.import_tasks, id=project.id, request=batch, return_task_ids=True),
            connection,
        )
        if progress:
            progress(start + len(batch), len(new))
    added = sum(1 for d in new if predictions is not None and d.id in predictions)
    for doc_id, task in existing.items():
        if predictions is None or doc_id not in predictions:
            continue
        versions = {
            getattr(p, "model_version", None) if not isinstance(p, dict) else p.get("model_version")
            for p in (task.predictions or [])
        }
        if model_version in versions:
            continue
        document = next(d for d in documents if d.id == doc_id)
        annotations, relations = predictions[doc_id]
        result = to_results(annotations, relations, schema, document.text)
        with_retries(
            partial(
                ls.predictions.create, task=task.id, model_version=model_version, result=result
            ),
            connection,
        )
        added += 1
    return PushReport(project.id, created, len(new), len(existing), added)


def _all_tasks(ls: Any, project_id: int) -> list[Any]:
    return list(ls.tasks.list(project=project_id, fields="all"))


def export_tasks(connection: Connection, title: str) -> list[dict[str, Any]]:
    """The project's tasks in Label Studio's full JSON export format."""
    ls = client(connection)
    project = find_project(ls, title, connection)
    if project is None:
        raise ClaimwireError(f"no Label Studio project named {title!r} at {connection.url}")
    chunks = with_retries(
        lambda: b"".join(
            ls.projects.exports.download_sync(
                id=project.id, export_type="JSON", download_all_tasks=True
            )
        ),
        connection,
    )
    data = json.loads(chunks)
    if not isinstance(data, list):
        raise ClaimwireError("unexpected export from Label Studio: not a list of tasks")
    return data


def _annotator(annotation: Mapping[str, Any], users: Mapping[int, str]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or f"user{who.get('id')}")
    if isinstance(who, int):
        return users.get(who, f"user{who}")
    return "unknown"


@dataclass
class PullResult:
    sets: dict[str, Converted] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    tasks: int = 0


def convert_export(
    tasks: Iterable[Mapping[str, Any]],
    documents: Mapping[str, Document],
    schema: Schema,
    users: Mapping[int, str] | None = None,
    source: str = "export",
) -> PullResult:
    """Full-JSON export → one annotation set per annotator (cancelled annotations skipped)."""
    result = PullResult()
    merged: dict[str, Converted] = defaultdict(Converted)
    for task in tasks:
        result.tasks += 1
        data = task.get("data") or {}
        document = documents.get(str(data.get("doc_id")))
        if document is None:
            result.problems.append(
                f"{source}: task {task.get('id')}: doc_id {data.get('doc_id')!r} "
                "is not a document of the release; skipped"
            )
            continue
        if data.get("text") not in (None, document.text):
            result.problems.append(
                f"{source}: task {task.get('id')}: its text differs from document "
                f"{document.id} of the release; skipped"
            )
            continue
        try:
            given = _given_targets(data, schema)
        except RecordError as error:
            result.problems.append(
                f"{source}: task {task.get('id')}: its {TARGETS} are not valid ({error}); "
                "its stances keep their target ids, without the TARGET items"
            )
            given = []
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                continue
            author = _annotator(annotation, users or {})
            where = (
                f"{source}: task {task.get('id')} annotation {annotation.get('id')} ({author}): "
            )
            converted = from_results(
                annotation.get("result") or [], document, schema, author, where, given
            )
            merged[author].annotations += converted.annotations
            merged[author].relations += converted.relations
            result.problems += converted.problems
    result.sets = dict(merged)
    return result


def _given_targets(data: Mapping[str, Any], schema: Schema) -> list[Annotation]:
    """The TARGET items a task carries (none for a schema without TARGETs); a malformed
    one is a :class:`RecordError`."""
    if TARGET not in schema.labels:
        return []
    items = data.get(TARGETS) or []
    if not isinstance(items, list):
        raise RecordError(f"'{TARGETS}' must be a list of TARGET records")
    return [Annotation.from_dict(item) for item in items]


def users_by_id(connection: Connection) -> dict[int, str]:
    ls = client(connection)
    users = with_retries(lambda: list(ls.users.list()), connection)
    return {u.id: u.email or f"user{u.id}" for u in users}


def validate_config(connection: Connection, project_id: int, label_config: str) -> None:
    """Ask the server whether a labeling config is valid for a project (an error if not)."""
    ls = client(connection)
    with_retries(
        lambda: ls.projects.validate_label_config(id=project_id, label_config=label_config),
        connection,
    )
