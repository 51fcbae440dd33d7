"""Gold authored as quote-anchored YAML, resolved to offsets by a tool — never by hand.

A gold file names its raw input and lists annotations by their exact text::

    source: release-fr.txt
    author: gold
    annotations:
      - id: fig-trade
        label: NUM_STAT
        quote: "94,8 milliards de dollars"
        occurrence: 1          # 1-based, among whole-word matches; required when the
                               # quote occurs more than once
        attributes: {value: "94800000000", unit: USD, qualifier: exact, time_reference: "2024"}
      - id: survey-cgtn
        label: SURVEY          # a document-level label: no quote
        attributes: {...}
    relations:
      - {type: attributed_to, head: fig-trade, tail: src-customs,
         attributes: {cue: cue-selon-customs, quote_type: indirect}}

A quote matches only where it starts and ends on word boundaries, so ``il`` is never found
inside "ville"; a quote meant to cut a word is marked ``partial_word: true`` (then every
match counts). Ids are local to the file; resolved ids are ``<document id>:<local id>``, and ``ref``
attributes (a relation's ``cue``, a stance's ``holder``) are rewritten the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.annotation.yaml_lines import line_of, load_yaml
from claimwire.corpus.words import find_all
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Document, Quote, Relation, replaced
from claimwire.names import author_problem

GOLD_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class GoldProblem:
    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.message}"
            if self.line
            else f"{self.file}: {self.message}"
        )


class GoldError(ClaimwireError):
    """One or more problems in gold files; every problem names its file and line."""

    def __init__(self, problems: Sequence[GoldProblem]) -> None:
        first = problems[0]
        more = "".join(f"\n  {problem}" for problem in problems[1:])
        super().__init__(first.message + more, file=first.file, line=first.line)
        self.problems = list(problems)


def gold_files(path: Path) -> list[Path]:
    """A gold file, or every ``.yaml`` file of a gold folder, in order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in GOLD_SUFFIXES)
    if not path.exists():
        raise ClaimwireError("gold file or folder not found", file=path)
    return [path]


def _local_id(node: Mapping[str, Any]) -> str:
    """A record's id in its gold file; a relation without one is named by its ends."""
    if "label" in node or "id" in node:
        return str(node.get("id"))
    return f"{node.get('type')}-{node.get('head')}-{node.get('tail')}"


class _Resolver:
    """Resolves one gold file against its document, collecting problems."""

    def __init__(self, path: Path, schema: Schema, document: Document) -> None:
        self.path = path
        self.schema = schema
        self.document = document
        self.problems: list[GoldProblem] = []
        self.local_ids: set[str] = set()

    def problem(self, node: Any, message: str) -> None:
        self.problems.append(GoldProblem(self.path, line_of(node), message))

    def global_id(self, local: str) -> str:
        return f"{self.document.id}:{local}"

    def anchor(self, node: Mapping[str, Any], scope: str) -> tuple[int, int] | None:
        quote = node.get("quote")
        if scope == "document" or (scope == "either" and quote is None):
            if quote is not None:
                self.problem(node, f"{node.get('label')} is a document-level label: no quote")
            return None
        if not isinstance(quote, str) or not quote:
            got = (
                ""
                if quote == ""
                else f"; got {type(quote).__name__} {str(quote)[:60]}: put it in quotes"
            )
            self.problem(node, f"expected a non-empty 'quote' (the exact text to annotate){got}")
            return None
        text = self.document.text
        partial = node.get("partial_word", False)
        if not isinstance(partial, bool):
            self.problem(node, f"partial_word must be true or false, got {partial!r}")
            return None
        positions = find_all(text, quote, whole_words=not partial)
        occurrence = node.get("occurrence")
        if not positions:
            if find_all(text, quote, whole_words=False):
                self.problem(
                    node,
                    "quote starts or ends inside a word; extend it to whole words or mark "
                    f"it 'partial_word: true': {quote[:60]!r}",
                )
            else:
                self.problem(
                    node,
                    f"quote not found in {self.document.id}: {quote[:60]!r}"
                    + _other_form(text, quote, partial),
                )
            return None
        if occurrence is None:
            if len(positions) > 1:
                self.problem(
                    node,
                    f"quote occurs {len(positions)} times; add 'occurrence: N' "
                    f"(1-based): {quote[:60]!r}",
                )
                return None
            occurrence = 1
        if (
            isinstance(occurrence, bool)
            or not isinstance(occurrence, int)
            or not 1 <= occurrence <= len(positions)
        ):
            self.problem(node, f"occurrence must be 1 to {len(positions)}, got {occurrence!r}")
            return None
        start = positions[occurrence - 1]
        return start, start + len(quote)

    def annotation(self, node: Any, author: str) -> Annotation | None:
        if not isinstance(node, Mapping):
            self.problem(node, "expected a mapping with id, label and quote")
            return None
        local, label_name = node.get("id"), node.get("label")
        if not isinstance(local, str) or not local:
            self.problem(node, "expected an 'id'")
            return None
        if local in self.local_ids:
            self.problem(node, f"id '{local}' is used twice")
        self.local_ids.add(local)
        label = self.schema.labels.get(str(label_name))
        if label is None:
            self.problem(
                node,
                f"unknown label {label_name!r}; the schema has {', '.join(self.schema.labels)}",
            )
            return None
        span = self.anchor(node, label.scope)
        if span is None and (label.is_span or node.get("quote") is not None):
            return None
        attributes = node.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            self.problem(node, "expected 'attributes' to be a mapping")
            return None
        quote = Quote.from_text(self.document.text, *span) if span else None
        return Annotation(
            self.global_id(local),
            self.document.id,
            label.layer,
            label.name,
            span[0] if span else None,
            span[1] if span else None,
            quote,
            dict(attributes),
            author,
        )

    def relation(self, node: Any, author: str) -> Relation | None:
        if not isinstance(node, Mapping):
            self.problem(node, "expected a mapping with type, head and tail")
            return None
        for key in ("type", "head", "tail"):
            if not isinstance(node.get(key), str):
                self.problem(node, f"expected '{key}'")
                return None
        for key in ("head", "tail"):
            if node[key] not in self.local_ids:
                self.problem(node, f"{key} '{node[key]}' is not an annotation id of this file")
        return Relation(
            self.global_id(_local_id(node)),
            self.document.id,
            node["type"],
            self.global_id(node["head"]),
            self.global_id(node["tail"]),
            dict(node.get("attributes") or {}),
            author,
        )

    def rewrite_refs(self, record: Annotation | Relation) -> Annotation | Relation:
        """Local ids in ``ref`` attributes become global ids."""
        spec = (
            self.schema.labels[record.label].attributes
            if isinstance(record, Annotation)
            else self.schema.relations[record.type].attributes
            if record.type in self.schema.relations
            else {}
        )
        attributes = dict(record.attributes)
        for name, value in attributes.items():
            attribute = spec.get(name)
            if attribute is not None and attribute.type == "ref" and value in self.local_ids:
                attributes[name] = self.global_id(value)
        return replaced(record, attributes=attributes)


