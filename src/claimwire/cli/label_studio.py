"""``claimwire annotate config|push|pull``: the Label Studio round trip."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer
from rich.markup import escape
from rich.progress import TaskID

from claimwire.cli.common import chosen_release, console, err_console, progress_bar
from claimwire.errors import ClaimwireError
from claimwire.files import errors_named
from claimwire.project import current_project

if TYPE_CHECKING:
    from collections.abc import Iterator

    from claimwire.annotation.label_studio.client import (
        Chunk,
        Connection,
        Limits,
        Progress,
        PushReport,
    )
    from claimwire.annotation.label_studio.tasks import Task
    from claimwire.corpus.release import Release
    from claimwire.model import Annotation, Relation

TIMEOUT = typer.Option(
    30.0, min=0.1, help="Seconds to wait for one answer from the server (connect, each read)."
)
RETRIES = typer.Option(
    2, min=0, max=10, help="Tries again this many times after a failed connection or a busy server."
)
DEADLINE = typer.Option(
    3600.0, min=1.0, help="Seconds for everything the command asks of the server."
)


def label_studio_config(
    out: Path | None = typer.Option(
        None,
        help="Folder of the generated configs [default: annotation/label_studio].",
    ),
    schema: Path | None = typer.Option(None, help="Schema [default: annotation/schema.yaml]."),
    check: bool = typer.Option(False, "--check", help="Only check; exit 1 if any is out of date."),
) -> None:
    """Generate the Label Studio labeling configs (one per layer, and full.xml) from the schema."""
    from claimwire.annotation.label_studio.config import configs, write_configs
    from claimwire.annotation.schema import load_schema
    from claimwire.outputs import check_output

    check_output(None if check else out)
    out = out or current_project().label_studio
    stale = write_configs(load_schema(schema), out, check)
    if check and stale:
        err_console.print(
            f"[red]out of date[/]: {', '.join(stale)} — run `claimwire annotate config`"
        )
        raise typer.Exit(1)
    console.print(
        f"{len(configs(load_schema(schema)))} configs in {escape(str(out))}"
        + (f"; updated {', '.join(stale)}" if stale and not check else "; all up to date")
    )


def _limits(timeout: float, retries: int, deadline: float) -> Limits:
    from claimwire.annotation.label_studio.client import Limits

    return Limits(timeout=timeout, retries=retries, deadline=deadline)


@contextlib.contextmanager
def _progress() -> Iterator[Progress]:
    """A progress callback for the client: one bar per stage, on stderr."""
    with progress_bar() as bar:
        bars: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in bars:
                bars[stage] = bar.add_task(stage, total=total, detail="")
            bar.update(bars[stage], completed=done, total=total)

        yield update


def _connection(url: str | None, api_key: str | None) -> Connection:
    from claimwire.annotation.label_studio.client import Connection

    url = url or os.environ.get("LABEL_STUDIO_URL")
    token = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not token:
        raise ClaimwireError(
            "Label Studio connection: set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY "
            "(or --url and --api-key)"
        )
    return Connection(url.rstrip("/"), token)


def _run_version(path: Path) -> str:
    """The run's signature (its ``.meta.json``), else the file's name."""
    from claimwire.systems.base import META_SUFFIX

    meta = path.with_name(path.name + META_SUFFIX)
    if meta.exists():
        return str(json.loads(meta.read_text(encoding="utf-8"))["signature"])
    return f"file:{path.name}"


def _push_chunks(opened: Release, split: str, predictions: Path | None) -> Iterator[Chunk]:
    """The split's documents a push batch at a time, with the run's records on them and
    their TARGET items, each read for the batch alone (the release's gold and the run indexed
    by document)."""
    from claimwire.annotation.label_studio.client import BATCH
    from claimwire.annotation.targets import TARGET
    from claimwire.corpus.gold_reader import GoldReader
    from claimwire.corpus.release import ANNOTATIONS
    from claimwire.engine import batches
    from claimwire.formats.convert import set_batches

    documents = (d for d in opened.documents() if split in ("all", d.split))
    chunks = (
        set_batches(predictions, documents, BATCH)
        if predictions
        else ((chunk, None) for chunk in batches(documents, BATCH))
    )
    with GoldReader(opened.path, opened.parts(ANNOTATIONS), ()) as gold:
        for chunk, run in chunks:
            found = gold.of([d.id for d in chunk])
            targets = {
                doc_id: [a for a in annotations if a.label == TARGET]
                for doc_id, (annotations, _) in found.items()
            }
            grouped: dict[str, tuple[list[Annotation], list[Relation]]] = {}
            for annotation in run.annotations if run else ():
                grouped.setdefault(annotation.doc_id, ([], []))[0].append(annotation)
            for relation in run.relations if run else ():
                grouped.setdefault(relation.doc_id, ([], []))[1].append(relation)
            yield chunk, grouped, targets


def push_command(
    release: Path | None = typer.Argument(
        None,
        help="The release whose documents become tasks (folder or X.Y.Z) [default: the newest].",
    ),
    project: str = typer.Option(..., help="Project title: the same title is the same project."),
    predictions: Path | None = typer.Option(
        None, help="A run (JSONL) to import as pre-annotations."
    ),
    config: str = typer.Option("full", help="Which generated config: full, or one layer's name."),
    split: str = typer.Option(
        "all", help="Documents of this split only (train, dev, test or all)."
    ),
    remove_outdated: bool = typer.Option(
        False,
        "--remove-outdated",
        help="Delete the tasks of documents the release does not hold (changed or withdrawn "
        "since they were pushed) that nobody worked on; the others are named.",
    ),
    url: str | None = typer.Option(None, help="Label Studio URL [env LABEL_STUDIO_URL]."),
    api_key: str | None = typer.Option(
        None, help="API token [env LABEL_STUDIO_API_KEY]; never printed."
    ),
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    deadline: float = DEADLINE,
) -> None:
    """Create or update a Label Studio project and import one task per new document (in
    batches; predictions of a run go onto the tasks that do not have them yet). Tasks of
    documents the release does not hold are named (pull skips their annotations)."""
    from claimwire.annotation.checks import schema_of
    from claimwire.annotation.label_studio.client import push_chunks
    from claimwire.annotation.label_studio.config import configs
    from claimwire.corpus.release import open_release

    connection = _connection(url, api_key)
    release = chosen_release(release)
    schema = schema_of(release)
    xml = configs(schema).get(f"{config}.xml")
    if xml is None:
        raise ClaimwireError(
            f"unknown config {config!r}; expected full or one of {', '.join(schema.layers)}"
        )
    version = _run_version(predictions) if predictions else None
    opened = open_release(release)
    with opened.document_index() as held, _progress() as progress:
        report = push_chunks(
            connection,
            project,
            xml,
            _push_chunks(opened, split, predictions),
            version,
            schema,
            progress=progress,
            limits=_limits(timeout, retries, deadline),
            release=held,
            remove_outdated=remove_outdated,
        )
    console.print(
        f"[green]{'Created' if report.created else 'Updated'}[/] project {escape(project)} "
        f"(id {report.project_id}): {report.imported} tasks imported, {report.skipped} already "
        f"there, {report.predictions} with predictions"
        + (f" ({escape(version)})" if version else "")
    )
    _report_copies(report)
    _report_outdated(report, opened.path.name)


SHOWN = 10
"""Copies named one by one in push's warning; the rest are counted."""


