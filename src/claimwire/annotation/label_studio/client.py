"""The annotation-project round trip with a Label Studio server.

``push`` creates or updates the project called NAME (same name, same project), lists the
project's tasks once (a dict from ``doc_id`` to task: re-running never duplicates), imports
the new documents as tasks in batches, with optional pre-annotations as predictions whose
``model_version`` is the run's signature, and adds the run's predictions to tasks that do not
have them yet through the bulk prediction import, in batches. ``pull`` (:mod:`.export`)
exports the project in full JSON (not JSON_MIN, which drops relations) through an export
snapshot and turns it into one annotation set per annotator. Every request is bounded
(:mod:`.transport`): timeouts, retries, a deadline, the failing URL named, the token never
printed.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claimwire.annotation.label_studio.config import (
    STANCE_CHOICES,
    STANCE_LABEL,
    TARGETS,
    stance_options,
)
from claimwire.annotation.label_studio.convert import from_results, to_results
from claimwire.annotation.label_studio.pulled import PulledSets
from claimwire.annotation.label_studio.tasks import (
    PAGE,
    Existing,
    Progress,
    Task,
    list_tasks,
    outdated,
    remove_idle,
    wait_until_settled,
)
from claimwire.annotation.label_studio.transport import Connection, Limits, Refusal, Session
from claimwire.annotation.schema import Schema
from claimwire.annotation.targets import TARGET, targets_of
from claimwire.engine import batches
from claimwire.errors import ClaimwireError, RecordError
from claimwire.formats.texts import TextCheck
from claimwire.model import Annotation, Document, Relation
from claimwire.names import author_name

__all__ = ["Connection", "Limits", "Progress", "Session", "client", "convert_export", "push"]

BATCH = 1000
"""Tasks (or predictions) per import request."""
Predictions = Mapping[str, tuple[list[Annotation], list[Relation]]]
Chunk = tuple[Sequence[Document], Predictions, Mapping[str, Sequence[Annotation]]]
"""Documents with their predictions and TARGET items, by document: what a push sends at once."""


def client(connection: Connection) -> Any:
    """The Label Studio SDK's client for the same server (tests and benchmarks use it)."""
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=connection.url, api_key=connection.token)  # type: ignore[no-untyped-call]


@dataclass
class PushReport:
    project_id: int
    created: bool
    imported: int
    skipped: int
    """Documents pushed that had a task already."""
    predictions: int
    removed: int = 0
    """Copies of a document's task deleted (an interrupted push's import finished late)."""
    kept: list[Task] = field(default_factory=list)
    """Copies left because someone worked on them."""
    outdated: list[Task] = field(default_factory=list)
    """Tasks of documents the release does not hold (changed or withdrawn since), as found."""
    removed_outdated: int = 0
    """Of those, the ones nobody worked on that were deleted (when asked)."""


def find_project(session: Session, title: str) -> dict[str, Any] | None:
    """The project called ``title`` (the server filters by title; the match here is exact)."""
    params = {"title": title, "include": "id,title,label_config"}
    for page in session.listing("api/projects/", params, "results", page_size=100):
        for project in page:
            if project.get("title") == title:
                return project
    return None