def resolve_gold(
    paths: Iterable[Path], documents: Iterable[Document], schema: Schema
) -> tuple[list[Annotation], list[Relation]]:
    """Resolve gold files against documents (matched by raw source file) and check them
    against the schema. Raises :class:`GoldError` listing every problem; returns nothing
    partial."""
    files = [(path, load_yaml(path)) for path in paths]
    wanted = {str(root.get("source")) for _, root in files if isinstance(root, Mapping)}
    by_source = {
        str(doc.meta.get("source_file")): doc
        for doc in documents
        if doc.meta.get("source_file") in wanted
    }
    problems: list[GoldProblem] = []
    annotations: list[Annotation] = []
    relations: list[Relation] = []
    for path, root in files:
        if not isinstance(root, Mapping) or not isinstance(root.get("source"), str):
            problems.append(GoldProblem(path, line_of(root), "expected 'source: <raw file>'"))
            continue
        document = by_source.get(root["source"])
        if document is None:
            problems.append(
                GoldProblem(path, line_of(root), f"no document from raw file '{root['source']}'")
            )
            continue
        resolver = _Resolver(path, schema, document)
        author = str(root.get("author") or "gold")
        if (wrong := author_problem(author)) is not None:
            problems.append(GoldProblem(path, line_of(root, "author"), f"author: {wrong}"))
            continue
        nodes = root.get("annotations") or []
        if not isinstance(nodes, list) or not isinstance(root.get("relations") or [], list):
            key = "annotations" if not isinstance(nodes, list) else "relations"
            problems.append(GoldProblem(path, line_of(root), f"{key}: expected a list"))
            continue
        resolved = [a for a in (resolver.annotation(n, author) for n in nodes) if a]
        links = [r for n in root.get("relations") or [] if (r := resolver.relation(n, author))]
        unresolved: list[Annotation | Relation] = [*resolved, *links]
        records = [resolver.rewrite_refs(r) for r in unresolved]
        file_annotations = [r for r in records if isinstance(r, Annotation)]
        file_relations = [r for r in records if isinstance(r, Relation)]
        lines = {
            resolver.global_id(_local_id(node)): line_of(node)
            for node in [*nodes, *(root.get("relations") or [])]
            if isinstance(node, Mapping)
        }
        for finding in schema.findings(file_annotations, file_relations):
            where = lines.get(finding.record.id)
            resolver.problems.append(
                GoldProblem(
                    path,
                    where,
                    f"{finding.record.id.split(':', 1)[-1]}: {finding.code}: {finding.message}",
                )
            )
        problems.extend(resolver.problems)
        annotations.extend(file_annotations)
        relations.extend(file_relations)
    if problems:
        raise GoldError(problems)
    return annotations, relations


_LOOSE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
"""Apostrophes, quotation marks and spaces a hand-typed quote writes otherwise than the
text (’ as ', « » as ", a no-break space as a space); one character for one, so a match in
the loosened text is at the same offsets in the text."""


def _other_form(text: str, quote: str, partial: bool) -> str:
    """When ``quote`` is in ``text`` with other apostrophes, quotation marks or spaces: a
    note showing the text's form, to copy; else nothing."""
    loose = quote.translate(_LOOSE)
    found = find_all(text.translate(_LOOSE), loose, whole_words=not partial)
    if not found:
        return ""
    start = found[0]
    form = text[start : start + len(quote)]
    return (
        "; the text has it with other apostrophes, quotation marks or spaces "
        f"(’ for ', « » for \", a no-break space for a space): {form[:60]!r}"
    )
