"""The dataset card's prose, generated from the release and its schema."""

from __future__ import annotations

from typing import Any

from datasets import ClassLabel, List, Value

from claimwire.annotation.schema import SUMMARY_SURVEYS, Schema, SurveyTally
from claimwire.corpus.release import Release
from claimwire.hub.gold import Seen
from claimwire.hub.tables import DEFAULT_CONFIG, Table
from claimwire.markup import html_free, md_code, md_text


def _type(feature: object) -> str:
    if isinstance(feature, List):
        return f"list of {_type(feature.feature)}"
    if isinstance(feature, ClassLabel):
        return "class label (" + ", ".join(feature.names) + ")"
    if isinstance(feature, Value):
        return str(feature.dtype)
    if isinstance(feature, dict):
        return "struct {" + ", ".join(feature) + "}"
    return type(feature).__name__


HUB_SPLITS = {"dev": "validation"}
"""Our split names the Hub spells otherwise (its loaders expect ``validation``)."""


def hub_split(split: str) -> str:
    return HUB_SPLITS.get(split, split)


FIELDS = {
    "id": "the row's stable id",
    "doc_id": "the document's id",
    "split": "train, dev or test, assigned per document",
    "lang": "the document's language (ISO 639-1)",
    "title": "the release's title",
    "dateline_city": "the city of the dateline",
    "published": "the publication date in the dateline (ISO 8601)",
    "wire": "the newswire that distributed the release",
    "distribution_id": "the wire's distribution id",
    "issuer": "the organisation that issued the release",
    "urls": "URLs found in the text",
    "date_marker": "the date marker of the raw input",
    "source_file": "the raw input file",
    "source_sha256": "SHA-256 of the raw input file",
    "text": "the text (NFC); offsets index it in code points",
    "paragraphs": "[start, end) of each paragraph",
    "sentences": "[start, end) of each sentence",
    "index": "position in the document, from 0",
    "paragraph": "the paragraph the sentence lies in",
    "start": "start offset in the document's text (code points, inclusive)",
    "end": "end offset in the document's text (exclusive)",
    "label": "the annotation label",
    "value": "the normalized value as a number",
    "value_decimal": "the normalized value as an exact decimal string",
    "sources": "the SOURCE annotations the claim is attributed to",
    "source_ids": "the SOURCE annotations the figure is attributed to",
    "holder": "who holds the stance: `issuer` or a SOURCE id",
    "holder_text": "the holder's text",
    "target": "what the stance is about",
    "target_name": "the target's name",
    "disclosure": "the checklist: each field present, partial or absent",
    "disclosure_evidence": "the spans that disclose each field",
    "disclosure_core": "core disclosure score in [0, 1]",
    "disclosure_full": "full disclosure score in [0, 1]",
    "risk_flags": "flags such as self-selected sample or interested sponsor",
    "survey_id": "the SURVEY this figure reports",
    "survey_name": "the survey's name",
    "tokens": "the sentence's tokens",
    "token_starts": "each token's start offset",
    "token_ends": "each token's end offset",
    "attributes": "its attributes, typed as the schema says (one field each, below)",
    "head": "the id of the relation's head annotation",
    "head_label": "the head annotation's label",
    "tail": "the id of the relation's tail annotation",
    "tail_label": "the tail annotation's label",
    "layer": "the annotation's layer",
    "type": "the relation's type",
    "quote": "the quoted text (`exact`) with up to 32 characters of context on each side "
    "(`prefix`, `suffix`), for re-anchoring; null when the record has none",
    "attributes_json": "every attribute as one JSON object, values as the release has them "
    "(`json.loads` gives them back)",
    "author": "who made the record (`gold` for the gold annotation)",
}


def describe_field(name: str, schema: Schema) -> str:
    """A field's description (Markdown for a table cell): the list above, the schema's
    attribute of that name, or the part of an annotation it belongs to (``source_start``:
    the SOURCE's start offset)."""
    if name in FIELDS:
        return FIELDS[name]
    for label in schema.labels.values():
        attribute = label.attributes.get(name)
        if attribute is not None and attribute.description:
            return md_text(attribute.description)
    head, _, tail = name.partition("_")
    if tail == "label":
        return f"the {md_code(head, cell=True)} value's display name"
    if tail == "tags":
        return f"BIO tags of the {md_text(head)} task, one per token"
    if tail in ("start", "end", "text", "id"):
        return f"the {md_text(head)} span's {FIELDS.get(tail, tail).split(' (')[0]}"
    if head == "source" and tail:
        return f"the SOURCE's {md_code(tail, cell=True)} attribute"
    return ""