def _report_copies(report: PushReport) -> None:
    """Say how many copies of tasks push removed, and name the ones it left."""
    if report.removed:
        console.print(
            f"Removed {report.removed:,} copies of tasks (a document imported twice: an earlier "
            "push's import finished after it was interrupted); each document keeps its first task"
        )
    if not report.kept:
        return
    err_console.print(
        f"warning: {len(report.kept):,} documents have a second task that someone worked on; "
        "left as they are (pull reads every task: remove one of each pair in Label Studio):",
        markup=False,
    )
    _name_tasks(report.kept)


def _report_outdated(report: PushReport, version: str) -> None:
    """Say what push found (and removed) of the tasks of documents ``version`` does not hold,
    naming those with someone's work."""
    if not report.outdated:
        return
    worked = [t for t in report.outdated if t.worked]
    idle = len(report.outdated) - len(worked)
    if report.removed_outdated:
        console.print(
            f"Removed {report.removed_outdated:,} tasks nobody worked on of documents release "
            f"{escape(version)} does not hold (changed or withdrawn since they were pushed)"
        )
    elif idle:
        err_console.print(
            f"warning: {idle:,} tasks nobody worked on are of documents release {version} does "
            "not hold (changed or withdrawn since they were pushed): annotators may still open "
            "them; push with --remove-outdated deletes them",
            markup=False,
        )
    if not worked:
        return
    err_console.print(
        f"warning: {len(worked):,} tasks with someone's work are of documents release {version} "
        f"does not hold; kept (`annotate pull --release {version}` skips them: pull with the "
        "release they were pushed from to read them):",
        markup=False,
    )
    _name_tasks(worked)


