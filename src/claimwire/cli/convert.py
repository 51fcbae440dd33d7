"""``claimwire convert``: import an annotation set from another tool's format, or export one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer
from rich.markup import escape

from claimwire.annotation.checks import release_schema
from claimwire.annotation.schema import load_schema
from claimwire.cli.common import chosen_release, console, err_console, version_or_path
from claimwire.corpus.release import MANIFEST, open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.completed import completed_path
from claimwire.formats.base import Losses
from claimwire.formats.convert import (
    FORMATS,
    Batch,
    Options,
    export_batches,
    import_to,
    set_batches,
)
from claimwire.model import Document
from claimwire.names import check_author
from claimwire.outputs import check_output

SHOWN_LOSSES = 20


def _report_losses(losses: Losses) -> None:
    if not losses:
        console.print("nothing lost")
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in losses.summary().items())
    err_console.print(f"[yellow]not carried[/]: {escape(counts)}", soft_wrap=True)
    for loss in losses.first[:SHOWN_LOSSES]:
        err_console.print(f"  {escape(str(loss))}", soft_wrap=True, highlight=False)
    if len(losses) > SHOWN_LOSSES:
        err_console.print(f"  … and {len(losses) - SHOWN_LOSSES} more")


def convert_command(
    source: Path = typer.Argument(
        ...,
        help="What to convert: the tool's file or folder (--from), or an annotation set "
        "or a release (folder or X.Y.Z; --to).",
    ),
    out: Path = typer.Option(..., help="The annotation set (JSONL) or the export to write."),
    from_format: str | None = typer.Option(
        None, "--from", help=f"Import from this format: {', '.join(FORMATS)}."
    ),
    to_format: str | None = typer.Option(
        None, "--to", help=f"Export to this format: {', '.join(FORMATS)}."
    ),
    release: Path | None = typer.Option(
        None,
        help="The release whose documents give the text (folder or X.Y.Z) [default: a "
        "release converted --to, else the newest].",
    ),
    author: str = typer.Option("gold", help="The author of imported records."),
    split: str = typer.Option("all", help="Export the documents of this split only."),
    labels: str | None = typer.Option(
        None,
        help="Comma-separated span labels for flat formats (conll, spacy doc.ents) "
        "[default: every span label].",
    ),
    scheme: str = typer.Option("IOB2", help="Tagging scheme of conll exports: IOB2 or BIOES."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists."),
    completed: bool = typer.Option(
        False,
        "--completed",
        help="Imports: also write NAME.completed.txt beside --out NAME.jsonl, every document "
        "the export holds (those without records too), which agree, adjudicate and eval "
        "score --gold count as annotated.",
    ),
) -> None:
    """Import from or export to BRAT, INCEpTION (CAS XMI), CoNLL/BIO, spaCy DocBin, doccano or
    Label Studio JSON-MIN; every import is checked, and what a format cannot carry is listed."""
    if (from_format is None) == (to_format is None):
        raise ClaimwireError("give exactly one of --from FORMAT (import) or --to FORMAT (export)")
    check_author(author, "--author")
    if to_format is not None:  # a release's gold: its own documents, unless told otherwise
        source = version_or_path(source)
        if release is None and (source / MANIFEST).is_file():
            release = source
    release = chosen_release(release)
    schema = release_schema(release) or load_schema()
    opened = open_release(release)
    options = Options(
        tuple(label.strip() for label in labels.split(",") if label.strip()) if labels else None,
        scheme,
    )
    check_output(out, inputs=[source], force=force)
    if completed and from_format is None:
        raise ClaimwireError("--completed lists the documents of an import (--from FORMAT)")
    if from_format is not None:  # written with --completed, else an earlier one's removed
        check_output(completed_path(out), inputs=[source], force=force)
    if from_format is not None:
        with opened.document_index() as documents:  # read back as the import names them
            annotations, relations, imported = import_to(
                from_format,
                source,
                out,
                documents,
                schema,
                author,
                options,
                keep=SHOWN_LOSSES,
                completed=completed,
            )
        console.print(f"{annotations} annotations, {relations} relations → {escape(str(out))}")
        if completed:
            console.print(f"completed documents → {escape(str(completed_path(out)))}")
        _report_losses(imported)
        for said, count in imported.notes.most_common():
            err_console.print(f"note: {count} {escape(said)}", soft_wrap=True, highlight=False)
        note = FORMATS[from_format].note
        if note is not None:
            err_console.print(f"note: {escape(note)}", soft_wrap=True, highlight=False)
        return
    assert to_format is not None
    exported = _Tally(d for d in opened.documents() if split in ("all", d.split))
    losses = export_batches(
        to_format,
        out,
        exported.counted(set_batches(source, exported)),
        schema,
        replace=force,
        options=options,
        keep=SHOWN_LOSSES,
    )
    console.print(
        f"{exported.annotations} annotations, {exported.relations} relations on "
        f"{exported.documents} documents → {escape(str(out))} ({to_format})"
    )
    _report_losses(losses)


class _Tally(Iterator[Document]):
    """The documents an export writes, counted as they pass, with the records on them."""

    def __init__(self, documents: Iterator[Document]) -> None:
        self._documents = documents
        self.documents = self.annotations = self.relations = 0

    def __next__(self) -> Document:
        document = next(self._documents)
        self.documents += 1
        return document

    def counted(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        for batch in batches:
            self.annotations += len(batch[1].annotations)
            self.relations += len(batch[1].relations)
            yield batch