def _rebuilding_lines(
    tables: list[Table], splits: list[str], repo_id: str | None, version: str
) -> list[str]:
    """How the gold is rebuilt from ``spans`` and ``relations``, when the export has them."""
    spans = next((t for t in tables if t.config == "spans"), None)
    if spans is None:
        return []
    split = next(s for s in splits if spans.counts.get(s))
    return [
        "The task configs are views: each holds what its task needs. `spans` and `relations`"
        " hold every annotation and relation of the release whole, whatever its label or type"
        " (id, document, layer and label or type, offsets, quote, every attribute, author),"
        " so the release's gold records are rebuilt from them exactly:",
        "",
        "```python",
        "import json",
        "",
        f'spans = load_dataset("{repo_id or "ORG/NAME"}", "spans", revision="v{version}")',
        f'for row in spans["{hub_split(split)}"]:',
        '    attributes = json.loads(row["attributes_json"])  # as the release has them',
        "```",
        "",
    ]


def _example_config(tables: list[Table]) -> str:
    names = [t.config for t in tables]
    return "claims" if "claims" in names else (names[0] if names else "documents")


def render_card(
    release: Release,
    schema: Schema,
    tables: list[Table],
    splits: list[str],
    changes: str,
    repo_id: str | None = None,
    seen: Seen | None = None,
) -> str:
    """The card's prose. ``repo_id`` is named in the loading example (``ORG/NAME`` when the
    export is not for a repository yet); ``seen``: what the export saw of the release, which
    the limitations describe (none: as for one issuer and one annotator)."""
    counts = release.manifest.get("counts", {})
    summary = release.manifest.get("gold_summary") or {}
    lines = [
        f"# claimwire {release.version}",
        "",
        "Claims, the sources they are attributed to and the survey statistics that back them, "
        "in press releases distributed by newswires — with the stance of the issuer and of "
        "every quoted source toward listed targets. Every span is an exact character offset "
        "into the document's NFC text, so annotations can be checked against the text they "
        "quote.",
        "",
        f"Release {md_code(release.version)} "
        f"(parent {md_code(release.manifest.get('parent') or 'none')}, "
        f"annotation schema {md_code(schema.version)}): {counts.get('documents', 0)} documents, "
        f"{counts.get('sentences', 0)} sentences, {counts.get('annotations', 0)} annotations, "
        f"{counts.get('relations', 0)} relations.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'claims = load_dataset("{repo_id or "ORG/NAME"}", "{_example_config(tables)}", '
        f'revision="v{release.version}")',
        "```",
        "",
        'Pin a version with `revision="vX.Y.Z"`: every release is a git tag of this '
        "repository, and a published release is never rewritten.",
        "",
        "## Structure",
        "",
        "| config | rows per split | what a row is |",
        "|---|---|---|",
    ]
    for table in tables:
        sizes = ", ".join(
            f"{hub_split(s)}: {table.counts[s]}" for s in splits if table.counts.get(s)
        )
        default = " (default)" if table.config == DEFAULT_CONFIG else ""
        lines.append(
            f"| {md_code(table.config, cell=True)}{default} | {sizes} "
            f"| {md_text(table.description)} |"
        )
    lines += [
        "",
        "Splits are assigned per document (from a hash of its id, or by a documented choice),"
        " the same way in every config; `dev` is published as `validation`. A split without"
        " a row in a config (documents not annotated yet) is left out of that config.",
        "",
        *_rebuilding_lines(tables, splits, repo_id, release.version),
        "## Fields",
        "",
    ]
    for table in tables:
        lines += [f"### {md_code(table.config)}", "", "| field | type | description |"]
        lines.append("|---|---|---|")
        lines += [
            f"| {md_code(name, cell=True)} | {md_text(_type(feature))} "
            f"| {describe_field(name, schema)} |"
            for name, feature in table.features.items()
        ]
        lines += [
            f"| {md_code(name, cell=True)} | {md_text(kind)} | {description} |"
            for name, kind, description in table.documented
        ]
        lines.append("")
    lines += [
        "## How it was annotated",
        "",
        "Gold is authored as quote-anchored records (the exact text, plus its occurrence where "
        "it repeats) and resolved to offsets by the toolkit, then validated at every level "
        "(format, offsets, segmentation, schema, against the parent release). Labels:",
        "",
        "| layer | label | definition |",
        "|---|---|---|",
    ]
    lines += [
        f"| {md_text(label.layer)} | {md_code(label.name, cell=True)} "
        f"| {md_text(label.description)} |"
        for label in schema.labels.values()
    ]
    if schema.disclosure_fields:
        lines += _checklist_lines(schema)
        lines += _survey_lines(summary.get("surveys", []), summary.get("more_surveys"))
    lines += ["", "## Limitations", "", *_limitations(int(counts.get("documents", 0)), seen)]
    lines += [
        "",
        "## Licence and provenance",
        "",
        "The texts are press releases distributed by newswires for publication; they remain the "
        "property of their issuers and are not relicensed. Each document records its raw file "
        "and that file's SHA-256. The annotations and the toolkit are Apache-2.0.",
        "",
        "## Citation",
        "",
        "```bibtex",
        "@misc{claimwire,",
        "  title  = {claimwire: claims, sources and survey statistics in wire press releases},",
        f"  note   = {{corpus release {release.version}}},",
        f"  year   = {{{str(release.manifest.get('created', ''))[:4]}}}",
        "}",
        "```",
        "",
        "## Changelog",
        "",
        html_free(changes.strip().replace("## ", "### ", 1)),
        "",
    ]
    return "\n".join(lines)


