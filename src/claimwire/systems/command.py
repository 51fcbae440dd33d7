"""``command``: any external program as a system — how an LLM behind an API plugs in.

The program reads documents as JSONL on standard input (one ``Document`` record a line:
``id``, ``text``, ``lang``, ``meta``, ``paragraphs``, ``sentences``) and writes annotation
and relation records as JSONL on standard output. Its output goes through the format
checker before anything is scored. Options: ``cmd`` (the command line, required),
``timeout`` (seconds per batch, default 600).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import defaultdict
from collections.abc import Sequence

from claimwire.errors import ClaimwireError, RecordError
from claimwire.model import Annotation, Document, Relation
from claimwire.systems.base import DocumentOutput, RunContext


class CommandSystem:
    name = "command"
    version = "1.0"
    tasks = ("claims", "attribution", "statistics", "stance")

    known_options: tuple[str, ...] = ("cmd", "timeout")

    def __init__(self, **options: str) -> None:
        if not options.get("cmd"):
            raise ClaimwireError('the command system needs an option cmd="PROGRAM ARGS"')
        self.options = dict(options)
        self.argv = shlex.split(options["cmd"])
        self.timeout = float(options.get("timeout", 600))

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        payload = "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in documents)
        try:
            done = subprocess.run(
                self.argv,
                input=payload,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            raise ClaimwireError(f"command not found: {self.argv[0]}") from None
        except subprocess.TimeoutExpired:
            raise ClaimwireError(
                f"command timed out after {self.timeout:.0f} s: {self.argv[0]}"
            ) from None
        if done.returncode != 0:
            raise ClaimwireError(
                f"command exited with {done.returncode}: {done.stderr.strip()[-500:]}"
            )
        annotations: dict[str, list[Annotation]] = defaultdict(list)
        relations: dict[str, list[Relation]] = defaultdict(list)
        for lineno, line in enumerate(done.stdout.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if "head" in record or "tail" in record:
                    relation = Relation.from_dict(record)
                    relations[relation.doc_id].append(relation)
                else:
                    annotation = Annotation.from_dict(record)
                    annotations[annotation.doc_id].append(annotation)
            except (json.JSONDecodeError, RecordError) as error:
                raise ClaimwireError(
                    f"bad output line: {error}", file=f"<{self.argv[0]} stdout>", line=lineno
                ) from None
        return [DocumentOutput(d.id, annotations[d.id], relations[d.id]) for d in documents]
