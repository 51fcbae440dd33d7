"""A release as Hugging Face dataset tables: one config per view, rows and typed features.

Configs: ``documents`` (default), ``sentences``, ``claims``, ``attribution``, ``statistics``
(with the SURVEY disclosure fields), ``stance`` and ``tokens`` (tokens + IOB2 tags), shaped for
the tasks; ``spans`` and ``relations``, every gold record whole (the gold is rebuilt from them
exactly); then one per layer or relation type of the schema the task
configs do not carry (:mod:`claimwire.hub.generic`, ``LAYER_spans`` and ``TYPE_relations``).
Every row carries its document's split, so every config splits the corpus the same way.
Statistics are float64 (float32 would turn 0.9 into 0.8999999761581421); labels are strings,
with a ClassLabel beside where the schema closes the set.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from datasets import ClassLabel, Features, List, Value

from claimwire.annotation.schema import Schema
from claimwire.annotation.targets import Target, document_targets
from claimwire.corpus.release import ANNOTATIONS, RELATIONS, Release
from claimwire.formats.conll import sentence_tokens, tags_of
from claimwire.grouping import RecordIndex
from claimwire.hub.generic import carried_labels, generic_configs
from claimwire.hub.gold import Gold, Seen, by_split, row_features
from claimwire.model import Annotation, Relation

DEFAULT_CONFIG = "documents"
SPAN = {"start": Value("int32"), "end": Value("int32")}


@dataclass(frozen=True)
class Table:
    config: str
    description: str
    features: Features
    rows: dict[str, list[dict[str, Any]]]
    """Rows by split (of one batch of documents, when exported)."""
    written: dict[str, int] = field(default_factory=dict)
    """Rows per split written away (the rows themselves are then not kept)."""
    documented: tuple[tuple[str, str, str], ...] = ()
    """Card rows (name, type, description) for the parts of a struct field, such as
    ``attributes.kind``."""

    @property
    def counts(self) -> dict[str, int]:
        """Rows per split, the empty splits left out."""
        found = self.written or {split: len(rows) for split, rows in self.rows.items()}
        return {split: count for split, count in found.items() if count}


def _choices(schema: Schema, label: str, name: str) -> tuple[str, ...]:
    """The values of a choice attribute; none when the schema has no such attribute (then
    the label is not carried: its table has no row)."""
    attribute = schema.attribute(label, name)
    return attribute.values if attribute is not None and attribute.type == "choice" else ()


def _documents(gold: Gold, schema: Schema) -> Table:
    features = Features(
        {
            "id": Value("string"),
            "split": Value("string"),
            "lang": Value("string"),
            "title": Value("string"),
            "dateline_city": Value("string"),
            "published": Value("string"),
            "wire": Value("string"),
            "distribution_id": Value("string"),
            "issuer": Value("string"),
            "urls": List(Value("string")),
            "date_marker": Value("string"),
            "source_file": Value("string"),
            "source_sha256": Value("string"),
            "text": Value("string"),
            "paragraphs": List(SPAN),
            "sentences": List(SPAN),
        }
    )
    rows = []
    for doc in gold.documents.values():
        meta = doc.meta
        rows.append(
            (
                doc.split,
                {
                    "id": doc.id,
                    "split": doc.split,
                    "lang": doc.lang,
                    **{
                        key: meta.get(key)
                        for key in (
                            "title",
                            "dateline_city",
                            "published",
                            "wire",
                            "distribution_id",
                            "issuer",
                            "date_marker",
                            "source_file",
                            "source_sha256",
                        )
                    },
                    "urls": list(meta.get("urls") or []),
                    "text": doc.text,
                    "paragraphs": [{"start": s, "end": e} for s, e in doc.paragraphs],
                    "sentences": [{"start": s, "end": e} for s, e in doc.sentences],
                },
            )
        )
    return Table(
        "documents",
        "One row per press release: text, metadata, segmentation.",
        features,
        by_split(rows),
    )


def _sentences(gold: Gold, schema: Schema) -> Table:
    features = row_features(
        index=Value("int32"),
        paragraph=Value("int32"),
        start=Value("int32"),
        end=Value("int32"),
        text=Value("string"),
    )
    rows = []
    for doc in gold.documents.values():
        paragraph = 0
        for index, (start, end) in enumerate(doc.sentences):
            while paragraph + 1 < len(doc.paragraphs) and doc.paragraphs[paragraph][1] <= start:
                paragraph += 1
            rows.append(
                (
                    doc.split,
                    {
                        "id": doc.sentence_id(index),
                        "doc_id": doc.id,
                        "split": doc.split,
                        "index": index,
                        "paragraph": paragraph,
                        "start": start,
                        "end": end,
                        "text": doc.text[start:end],
                    },
                )
            )
    return Table(
        "sentences",
        "One row per sentence, with exact offsets into its document.",
        features,
        by_split(rows),
    )


def _claims(gold: Gold, schema: Schema) -> Table:
    claim_types = _choices(schema, "CLAIM", "claim_type")
    features = row_features(
        start=Value("int32"),
        end=Value("int32"),
        text=Value("string"),
        claim_type=Value("string"),
        claim_type_label=ClassLabel(names=list(claim_types)),
        checkworthy=Value("bool"),
        numeric_category=Value("string"),
        sources=List(
            {
                "source_id": Value("string"),
                "source_text": Value("string"),
                "cue_text": Value("string"),
                "quote_type": Value("string"),
            }
        ),
    )
    rows = []
    for claim in gold.labelled("CLAIM"):
        attributes = claim.attributes
        sources = [
            {
                "source_id": r.tail,
                "source_text": gold.text(gold.by_id.get(r.tail)),
                "cue_text": gold.text(gold.by_id.get(str(r.attributes.get("cue")))),
                "quote_type": r.attributes.get("quote_type"),
            }
            for r in gold.heads[claim.id]
            if r.type == "attributed_to"
        ]
        rows.append(
            gold.row(
                claim,
                {
                    "start": claim.start,
                    "end": claim.end,
                    "text": gold.text(claim),
                    "claim_type": attributes.get("claim_type"),
                    "claim_type_label": claim_types.index(attributes["claim_type"]),
                    "checkworthy": attributes.get("checkworthy"),
                    "numeric_category": attributes.get("numeric_category"),
                    "sources": sources,
                },
            )
        )
    return Table(
        "claims",
        "One row per check-worthy claim, with its type and its sources.",
        features,
        by_split(rows),
    )


def _attribution(gold: Gold, schema: Schema) -> Table:
    def span_fields(prefix: str) -> dict[str, Any]:
        return {
            f"{prefix}_id": Value("string"),
            f"{prefix}_start": Value("int32"),
            f"{prefix}_end": Value("int32"),
            f"{prefix}_text": Value("string"),
        }

    features = row_features(
        content_label=Value("string"),
        **span_fields("content"),
        **span_fields("source"),
        source_kind=Value("string"),
        source_role=Value("string"),
        source_named=Value("bool"),
        **span_fields("cue"),
        quote_type=Value("string"),
    )
    rows = []
    for relation in gold.relations:
        if relation.type != "attributed_to":
            continue
        content, source = gold.by_id[relation.head], gold.by_id[relation.tail]
        cue = gold.by_id.get(str(relation.attributes.get("cue")))

        def span(prefix: str, annotation: Annotation | None) -> dict[str, Any]:
            return {
                f"{prefix}_id": annotation.id if annotation else None,
                f"{prefix}_start": annotation.start if annotation else None,
                f"{prefix}_end": annotation.end if annotation else None,
                f"{prefix}_text": gold.text(annotation),
            }

        rows.append(
            gold.row(
                relation,
                {
                    "content_label": content.label,
                    **span("content", content),
                    **span("source", source),
                    "source_kind": source.attributes.get("source_kind"),
                    "source_role": source.attributes.get("source_role"),
                    "source_named": source.attributes.get("named"),
                    **span("cue", cue),
                    "quote_type": relation.attributes.get("quote_type"),
                },
            )
        )
    return Table(
        "attribution",
        "One row per attribution: content, source, cue (PARC-style).",
        features,
        by_split(rows),
    )


def _statistics(gold: Gold, schema: Schema) -> Table:
    fields = list(schema.disclosure_fields)
    features = row_features(
        label=Value("string"),
        start=Value("int32"),
        end=Value("int32"),
        text=Value("string"),
        value=Value("float64"),
        value_decimal=Value("string"),
        unit=Value("string"),
        qualifier=Value("string"),
        time_reference=Value("string"),
        proposition=Value("string"),
        respondent_base=Value("string"),
        source_ids=List(Value("string")),
        survey_id=Value("string"),
        survey_name=Value("string"),
        sampling_type=Value("string"),
        disclosure={name: Value("string") for name in fields},
        disclosure_evidence=List({"field": Value("string"), "text": Value("string")}),
        disclosure_core=Value("float64"),
        disclosure_full=Value("float64"),
        risk_flags=List(Value("string")),
    )
    evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for relation in gold.relations:
        if relation.type == "evidence_of":
            span = gold.by_id[relation.head]
            evidence[relation.tail].append(
                {"field": span.attributes.get("field"), "text": gold.text(span)}
            )
    rows = []
    for stat in gold.labelled("SURVEY_STAT", "NUM_STAT"):
        attributes = stat.attributes
        links = gold.heads[stat.id]
        survey = next((gold.by_id[r.tail] for r in links if r.type == "from_survey"), None)
        scores = schema.disclosure_scores(survey) if survey else {"core": None, "full": None}
        flags = schema.risk_flags(survey) if survey else []
        rows.append(
            gold.row(
                stat,
                {
                    "label": stat.label,
                    "start": stat.start,
                    "end": stat.end,
                    "text": gold.text(stat),
                    "value": float(Decimal(str(attributes["value"]))),
                    "value_decimal": str(attributes["value"]),
                    **{
                        k: attributes.get(k)
                        for k in (
                            "unit",
                            "qualifier",
                            "time_reference",
                            "proposition",
                            "respondent_base",
                        )
                    },
                    "source_ids": [r.tail for r in links if r.type == "attributed_to"],
                    "survey_id": survey.id if survey else None,
                    "survey_name": survey.attributes.get("name") if survey else None,
                    "sampling_type": survey.attributes.get("sampling_type") if survey else None,
                    "disclosure": {f: survey.attributes.get(f) for f in fields} if survey else None,
                    "disclosure_evidence": evidence.get(survey.id, []) if survey else [],
                    "disclosure_core": scores["core"],
                    "disclosure_full": scores["full"],
                    "risk_flags": flags,
                },
            )
        )
    return Table(
        "statistics",
        "One row per figure (poll figures and other statistics), with "
        "its slots and, for poll figures, the survey's disclosure checklist.",
        features,
        by_split(rows),
    )


def _stance(gold: Gold, schema: Schema) -> Table:
    values = _choices(schema, "STANCE", "stance")
    features = row_features(
        holder=Value("string"),
        holder_text=Value("string"),
        target=Value("string"),
        target_name=Value("string"),
        stance=Value("string"),
        stance_label=ClassLabel(names=list(values)),
    )
    texts = {doc_id: document.text for doc_id, document in gold.documents.items()}
    targets = document_targets(gold.annotations, schema, texts)
    rows = []
    for item in gold.labelled("STANCE"):
        holder = str(item.attributes.get("holder"))
        document = gold.documents[item.doc_id]
        holder_text = (
            document.meta.get("issuer") if holder == "issuer" else gold.text(gold.by_id.get(holder))
        )
        target = str(item.attributes.get("target"))
        named = targets.get(item.doc_id, {}).get(target, Target(target, target))
        rows.append(
            gold.row(
                item,
                {
                    "holder": holder,
                    "holder_text": holder_text,
                    "target": target,
                    "target_name": named.name,
                    "stance": item.attributes.get("stance"),
                    "stance_label": values.index(str(item.attributes.get("stance"))),
                },
            )
        )
    return Table(
        "stance",
        "One row per (holder, target) pair: FAVOR, AGAINST or NONE.",
        features,
        by_split(rows),
    )


def _tokens(gold: Gold, schema: Schema) -> Table:
    """Tokens and IOB2 tags per sentence, one tag column per span layer (BIO is flat)."""
    layers = {
        layer: [label for label in schema.labels_of(layer) if schema.labels[label].is_span]
        for layer in schema.layers
    }
    layers = {layer: labels for layer, labels in layers.items() if labels}
    names = {
        layer: ["O", *(f"{p}-{label}" for label in labels for p in ("B", "I"))]
        for layer, labels in layers.items()
    }
    features = row_features(
        index=Value("int32"),
        tokens=List(Value("string")),
        token_starts=List(Value("int32")),
        token_ends=List(Value("int32")),
        **{f"{layer}_tags": List(ClassLabel(names=names[layer])) for layer in layers},
    )
    by_doc: dict[str, list[Annotation]] = defaultdict(list)
    for annotation in gold.annotations:
        by_doc[annotation.doc_id].append(annotation)
    rows = []
    for doc in gold.documents.values():
        tokenized = sentence_tokens(doc) if layers else []  # once for every layer
        tagged = {
            layer: tags_of(doc, by_doc[doc.id], labels, sentences=tokenized)[:2]
            for layer, labels in layers.items()
        }
        sentences = next(iter(tagged.values()))[0] if tagged else []
        for index, tokens in enumerate(sentences):
            row: dict[str, Any] = {
                "id": doc.sentence_id(index),
                "doc_id": doc.id,
                "split": doc.split,
                "index": index,
                "tokens": [t[0] for t in tokens],
                "token_starts": [t[1] for t in tokens],
                "token_ends": [t[2] for t in tokens],
            }
            for layer, (_, tags) in tagged.items():
                row[f"{layer}_tags"] = tags[index]
            rows.append((doc.split, row))
    return Table("tokens", tokens_description(("fr",)), features, by_split(rows))


QUOTE = {"exact": Value("string"), "prefix": Value("string"), "suffix": Value("string")}
"""A record's quote (W3C TextQuoteSelector): its exact text and the context on each side."""


