"""Configs for what the fixed configs do not carry: the labels and relation types a user's
schema adds, or gives another attribute.

The fixed configs (``claims``, ``attribution``, ``statistics``, ``stance``) are built for the
bundled schema's labels and relations with the attributes it gives them (:data:`CARRIED`,
:data:`CARRIED_RELATIONS`). Every other label gets its layer's ``<layer>_spans`` config, every
other relation type a ``<type>_relations`` config: one row per record, with its offsets and
text (null for a document-level label) or its ends, and every attribute in an ``attributes``
struct typed as the schema says: a boolean as a boolean; a choice, text, ref or decimal as a
string (a decimal's exact text); a name two labels of one config type as boolean and as
something else, as JSON text. (The ``spans`` and ``relations`` configs hold every record
whole besides, whatever its label or type.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from datasets import Value

from claimwire.annotation.schema import Attribute, Schema
from claimwire.errors import ClaimwireError
from claimwire.hub.gold import Gold, Row, row_features
from claimwire.markup import md_code, md_text

TEXT = frozenset({"choice", "text", "ref", "decimal"})
"""Types a fixed config writes as a string."""
CHOICE, DECIMAL, BOOLEAN = frozenset({"choice"}), frozenset({"decimal"}), frozenset({"boolean"})
FLAG = frozenset({"boolean", "choice"})
"""A SURVEY's risk flag: true, or ``yes``."""

CARRIED: Mapping[str, Mapping[str, frozenset[str]]] = {
    "CLAIM": {"claim_type": CHOICE, "checkworthy": BOOLEAN, "numeric_category": TEXT},
    "SOURCE": {"source_kind": TEXT, "source_role": TEXT, "named": BOOLEAN},
    "CUE": {},
    "CONTENT": {"quote_type": TEXT},
    "SURVEY_STAT": {
        "value": DECIMAL,
        "unit": TEXT,
        "proposition": TEXT,
        "respondent_base": TEXT,
    },
    "NUM_STAT": {"value": DECIMAL, "unit": TEXT, "qualifier": TEXT, "time_reference": TEXT},
    "SURVEY": {
        "name": TEXT,
        "sampling_type": TEXT,
        "self_selected": FLAG,
        "sponsor_is_interested_party": FLAG,
        "sponsor_is_publisher": FLAG,
    },
    "DISCLOSURE": {"field": TEXT},
    "TARGET": {"name": TEXT, "aliases": TEXT},
    "STANCE": {"holder": TEXT, "target": TEXT, "stance": CHOICE},
}
"""The labels the fixed configs are built for, and the types each attribute may have there
(a SURVEY also has the disclosure checklist's fields)."""

CARRIED_RELATIONS: Mapping[
    str, tuple[Mapping[str, frozenset[str]], frozenset[str] | None, frozenset[str]]
] = {
    "attributed_to": ({"cue": TEXT, "quote_type": TEXT}, None, frozenset({"SOURCE"})),
    "from_survey": ({}, frozenset({"SURVEY_STAT", "NUM_STAT"}), frozenset({"SURVEY"})),
    "evidence_of": ({}, frozenset({"DISCLOSURE"}), frozenset({"SURVEY"})),
}
"""The relation types the fixed configs are built for: their attributes' types, head labels
(None: any) and tail labels."""

SPANS = "_spans"
RELATIONS = "_relations"
_CONFIG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
"""A config name: it names a folder of the export (at most 255 bytes)."""


def carried_labels(schema: Schema) -> tuple[frozenset[str], frozenset[str]]:
    """The schema's labels the fixed configs read (a bundled label with the bundled
    attributes, of the bundled types), and those of them they carry whole (no attribute
    more): the fixed configs skip the other labels, a generic config carries them."""
    read, whole = set(), set()
    for name, label in schema.labels.items():
        known = dict(CARRIED.get(name, {}))
        if name == "SURVEY":
            known.update(dict.fromkeys(schema.disclosure_fields, TEXT))
        types = {a.name: a.type for a in label.attributes.values()}
        if name in CARRIED and all(types.get(k) in kinds for k, kinds in known.items()):
            read.add(name)
            if types.keys() <= known.keys():
                whole.add(name)
    return frozenset(read), frozenset(whole)


def _carried_relation(schema: Schema, name: str) -> bool:
    if name not in CARRIED_RELATIONS:
        return False
    attributes, heads, tails = CARRIED_RELATIONS[name]
    spec = schema.relations[name]
    return (
        (heads is None or set(spec.head) <= heads)
        and set(spec.tail) <= tails
        and all(a.type in attributes.get(a.name, ()) for a in spec.attributes.values())
    )