def _name_tasks(tasks: list[Task]) -> None:
    """Name the first :data:`SHOWN` tasks one a line on stderr, and count the rest."""
    for task in tasks[:SHOWN]:
        err_console.print(f"  {task.doc_id}: task {task.task_id}", markup=False)
    if len(tasks) > SHOWN:
        err_console.print(f"  and {len(tasks) - SHOWN:,} more", markup=False)


def pull_command(
    out: Path = typer.Option(..., help="Folder for one annotation set per annotator (JSONL)."),
    project: str | None = typer.Option(None, help="Project title on the server."),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="A Label Studio JSON export instead of a server."
    ),
    release: Path | None = typer.Option(
        None,
        help="The release the tasks come from (folder or X.Y.Z) [default: the newest].",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace an earlier pull in --out even when documents it lists as completed are "
        "not completed in this one (annotations deleted in Label Studio since); they are named.",
    ),
    url: str | None = typer.Option(None, help="Label Studio URL [env LABEL_STUDIO_URL]."),
    api_key: str | None = typer.Option(
        None, help="API token [env LABEL_STUDIO_API_KEY]; never printed."
    ),
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    deadline: float = DEADLINE,
) -> None:
    """Export a project (full JSON) and convert it to one annotation set per annotator; every
    region whose text does not match the release is reported and left out. The export is a
    snapshot the server builds, streamed and then deleted. An earlier pull in --out is
    replaced, unless this one lacks documents it listed as completed (--force)."""
    from claimwire.annotation.checks import schema_of
    from claimwire.annotation.label_studio.client import Session, convert_export, users_by_id
    from claimwire.annotation.label_studio.export import exported_tasks
    from claimwire.annotation.label_studio.pulled import check_replaceable, dropped
    from claimwire.corpus.release import RECORD_FILES, open_release
    from claimwire.eval.completed import completed_path
    from claimwire.files import atomic_directory, folders_removed_on_error
    from claimwire.formats.label_studio_min import NOTE, from_json_min
    from claimwire.names import FileNames, child
    from claimwire.outputs import check_output
    from claimwire.storage import stop_on_sigterm

    inputs = [from_file] if from_file else []
    check_output(out, inputs=inputs)
    check_replaceable(out, inputs)
    stop_on_sigterm()
    source = str(from_file or project)
    reserved = {name.removesuffix(".jsonl") for name in (*RECORD_FILES, "conflicts.jsonl")}
    release = chosen_release(release)
    schema = schema_of(release)
    with open_release(release).document_index() as documents:  # read back as tasks name them
        if from_file is not None:
            tasks, json_min = _export_kind(from_file)
            if json_min:
                pulled, losses = from_json_min(tasks, documents, schema, source=str(from_file))
                for loss in losses:
                    err_console.print(f"[yellow]not carried[/] {escape(str(loss))}", soft_wrap=True)
                err_console.print(f"note: {escape(NOTE)}", soft_wrap=True, highlight=False)
            else:
                pulled = convert_export(tasks, documents, schema, source=str(from_file))
        else:
            if not project:
                raise ClaimwireError("pull needs --project NAME (or --from-file EXPORT.json)")
            connection = _connection(url, api_key)
            with (
                Session(connection, _limits(timeout, retries, deadline)) as session,
                _progress() as progress,
            ):
                users = users_by_id(session)
                with exported_tasks(session, project, progress) as stream:
                    pulled = convert_export(stream, documents, schema, users, source=project)
    if pulled.tasks and pulled.outdated == pulled.tasks:
        raise ClaimwireError(
            f"no task is of a document of this release: doc_id {pulled.first_outdated!r} is "
            f"not a document of the release (the first of {pulled.tasks:,} tasks); pull with "
            "--release naming the release the project was pushed from"
        )
    if pulled.tasks and not pulled.sets.added and pulled.problems:
        raise ClaimwireError(
            f"no task could be read ({len(pulled.problems)} problems), first: {pulled.problems[0]}"
        )
    target = Path(os.path.realpath(out))  # through a symbolic link: its folder is replaced
    file_names = FileNames(reserved)  # distinct in any case and Unicode form
    with folders_removed_on_error(target.parent), atomic_directory(target, replace=True) as staged:

        def open_set(author: str) -> tuple[Path, contextlib.AbstractContextManager[TextIO]]:
            path = child(out, f"{file_names(author)}.jsonl", what="annotator")
            return path, _set_file(path, staged / path.name)

        def open_completed(path: Path) -> contextlib.AbstractContextManager[TextIO]:
            listed = completed_path(path)
            return _set_file(listed, staged / listed.name)

        sets = list(pulled.sets.write(open_set, pulled.problems, f"{source}: ", open_completed))
        lost = dropped(target, staged)
        if lost.gone and not force:
            raise ClaimwireError(
                f"{lost} — annotations or tasks deleted in Label Studio since? Nothing was "
                "replaced: pull with --force to replace the folder anyway (those documents' "
                "annotations leave it), or into another --out folder",
                file=out,
            )
    for written in sets:  # once the folder is in place
        console.print(
            f"{escape(written.author)}: {written.annotations} annotations, "
            f"{written.relations} relations → {escape(str(written.path))}"
        )
    for problem in pulled.problems:
        err_console.print(f"[yellow]skipped[/] {escape(problem)}", soft_wrap=True)
    if lost.gone:
        err_console.print(
            f"warning: replaced the earlier pull in {out} (--force): {lost}", markup=False
        )
    if pulled.outdated:
        err_console.print(
            f"note: {pulled.outdated:,} tasks without annotations are of documents the release "
            "does not hold (changed or withdrawn since they were pushed): left out; `annotate "
            "push --remove-outdated` deletes them",
            highlight=False,
        )
    console.print(f"{pulled.tasks} tasks, {len(sets)} annotators, {len(pulled.problems)} problems")