def _attributes_json(attributes: Mapping[str, Any]) -> str:
    """Every attribute of a record as one JSON object, its values as the release has them
    (``json.loads`` gives the mapping back)."""
    return json.dumps(dict(attributes), ensure_ascii=False)


def _spans(gold: Gold, schema: Schema) -> Table:
    """Every annotation, whatever its label and whether or not a task config holds it."""
    features = row_features(
        layer=Value("string"),
        label=Value("string"),
        start=Value("int32"),
        end=Value("int32"),
        text=Value("string"),
        quote=QUOTE,
        attributes_json=Value("string"),
        author=Value("string"),
    )
    rows = [
        gold.row(
            annotation,
            {
                "layer": annotation.layer,
                "label": annotation.label,
                "start": annotation.start,
                "end": annotation.end,
                "text": gold.text(annotation),
                "quote": annotation.quote.to_dict() if annotation.quote else None,
                "attributes_json": _attributes_json(annotation.attributes),
                "author": annotation.author,
            },
        )
        for annotation in gold.annotations
    ]
    return Table(
        "spans",
        "One row per annotation of every label, the release's record whole: layer, label, "
        "offsets and text (none for a document-level one), quote, every attribute as JSON "
        "text, author. With `relations`, the gold is rebuilt from it exactly.",
        features,
        by_split(rows),
    )


