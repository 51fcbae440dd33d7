"""Stance baselines. Like SemEval-2016 Task 6, the task gives each (holder, target) pair and
the text to judge: the whole release for the issuer, the content attributed to the holder
(by the gold attribution) for a quoted source. Targets are the document's own TARGET items
(their name, aliases and anchored text). Systems only choose FAVOR / AGAINST / NONE.

* ``stance-majority`` — the most frequent label of the training pairs;
* ``stance-lexicon`` — counts evaluative words in the sentences that mention the target;
* ``stance-sklearn`` — TF-IDF + logistic regression (scikit-learn), seeded.

When the training split has fewer than ``min_train`` pairs (the bundled release has none),
the trained baselines switch to cross-validation over the evaluated pairs: each pair is
predicted by a model that never saw it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from claimwire.annotation.checks import release_schema
from claimwire.annotation.schema import Schema
from claimwire.annotation.targets import Target, document_targets
from claimwire.engine import batches
from claimwire.model import Annotation, Document, Relation
from claimwire.systems.base import DocumentOutput, RunContext

STANCE = "STANCE"
CLASSES = ("FAVOR", "AGAINST", "NONE")
TRAINING_BATCH = 256
"""Training documents whose gold is read at once."""
# A small documented French evaluative lexicon (positive / negative), accent-folded.
POSITIVE = frozenset(
    "important importante marquante marquant etape succes salue saluer renforcer promouvoir "
    "confiance benefique amitie efficace dynamique record essentiel majeur soutenant socle "
    "prosperite stabilite developpement modele mutuels mutuelle respect volonte ferme "
    "pleinement epanouit elargit bien".split()
)
NEGATIVE = frozenset(
    "critique critiquer denonce denoncer menace echec preoccupation inquietude oppose "
    "condamne risque dette piege rejet rejette protectionnisme hostile tension conflit "
    "sanction sanctions abus".split()
)
_FOLD = str.maketrans("àâäéèêëîïôöùûüç’", "aaaeeeeiioouuuc'")
_WORD = re.compile(r"[a-z']+")


def fold(text: str) -> str:
    return text.lower().translate(_FOLD)


@dataclass(frozen=True)
class StanceItem:
    """One (holder, target) pair of the stance task, with the text that judges it."""

    doc_id: str
    holder: str
    target: str
    text: str
    target_name: str = ""
    target_words: tuple[str, ...] = ()


def _name_key(text: str) -> str:
    names = re.findall(r"[A-ZÀ-Ý][\w’'-]+(?:\s+[A-ZÀ-Ý][\w’'-]+)+", text)
    return names[0] if names else text


def stance_items(
    document: Document,
    gold: Sequence[Annotation],
    relations: Sequence[Relation],
    schema: Schema | None = None,
) -> list[StanceItem]:
    """The pairs to label in ``document``: each gold STANCE without its label, with the
    issuer's text (the release) or the text the gold attributes to the holder, and the
    target as the document names it (``schema``: the targets of releases before 1.1.0)."""
    by_id = {a.id: a for a in gold}
    targets = document_targets(
        [a for a in gold if a.doc_id == document.id], schema, {document.id: document.text}
    ).get(document.id, {})
    items = []
    for annotation in gold:
        if annotation.label != STANCE or annotation.doc_id != document.id:
            continue
        holder = str(annotation.attributes.get("holder"))
        target = str(annotation.attributes.get("target"))
        if holder == "issuer" or holder not in by_id:
            text = document.text
        else:
            source = by_id[holder]
            key = _name_key(document.text[source.start : source.end])
            spans = []
            for relation in relations:
                tail, head = by_id.get(relation.tail), by_id.get(relation.head)
                if relation.type != "attributed_to" or tail is None or head is None:
                    continue
                if tail.id == holder or key in document.text[tail.start : tail.end]:
                    spans.append(document.text[head.start : head.end])
            text = " ".join(spans)
        named = targets.get(target, Target(target, target))
        items.append(StanceItem(document.id, holder, target, text, named.name, named.words))
    return items


def _gold_labels(gold: Iterable[Annotation]) -> dict[tuple[str, str, str], str]:
    """``(document, holder, target)`` → the gold stance label."""
    return {
        (a.doc_id, str(a.attributes.get("holder")), str(a.attributes.get("target"))): str(
            a.attributes.get("stance")
        )
        for a in gold
        if a.label == STANCE
    }


def _output(
    document: Document, items: Sequence[StanceItem], labels: Sequence[str], author: str
) -> DocumentOutput:
    annotations = [
        Annotation(
            f"{document.id}:{author}-{i + 1}",
            document.id,
            "stance",
            STANCE,
            attributes={"holder": item.holder, "target": item.target, "stance": label},
            author=author,
        )
        for i, (item, label) in enumerate(zip(items, labels, strict=True))
    ]
    return DocumentOutput(document.id, annotations)


class _StanceSystem:
    tasks = ("stance",)
    labels = (STANCE,)
    version = "1.0"
    name = "stance"
    known_options: tuple[str, ...] = ("min_train", "folds", "seed")

    def __init__(self, **options: str) -> None:
        self.options = dict(options)
        self.min_train = int(options.get("min_train", 20))
        self.folds = int(options.get("folds", 5))
        self.seed = int(options.get("seed", 12345))
        self.notes: list[str] = []

    def _items(
        self, documents: Sequence[Document], context: RunContext
    ) -> list[tuple[Document, list[StanceItem]]]:
        schema = release_schema(context.release.path)
        found = context.gold_by_document(documents)
        return [(d, stance_items(d, *gold, schema)) for d, gold in found]

    def _pairs(self, context: RunContext) -> Iterator[tuple[StanceItem, str]]:
        """The training split's pairs with their gold labels, read a batch of documents at
        a time (never the split's gold at once)."""
        schema = release_schema(context.release.path)
        for documents in batches(context.documents_of("train"), TRAINING_BATCH):
            for document, (gold, relations) in context.gold_by_document(documents):
                truth = _gold_labels(gold)
                for item in stance_items(document, gold, relations, schema):
                    yield item, truth[(item.doc_id, item.holder, item.target)]

    def _trained(self, context: RunContext) -> tuple[int, Any]:
        """How many training pairs there are, and the model fitted on them: once per run
        context."""
        key = f"{self.name}:model"
        if key not in context.cache:
            size = 0

            def pairs() -> Iterator[tuple[StanceItem, str]]:
                nonlocal size
                for pair in self._pairs(context):
                    size += 1
                    yield pair

            model = self._fit(pairs())
            context.cache[key] = (size, model)
        trained: tuple[int, Any] = context.cache[key]
        return trained

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        grouped = self._items(documents, context)
        flat = [item for _, items in grouped for item in items]
        labels = self.predict(flat, context)
        outputs, position = [], 0
        for document, items in grouped:
            outputs.append(
                _output(document, items, labels[position : position + len(items)], self.name)
            )
            position += len(items)
        return outputs

    def predict(self, items: Sequence[StanceItem], context: RunContext) -> list[str]:
        raise NotImplementedError

    def _fit(self, pairs: Iterable[tuple[StanceItem, str]]) -> Any:
        """A model of these (pair, label)s, read once."""
        raise NotImplementedError

    def _apply(self, model: Any, test: Sequence[StanceItem]) -> list[str]:
        raise NotImplementedError

    def _fit_predict(
        self, train: Sequence[StanceItem], labels: Sequence[str], test: Sequence[StanceItem]
    ) -> list[str]:
        return self._apply(self._fit(zip(train, labels, strict=True)), test)

    def _trained_predict(self, items: Sequence[StanceItem], context: RunContext) -> list[str]:
        """Train on the training split, or cross-validate over ``items`` when it is small."""
        size, model = self._trained(context)
        if size >= self.min_train:
            return self._apply(model, items)
        folds_used = max(2, min(self.folds, len(items)))
        note = (
            f"{self.name}: the training split has {size} pairs (< {self.min_train}), so "
            f"it was cross-validated over the {len(items)} evaluated pairs ({folds_used} folds, "
            f"seed {self.seed})."
        )
        if note not in self.notes:
            self.notes.append(note)
        gold = _gold_labels(context.gold_of(i.doc_id for i in items)[0])
        truth = [gold[(i.doc_id, i.holder, i.target)] for i in items]
        predictions = [""] * len(items)
        from sklearn.model_selection import KFold

        folds = KFold(n_splits=folds_used, shuffle=True, random_state=self.seed)
        if len(items) < 2:
            return ["NONE"] * len(items)
        for fit_index, test_index in folds.split(list(items)):
            fitted = self._fit_predict(
                [items[i] for i in fit_index],
                [truth[i] for i in fit_index],
                [items[i] for i in test_index],
            )
            for i, label in zip(test_index, fitted, strict=True):
                predictions[i] = label
        return predictions


class MajoritySystem(_StanceSystem):
    """The most frequent training label for every pair."""

    name = "stance-majority"

    def predict(self, items: Sequence[StanceItem], context: RunContext) -> list[str]:
        return self._trained_predict(items, context)

    def _fit(self, pairs: Iterable[tuple[StanceItem, str]]) -> str:
        """The most frequent label (counted as the pairs go by: none is kept)."""
        counts = Counter(label for _, label in pairs)
        return max(CLASSES, key=lambda c: (counts[c], -CLASSES.index(c)))

    def _apply(self, model: Any, test: Sequence[StanceItem]) -> list[str]:
        return [str(model)] * len(test)


class LexiconSystem(_StanceSystem):
    """FAVOR when positive words outnumber negative ones in the sentences that name the
    target (by its name, aliases or anchored text), AGAINST when the reverse, NONE when the
    target is not named or it is a tie."""

    name = "stance-lexicon"

    def predict(self, items: Sequence[StanceItem], context: RunContext) -> list[str]:
        return [self.judge(item) for item in items]

    @staticmethod
    def judge(item: StanceItem) -> str:
        words = [fold(w) for w in item.target_words or (item.target_name,) if w]
        score = 0
        for sentence in re.split(r"(?<=[.!?])\s+", fold(item.text)):
            if not any(w in sentence for w in words):
                continue
            tokens = _WORD.findall(sentence)
            score += sum(t in POSITIVE for t in tokens) - sum(t in NEGATIVE for t in tokens)
        return "FAVOR" if score > 0 else "AGAINST" if score < 0 else "NONE"


class SklearnSystem(_StanceSystem):
    """TF-IDF (word 1–2 grams) + logistic regression, the target as a feature token."""

    name = "stance-sklearn"

    def predict(self, items: Sequence[StanceItem], context: RunContext) -> list[str]:
        return self._trained_predict(items, context)

    @staticmethod
    def _features(item: StanceItem) -> str:
        holder = "issuer" if item.holder == "issuer" else "source"
        target = "_".join(_WORD.findall(fold(item.target_name or item.target)))
        return f"target_{target} holder_{holder} {fold(item.text)}"

    def _fit(self, pairs: Iterable[tuple[StanceItem, str]]) -> Any:
        """The fitted pipeline (it needs every training text), or the one label seen."""
        texts: list[str] = []
        labels: list[str] = []
        for item, label in pairs:
            texts.append(self._features(item))
            labels.append(label)
        if len(set(labels)) < 2:
            return labels[0] if labels else "NONE"
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(max_iter=1000, random_state=self.seed),
        )
        model.fit(texts, labels)
        return model

    def _apply(self, model: Any, test: Sequence[StanceItem]) -> list[str]:
        if isinstance(model, str):
            return [model] * len(test)
        return [str(label) for label in model.predict([self._features(i) for i in test])]
