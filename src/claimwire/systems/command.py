"""``command``: any external program as a system — how an LLM behind an API plugs in.

The program reads documents as JSONL on standard input (one ``Document`` record a line:
``id``, ``text``, ``lang``, ``meta``, ``paragraphs``, ``sentences``) and writes annotation
and relation records as JSONL on standard output. Its output goes through the format
checker before anything is scored. Options: ``cmd`` (the command line, required),
``timeout`` (seconds per batch, default 600), ``env`` (comma-separated names of environment
variables the program may see; ``run --env NAME`` adds one), ``max_records`` (records it may
answer for one document, default :data:`MAX_RECORDS`).

The program runs with a minimal environment (:data:`BASE_ENV`: ``PATH``, ``HOME``, the
locale, the temporary folder) plus only the variables ``env`` names: a token such as
``LABEL_STUDIO_API_KEY`` or ``HF_TOKEN`` never reaches it unless named. A record for a
document that is not in the batch, or a line that is not a record, is a located error: the
line of the batch's answer, the batch named by its first and last documents
(``<PROGRAM's answer for documents 'd-1' … 'd-32' (32)>:LINE``), and the document the bad
line names when it names one of the batch.

Its answer is read a line at a time as it comes (:mod:`claimwire.systems.program`): lines
end at ``\n`` only (U+2028 and its kin stay inside a JSON string), a line is at most
:data:`~claimwire.systems.program.LINE_LIMIT` bytes (1 MiB, a record line's), only the last 4 KB
of stderr are kept, and the program's whole process group is killed on a timeout, a bad line,
Ctrl-C or SIGTERM.

A batch's records are held until the batch ends, so what a batch may answer is bounded: at
most ``max_records`` records for any one document and :data:`ANSWER_BYTES` in all. A
program that loops on one record (an LLM wrapper repeating itself) is stopped at the record
over the bound, its output line named, its group killed, nothing of the batch written.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from claimwire.errors import ClaimwireError, RecordError, shown
from claimwire.model import Annotation, Document, Relation, check_record_keys, loads_object
from claimwire.systems.base import DocumentOutput, RunContext
from claimwire.systems.program import Program

BASE_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "TMP",
    "TEMP",
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
)
"""What every external program gets, with the ``LC_*`` locale variables."""
MAX_RECORDS = 2_000
"""Records the program may answer for one document, by default (``-o max_records=N``): the
bundled releases' gold holds at most 114 for a document (relations included), the synthetic
predictions 83. Held, a record costs 0.5-1 KB: 32 documents (a default batch) at the
bound hold 64,000 records (claimwire peaked at 82 MB, 53 MB of it its own start)."""
ANSWER_BYTES = 16 << 20
"""Bytes the program may answer for one batch (its lines that are not blank, each with its
``\n``): 50,000 records of the synthetic predictions' size (about 1,500 documents' worth),
held as records in about three times as much. A larger answer is refused: a smaller
``--batch-size`` asks less of it."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def environment_names(option: str) -> tuple[str, ...]:
    """The names of ``env=A,B``, each checked."""
    names = tuple(name.strip() for name in option.split(",") if name.strip())
    for name in names:
        if not _ENV_NAME.fullmatch(name):
            raise ClaimwireError(
                f"--env {shown(name)}: expected an environment variable name (letters, digits, _)"
            )
    return names