def _relations(gold: Gold, schema: Schema) -> Table:
    """Every relation, whatever its type."""
    features = row_features(
        type=Value("string"),
        head=Value("string"),
        head_label=Value("string"),
        tail=Value("string"),
        tail_label=Value("string"),
        attributes_json=Value("string"),
        author=Value("string"),
    )
    rows = []
    for relation in gold.relations:
        head, tail = gold.by_id.get(relation.head), gold.by_id.get(relation.tail)
        rows.append(
            gold.row(
                relation,
                {
                    "type": relation.type,
                    "head": relation.head,
                    "head_label": head.label if head else None,
                    "tail": relation.tail,
                    "tail_label": tail.label if tail else None,
                    "attributes_json": _attributes_json(relation.attributes),
                    "author": relation.author,
                },
            )
        )
    return Table(
        "relations",
        "One row per relation of every type, the release's record whole: type, head and tail "
        "(ids and labels), every attribute as JSON text, author.",
        features,
        by_split(rows),
    )


def tokens_description(languages: Collection[str]) -> str:
    """What the ``tokens`` config is, for a release in ``languages``: every language is cut
    by spaCy's French rule-based tokenizer (:func:`claimwire.formats.conll.sentence_tokens`)."""
    tokens = (
        "spaCy's French tokens"
        if set(languages) <= {"fr"}
        else "tokens of spaCy's French rule-based tokenizer (claimwire cuts every language "
        f"with it; this release: {', '.join(sorted(languages))})"
    )
    return (
        f"One row per sentence: {tokens} with their offsets, and IOB2 tags per span layer "
        "(ClassLabel sequences) for training token classifiers. BIO is flat: a span "
        "overlapping an earlier one of its layer is left out, a span cutting a token is widened "
        "to whole tokens."
    )


