"""The annotation-project round trip: pure converters, then a real Label Studio server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.label_studio import server as label_studio_server
from claimwire.annotation.label_studio.client import (
    Connection,
    Limits,
    Session,
    client,
    push,
    validate_config,
)
from claimwire.annotation.label_studio.config import configs
from claimwire.annotation.label_studio.convert import from_results, region_id, to_results
from claimwire.annotation.label_studio.tasks import Task, remove_idle
from claimwire.annotation.schema import load_schema
from claimwire.corpus.ingest import RawDocument, build_document
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import load_annotation_set
from claimwire.model import Annotation, Document, Quote, Relation, replaced

from .helpers import REPO, canonical, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
SCHEMA = load_schema(RELEASE / "schema.yaml")
RELEASED = open_release(RELEASE)
DOCUMENT = next(RELEASED.documents())
GOLD = list(RELEASED.annotations())
GOLD_RELATIONS = list(RELEASED.relations())
TARGETS = [a for a in GOLD if a.label == "TARGET"]


def test_converters_round_trip_the_gold() -> None:
    results = to_results(GOLD, GOLD_RELATIONS, SCHEMA, DOCUMENT.text)
    converted = from_results(results, DOCUMENT, SCHEMA, "gold", targets=TARGETS)
    assert converted.problems == []
    assert canonical(converted.annotations, converted.relations) == canonical(GOLD, GOLD_RELATIONS)


def test_stance_choices_are_the_documents_own_targets() -> None:
    """Per-document targets: one ``<target id>=<stance>`` option per target and value."""
    results = to_results(GOLD, [], SCHEMA, DOCUMENT.text)
    [issuer] = [r for r in results if r["from_name"] == "issuer__stance"]
    assert sorted(issuer["value"]["choices"]) == sorted(
        f"{a.attributes['target']}={a.attributes['stance']}"
        for a in GOLD
        if a.label == "STANCE" and a.attributes["holder"] == "issuer"
    )
    assert all(t.id in {c.split("=")[0] for c in issuer["value"]["choices"]} for t in TARGETS)
    assert not any(r["value"].get("labels") == ["TARGET"] for r in results)


def test_per_region_attributes_share_the_region_id_and_are_typed() -> None:
    claim = next(a for a in GOLD if a.label == "NUM_STAT" and a.attributes.get("time_reference"))
    results = to_results([claim], [], SCHEMA, DOCUMENT.text)
    assert {r["id"] for r in results} == {region_id(claim.id)}
    number = next(r for r in results if r["type"] == "number")
    assert number["value"]["number"] == 94_800_000_000.0
    [back] = from_results(results, DOCUMENT, SCHEMA, "x").annotations
    assert back.attributes["value"] == "94800000000" and back.attributes["qualifier"] == "exact"
    source = next(a for a in GOLD if a.label == "SOURCE")
    [typed] = from_results(
        to_results([source], [], SCHEMA, DOCUMENT.text), DOCUMENT, SCHEMA, "x"
    ).annotations
    assert typed.attributes["named"] is True


def test_a_region_whose_text_is_not_the_document_is_reported_not_kept() -> None:
    claim = next(a for a in GOLD if a.label == "CLAIM")
    results = to_results([claim], [], SCHEMA, DOCUMENT.text)
    for result in results:
        result["value"]["start"] += 1  # the server accepts anything
    converted = from_results(results, DOCUMENT, SCHEMA, "x", where="task 1: ")
    assert converted.annotations == []
    assert len(converted.problems) == 1 and "task 1: region" in converted.problems[0]
    assert "is not the document's text" in converted.problems[0]


def test_a_region_past_the_end_of_the_text_says_so() -> None:
    """Not 'the document's text there None': where it ends, and how long the text is."""
    length = len(DOCUMENT.text)
    region = {"start": length - 3, "end": length + 10, "text": DOCUMENT.text[-3:]}
    result = {"id": "r9", "from_name": "label", "to_name": "text", "type": "labels"}
    results = [result | {"value": region | {"labels": ["CLAIM"]}}]
    converted = from_results(results, DOCUMENT, SCHEMA, "x", where="task 1: ")
    assert converted.annotations == []
    assert converted.problems == [
        f"task 1: region r9 (CLAIM) [{length - 3}, {length + 10}): it ends past the "
        f"document's {length} characters; skipped"
    ]
    backwards = [result | {"value": {"start": 5, "end": 5, "labels": ["CLAIM"]}}]
    [problem] = from_results(backwards, DOCUMENT, SCHEMA, "x").problems
    assert problem.endswith("[5, 5): expected 0 <= start < end; skipped")


def test_configs_are_generated_and_up_to_date() -> None:
    assert (
        run_cli(
            "annotate", "config", "--check", "--out", REPO / "annotation" / "label_studio"
        ).returncode
        == 0
    )
    xml = configs(SCHEMA)["full.xml"]
    for label in SCHEMA.span_labels():
        assert f'<Label value="{label}"' in xml
    assert 'name="CLAIM__claim_type"' in xml and 'name="issuer__stance"' in xml
    assert 'value="$stance_choices"' in xml and "Belt" not in xml  # targets come with tasks
    assert 'name="SURVEY__conductor"' in xml and '<Relation value="attributed_to"/>' in xml


