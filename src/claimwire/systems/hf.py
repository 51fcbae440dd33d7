"""``hf``: any local ``transformers`` pipeline as a system.

* ``task=token-classification`` (default): a NER-style model whose labels are schema labels
  (``CLAIM``, ``SOURCE``, ``CUE``, ``NUM_STAT``… with or without ``B-``/``I-`` prefixes);
  entity groups become spans with exact character offsets.
* ``task=text-classification``: a stance model whose labels are ``FAVOR`` / ``AGAINST`` /
  ``NONE``; it reads, for each (holder, target) pair of the stance task, ``"<target>: <text>"``.

Options: ``model`` (a local folder, required), ``task``, ``batch_size``. Only local files are
read: ``HF_HUB_OFFLINE`` is set, so a missing model is a clear error, never a download.
Needs the ``hf`` extra (``pip install 'claimwire[hf]'``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from claimwire.annotation.checks import release_schema
from claimwire.annotation.schema import load_schema
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Document, Quote
from claimwire.systems.base import DocumentOutput, RunContext
from claimwire.systems.stance import stance_items

TASKS = ("token-classification", "text-classification")


class HuggingFaceSystem:
    name = "hf"
    version = "1.0"
    tasks = ("claims", "attribution", "statistics", "stance")

    known_options: tuple[str, ...] = ("model", "task", "batch_size")

    def __init__(self, **options: str) -> None:
        self.options = dict(options)
        model = options.get("model")
        if not model:
            raise ClaimwireError("the hf system needs an option model=PATH (a local model folder)")
        self.path = Path(model)
        if not (self.path / "config.json").exists():
            raise ClaimwireError(
                "not a local transformers model (no config.json); models are never downloaded",
                file=self.path,
            )
        self.task = options.get("task", "token-classification")
        if self.task not in TASKS:
            raise ClaimwireError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        self.batch_size = int(options.get("batch_size", 16))
        self.schema = load_schema()
        self._pipeline: Any = None

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from transformers import pipeline
            except ImportError:
                raise ClaimwireError(
                    "the hf system needs transformers and torch: pip install 'claimwire[hf]'"
                ) from None
            extra = (
                {"aggregation_strategy": "simple"} if self.task == "token-classification" else {}
            )
            self._pipeline = pipeline(  # type: ignore[call-overload]
                self.task, model=str(self.path), tokenizer=str(self.path), device=-1, **extra
            )
        return self._pipeline

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        if self.task == "text-classification":
            return self._stance(documents, context)
        return [self._spans(document) for document in documents]

    def _spans(self, document: Document) -> DocumentOutput:
        annotations: list[Annotation] = []
        texts = [document.text[s:e] for s, e in document.sentences]
        results = self.pipeline(texts, batch_size=self.batch_size) if texts else []
        for (offset, _), entities in zip(document.sentences, results, strict=True):
            for entity in entities:
                label = str(entity.get("entity_group", entity.get("entity", ""))).split("-")[-1]
                if label not in self.schema.labels or not self.schema.labels[label].is_span:
                    continue
                start, end = offset + int(entity["start"]), offset + int(entity["end"])
                while start < end and document.text[start].isspace():
                    start += 1
                if start >= end:
                    continue
                annotations.append(
                    Annotation(
                        f"{document.id}:hf-{len(annotations) + 1}",
                        document.id,
                        self.schema.labels[label].layer,
                        label,
                        start,
                        end,
                        Quote.from_text(document.text, start, end),
                        {},
                        self.name,
                    )
                )
        return DocumentOutput(document.id, annotations)

    def _stance(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        schema = release_schema(context.release.path) or self.schema
        outputs = []
        for document, gold in context.gold_by_document(documents):
            items = stance_items(document, *gold, schema)
            inputs = [f"{i.target_name}: {i.text}"[:2000] for i in items]
            predictions = self.pipeline(inputs, batch_size=self.batch_size) if inputs else []
            annotations = []
            for n, (item, prediction) in enumerate(zip(items, predictions, strict=True), start=1):
                label = str(prediction["label"]).upper()
                annotations.append(
                    Annotation(
                        f"{document.id}:hf-stance-{n}",
                        document.id,
                        "stance",
                        "STANCE",
                        attributes={
                            "holder": item.holder,
                            "target": item.target,
                            "stance": label if label in ("FAVOR", "AGAINST", "NONE") else "NONE",
                        },
                        author=self.name,
                    )
                )
            outputs.append(DocumentOutput(document.id, annotations))
        return outputs