LAW_1977 = (
    " The French law of 19 July 1977 is cited as a norm for what readers need, not as a "
    "compliance verdict (it covers electoral polls)."
)


def _checklist_lines(schema: Schema) -> list[str]:
    """The disclosure checklist's section (the 1977 law explained where an anchor cites it)."""
    law = any("1977" in f.anchor for f in schema.disclosure_fields.values())
    lines = [
        "",
        "## The survey disclosure checklist",
        "",
        "Each poll a release reports is a SURVEY whose fields are `present`, `partial`, `absent` "
        "or `not_applicable`, each backed by an evidence span. Core score = mean over the core "
        "fields (present 1, partial 0.5); full score weights core ×2, extended ×1 over the "
        "applicable fields." + (LAW_1977 if law else ""),
        "",
        "| field | tier | anchored in |",
        "|---|---|---|",
    ]
    return lines + [
        f"| {md_code(f.name, cell=True)} | {md_text(f.tier)} | {md_text(f.anchor)} |"
        for f in schema.disclosure_fields.values()
    ]


SMALL = 30
"""Documents below which the card calls a corpus small (the evaluation then resamples
sentences, not documents)."""


def _limitations(documents: int, seen: Seen | None) -> list[str]:
    """The card's limitations, as the release's size, issuers and gold authors make them."""
    issuers = len(seen.issuers) if seen else 1
    authors = len(seen.authors) if seen else 1
    lines = []
    if documents < SMALL:
        lines.append(
            f"- The corpus is small{' and single-issuer' if issuers == 1 else ''} so far: "
            "scores on it have wide intervals, and the evaluation toolkit resamples sentences, "
            f"not documents, below {SMALL} documents."
        )
    elif issuers == 1:
        lines.append("- Every document comes from one issuer: scores may not carry over.")
    lines.append(
        "- Press releases are promotional texts; the stance labels describe what the texts "
        "say, not whether it is true. Claims are marked check-worthy, not checked."
    )
    if authors:
        who = "One annotator" if authors == 1 else "Several annotators"
        lines.append(
            f"- {who} authored the gold; no agreement figure is available for this release."
        )
    else:
        lines.append("- The release holds no gold annotation yet.")
    return lines


CARD_SURVEYS = SUMMARY_SURVEYS
"""Surveys the card lists one by one; past that it gives their number and mean scores."""


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _survey_lines(surveys: list[dict[str, Any]], more: dict[str, Any] | None = None) -> list[str]:
    """The first :data:`CARD_SURVEYS` surveys, then one line for the rest (``more``: the
    tally a bounded gold summary carries; else tallied here from a summary listing all)."""
    lines = []
    for survey in surveys[:CARD_SURVEYS]:
        scores = survey["disclosure"]
        lines += [
            "",
            f"- {md_text(survey.get('name'))}: core {_score(scores['core'])}, full "
            f"{_score(scores['full'])}; risk flags: "
            f"{md_text(', '.join(survey['flags']) or 'none')}.",
        ]
    tally = SurveyTally()
    for survey in surveys[CARD_SURVEYS:]:  # a summary listing every survey (older releases)
        tally.add(survey)
    rest = more if more is not None else (tally.to_dict() if tally.count else None)
    if rest:
        flagged = md_text(
            ", ".join(f"{name} {count}" for name, count in sorted(rest["flags"].items()))
        )
        lines += [
            "",
            f"- and {rest['count']} more surveys: mean core {_score(rest['mean_core'])}, mean "
            f"full {_score(rest['mean_full'])}; risk flags: {flagged or 'none'}.",
        ]
    return lines