def _export_kind(path: Path) -> tuple[Iterator[dict[str, Any]], bool]:
    """The tasks of an export file, a task at a time (as the server's export is read), and
    whether it is JSON-MIN, as its first task tells. A full export's task after a JSON-MIN
    first one is a located error (a file read whole was a full export unless every task was
    JSON-MIN); after a full first task, every task is read as a full export's."""
    from claimwire.formats.convert import export_tasks
    from claimwire.formats.label_studio_min import is_json_min

    tasks = export_tasks(path)
    first = next(tasks, None)
    if first is None or not is_json_min([first]):
        return itertools.chain([] if first is None else [first], tasks), False

    def all_json_min() -> Iterator[dict[str, Any]]:
        for number, task in enumerate(itertools.chain([first], tasks), start=1):
            if not is_json_min([task]):
                raise ClaimwireError(
                    f"task {number}: a full export's task (with 'data' or 'annotations') in a "
                    "JSON-MIN export; expected every task of one kind",
                    file=path,
                )
            yield task

    return all_json_min(), True


@contextlib.contextmanager
def _set_file(path: Path, staged: Path) -> Iterator[TextIO]:
    """A set's file in the staging folder, made new ("x": a name a file system took for
    another's is an error, never that file replaced); its errors name ``path``, the user's."""
    with errors_named(path, staged), staged.open("x", encoding="utf-8") as handle:
        yield handle
