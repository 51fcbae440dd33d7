"""Annotation sets of a crowd, for scale measurements only (never shipped as data): many
annotators over one synthetic release (``synthetic_release.py``), each document annotated by
a few of them, as a crowd project assigns work.

Each document goes to ``per_document`` annotators, taken in turn from a shuffled list so
every annotator gets about as many documents (``documents × per_document / annotators``);
``per_document`` equal to ``annotators`` gives every set every document (the dense layout).
An annotator's set is the document's synthetic gold, varied by a seed of its own per
document: a CLAIM left out (15 %), its ``claim_type`` changed (25 %) or its start moved to the
next word (10 %); relations to a left-out claim go with it. Beside each set,
``NAME.completed.txt`` lists the documents its annotator completed, so a document where they
marked nothing still counts as annotated.

Run: ``python benchmarks/synthetic_crowd.py OUT --annotators 500 --documents 2000`` →
``OUT/syn/releases/1.0.0`` and ``OUT/sets/a000.jsonl`` …; ``--release`` reuses a release built
before (its documents and gold are read from it).
"""

from __future__ import annotations

import argparse
import random
import zlib
from collections.abc import Iterator
from pathlib import Path

from synthetic_release import CLAIM_TYPES, build, gold_of

from claimwire.annotation.schema import default_schema_path, load_schema
from claimwire.corpus.release import open_release
from claimwire.model import Annotation, Document, Quote, Relation, replaced, write_records


def assignments(
    documents: int, annotators: int, per_document: int, seed: int = 7
) -> list[list[int]]:
    """Each document's annotators (distinct, sorted): taken in turn from a list of every
    annotator, shuffled anew each time it runs out."""
    if not 1 <= per_document <= annotators:
        raise ValueError("per_document must be between 1 and the number of annotators")
    rng = random.Random(seed)
    pool: list[int] = []
    found = []
    for _ in range(documents):
        chosen: list[int] = []
        while len(chosen) < per_document:
            if not pool:
                pool = list(range(annotators))
                rng.shuffle(pool)
            candidate = pool.pop()
            if candidate not in chosen:  # else (at a reshuffle) it sits this round out
                chosen.append(candidate)
        found.append(sorted(chosen))
    return found


def variant(
    name: str, document: Document, annotations: list[Annotation], relations: list[Relation]
) -> Iterator[Annotation | Relation]:
    """One annotator's version of a document's gold (its ids prefixed with ``name``)."""
    rng = random.Random(zlib.crc32(f"{name}/{document.id}".encode()))
    dropped = set()
    for annotation in annotations:
        if annotation.label == "CLAIM":
            assert annotation.start is not None and annotation.end is not None
            roll = rng.random()
            if roll < 0.15:
                dropped.add(annotation.id)
                continue
            if roll < 0.40:
                others = [t for t in CLAIM_TYPES if t != annotation.attributes["claim_type"]]
                kind = rng.choice(others)
                annotation = replaced(
                    annotation, attributes={**annotation.attributes, "claim_type": kind}
                )
            elif roll < 0.50:
                later = document.text.find(" ", annotation.start, annotation.end) + 1
                if 0 < later < annotation.end:
                    quote = Quote.from_text(document.text, later, annotation.end)
                    annotation = replaced(annotation, start=later, quote=quote)
        yield replaced(annotation, id=f"{name}:{annotation.id}", author=name)
    for relation in relations:
        if relation.head in dropped or relation.tail in dropped:
            continue
        yield replaced(
            relation,
            id=f"{name}:{relation.id}",
            head=f"{name}:{relation.head}",
            tail=f"{name}:{relation.tail}",
        )


def write_sets(
    release: Path, out: Path, annotators: int, per_document: int, seed: int = 7
) -> list[Path]:
    """The sets of ``annotators`` (``a000.jsonl`` …, each with its ``.completed.txt``) on the
    documents of ``release``, in the release's order; their paths."""
    schema = load_schema(default_schema_path())
    documents = list(open_release(release, verify=False).documents())
    chosen = assignments(len(documents), annotators, per_document, seed)
    width = max(3, len(str(annotators - 1)))
    names = [f"a{number:0{width}}" for number in range(annotators)]
    mine: list[list[Document]] = [[] for _ in names]
    for document, who in zip(documents, chosen, strict=True):
        for number in who:
            mine[number].append(document)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, held in zip(names, mine, strict=True):
        path = out / f"{name}.jsonl"

        def records(name: str = name, held: list[Document] = held) -> Iterator[object]:
            for document in held:
                yield from variant(name, document, *gold_of(document, schema))

        write_records(path, records())  # type: ignore[arg-type]
        completed = "".join(f"{document.id}\n" for document in held)
        path.with_name(f"{name}.completed.txt").write_text(completed, "utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--annotators", type=int, default=500)
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--per-document", type=int, default=3)
    parser.add_argument("--release", type=Path, help="a release built before (its gold)")
    args = parser.parse_args()
    release = args.release or build(args.out / "syn", args.documents)[0]
    paths = write_sets(release, args.out / "sets", args.annotators, args.per_document)
    print(release, f"{len(paths)} sets in {args.out / 'sets'}")


if __name__ == "__main__":
    main()