def _object_with_id(session: Session, answer: Any, method: str, path: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
        raise session.error(method, session.url(path), "the answer is not an object with an id")
    return answer


def _project(session: Session, title: str, label_config: str) -> tuple[dict[str, Any], bool]:
    """The project called ``title`` with ``label_config`` (created or updated), and whether
    it was created."""
    project = find_project(session, title)
    if project is None:
        path = "api/projects/"
        created = session.json("POST", path, body={"title": title, "label_config": label_config})
        return _object_with_id(session, created, "POST", path), True
    if str(project.get("label_config")).strip() != label_config.strip():  # stored stripped
        _change_config(session, project, label_config)
    return project, False


REFUSALS = 10
"""Lines of Label Studio's reasons a refused config change quotes at most."""


def _change_config(session: Session, project: Mapping[str, Any], label_config: str) -> None:
    """PATCH the project's label config; a change Label Studio refuses (annotations using
    controls or labels it would remove) is an error saying what the server said."""
    try:
        session.json("PATCH", f"api/projects/{project['id']}/", body={"label_config": label_config})
    except Refusal as refusal:
        errors = (
            refusal.answer.get("validation_errors") if isinstance(refusal.answer, dict) else None
        )
        said = errors.get("label_config") if isinstance(errors, dict) else None
        if refusal.status != 400 or not isinstance(said, list):
            raise
        lines = [line.strip() for text in said for line in str(text).splitlines() if line.strip()]
        shown = lines[:REFUSALS] + (
            [f"and {len(lines) - REFUSALS} more"] if len(lines) > REFUSALS else []
        )
        reasons = "; ".join(shown).replace(":; ", ": ")
        message = (
            f"Label Studio refused to change the label config of project {project.get('title')!r} "
            f"(id {project['id']}): {reasons} — the project keeps its config: push with the "
            "config it was made with (--config), or change those annotations in Label Studio first"
        )
        raise ClaimwireError(session.redact(message)) from None


def existing_tasks(
    session: Session, project_id: int, versions: bool, progress: Progress | None = None
) -> dict[str, Existing]:
    """The project's tasks by ``doc_id`` (each document's first task), from one paged listing
    (with the model versions of their predictions when ``versions``)."""
    return list_tasks(session, project_id, versions, progress).tasks


def _task(
    document: Document,
    predictions: Predictions,
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
    if model_version is not None and document.id in predictions:
        annotations, relations = predictions[document.id]
        payload["predictions"] = [
            {
                "model_version": model_version,
                "result": to_results(annotations, relations, schema, document.text),
            }
        ]
    return payload


def _send_batches(
    session: Session,
    path: str,
    items: Sequence[dict[str, Any]],
    count_key: str,
    stage: str,
    progress: Progress | None,
) -> None:
    """POST ``items`` in batches of :data:`BATCH`; the server must say it created each one
    (``count_key`` of its answer)."""
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        answer = session.json("POST", path, body=batch)
        created = answer.get(count_key) if isinstance(answer, dict) else None
        if created != len(batch):
            raise session.error(
                "POST",
                session.url(path),
                f"sent {len(batch)}, the server says it created {created!r} ({count_key!r})",
            )
        if progress:
            progress(stage, start + len(batch), len(items))


def push(
    connection: Connection,
    title: str,
    label_config: str,
    documents: Iterable[Document],
    predictions: Predictions | None,
    model_version: str | None,
    schema: Schema,
    progress: Progress | None = None,
    targets: Mapping[str, Sequence[Annotation]] | None = None,
    limits: Limits | None = None,
) -> PushReport:
    """Create or update the project and import one task per new document; each task carries
    its document's TARGET items (``targets``: doc id → items) and their stance options.
    Predictions (doc id → annotations and relations) go with new tasks, and onto tasks
    already there that have no prediction of ``model_version`` yet."""
    chunks = ((chunk, predictions or {}, targets or {}) for chunk in batches(documents, BATCH))
    return push_chunks(
        connection,
        title,
        label_config,
        chunks,
        (model_version or "claimwire") if predictions is not None else None,
        schema,
        progress,
        limits,
    )


def push_chunks(
    connection: Connection,
    title: str,
    label_config: str,
    chunks: Iterable[Chunk],
    model_version: str | None,
    schema: Schema,
    progress: Progress | None = None,
    limits: Limits | None = None,
    release: Container[str] | None = None,
    remove_outdated: bool = False,
) -> PushReport:
    """:func:`push`, the documents coming a chunk at a time with their predictions and TARGET
    items (predictions only with a ``model_version``): each chunk's new tasks, then its
    predictions onto tasks already there, go in bulk requests of :data:`BATCH`, so neither
    the documents nor the run are held. ``release``: the ids of every document of the
    release (each split); the tasks of other documents are reported as outdated, and those
    nobody worked on deleted when ``remove_outdated``."""
    with Session(connection, limits) as session:
        project, created = _project(session, title, label_config)
        project_id = project["id"]
        if not created:
            wait_until_settled(session, project_id, progress)
        listing = list_tasks(session, project_id, model_version is not None, progress)
        existing = listing.tasks
        imported = predicted = skipped = 0
        for documents, found, targets in chunks:
            new = [d for d in documents if d.id not in existing]
            skipped += len(documents) - len(new)
            _send_batches(
                session,
                f"api/projects/{project_id}/import",
                [_task(d, found, model_version, schema, targets.get(d.id, ())) for d in new],
                "task_count",
                "importing tasks",
                progress,
            )
            imported += len(new)
            if model_version is None:
                continue
            predicted += sum(1 for d in new if d.id in found)
            pending = [
                {
                    "task": existing[d.id].task_id,
                    "model_version": model_version,
                    "result": to_results(*found[d.id], schema, d.text),
                }
                for d in documents
                if d.id in found
                and d.id in existing
                and model_version not in existing[d.id].versions
            ]
            _send_batches(
                session,
                f"api/projects/{project_id}/import/predictions",
                pending,
                "created",
                "importing predictions",
                progress,
            )
            predicted += len(pending)
        copies = list_tasks(session, project_id, False).copies if imported else listing.copies
        removed = remove_idle(session, project_id, copies, BATCH)
        stale = outdated(existing, release) if release is not None else []
        dropped = remove_idle(session, project_id, stale, BATCH) if remove_outdated else 0
    kept = [c for c in copies if c.worked]
    return PushReport(
        project_id, created, imported, skipped, predicted, removed, kept, stale, dropped
    )


ID_DIGITS = 19
"""Digits of a user id given as a string (a 64-bit integer's): a longer string of digits is a
name, not an id."""


def annotator_name(annotation: Mapping[str, Any], users: Mapping[int, str]) -> str:
    """Who completed a Label Studio annotation: ``completed_by`` as an object's e-mail (else
    ``user<id>``), as an id looked up in ``users`` (else ``user<id>``), as a string (what
    label-studio-converter writes to a JSON-MIN export's ``annotator``: the e-mail, or an id
    as digits), else ``unknown``; capped and kept on one visible line
    (:func:`names.author_name`). A file name is made of it by :func:`names.safe_name`."""
    return author_name(_completed_by(annotation.get("completed_by"), users))


def _completed_by(who: object, users: Mapping[int, str]) -> str:
    if isinstance(who, dict):
        return _user(who.get("id"), who.get("email"))
    if isinstance(who, str) and who.isascii() and who.isdigit() and len(who) <= ID_DIGITS:
        who = int(who)
    if isinstance(who, int) and not isinstance(who, bool):
        return users.get(who, f"user{who}")
    if isinstance(who, str) and who.strip():
        return who
    return "unknown"


def _user(user_id: object, email: object) -> str:
    """A user's name: their e-mail, else ``user<id>``."""
    return email if isinstance(email, str) and email.strip() else f"user{user_id}"


@dataclass
class PullResult:
    sets: PulledSets = field(default_factory=PulledSets)
    problems: list[str] = field(default_factory=list)
    tasks: int = 0
    outdated: int = 0
    """Tasks without annotations of documents the release does not hold (nothing lost)."""
    first_outdated: str | None = None
    """The document id the first of them names."""


def convert_export(
    tasks: Iterable[Mapping[str, Any]],
    documents: Mapping[str, Document],
    schema: Schema,
    users: Mapping[int, str] | None = None,
    source: str = "export",
) -> PullResult:
    """Full-JSON export → one annotation set per annotator (cancelled annotations skipped),
    spooled (:class:`PulledSets`)."""
    result = PullResult()
    texts = TextCheck()
    for task in tasks:
        result.tasks += 1
        data = task.get("data") or {}
        annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        document = documents.get(str(data.get("doc_id")))
        if document is None and not annotations:
            result.outdated += 1
            if result.first_outdated is None:
                result.first_outdated = str(data.get("doc_id"))
            continue
        if document is None:
            result.problems.append(
                f"{source}: task {task.get('id')}: doc_id {data.get('doc_id')!r} is not a "
                f"document of the release (changed or withdrawn since it was pushed?): its "
                f"{len(annotations)} annotation{'s' * (len(annotations) != 1)} skipped; pull "
                "with --release naming the release it was pushed from to read them"
            )
            continue
        where = f"{source}: task {task.get('id')}"
        mismatch = (
            None if data.get("text") is None else texts.problem(where, data["text"], document)
        )
        if mismatch is not None:
            result.problems.append(f"{where}: its text is {mismatch}; skipped")
            continue
        try:
            given = _given_targets(data, schema)
        except RecordError as error:
            result.problems.append(
                f"{source}: task {task.get('id')}: its {TARGETS} are not valid ({error}); "
                "its stances keep their target ids, without the TARGET items"
            )
            given = []
        for annotation in annotations:
            author = annotator_name(annotation, users or {})
            where = (
                f"{source}: task {task.get('id')} annotation {annotation.get('id')} ({author}): "
            )
            converted = from_results(
                annotation.get("result") or [], document, schema, author, where, given
            )
            result.sets.add(author, document.id, task.get("id"), annotation.get("id"), converted)
            result.problems += converted.problems
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


def users_by_id(session: Session) -> dict[int, str]:
    """The server's users: id → e-mail (a missing e-mail becomes ``user<id>``)."""
    users: dict[int, str] = {}
    for page in session.listing("api/users/", {}, "results", page_size=PAGE):
        for user in page:
            users[user["id"]] = _user(user["id"], user.get("email"))
    return users


def validate_config(
    connection: Connection, project_id: int, label_config: str, limits: Limits | None = None
) -> None:
    """Ask the server whether a labeling config is valid for a project (an error if not)."""
    with Session(connection, limits) as session:
        session.json(
            "POST",
            f"api/projects/{project_id}/validate/",
            body={"label_config": label_config},
        )
