"""A synthetic release with gold and a prediction file, for scale measurements only (never
shipped as data): ``synthetic_texts`` documents, all in the test split, and per document

* gold: a CLAIM on about 60 % of the sentences, a SOURCE on the first word of about 15 %
  (``attributed_to`` from the sentence's CLAIM when there is one), a SURVEY on a third of
  the documents — about 20 spans per document;
* predictions: each gold CLAIM copied exactly (70 %), with a later start (10 %), with another
  claim type (5 %) or missed (7.5 %), the rest exact; a spurious CLAIM on 10 % of the other
  sentences; the SOURCEs and relations copied.

Run: ``python benchmarks/synthetic_release.py OUT --documents N`` → ``OUT/releases/1.0.0`` and
``OUT/predictions.jsonl``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from synthetic import synthetic_texts

from claimwire.annotation.schema import Schema, default_schema_path, load_schema
from claimwire.corpus.release import Sharding, build_release, open_release
from claimwire.model import Annotation, Document, Quote, Relation, replaced, write_records

VERSION = "1.0.0"
CLAIM_TYPES = ["quantity", "correlation_causation", "laws_rules", "prediction", "other"]
STATUSES = ["absent", "not_applicable"]  # present/partial would need DISCLOSURE spans


def _span(doc: Document, key: str, label: str, start: int, end: int, **attrs: object) -> Annotation:
    layer = {"CLAIM": "claims", "SOURCE": "attribution"}[label]
    return Annotation(
        id=f"{doc.id}:{key}",
        doc_id=doc.id,
        layer=layer,
        label=label,
        start=start,
        end=end,
        quote=Quote.from_text(doc.text, start, end),
        attributes=dict(attrs),
    )


def gold_of(doc: Document, schema: Schema) -> tuple[list[Annotation], list[Relation]]:
    rng = random.Random(zlib.crc32(doc.id.encode()))
    annotations: list[Annotation] = []
    relations: list[Relation] = []
    for i, (start, end) in enumerate(doc.sentences):
        claim = None
        if rng.random() < 0.6:
            claim = _span(
                doc,
                f"c{i}",
                "CLAIM",
                start,
                end,
                claim_type=rng.choice(CLAIM_TYPES),
                checkworthy=rng.random() < 0.5,
            )
            annotations.append(claim)
        first_word = doc.text.find(" ", start, end)
        if rng.random() < 0.15 and first_word > start:
            source = _span(
                doc, f"s{i}", "SOURCE", start, first_word, source_kind="organization", named=True
            )
            annotations.append(source)
            if claim is not None:
                relations.append(
                    Relation(
                        id=f"{doc.id}:r{i}",
                        doc_id=doc.id,
                        type="attributed_to",
                        head=claim.id,
                        tail=source.id,
                        attributes={"quote_type": "indirect"},
                    )
                )
    if rng.random() < 1 / 3:
        fields = {name: rng.choice(STATUSES) for name in schema.disclosure_fields}
        annotations.append(
            Annotation(
                id=f"{doc.id}:survey",
                doc_id=doc.id,
                layer="statistics",
                label="SURVEY",
                attributes={
                    "name": f"sondage {doc.id[-6:]}",
                    "sampling_type": "unknown",
                    "self_selected": rng.random() < 0.3,
                    "sponsor_is_interested_party": "unknown",
                    "sponsor_is_publisher": False,
                    **fields,
                },
            )
        )
    return annotations, relations


def predictions_of(
    doc: Document, gold: list[Annotation], relations: list[Relation]
) -> Iterator[Annotation | Relation]:
    rng = random.Random(zlib.crc32(doc.id.encode()) ^ 0x5EED)
    claimed = {a.start for a in gold if a.label == "CLAIM"}
    kept = {a.id for a in gold if a.label == "SOURCE"}
    for annotation in gold:
        if annotation.label == "SOURCE":
            yield _renamed(annotation)
        if annotation.label != "CLAIM":
            continue
        assert annotation.start is not None and annotation.end is not None
        roll = rng.random()
        if not 0.85 <= roll < 0.925:
            kept.add(annotation.id)
        if roll < 0.70 or roll >= 0.925:
            yield _renamed(annotation)
        elif roll < 0.80:
            later = doc.text.find(" ", annotation.start, annotation.end) + 1
            start = later if 0 < later < annotation.end else annotation.start
            moved = _renamed(annotation)
            yield replaced(
                moved, start=start, quote=Quote.from_text(doc.text, start, annotation.end)
            )
        elif roll < 0.85:
            other = [t for t in CLAIM_TYPES if t != annotation.attributes["claim_type"]]
            yield _renamed(annotation, claim_type=rng.choice(other))
    for i, (start, end) in enumerate(doc.sentences):
        if start not in claimed and rng.random() < 0.1:
            yield _span(doc, f"x{i}", "CLAIM", start, end, claim_type="other", checkworthy=False)
    for relation in relations:
        if relation.head not in kept:
            continue
        yield Relation(
            id=relation.id + "p",
            doc_id=relation.doc_id,
            type=relation.type,
            head=relation.head + "p",
            tail=relation.tail + "p",
            attributes=relation.attributes,
        )


def _renamed(annotation: Annotation, **attrs: object) -> Annotation:
    return Annotation(
        id=annotation.id + "p",
        doc_id=annotation.doc_id,
        layer=annotation.layer,
        label=annotation.label,
        start=annotation.start,
        end=annotation.end,
        quote=annotation.quote,
        attributes={**annotation.attributes, **attrs},
        author="synthetic",
    )


def build(
    out: Path,
    documents: int,
    seed: int = 12345,
    *,
    splits: Sequence[str] = ("test",),
    sharding: Sharding | None = None,
) -> tuple[Path, Path]:
    """Write the raw texts, build the release with its gold, write the predictions. The
    documents take ``splits`` in turn; ``sharding``: how the release is written."""
    raw = out / "raw"
    raw.mkdir(parents=True)
    with (raw / "releases.jsonl").open("w", encoding="utf-8") as handle:
        texts = synthetic_texts(documents, random.Random(seed))
        for text, split in zip(texts, itertools.cycle(splits), strict=False):
            handle.write(json.dumps({"text": text, "split": split}, ensure_ascii=False) + "\n")
    schema_path = default_schema_path()
    schema = load_schema(schema_path)
    predictions = out / "predictions.jsonl"

    def gold(docs: Iterator[Document]) -> Iterator[Annotation | Relation]:
        for doc in docs:
            kept, links = gold_of(doc, schema)
            yield from kept
            yield from links

    def predicted(docs: Iterator[Document]) -> Iterator[Annotation | Relation]:
        for doc in docs:  # the gold again: it depends only on the document
            yield from predictions_of(doc, *gold_of(doc, schema))

    report = build_release(
        raw,
        out / "releases",
        VERSION,
        gold=gold,
        schema_file=schema_path,
        schema_version=schema.version,
        summarize=schema.summarize,
        near_duplicates=1.0,
        sharding=sharding,
    )
    write_records(predictions, predicted(open_release(report.path).documents()))
    return report.path, predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--documents", type=int, default=10_000)
    args = parser.parse_args()
    release, predictions = build(args.out, args.documents)
    print(release, predictions)


if __name__ == "__main__":
    main()