def test_pull_from_file_needs_no_server(tmp_path: Path) -> None:
    export = [
        {
            "id": 7,
            "data": {"text": DOCUMENT.text, "doc_id": DOCUMENT.id},
            "annotations": [
                {
                    "id": 1,
                    "completed_by": {"id": 3, "email": "zoe@example.org"},
                    "result": to_results(GOLD, GOLD_RELATIONS, SCHEMA, DOCUMENT.text),
                },
                {"id": 2, "completed_by": 4, "was_cancelled": True, "result": []},
            ],
        }
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = run_cli(
        "annotate", "pull", "--from-file", path, "--out", tmp_path / "sets", "--release", RELEASE
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sets" / "zoe@example.org.jsonl").exists() and not (
        tmp_path / "sets" / "user4.jsonl"
    ).exists()
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    failed = run_cli(
        "annotate", "pull", "--from-file", broken, "--out", tmp_path / "x", "--release", RELEASE
    )
    assert failed.returncode == 1 and "not a Label Studio JSON export" in failed.stderr


# ---- against a real server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[label_studio_server.Server]:
    executable = label_studio_server.binary()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail(label_studio_server.MISSING)
        pytest.skip(label_studio_server.MISSING)
    with label_studio_server.label_studio(
        executable, tmp_path_factory.mktemp("label-studio")
    ) as running:
        yield running


def env(server: label_studio_server.Server, token: str | None = None) -> dict[str, str]:
    return {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token or server.token}


def cli(server: label_studio_server.Server, *args: str | Path, token: str | None = None):  # type: ignore[no-untyped-def]
    os.environ.update(env(server, token))
    try:
        return run_cli(*args)
    finally:
        for key in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
            os.environ.pop(key, None)


def project_named(ls: Any, title: str) -> Any:
    """The project called ``title``, as the server lists it."""
    return next(p for p in ls.projects.list() if p.title == title)


def pushed_release(server: label_studio_server.Server, kind: str) -> tuple[str, Any, Any]:
    """A new project ``KIND <nonce>`` made by ``annotate push RELEASE`` (one task: the
    release's document): its title, a client of the server, and the project."""
    title = f"{kind} {uuid.uuid4().hex[:8]}"
    assert cli(server, "annotate", "push", RELEASE, "--project", title).returncode == 0
    ls = client(Connection(server.url, server.token))
    return title, ls, project_named(ls, title)


@dataclass(frozen=True)
class Pushing:
    """A new project a test pushes synthetic documents to through the API (the full label
    config), and those documents."""

    connection: Connection
    title: str
    documents: list[Document]

    def push(self, documents: list[Document], predicted: Any = None, version: Any = None) -> Any:
        """``push`` of ``documents`` to the project (with a run's predictions, and its version)."""
        xml = configs(SCHEMA)["full.xml"]
        return push(self.connection, self.title, xml, documents, predicted, version, SCHEMA)


def to_push(server: label_studio_server.Server, kind: str, count: int) -> Pushing:
    """``count`` synthetic documents to push to a new project ``KIND <nonce>``."""
    tag = uuid.uuid4().hex[:6]
    title = f"{kind} {uuid.uuid4().hex[:8]}"
    return Pushing(Connection(server.url, server.token), title, synthetic_documents(count, tag))


def test_every_config_is_valid_on_the_server(server: label_studio_server.Server) -> None:
    connection = Connection(server.url, server.token)
    ls = client(connection)
    for name, xml in configs(SCHEMA).items():
        project = ls.projects.create(
            title=f"config {name} {uuid.uuid4().hex[:6]}", label_config=xml
        )
        validate_config(connection, project.id, xml)
        broken = xml.replace('toName="text"', 'toName="nowhere"', 1)
        with pytest.raises(ClaimwireError, match=r"HTTP 400"):
            validate_config(connection, project.id, broken)


def test_round_trip_with_two_annotators(server: label_studio_server.Server, tmp_path: Path) -> None:
    title = f"seed {uuid.uuid4().hex[:8]}"
    run = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
    pushed = cli(server, "annotate", "push", RELEASE, "--project", title, "--predictions", run)
    assert pushed.returncode == 0, pushed.stderr
    assert server.token not in pushed.stdout + pushed.stderr
    again = cli(server, "annotate", "push", RELEASE, "--project", title, "--predictions", run)
    assert "0 tasks imported, 1 already there" in again.stdout
    connection = Connection(server.url, server.token)
    ls = client(connection)
    project = project_named(ls, title)
    [task] = list(ls.tasks.list(project=project.id, fields="all"))
    signature = json.loads(run.with_name(run.name + ".meta.json").read_text())["signature"]
    assert [p.model_version for p in task.predictions] == [signature]
    # the task carries its own document's targets and their stance options
    assert [t["attributes"]["name"] for t in task.data["targets"]] == [
        t.attributes["name"] for t in TARGETS
    ]
    options = {o["value"]: o["html"] for o in task.data["stance_choices"]}
    assert len(options) == 3 * len(TARGETS)
    assert options[f"{TARGETS[0].id}=FAVOR"] == "the Belt and Road Initiative: FAVOR"
    # two annotators: alice reproduces the gold, bob disagrees on claim types and misses cues
    suffix = uuid.uuid4().hex[:6]
    alice = ls.users.create(username=f"alice{suffix}", email=f"alice{suffix}@claimwire.test")
    bob = ls.users.create(username=f"bob{suffix}", email=f"bob{suffix}@claimwire.test")
    bob_annotations = [
        replaced(a, attributes=dict(a.attributes, claim_type="other")) if a.label == "CLAIM" else a
        for a in GOLD
        if a.label != "CUE"
    ]
    kept = {a.id for a in bob_annotations}
    bob_relations = [
        replaced(r, attributes={k: v for k, v in r.attributes.items() if k != "cue"})
        for r in GOLD_RELATIONS
        if r.head in kept and r.tail in kept
    ]
    for user, created, links in (
        (alice, GOLD, GOLD_RELATIONS),
        (bob, bob_annotations, bob_relations),
    ):
        ls.annotations.create(
            id=task.id,
            result=to_results(created, links, SCHEMA, DOCUMENT.text),
            completed_by=user.id,
        )
    out = tmp_path / "pulled"
    pulled = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    for user, created, links in (
        (alice, GOLD, GOLD_RELATIONS),
        (bob, bob_annotations, bob_relations),
    ):
        back = load_annotation_set(out / f"{user.email}.jsonl")
        assert canonical(list(back.annotations), list(back.relations)) == canonical(created, links)
    agreement = run_cli(
        "annotate",
        "agree",
        out / f"{alice.email}.jsonl",
        out / f"{bob.email}.jsonl",
        "--release",
        RELEASE,
        "--json",
    )
    report = json.loads(agreement.stdout)
    assert report["unitizing_alpha"]["CLAIM"]["value"] == 1.0
    assert (
        report["attributes"]["CLAIM.claim_type"][f"kappa {alice.email} vs {bob.email}"]["value"] < 1
    )


def test_a_json_min_export_from_the_server_is_pulled(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """JSON-MIN as the running server writes it (not only the stored fixture) is read."""
    ls = client(Connection(server.url, server.token))
    project = ls.projects.create(
        title=f"min {uuid.uuid4().hex[:8]}", label_config=configs(SCHEMA)["full.xml"]
    )
    ls.projects.import_tasks(
        id=project.id,
        request=[{"doc_id": DOCUMENT.id, "text": DOCUMENT.text, "stance_choices": []}],
    )
    [task] = list(ls.tasks.list(project=project.id, fields="all"))
    ls.annotations.create(
        id=task.id, result=to_results(GOLD, GOLD_RELATIONS, SCHEMA, DOCUMENT.text)
    )
    export = tmp_path / "min.json"
    export.write_bytes(
        b"".join(
            ls.projects.exports.download_sync(
                id=project.id, export_type="JSON_MIN", download_all_tasks=True
            )
        )
    )
    out = tmp_path / "sets"
    pulled = run_cli("annotate", "pull", "--from-file", export, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    [written] = list(out.glob("*.jsonl"))
    back = load_annotation_set(written).annotations
    assert {(a.label, a.start, a.end) for a in back if a.is_span} == {
        (a.label, a.start, a.end)
        for a in GOLD
        if a.is_span and a.label != "TARGET"  # targets come with the task, not annotated
    }
    survey = next(a for a in back if a.label == "SURVEY")  # document-level choices are kept
    assert survey.attributes["conductor"] == "present"
    assert "JSON-MIN exports carry no relations" in pulled.stderr


def test_bad_token_and_unreachable_server_are_clear(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    wrong = cli(server, "annotate", "pull", "--project", "x", "--out", tmp_path, token="0" * 40)
    assert wrong.returncode == 1 and "HTTP 401" in wrong.stderr and "0" * 40 not in wrong.stderr
    os.environ.update(
        {"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "secret-token"}
    )
    try:
        down = run_cli(
            "annotate", "pull", "--project", "x", "--out", tmp_path, "--release", RELEASE
        )
    finally:
        os.environ.pop("LABEL_STUDIO_URL"), os.environ.pop("LABEL_STUDIO_API_KEY")
    assert down.returncode == 1 and "cannot reach Label Studio" in down.stderr
    assert "secret-token" not in down.stderr and "Traceback" not in down.stderr


def test_hostile_annotator_emails_stay_inside_out(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """An e-mail is a name, never a path; e-mails with the same local part never merge."""
    title, ls, project = pushed_release(server, "hostile")
    [task] = list(ls.tasks.list(project=project.id, fields="all"))
    suffix = uuid.uuid4().hex[:6]
    # Label Studio 1.23 refuses ../x/annotations@x but accepts a quoted local part and a slash
    emails = [
        f'"x/../../../annotations{suffix}"@x.example',
        f"a/{suffix}@x.example",
        f"al{suffix}@a.example",
        f"al{suffix}@b.example",
    ]
    for number, email in enumerate(emails):
        user = ls.users.create(username=f"h{number}{suffix}", email=email)
        assert user.email == email  # the server accepts it as it is
        ls.annotations.create(
            id=task.id,
            result=to_results(GOLD[: number + 1], [], SCHEMA, DOCUMENT.text),
            completed_by=user.id,
        )
    root = tmp_path / "root"
    out = root / "a" / "sets"
    pulled = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    every = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert all(p.parent == Path("a/sets") for p in every), every
    written = [p for p in every if p.suffix == ".jsonl"]
    assert len(written) == 4 and len(every) == 8  # and each set's list of completed documents
    sizes = sorted(len(load_annotation_set(root / p).annotations) for p in written)
    assert sizes == [1, 2, 3, 4]  # four annotators, four sets, nothing merged


# ---- at scale: bulk requests, export snapshots, personal access tokens ------------------------


def synthetic_documents(count: int, tag: str) -> list[Document]:
    return [
        build_document(
            RawDocument(
                f"Titre {tag} {i}\n\nPARIS, 3 mai 2024 — Le groupe {tag} annonce {i} "
                "millions d'euros de ventes.\n\nLe chiffre progresse de 4 %.",
                f"{tag}-{i}.txt",
                "0" * 64,
            )
        )
        for i in range(count)
    ]


def one_claim_each(documents: list[Document]) -> dict[str, tuple[list[Annotation], list[Relation]]]:
    predicted: dict[str, tuple[list[Annotation], list[Relation]]] = {}
    for document in documents:
        start, end = document.sentences[1]
        claim = Annotation(
            f"{document.id}:c",
            document.id,
            "claims",
            "CLAIM",
            start,
            end,
            Quote.from_text(document.text, start, end),
            {"claim_type": "other", "checkworthy": True},
        )
        predicted[document.id] = ([claim], [])
    return predicted


def requests_in_log(server: label_studio_server.Server, since: int, pattern: str) -> int:
    """How many requests the server logged past byte ``since`` that match ``pattern`` (its
    log writes each request line twice: a line repeating the one before is not counted)."""
    lines = server.log.read_bytes()[since:].decode("utf-8", "replace").splitlines()
    unique = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
    return sum(1 for line in unique if re.search(pattern, line))


def log_end_once_logged(server: label_studio_server.Server, since: int, pattern: str) -> int:
    """The log's size once a request matching ``pattern`` past byte ``since`` is in it: the
    server writes a request's line after answering it, so a busy machine may log it late."""
    deadline = time.monotonic() + 30
    while not requests_in_log(server, since, pattern):
        assert time.monotonic() < deadline, f"no request matching {pattern!r} logged in 30 s"
        time.sleep(0.05)
    return server.log.stat().st_size


def test_repush_lists_once_and_adds_predictions_in_bulk(
    server: label_studio_server.Server,
) -> None:
    """Re-push found each task with a lookup per task and created predictions one request
    per task (164 s for 500 tasks): now one listing and one bulk import per batch."""
    pushing = to_push(server, "bulk", 40)
    connection, documents = pushing.connection, pushing.documents
    first = pushing.push(documents[:30])
    assert (first.created, first.imported, first.skipped, first.predictions) == (True, 30, 0, 0)
    predicted = one_claim_each(documents)
    since = server.log.stat().st_size
    # 10 new tasks with their predictions; 30 tasks already there get theirs in bulk
    again = pushing.push(documents, predicted, "run-1")
    assert (again.created, again.imported, again.skipped, again.predictions) == (False, 10, 30, 40)
    assert requests_in_log(server, since, r"POST /api/predictions/") == 0
    assert (
        requests_in_log(server, since, rf"POST /api/projects/{first.project_id}/import/predictions")
        == 1
    )
    # one listing before the import, one after it (copies of a task are looked for); neither
    # brings predictions (fields=all: a page's time doubled): no task had one
    assert requests_in_log(server, since, r"GET /api/tasks/\?") == 2
    assert requests_in_log(server, since, r"GET /api/tasks/\?.*fields=all") == 0
    assert requests_in_log(server, since, r"GET /api/tasks/\d+") == 0
    # once more: nothing new, no prediction twice (the tasks have predictions: they are read)
    since = server.log.stat().st_size  # the two listings above are logged
    third = pushing.push(documents, predicted, "run-1")
    assert (third.imported, third.skipped, third.predictions) == (0, 40, 0)
    log_end_once_logged(server, since, r"GET /api/tasks/\?.*fields=all")
    assert requests_in_log(server, since, r"GET /api/tasks/\?") == 2
    tasks = list(client(connection).tasks.list(project=first.project_id, fields="all"))
    assert len(tasks) == 40
    assert all([p.model_version for p in t.predictions] == ["run-1"] for t in tasks)
    by_doc = {t.data["doc_id"]: t for t in tasks}
    for document in documents:
        [region] = [r for r in by_doc[document.id].predictions[0].result if r["type"] == "labels"]
        assert (region["value"]["start"], region["value"]["end"]) == document.sentences[1]


def test_push_removes_the_copies_an_interrupted_import_left(
    server: label_studio_server.Server,
) -> None:
    """A push killed while its import was in flight: the server finished that import after
    the re-run had listed the project, and every document had two tasks. Push now removes
    each document's later copies nobody worked on, and leaves (and names) one with work."""
    pushing = to_push(server, "copies", 8)
    connection, documents = pushing.connection, pushing.documents
    first = pushing.push(documents[:6])
    ls = client(connection)
    # the killed request, finished by the server: the same six tasks imported once more
    pushed = sorted(ls.tasks.list(project=first.project_id), key=lambda t: t.id)
    ls.projects.import_tasks(id=first.project_id, request=[{"data": t.data} for t in pushed])
    tasks = sorted(ls.tasks.list(project=first.project_id), key=lambda t: t.id)
    assert len(tasks) == 12
    originals = {t.data["doc_id"]: t.id for t in tasks[:6]}
    worked = tasks[6]  # a copy someone annotated: kept
    ls.annotations.create(id=worked.id, result=[], lead_time=1.0)
    drafted = tasks[7]  # a copy holding only a draft (a cheap listing shows none): kept
    with Session(connection) as session:
        session.json("POST", f"api/tasks/{drafted.id}/drafts", body={"result": [], "lead_time": 1})
    theirs = tasks[8]  # another annotator's draft (the API lists the token's own only): kept
    annotator = ls.users.create(username=f"d{uuid.uuid4().hex[:6]}", email="d@claimwire.test")
    with contextlib.closing(sqlite3.connect(server.database)) as database, database:
        database.execute(  # as Label Studio saves a draft a user has not submitted
            "INSERT INTO tasks_annotationdraft (result, created_at, updated_at, task_id, "
            "user_id, was_postponed, lead_time) VALUES ('[]', datetime('now'), "
            "datetime('now'), ?, ?, 0, 1.0)",
            (theirs.id, annotator.id),
        )
    since = server.log.stat().st_size

    again = pushing.push(documents)
    # the drafts were seen by asking which of those tasks hold work, not by listing every
    # task of the project with every field (a page of 1,000 tasks: ~10 s)
    log_end_once_logged(server, since, r"POST /api/dm/actions")
    assert requests_in_log(server, since, r"GET /api/tasks/\?.*fields=all") == 0

    left = sorted(ls.tasks.list(project=first.project_id), key=lambda t: t.id)
    by_doc: dict[str, list[int]] = {}
    for task in left:
        by_doc.setdefault(task.data["doc_id"], []).append(task.id)
    assert set(by_doc) == {d.id for d in documents}
    assert {doc: ids[0] for doc, ids in by_doc.items() if doc in originals} == originals
    assert {doc: len(ids) for doc, ids in by_doc.items() if len(ids) > 1} == {
        worked.data["doc_id"]: 2,
        drafted.data["doc_id"]: 2,
        theirs.data["doc_id"]: 2,
    }
    assert drafted.id in by_doc[drafted.data["doc_id"]]
    assert (again.imported, again.skipped, again.removed) == (2, 6, 3)
    assert [(c.doc_id, c.task_id) for c in again.kept] == [(worked.data["doc_id"], worked.id)]
    # once more: nothing to import, nothing to remove, the worked copy still named
    third = pushing.push(documents)
    assert (third.imported, third.removed, len(third.kept)) == (0, 0, 1)


def test_a_push_waits_while_an_earlier_push_is_still_importing(
    server: label_studio_server.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push started while an earlier one still imports (its batches committing one after
    another) waits until the project's task count settles, then finds every task: it imports
    nothing and deletes nothing. Without the wait it listed the project half-filled, imported
    the other documents again (copies annotators could open) and deleted them afterwards."""
    import itertools
    import threading

    from claimwire.annotation.label_studio import tasks as ls_tasks

    monkeypatch.setattr(ls_tasks, "POLL", 6.0)  # a loaded machine paused batches 2-3 s
    pushing = to_push(server, "settle", 60)
    connection, documents = pushing.connection, pushing.documents
    first = pushing.push(documents[:5])
    ls = client(connection)
    committed: list[float] = []

    def earlier_push() -> None:  # small batches: a commit well within every poll
        for start in range(5, len(documents), 5):
            batch = documents[start : start + 5]
            ls.projects.import_tasks(
                id=first.project_id,
                request=[{"text": d.text, "doc_id": d.id, "stance_choices": []} for d in batch],
            )
            committed.append(time.monotonic())

    running = threading.Thread(target=earlier_push)
    running.start()
    try:
        while not committed:  # the earlier push has begun adding tasks
            time.sleep(0.05)
        report = pushing.push(documents)
    finally:
        running.join()
    assert len(committed) == 11
    pause = max(b - a for a, b in itertools.pairwise(committed))
    if pause > ls_tasks.POLL and report.imported:
        pytest.skip(f"the server paused {pause:.1f} s between two batches: longer than the poll")
    assert (report.imported, report.skipped, report.removed) == (0, 60, 0)
    left = [t.data["doc_id"] for t in ls.tasks.list(project=first.project_id)]
    assert sorted(left) == sorted(d.id for d in documents)


def test_predictions_for_tasks_outside_the_pushed_documents_are_left_alone(
    server: label_studio_server.Server,
) -> None:
    """A run covering tasks of the project that this push does not name (another split)
    stopped the push with an internal error."""
    pushing = to_push(server, "split", 4)
    documents = pushing.documents
    pushing.push(documents)
    report = pushing.push(documents[:2], one_claim_each(documents), "v")
    assert (report.imported, report.skipped, report.predictions) == (0, 2, 2)


def test_a_new_release_names_the_tasks_of_documents_it_no_longer_holds(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """Pushing a new release onto a project left the tasks of changed and withdrawn documents
    as they were, said nothing, and counted them as "already there"; pull then listed each
    one as a problem, those nobody had opened too. Push now names them (with someone's
    work: pull skips it) and, with --remove-outdated, deletes the ones nobody worked on."""
    title, ls, project = pushed_release(server, "versions")
    # two documents of an earlier release: one changed (its text's hash moved), one withdrawn
    gone = [{"text": f"old text {i}", "doc_id": f"titre-{i}-0000000000", "stance_choices": []}
            for i in (1, 2)]  # fmt: skip
    ls.projects.import_tasks(id=project.id, request=gone)
    by_doc = {t.data["doc_id"]: t.id for t in ls.tasks.list(project=project.id)}
    worked = by_doc["titre-1-0000000000"]
    ls.annotations.create(id=worked, result=[], lead_time=1.0)
    results = to_results(GOLD[:1], [], SCHEMA, DOCUMENT.text)
    ls.annotations.create(id=by_doc[DOCUMENT.id], result=results)

    pushed = cli(server, "annotate", "push", RELEASE, "--project", title)
    assert pushed.returncode == 0, pushed.stderr
    assert "0 tasks imported, 1 already there" in pushed.stdout  # not 3: the release has 1
    assert "1 tasks nobody worked on are of documents release 1.1.0 does not hold" in (
        " ".join(pushed.stderr.split())
    )
    assert f"titre-1-0000000000: task {worked}" in pushed.stderr
    out = tmp_path / "sets"
    pulled = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert "3 tasks, 1 annotators, 1 problems" in pulled.stdout  # the idle one is no problem
    assert f"task {worked}: doc_id 'titre-1-0000000000'" in pulled.stderr
    assert "1 tasks without annotations" in " ".join(pulled.stderr.split())

    removing = cli(server, "annotate", "push", RELEASE, "--project", title, "--remove-outdated")
    assert removing.returncode == 0, removing.stderr
    assert "Removed 1 tasks nobody worked on" in " ".join(removing.stdout.split())
    left = {t.data["doc_id"]: t.id for t in ls.tasks.list(project=project.id)}
    assert left == {DOCUMENT.id: by_doc[DOCUMENT.id], "titre-1-0000000000": worked}


def test_a_pull_after_tasks_were_deleted_refuses_to_replace_the_earlier_one(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """A user deleted annotated tasks in Label Studio: the next pull replaced the earlier
    pull's folder without them ("0 tasks, 0 annotators"), then noted the loss. It now
    refuses before anything is replaced, counting and naming the documents the earlier
    pull's lists of completed documents named that this one lacks; --force replaces the
    folder and says what left it, and never removes what no pull wrote."""
    title, ls, project = pushed_release(server, "deleted")
    [task] = list(ls.tasks.list(project=project.id))
    ls.annotations.create(id=task.id, result=to_results(GOLD[:1], [], SCHEMA, DOCUMENT.text))
    out = tmp_path / "sets"
    first = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert first.returncode == 0 and "note:" not in first.stderr, first.stderr
    [listed] = out.glob("*.completed.txt")
    assert listed.read_text(encoding="utf-8").split() == [DOCUMENT.id]
    again = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert again.returncode == 0 and "note:" not in again.stderr, again.stderr  # nothing lost

    earlier = {path.name: path.read_bytes() for path in out.iterdir()}
    ls.tasks.delete(id=task.id)
    pull = ("annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    after = cli(server, *pull)
    assert after.returncode == 1 and "Traceback" not in after.stderr
    said = " ".join(after.stderr.split())
    assert (
        f"{out}: the earlier pull listed 1 completed documents, this one 0; 1 of the earlier "
        f"ones are not completed in this one ({listed.name.removesuffix('.completed.txt')}: 1; "
        f"{listed.name.removesuffix('.completed.txt')}: {DOCUMENT.id}) — annotations or tasks "
        "deleted in Label Studio since? Nothing was replaced: pull with --force"
    ) in said
    assert {path.name: path.read_bytes() for path in out.iterdir()} == earlier
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # not a pull's: never removed
    foreign = cli(server, *pull, "--force")
    assert foreign.returncode == 1 and "holds 'notes.txt', which no pull wrote" in foreign.stderr
    assert {path.name for path in out.iterdir()} == {*earlier, "notes.txt"}
    (out / "notes.txt").unlink()
    forced = cli(server, *pull, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "0 tasks, 0 annotators" in forced.stdout
    assert (
        f"warning: replaced the earlier pull in {out} (--force): the earlier pull listed 1 "
        "completed documents, this one 0; 1 of the earlier ones"
    ) in " ".join(forced.stderr.split())
    assert list(out.iterdir()) == []


def test_pull_reads_an_export_snapshot_and_removes_it(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """The synchronous export timed out at 10,000 annotated tasks: pull creates a snapshot,
    waits for it, streams it and deletes it; the sets are what the synchronous export gives."""
    title, ls, project = pushed_release(server, "snapshot")
    [task] = list(ls.tasks.list(project=project.id, fields="all"))
    annotator = ls.users.create(
        username=f"s{uuid.uuid4().hex[:6]}", email=f"s{uuid.uuid4().hex[:6]}@claimwire.test"
    )
    results = to_results(GOLD, GOLD_RELATIONS, SCHEMA, DOCUMENT.text)
    ls.annotations.create(id=task.id, result=results, completed_by=annotator.id)
    ls.annotations.create(id=task.id, result=results[:2], ground_truth=True)
    ls.annotations.create(id=task.id, result=results[:1], was_cancelled=True)
    synchronous = tmp_path / "sync.json"
    before_sync = server.log.stat().st_size
    synchronous.write_bytes(
        b"".join(
            ls.projects.exports.download_sync(
                id=project.id, export_type="JSON", download_all_tasks=True
            )
        )
    )
    since = log_end_once_logged(server, before_sync, rf"GET /api/projects/{project.id}/export\?")
    out = tmp_path / "pulled"
    pulled = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert requests_in_log(server, since, rf"POST /api/projects/{project.id}/exports/ ") == 1
    assert requests_in_log(server, since, rf"DELETE /api/projects/{project.id}/exports/\d+ ") == 1
    assert requests_in_log(server, since, rf"GET /api/projects/{project.id}/export\?") == 0
    assert list(ls.projects.exports.list(id=project.id)) == []
    expected = tmp_path / "expected"
    from_sync = run_cli(
        "annotate", "pull", "--from-file", synchronous, "--out", expected, "--release", RELEASE
    )
    assert from_sync.returncode == 0, from_sync.stderr

    # the file form names annotators by id, the server form by e-mail: the same sets
    def sets(folder: Path) -> list[str]:
        loaded = [load_annotation_set(p) for p in folder.glob("*.jsonl")]
        return sorted(
            repr([sorted(map(repr, part)) for part in canonical(s.annotations, s.relations)])
            for s in loaded
        )

    assert len(sets(out)) == 2 and sets(out) == sets(expected)


def test_a_personal_access_token_works_and_is_never_printed(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """Label Studio's personal access tokens (JWT refresh tokens) are exchanged for access
    tokens; neither is printed, even in an error."""
    import httpx

    created = httpx.post(
        f"{server.url}/api/token/", headers={"Authorization": f"Token {server.token}"}
    )
    assert created.status_code == 201, created.text
    personal = created.json()["token"]
    title = f"pat {uuid.uuid4().hex[:8]}"
    pushed = cli(server, "annotate", "push", RELEASE, "--project", title, token=personal)
    assert pushed.returncode == 0, pushed.stderr
    assert "1 tasks imported" in pushed.stdout
    pulled = cli(
        server,
        "annotate",
        "pull",
        "--project",
        title,
        "--out",
        tmp_path / "o",
        "--release",
        RELEASE,
        token=personal,
    )
    assert pulled.returncode == 0, pulled.stderr
    missing = cli(
        server,
        "annotate",
        "pull",
        "--project",
        "no such project",
        "--out",
        tmp_path / "p",
        "--release",
        RELEASE,
        token=personal,
    )
    assert missing.returncode == 1 and "no Label Studio project named" in missing.stderr
    for result in (pushed, pulled, missing):
        assert personal not in result.stdout + result.stderr
        assert personal.split(".")[2] not in result.stdout + result.stderr


def test_push_sends_a_batch_of_documents_with_its_predictions_and_targets(
    server: label_studio_server.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Push held the split's documents, the run's records and the release's TARGET items;
    it now reads a batch of documents, and the run's and the gold's records on them, at a
    time."""
    import sys

    from claimwire import lines as line_reading
    from claimwire.annotation.label_studio import client as ls_client

    from .helpers import release_with_test_claims, watch_document_reads, watch_gold_reads

    folder = release_with_test_claims(tmp_path, 60)
    total = sum(1 for _ in open_release(folder).documents())
    run = tmp_path / "run.jsonl"
    run.write_bytes((folder / "annotations.jsonl").read_bytes())  # the gold claims as a run
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 512)  # a few documents a block read
    monkeypatch.setattr(ls_client, "BATCH", 8)
    whole, asked = watch_gold_reads(monkeypatch)
    read = watch_document_reads(monkeypatch)
    ahead: list[int] = []
    make_task = ls_client._task

    def noted(document: Document, *args: Any) -> Any:
        ahead.append(read[0])
        return make_task(document, *args)

    monkeypatch.setattr(ls_client, "_task", noted)
    for key, value in env(server, None).items():
        monkeypatch.setenv(key, value)
    title = f"batched {uuid.uuid4().hex[:8]}"
    argv = ["claimwire", "annotate", "push", str(folder), "--project", title]
    monkeypatch.setattr(sys, "argv", [*argv, "--predictions", str(run)])
    from claimwire.cli import main

    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert whole == [] and asked and max(asked) <= 8, (whole, asked)
    assert len(ahead) == total and ahead[0] <= 24, ahead  # before: every document, read first
    ls = client(Connection(server.url, server.token))
    project = project_named(ls, title)
    tasks = list(ls.tasks.list(project=project.id, fields="all"))
    claimed = {a.doc_id for a in load_annotation_set(run).annotations}
    assert len(tasks) == total
    assert {t.data["doc_id"] for t in tasks if t.predictions} == claimed


def test_a_document_annotated_twice_is_pulled_once_and_both_tasks_named(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """A task imported twice, annotated in both (regions from the same results keep their
    ids): pull keeps the first annotation, names both tasks, counts the problem, and the set
    passes the format check (it repeated every id and said "0 problems")."""
    title, ls, project = pushed_release(server, "twice")
    [pushed] = list(ls.tasks.list(project=project.id, fields="all"))
    ls.projects.import_tasks(id=project.id, request=[{"data": pushed.data}])  # imported twice
    first, second = sorted(t.id for t in ls.tasks.list(project=project.id))
    results = to_results(GOLD, GOLD_RELATIONS, SCHEMA, DOCUMENT.text)
    for task in (first, second):
        ls.annotations.create(id=task, result=results)
    out = tmp_path / "pulled"
    pulled = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert "2 tasks, 1 annotators, 1 problems" in pulled.stdout
    [problem] = [line for line in pulled.stderr.splitlines() if "annotated it twice" in line]
    assert f"task {first} annotation" in problem and f"task {second} annotation" in problem
    [kept] = out.glob("*.jsonl")
    back = load_annotation_set(kept)
    assert canonical(list(back.annotations), list(back.relations)) == canonical(
        GOLD, GOLD_RELATIONS
    )
    checked = run_cli("eval", "check", kept, "--release", RELEASE, "--task", "attribution")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def snapshots(server: label_studio_server.Server, project_id: int) -> list[dict[str, Any]]:
    """The project's export snapshots, as the server lists them."""
    import httpx

    answer = httpx.get(
        f"{server.url}/api/projects/{project_id}/exports/",
        headers={"Authorization": f"Token {server.token}"},
        timeout=30,
    )
    answer.raise_for_status()
    listed: list[dict[str, Any]] = answer.json()
    return listed


def test_a_pull_ended_by_sigterm_while_the_server_builds_its_snapshot_leaves_none(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """SIGTERM while the server built the snapshot (the creation request, seconds long for a
    large project) left it on the server, a full copy of every annotation: the pull now waits
    for it to be built and deletes it (deleted earlier, the server writes it again).
    The pull waits :data:`export.CLEANUP` seconds at most and then says the snapshot may be
    left: a server still building by then (a loaded machine) skips the test, not fails it.
    A server that builds it before the test sees it building (a fast machine) gets more tasks
    to export and another pull: 600, then 2,400, then 9,600."""
    import signal
    import subprocess
    import sys

    from claimwire.annotation.label_studio import export

    title, ls, project = pushed_release(server, "terminated")
    command = [sys.executable, "-m", "claimwire", "annotate", "pull", "--project", title]
    tasks = 0
    for more in (600, 1800, 7200):  # a faster server builds the snapshot before it is seen
        filler = [
            {"text": "x" * 2000, "doc_id": f"filler-{i}", "stance_choices": []}
            for i in range(tasks, tasks + more)
        ]
        ls.projects.import_tasks(id=project.id, request=filler)  # the export takes seconds
        tasks += more
        out = tmp_path / f"sets-{tasks}"
        process = subprocess.Popen(
            [*command, "--out", str(out), "--release", str(RELEASE)],
            env={**os.environ, "PYTHONPATH": str(REPO / "src"), **env(server)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while not any(s["status"] in export.BUILDING for s in snapshots(server, project.id)):
                if process.poll() is not None:
                    break
                assert time.monotonic() < deadline, "no snapshot within 120 s"
            else:
                process.send_signal(signal.SIGTERM)
                _, stderr = process.communicate(timeout=60)
                break
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr  # done before it was seen: more tasks
        finally:
            if process.poll() is None:
                process.kill()
    else:
        pytest.fail(f"the server built a snapshot of {tasks} tasks before it was seen building")
    said = stderr.decode("utf-8", "replace")
    bound = ("still building it", "not found within", "no answer within")  # the wait ran out
    if "may be left on the server" in said and any(reason in said for reason in bound):
        last = said.strip().splitlines()[-1]  # any other reason (a refused delete) fails below
        pytest.skip(f"the pull's {export.CLEANUP:g} s wait for the snapshot ran out: {last}")
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in stderr and b"warning" not in stderr, stderr
    # deleted only once the server listed it completed, its last write of the snapshot (Label
    # Studio writes the row again in save_file, before that): nothing comes back afterwards
    assert snapshots(server, project.id) == []
    assert not out.exists()


def test_snapshots_killed_pulls_left_are_removed_by_the_next_pull(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """A SIGKILL leaves the snapshot; no pull removed it. Now a pull removes those whose pull's
    deadline has passed (and those titled as earlier versions did), and says how many; a
    running pull's snapshot and the user's own are left alone."""
    import httpx

    title, _, project = pushed_release(server, "stale")
    planted = {
        "claimwire pull 0123abcd, until 2001-01-01T00:00:00Z": False,
        "claimwire pull": False,
        "claimwire pull 89abcdef, until 2100-01-01T00:00:00Z": True,  # a pull still running
        "the team's own export": True,
    }
    for name in planted:
        httpx.post(
            f"{server.url}/api/projects/{project.id}/exports/",
            headers={"Authorization": f"Token {server.token}"},
            json={"title": name},
            timeout=60,
        ).raise_for_status()
    pulled = cli(
        server, "annotate", "pull", "--project", title, "--out", tmp_path / "sets",
        "--release", RELEASE,
    )  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    assert "removed 2 export snapshots that earlier, interrupted pulls left" in pulled.stderr
    left = sorted(s["title"] for s in snapshots(server, project.id))
    assert left == sorted(name for name, kept in planted.items() if kept)


def test_a_control_given_twice_in_one_annotation_keeps_the_first_and_says_so(
    server: label_studio_server.Server, tmp_path: Path
) -> None:
    """Label Studio stores whatever results a client sends: two values of one control for
    one region (or for the document) kept the last one, silently. The first is kept now, and
    the other is reported, located (JSON-MIN did so since round 14)."""
    title, ls, project = pushed_release(server, "again")
    [task] = list(ls.tasks.list(project=project.id))
    results = to_results(GOLD, GOLD_RELATIONS, SCHEMA, DOCUMENT.text)
    claim_type = next(r for r in results if r["from_name"] == "CLAIM__claim_type")
    sampling = next(r for r in results if r["from_name"] == "SURVEY__sampling_type")
    other = "prediction" if claim_type["value"]["choices"] != ["prediction"] else "quantity"
    again = [
        claim_type | {"value": claim_type["value"] | {"choices": [other]}},
        sampling | {"id": "other", "value": {"choices": ["probability"]}},
        claim_type,  # the same value again: nothing lost, nothing said
    ]
    annotation = ls.annotations.create(id=task.id, result=results + again)
    out = tmp_path / "pulled"
    pulled = cli(server, "annotate", "pull", "--project", title, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert "1 tasks, 1 annotators, 2 problems" in pulled.stdout
    where = f"{title}: task {task.id} annotation {annotation.id} ("
    problems = [" ".join(line.split()) for line in pulled.stderr.split("skipped")[1:]]
    assert len(problems) == 2 and all(where in p for p in problems), pulled.stderr
    assert (
        f"region {claim_type['id']} control 'CLAIM__claim_type': {other!r} given again "
        f"(kept the first, {claim_type['value']['choices'][0]!r}); left out"
    ) in problems[0]
    assert "control 'SURVEY__sampling_type': 'probability' given again" in problems[1]
    [kept] = out.glob("*.jsonl")
    back = load_annotation_set(kept)
    assert canonical(list(back.annotations), list(back.relations)) == canonical(
        GOLD, GOLD_RELATIONS
    )


def test_push_changes_the_label_config_only_when_it_differs(
    server: label_studio_server.Server,
) -> None:
    """Every push onto a project PATCHed its config (Label Studio stores it without the
    trailing newline): a needless write that re-validates every annotation. A change the
    server refuses (annotations use controls the new config lacks) says what it refused."""
    title = f"config {uuid.uuid4().hex[:8]}"
    assert cli(server, "annotate", "push", RELEASE, "--project", title).returncode == 0
    since = server.log.stat().st_size
    again = cli(server, "annotate", "push", RELEASE, "--project", title)
    assert again.returncode == 0, again.stderr
    log_end_once_logged(server, since, r"GET /api/tasks/\?")
    assert requests_in_log(server, since, r"PATCH /api/projects/") == 0
    ls = client(Connection(server.url, server.token))
    project = project_named(ls, title)
    [task] = list(ls.tasks.list(project=project.id))
    results = to_results(GOLD, [], SCHEMA, DOCUMENT.text)
    issuer = [r for r in results if r["from_name"] == "issuer__stance"]  # not in claims.xml
    ls.annotations.create(id=task.id, result=issuer)
    refused = cli(server, "annotate", "push", RELEASE, "--project", title, "--config", "claims")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()[-1:]
    assert f"refused to change the label config of project {title!r} (id {project.id})" in line
    assert (
        f"(id {project.id}): Created annotations are incompatible with provided labeling schema, "
        "we found: 1 with from_name=issuer__stance, to_name=text, type=choices — the project "
        "keeps its config"
    ) in line
    assert ls.projects.get(id=project.id).label_config == configs(SCHEMA)["full.xml"].strip()


@contextlib.contextmanager
def database_held(
    server: label_studio_server.Server, until: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Hold the server's SQLite write lock (as an import in flight does: its writes wait 5 s,
    then fail with "database is locked") until ``until()`` is true, else through the block."""
    import threading

    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        database = sqlite3.connect(server.database, isolation_level=None)
        database.execute("BEGIN IMMEDIATE")
        held.set()
        while not done.is_set() and not (until and until()):
            time.sleep(0.1)
        database.execute("COMMIT")
        database.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        yield
    finally:
        done.set()
        holder.join()


def test_a_deletion_refused_while_the_database_is_locked_is_tried_again(
    server: label_studio_server.Server,
) -> None:
    """Label Studio on SQLite answers a deletion with HTTP 500 ("database is locked") while
    an import holds its database: push stopped (or, when the tasks had been unlinked first,
    said "the server says 0"). It asks again with backoff and checks what is left; once the
    tries are spent, the error names the tasks not deleted."""
    pushing = to_push(server, "locked", 6)
    connection = pushing.connection
    project_id = pushing.push(pushing.documents).project_id
    ls = client(connection)
    tasks = [Task(t.data["doc_id"], t.id, False) for t in ls.tasks.list(project=project_id)]
    since = server.log.stat().st_size

    def refused_once() -> bool:  # the lock is let go once the server refused a deletion
        return requests_in_log(server, since, r"POST /api/dm/actions.* 500 ") > 0

    with Session(connection, Limits(retries=2)) as session, database_held(server, refused_once):
        assert remove_idle(session, project_id, tasks[:3], 1000) == 3
    assert refused_once()
    left = sorted(t.id for t in ls.tasks.list(project=project_id))
    assert left == sorted(t.task_id for t in tasks[3:])
    with (
        Session(connection, Limits(retries=0)) as session,
        database_held(server),
        pytest.raises(ClaimwireError) as refused,
    ):
        remove_idle(session, project_id, tasks[3:], 2)
    ids = sorted(t.task_id for t in tasks[3:])
    assert f"(tried 1 times); not deleted: 2 tasks (ids {ids[0]}, {ids[1]}), and 1 more " in (
        refused.value.message
    )
    assert sorted(t.id for t in ls.tasks.list(project=project_id)) == ids