@dataclass(frozen=True)
class Typed:
    """The ``attributes`` struct of one config: each name's feature and how a value is written."""

    attributes: Mapping[str, list[tuple[str, Attribute]]]
    """Each attribute name, with the (label, attribute) pairs that define it."""

    def as_json(self, name: str) -> bool:
        return len({a.type == "boolean" for _, a in self.attributes[name]}) > 1

    def feature(self, name: str) -> Value:
        if self.as_json(name):
            return Value("string")
        return Value("bool" if self.attributes[name][0][1].type == "boolean" else "string")

    def features(self) -> dict[str, Any]:
        if not self.attributes:  # parquet holds no struct without fields
            return {}
        return {"attributes": {name: self.feature(name) for name in self.attributes}}

    def values(self, given: Mapping[str, Any]) -> dict[str, Any]:
        if not self.attributes:
            return {}
        return {
            "attributes": {name: self._value(name, given.get(name)) for name in self.attributes}
        }

    def _value(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if self.as_json(name):
            return json.dumps(value, ensure_ascii=False)
        return value if isinstance(value, bool) else str(value)

    def documented(self) -> tuple[tuple[str, str, str], ...]:
        """A card row per attribute: name, type, and what each label defining it says."""
        rows = []
        for name, defined in self.attributes.items():
            kind = "JSON text" if self.as_json(name) else str(self.feature(name).dtype)
            says = "; ".join(
                f"{md_code(label, cell=True)}: {_meaning(attribute)}"
                for label, attribute in defined
            )
            rows.append((f"attributes.{name}", kind, says))
        return tuple(rows)


def _meaning(attribute: Attribute) -> str:
    what = {"decimal": "an exact decimal", "ref": "an annotation id"}.get(
        attribute.type, attribute.type
    )
    if attribute.values:
        what += " (" + md_text(", ".join(attribute.values)) + ")"
    if not attribute.required:
        what += ", optional"
    description = md_text(attribute.description) if attribute.description else ""
    return f"{what}{' — ' + description if description else ''}"


def _typed(defined: Iterable[tuple[str, Mapping[str, Attribute]]]) -> Typed:
    attributes: dict[str, list[tuple[str, Attribute]]] = {}
    for owner, specs in defined:
        for name, attribute in specs.items():
            attributes.setdefault(name, []).append((owner, attribute))
    return Typed(attributes)


@dataclass(frozen=True)
class GenericConfig:
    """A config the fixed ones leave: the spans of ``labels`` or the relations of a type."""

    config: str
    description: str
    features: Any
    typed: Typed
    rows: Callable[[Gold], Iterable[Row]]


def _check_name(config: str, what: str, schema: Schema) -> str:
    if not _CONFIG.fullmatch(config):
        raise ClaimwireError(
            f"{what} cannot name a Hub config ({config!r}): expected letters, digits and "
            ". _ -, 255 at most; rename it in the schema",
            file=schema.path,
        )
    return config


def generic_configs(schema: Schema, carried: frozenset[str]) -> list[GenericConfig]:
    """One config per layer holding a label not in ``carried`` (the labels the fixed configs
    carry whole), and per relation type the fixed configs do not carry; a name a config
    cannot take is refused."""
    configs = []
    for layer in schema.layers:
        labels = [n for n in schema.labels_of(layer) if n not in carried]
        if labels:
            configs.append(_spans_config(schema, layer, labels))
    for name, spec in schema.relations.items():
        if not _carried_relation(schema, name):
            configs.append(_relations_config(schema, name, spec.attributes))
    return configs


def _spans_config(schema: Schema, layer: str, labels: list[str]) -> GenericConfig:
    config = _check_name(f"{layer}{SPANS}", f"layer {layer!r}", schema)
    typed = _typed((label, schema.labels[label].attributes) for label in labels)
    features = row_features(
        label=Value("string"),
        start=Value("int32"),
        end=Value("int32"),
        text=Value("string"),
        **typed.features(),
    )
    chosen = frozenset(labels)

    def rows(gold: Gold) -> Iterable[Row]:
        for annotation in gold.annotations:
            if annotation.label in chosen:
                yield gold.row(
                    annotation,
                    {
                        "label": annotation.label,
                        "start": annotation.start,
                        "end": annotation.end,
                        "text": gold.text(annotation),
                        **typed.values(annotation.attributes),
                    },
                )

    listed = ", ".join(labels)
    description = (
        f"One row per annotation of the {layer} layer's {listed} (labels the fixed configs "
        "do not carry whole): offsets and text (none for a document-level one) and every "
        "attribute, typed as the schema says."
    )
    return GenericConfig(config, description, features, typed, rows)


def _relations_config(
    schema: Schema, name: str, attributes: Mapping[str, Attribute]
) -> GenericConfig:
    config = _check_name(f"{name}{RELATIONS}", f"relation {name!r}", schema)
    typed = _typed([(name, attributes)])
    features = row_features(
        head=Value("string"),
        head_label=Value("string"),
        tail=Value("string"),
        tail_label=Value("string"),
        **typed.features(),
    )

    def rows(gold: Gold) -> Iterable[Row]:
        for relation in gold.relations:
            if relation.type == name:
                head, tail = gold.by_id.get(relation.head), gold.by_id.get(relation.tail)
                yield gold.row(
                    relation,
                    {
                        "head": relation.head,
                        "head_label": head.label if head else None,
                        "tail": relation.tail,
                        "tail_label": tail.label if tail else None,
                        **typed.values(relation.attributes),
                    },
                )

    description = (
        f"One row per {name} relation: its head and tail annotations and every attribute, "
        "typed as the schema says."
    )
    return GenericConfig(config, description, features, typed, rows)


def is_generic(config: str) -> bool:
    """A name :func:`generic_configs` may give a config."""
    return config.endswith((SPANS, RELATIONS)) and bool(_CONFIG.fullmatch(config))