def program_environment(
    names: Sequence[str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """:data:`BASE_ENV` and ``LC_*`` from ``environ`` (default ``os.environ``), plus
    ``names``; a named variable that is not set is an error."""
    source = os.environ if environ is None else environ
    kept = {k: v for k, v in source.items() if k in BASE_ENV or k.startswith("LC_")}
    missing = [name for name in names if name not in source]
    if missing:
        raise ClaimwireError(f"--env {', '.join(missing)}: not set in this environment")
    return kept | {name: source[name] for name in names}


class CommandSystem:
    name = "command"
    version = "1.0"
    tasks = ("claims", "attribution", "statistics", "stance")

    known_options: tuple[str, ...] = ("cmd", "timeout", "env", "max_records")

    def __init__(self, **options: str) -> None:
        if not options.get("cmd"):
            raise ClaimwireError('the command system needs an option cmd="PROGRAM ARGS"')
        self.options = dict(options)
        try:
            self.argv = shlex.split(options["cmd"])
        except ValueError as error:
            raise ClaimwireError(
                f"option cmd {shown(options['cmd'])}: not a command line ({error})"
            ) from None
        if not self.argv:
            raise ClaimwireError('the command system needs an option cmd="PROGRAM ARGS"')
        try:
            self.timeout = float(options.get("timeout", 600))
        except ValueError:
            self.timeout = math.nan
        if not 0 < self.timeout <= 7 * 24 * 3600:
            raise ClaimwireError(
                f"option timeout {shown(options.get('timeout'))}: expected seconds, "
                "a number above 0 and at most a week"
            )
        self.env = environment_names(options.get("env", ""))
        given = options.get("max_records", str(MAX_RECORDS))
        if not given.isdigit() or not 0 < int(given) <= 10**9:
            raise ClaimwireError(
                f"option max_records {shown(given)}: expected a whole number from 1 to 10**9"
            )
        self.max_records = int(given)

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        payload = "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in documents)
        batch = {d.id for d in documents}
        annotations: dict[str, list[Annotation]] = defaultdict(list)
        relations: dict[str, list[Relation]] = defaultdict(list)
        environment = program_environment(self.env)
        where = answer_place(self.argv[0], documents)
        answers = f"<{self.argv[0]}'s answers>"  # an unknown key is warned of once a run
        answered = 0
        with Program(
            self.argv, payload.encode("utf-8"), environment, self.timeout, where=where
        ) as program:
            for lineno, line in program.lines():
                if not line.strip():
                    continue
                answered += len(line) + 1
                if answered > ANSWER_BYTES:
                    raise ClaimwireError(
                        f"the answer to a batch of {len(batch)} documents is over "
                        f"{ANSWER_BYTES >> 20} MiB, the limit (a smaller --batch-size asks less)",
                        file=where,
                        line=lineno,
                    )
                record: dict[str, object] = {}
                try:
                    record = loads_object(line.decode("utf-8"))
                    kind = Relation if "head" in record or "tail" in record else Annotation
                    check_record_keys(where, lineno, record, kind, closed=False, counted_as=answers)
                    if kind is Relation:
                        relation = Relation.from_dict(record)
                        doc_id = relation.doc_id
                        relations[doc_id].append(relation)
                    else:
                        annotation = Annotation.from_dict(record)
                        doc_id = annotation.doc_id
                        annotations[doc_id].append(annotation)
                except UnicodeDecodeError as error:
                    raise ClaimwireError(
                        f"bad output line: not valid UTF-8: {error.reason}", file=where, line=lineno
                    ) from None
                except (ClaimwireError, RecordError) as error:
                    raise ClaimwireError(
                        f"bad output line{_about(record, batch)}: {error.message}",
                        file=where,
                        line=lineno,
                        field=error.field,
                    ) from None
                if doc_id not in batch:
                    raise ClaimwireError(
                        f"a record for document {shown(doc_id)}, which is not among the "
                        f"{len(batch)} documents the program was given",
                        file=where,
                        line=lineno,
                        field="doc_id",
                    )
                if len(annotations[doc_id]) + len(relations[doc_id]) > self.max_records:
                    raise ClaimwireError(
                        f"over {self.max_records:,} records for document {shown(doc_id)}, the "
                        "limit (-o max_records=N raises it)",
                        file=where,
                        line=lineno,
                    )
        return [DocumentOutput(d.id, annotations[d.id], relations[d.id]) for d in documents]


def answer_place(program: str, documents: Sequence[Document]) -> str:
    """Where the lines of ``program``'s answer to a batch of ``documents`` are, line 1 its
    first: the batch named by its first and last documents (each batch's lines count from 1)."""
    first, last = shown(documents[0].id), shown(documents[-1].id)
    if len(documents) == 1:
        return f"<{program}'s answer for document {first}>"
    return f"<{program}'s answer for documents {first} … {last} ({len(documents)})>"


def _about(record: Mapping[str, object], batch: Collection[str]) -> str:
    """`` (document X)`` when a bad line's object names a document of the batch."""
    doc_id = record.get("doc_id")
    return f" (document {shown(doc_id)})" if isinstance(doc_id, str) and doc_id in batch else ""