BUILDERS: dict[str, Callable[[Gold, Schema], Table]] = {
    "documents": _documents,
    "sentences": _sentences,
    "claims": _claims,
    "attribution": _attribution,
    "statistics": _statistics,
    "stance": _stance,
    "tokens": _tokens,
    "spans": _spans,
    "relations": _relations,
}


BATCH_DOCUMENTS = 256
"""Documents whose rows are built together: memory holds one batch's rows."""


def batched_tables(
    release: Release, schema: Schema, batch: int | None = None, seen: Seen | None = None
) -> Iterator[list[Table]]:
    """Every config's rows for one batch of documents at a time (``batch``, else
    :data:`BATCH_DOCUMENTS`), in document order; every reference an annotation makes stays
    inside its document, so a batch's rows are whole. The fixed configs come first, then
    one per layer or relation type they do not carry
    (:func:`claimwire.hub.generic.generic_configs`). ``seen`` is told every batch."""
    read, whole = carried_labels(schema)
    generic = generic_configs(schema, whole)
    files = [release.path / p for name in (ANNOTATIONS, RELATIONS) for p in release.parts(name)]
    documents = release.documents()
    with RecordIndex(files, check_ids=False) as index:
        while chunk := list(itertools.islice(documents, batch or BATCH_DOCUMENTS)):
            records = [record for _, _, record in index.rows([d.id for d in chunk])]
            gold = Gold(
                chunk,
                (r for r in records if isinstance(r, Annotation)),
                (r for r in records if isinstance(r, Relation)),
                read,
            )
            if seen is not None:
                seen.add(gold)
            yield [build(gold, schema) for build in BUILDERS.values()] + [
                Table(
                    config.config,
                    config.description,
                    config.features,
                    by_split(config.rows(gold)),
                    documented=config.typed.documented(),
                )
                for config in generic
            ]
