"""The annotation schema: loaded from ``annotation/schema.yaml``, checked, and asked.

Every other part of claimwire asks the schema about layers, labels, attributes, relations,
stance targets and the survey disclosure checklist; nothing hard-codes a label list.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Container, Hashable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import chain, compress, repeat
from operator import and_, attrgetter, is_not, methodcaller
from pathlib import Path
from typing import Any

import msgspec

from claimwire.annotation.yaml_lines import line_of, load_yaml
from claimwire.defaults import default_file
from claimwire.errors import ClaimwireError, shown
from claimwire.model import Annotation, Relation
from claimwire.project import find_project

ATTRIBUTE_TYPES = frozenset({"choice", "boolean", "decimal", "text", "ref"})
SCOPES = frozenset({"span", "document", "either"})
TIERS = ("core", "extended")
ISSUER = "issuer"

# Level-4 problem codes (validate level 4) and what each means.
CODES: dict[str, str] = {
    "unknown-label": "the label is not in the schema",
    "wrong-layer": "the annotation's layer is not its label's layer",
    "wrong-scope": "a span label without offsets, or a document label with offsets",
    "missing-attribute": "a required attribute is absent",
    "unknown-attribute": "an attribute the label does not define",
    "bad-attribute-value": "an attribute value of the wrong type or outside the allowed values",
    "unknown-relation": "the relation type is not in the schema",
    "relation-label": "a relation's head or tail has a label the relation does not allow",
    "bad-reference": "a ref attribute names no annotation of an allowed label",
    "evidence-mismatch": "a disclosure status disagrees with its evidence spans",
}


SUMMARY_SURVEYS = 20
"""Surveys a release's gold summary lists one by one; the rest are tallied."""


@dataclass
class SurveyTally:
    """Surveys summarized together: how many, mean core and full scores (over those that
    have one), and how often each risk flag is raised."""

    count: int = 0
    core: list[float] = field(default_factory=lambda: [0.0, 0.0])
    full: list[float] = field(default_factory=lambda: [0.0, 0.0])
    flags: dict[str, int] = field(default_factory=dict)

    def add(self, survey: Mapping[str, Any]) -> None:
        self.count += 1
        for key, total in (("core", self.core), ("full", self.full)):
            value = survey["disclosure"].get(key)
            if value is not None:
                total[0] += value
                total[1] += 1
        for flag in survey["flags"]:
            self.flags[flag] = self.flags.get(flag, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean_core": self.core[0] / self.core[1] if self.core[1] else None,
            "mean_full": self.full[0] / self.full[1] if self.full[1] else None,
            "flags": dict(sorted(self.flags.items())),
        }


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    type: str
    required: bool
    values: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    description: str = ""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not valid for this attribute, or ``None``."""
        if self.type == "choice":
            return None if value in self.values else f"expected one of {', '.join(self.values)}"
        if self.type == "boolean":
            return None if isinstance(value, bool) else "expected true or false"
        if self.type == "decimal":
            if isinstance(value, bool) or not isinstance(value, str | int):
                return 'expected an exact decimal written as a string, e.g. "92.4"'
            try:
                finite = Decimal(str(value)).is_finite()
            except InvalidOperation:
                return f"{shown(value)} is not a decimal number"
            return None if finite else f"{shown(value)} is not a finite decimal number"
        if self.type in ("text", "ref"):
            return (
                None if isinstance(value, str) and value.strip() else "expected a non-empty string"
            )
        return f"unknown type {self.type}"


_PLAIN = frozenset({str, bool, int, type(None)})


def _problem_key(annotation: Annotation, referring: Container[str]) -> Hashable | None:
    """What an annotation's level-4 problems depend on — label, layer, scope and each
    attribute's name, type and value — or None when they also depend on other annotations
    (a label with ``ref`` attributes) or a value is not a string, boolean, integer or
    null. Annotations with one key have the same problems, found once per batch."""
    if annotation.label in referring:
        return None
    attributes = annotation.attributes
    types = tuple(map(type, attributes.values()))
    if not _PLAIN.issuperset(types):
        return None  # a list, a dict or a float (-0.0 == 0.0 but is shown otherwise)
    return (
        annotation.label,
        annotation.layer,
        annotation.is_span,
        tuple(attributes.items()),
        types,
    )


_NATIVE = frozenset({str, bool, int, type(None)})
_ID, _LABEL, _LAYER, _ATTRIBUTES, _START, _END, _HEAD, _TAIL, _TYPE = map(
    attrgetter, ("id", "label", "layer", "attributes", "start", "end", "head", "tail", "type")
)
_ENCODER = msgspec.json.Encoder()


def _problem_keys(
    annotations: list[Annotation], referring: AbstractSet[str]
) -> list[Hashable | None]:
    """:func:`_problem_key` of each annotation, for a batch at once: when every attribute
    value is a string, an integer, a boolean or null (what claimwire's own files hold), the
    values are told apart by their JSON text (``true`` is not ``1``), encoded in one call;
    else each annotation's key alone (a float's text could be ``null``: NaN)."""
    attributes = list(map(_ATTRIBUTES, annotations))
    encoded = _native_lines(attributes)
    if encoded is None:
        return [_problem_key(a, referring) for a in annotations]
    labels = list(map(_LABEL, annotations))
    spans = map(and_, _not_none(annotations, _START), _not_none(annotations, _END))  # is_span
    keys: list[Hashable | None] = list(
        zip(labels, map(_LAYER, annotations), spans, encoded, strict=True)
    )
    if referring and not referring.isdisjoint(labels):
        keys = [
            None if label in referring else key for label, key in zip(labels, keys, strict=True)
        ]
    return keys


def _not_none(records: list[Any], field: Callable[[Any], Any]) -> Iterator[bool]:
    return map(is_not, map(field, records), repeat(None))


def _native_lines(attributes: list[Mapping[str, Any]]) -> list[bytes] | None:
    """Each mapping's JSON text (encoded in one call), when every value is a string, an
    integer, a boolean or null, which their texts tell apart (``true`` is not ``1``); else
    None (a float's text could be ``null``: NaN)."""
    values = chain.from_iterable(map(methodcaller("values"), attributes))
    if not _NATIVE.issuperset(set(map(type, values))):
        return None
    try:
        return _ENCODER.encode_lines(attributes).split(b"\n")[:-1]
    except TypeError:  # a mapping the encoder does not take
        return None


def _relation_keys(
    relations: list[Relation], by_id: Mapping[str, Annotation], refs: Mapping[str, list[str]]
) -> list[Hashable | None]:
    """What each relation's level-4 problems depend on — its type, its ends' labels (None:
    not found) and its attributes' texts — or None when they depend on more: a value of one
    of its type's ``ref`` attributes (``refs``: their names by type), or values other than
    strings, integers, booleans and null."""
    encoded = _native_lines(list(map(_ATTRIBUTES, relations)))
    if encoded is None:
        return [None] * len(relations)
    found = by_id.get
    heads = [None if a is None else a.label for a in map(found, map(_HEAD, relations))]
    tails = [None if a is None else a.label for a in map(found, map(_TAIL, relations))]
    types = list(map(_TYPE, relations))
    keys: list[Hashable | None] = list(zip(types, heads, tails, encoded, strict=True))
    if not refs.keys().isdisjoint(types):
        keys = [
            None if any(r.attributes.get(name) is not None for name in refs.get(kind, ())) else key
            for r, kind, key in zip(relations, types, keys, strict=True)
        ]
    return keys


@dataclass(frozen=True, slots=True)
class Label:
    name: str
    layer: str
    scope: str
    description: str
    anchor: str
    attributes: Mapping[str, Attribute]

    @property
    def is_span(self) -> bool:
        return self.scope == "span"

    @property
    def may_span(self) -> bool:
        """Offsets allowed: a span label, or an ``either`` label (anchored where it can be)."""
        return self.scope in ("span", "either")


@dataclass(frozen=True, slots=True)
class RelationType:
    name: str
    description: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    attributes: Mapping[str, Attribute]


@dataclass(frozen=True, slots=True)
class DisclosureField:
    name: str
    tier: str
    description: str
    anchor: str


@dataclass(frozen=True, slots=True)
class StanceTarget:
    id: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A level-4 problem found on one annotation or relation."""

    record: Annotation | Relation
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    version: str
    layers: Mapping[str, str]
    labels: Mapping[str, Label]
    relations: Mapping[str, RelationType]
    stance_targets: Mapping[str, StanceTarget]
    disclosure_fields: Mapping[str, DisclosureField]
    disclosure_statuses: Mapping[str, float | None]
    disclosure_weights: Mapping[str, float]
    path: Path | None = field(default=None, compare=False)

    # ---- questions the rest of claimwire asks ----------------------------------------------

    def labels_of(self, layer: str) -> list[str]:
        return [name for name, label in self.labels.items() if label.layer == layer]

    def span_labels(self) -> list[str]:
        return [name for name, label in self.labels.items() if label.is_span]

    def referenced_labels(self, labels: Iterable[str]) -> set[str]:
        """Labels that the ``ref`` attributes of ``labels`` may point to (STANCE → SOURCE)."""
        return {
            target
            for label in labels
            if label in self.labels
            for attribute in self.labels[label].attributes.values()
            for target in attribute.labels
        }

    def attribute(self, label: str, name: str) -> Attribute | None:
        return self.labels[label].attributes.get(name) if label in self.labels else None

    # ---- checking annotation sets ----------------------------------------------------------

    def findings(
        self,
        annotations: Iterable[Annotation],
        relations: Iterable[Relation],
        context: Iterable[Annotation] = (),
    ) -> Iterator[Finding]:
        """Every level-4 problem of an annotation set (records are not changed). References
        may also point into ``context`` (annotations given with a task, such as gold holders)."""
        annotations = list(annotations)
        context = list(context)
        by_id = dict(zip(map(_ID, context), context, strict=True))
        by_id.update(zip(map(_ID, annotations), annotations, strict=True))
        referring = {
            name
            for name, label in self.labels.items()
            if any(attribute.type == "ref" for attribute in label.attributes.values())
        }
        keys = _problem_keys(annotations, referring)
        # each key's problems, found on its first annotation
        first = dict(zip(reversed(keys), reversed(annotations), strict=True))
        first.pop(None, None)
        known = {key: list(self._annotation_problems(a, by_id)) for key, a in first.items()}
        if None in keys or any(known.values()):
            for annotation, key in zip(annotations, keys, strict=True):
                if key is None:
                    problems = list(self._annotation_problems(annotation, by_id))
                else:
                    problems = known[key]
                for code, message in problems:
                    yield Finding(annotation, code, message)
        relations = list(relations)
        refs = {
            name: [a for a, attribute in kind.attributes.items() if attribute.type == "ref"]
            for name, kind in self.relations.items()
        }
        refs = {name: names for name, names in refs.items() if names}
        relation_keys = _relation_keys(relations, by_id, refs)
        first_relation = dict(zip(reversed(relation_keys), reversed(relations), strict=True))
        first_relation.pop(None, None)
        said = {k: list(self._relation_problems(r, by_id)) for k, r in first_relation.items()}
        if None in relation_keys or any(said.values()):
            for relation, key in zip(relations, relation_keys, strict=True):
                if key is None:
                    relation_problems = list(self._relation_problems(relation, by_id))
                else:
                    relation_problems = said[key]
                for code, message in relation_problems:
                    yield Finding(relation, code, message)
        yield from self._evidence_findings(annotations, relations, by_id)

    def _attributes_problems(
        self,
        attributes: Mapping[str, Any],
        spec: Mapping[str, Attribute],
        doc_id: str,
        by_id: Mapping[str, Annotation],
    ) -> Iterator[tuple[str, str]]:
        for name, attribute in spec.items():
            if attribute.required and attributes.get(name) is None:
                yield "missing-attribute", f"'{name}' is required"
        for name, value in attributes.items():
            defined = spec.get(name)
            if defined is None:
                known = ", ".join(spec) or "none"
                yield "unknown-attribute", f"'{name}' is not defined (defined: {known})"
                continue
            if value is None:
                continue
            problem = defined.problem(value)
            if problem:
                yield "bad-attribute-value", f"'{name}' = {shown(value)}: {problem}"
            elif defined.type == "ref" and value not in defined.allow:
                target = by_id.get(value)
                if target is None or target.doc_id != doc_id or target.label not in defined.labels:
                    allowed = " or ".join([*defined.labels, *defined.allow])
                    yield "bad-reference", f"'{name}' = {shown(value)} is not a {allowed} here"

    def _annotation_problems(
        self, annotation: Annotation, by_id: Mapping[str, Annotation]
    ) -> Iterator[tuple[str, str]]:
        label = self.labels.get(annotation.label)
        if label is None:
            yield "unknown-label", f"{shown(annotation.label)} (known: {', '.join(self.labels)})"
            return
        if annotation.layer != label.layer:
            yield "wrong-layer", f"{label.name} belongs to layer '{label.layer}'"
        if label.scope != "either" and annotation.is_span != label.is_span:
            yield "wrong-scope", f"{label.name} is a {label.scope} label"
        yield from self._attributes_problems(
            annotation.attributes, label.attributes, annotation.doc_id, by_id
        )

    def _relation_problems(
        self, relation: Relation, by_id: Mapping[str, Annotation]
    ) -> Iterator[tuple[str, str]]:
        kind = self.relations.get(relation.type)
        if kind is None:
            yield "unknown-relation", f"{shown(relation.type)} (known: {', '.join(self.relations)})"
            return
        for end, ann_id, allowed in (
            ("head", relation.head, kind.head),
            ("tail", relation.tail, kind.tail),
        ):
            target = by_id.get(ann_id)
            if target is not None and target.label not in allowed:
                yield (
                    "relation-label",
                    (f"{end} is a {target.label}; {relation.type} takes {', '.join(allowed)}"),
                )
        yield from self._attributes_problems(
            relation.attributes, kind.attributes, relation.doc_id, by_id
        )

    def _evidence_findings(
        self,
        annotations: list[Annotation],
        relations: list[Relation],
        by_id: Mapping[str, Annotation],
    ) -> Iterator[Finding]:
        surveys = {name for name in self.labels if self.is_survey(name)}
        found = list(compress(annotations, map(surveys.__contains__, map(_LABEL, annotations))))
        if not found:
            return
        evidence: dict[str, set[str]] = {}
        for relation in relations:
            head = by_id.get(relation.head)
            if relation.type == "evidence_of" and head is not None:
                evidence.setdefault(relation.tail, set()).add(str(head.attributes.get("field")))
        for survey in found:
            shown = evidence.get(survey.id, set())
            for name in self.disclosure_fields:
                status = survey.attributes.get(name)
                disclosed = status in ("present", "partial")
                if disclosed != (name in shown) and status is not None:
                    linked = "no DISCLOSURE span" if disclosed else "a DISCLOSURE span"
                    message = f"'{name}' is {status} but {linked} for it is linked"
                    yield Finding(survey, "evidence-mismatch", message)

    # ---- the disclosure checklist ----------------------------------------------------------

    def summarize(
        self,
        annotations: Iterable[Annotation],
        relations: Iterable[Relation],
        surveys_listed: int | None = SUMMARY_SURVEYS,
    ) -> dict[str, Any]:
        """Per-layer counts, the first ``surveys_listed`` SURVEYs' disclosure scores and risk
        flags and, past them, ``more_surveys``: their number, mean scores and flag counts (a
        summary stays small whatever the corpus; ``None`` lists every survey, the form of
        manifests written before)."""
        layers: dict[str, int] = dict.fromkeys(self.layers, 0)
        surveys: list[dict[str, Any]] = []
        rest = SurveyTally()
        for annotation in annotations:
            layers[annotation.layer] = layers.get(annotation.layer, 0) + 1
            if self.is_survey(annotation.label):
                survey = {
                    "id": annotation.id,
                    "name": annotation.attributes.get("name"),
                    "disclosure": self.disclosure_scores(annotation),
                    "fields": {f: annotation.attributes.get(f) for f in self.disclosure_fields},
                    "flags": self.risk_flags(annotation),
                }
                if surveys_listed is None or len(surveys) < surveys_listed:
                    surveys.append(survey)
                else:
                    rest.add(survey)
        relation_counts: dict[str, int] = dict.fromkeys(self.relations, 0)
        for relation in relations:
            relation_counts[relation.type] = relation_counts.get(relation.type, 0) + 1
        return {
            "schema_version": self.version,
            "layers": layers,
            "relations": relation_counts,
            "surveys": surveys,
            **({"more_surveys": rest.to_dict()} if rest.count else {}),
        }

    def risk_flags(self, survey: Annotation) -> list[str]:
        """The survey's raised risk flags: boolean attributes that are true, and yes / no /
        unknown choices that are ``yes`` (``unknown`` raises none: the text does not say)."""
        return [
            name
            for name, spec in self.labels[survey.label].attributes.items()
            if (spec.type == "boolean" and survey.attributes.get(name) is True)
            or (
                spec.type == "choice"
                and "yes" in spec.values
                and survey.attributes.get(name) == "yes"
            )
        ]

    def is_survey(self, label: str) -> bool:
        spec = self.labels.get(label)
        return spec is not None and set(self.disclosure_fields) <= set(spec.attributes)

    def disclosure_scores(self, survey: Annotation) -> dict[str, float | None]:
        """Core score (present 1, partial 0.5, absent 0, over the 6 core fields) and the
        weighted full score over applicable fields (core ×2, extended ×1)."""
        core_total = core_count = 0.0
        weighted = weights = 0.0
        for name, spec in self.disclosure_fields.items():
            value = self.disclosure_statuses.get(str(survey.attributes.get(name)))
            weight = self.disclosure_weights[spec.tier]
            if spec.tier == "core":
                core_count += 1
                core_total += value or 0.0
            if value is not None:
                weighted += weight * value
                weights += weight
        return {
            "core": core_total / core_count if core_count else None,
            "full": weighted / weights if weights else None,
        }


# ---- loading -----------------------------------------------------------------------------

NAME = re.compile(r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*")
"""A layer's, label's, attribute's or relation type's name: ASCII letters and digits, joined
by single ``-`` or ``_``. Such names are file names (a layer's Label Studio config), BRAT
types (no space) and parts of Label Studio control names, which join them with ``__``: a name
holding ``__``, or starting or ending with ``_``, could not be split back."""

RESERVED_LAYERS = frozenset({"full"})
"""Layer names taken by the generated configs (``full.xml`` holds every layer)."""

CHOICE_VALUE = re.compile(r"[^\x00-\x1f\x7f]+")
"""A choice's value: no control character."""

STANCE_VALUES = ("STANCE", "stance")
"""The label and attribute whose values Label Studio's stance choices join to a target id
with ``=`` (``<target>=<value>``): none of these values may hold ``=``."""


def default_schema_path() -> Path:
    """``$CLAIMWIRE_SCHEMA``, else the project's ``annotation/schema.yaml``, else the packaged
    default schema."""
    if env := os.environ.get("CLAIMWIRE_SCHEMA"):
        return Path(env)
    project = find_project()
    if project is not None and project.schema.exists():
        return project.schema
    return default_file("schema.yaml")


class _Reader:
    """Reads the YAML tree and raises errors naming the file, line and field."""

    def __init__(self, path: Path, strict: bool) -> None:
        self.path = path
        self.strict = strict
        """Names are checked (:meth:`name`): a schema a release carries was checked, if at all,
        by the rules of the claimwire that built it, and is read as it is."""

    def fail(self, message: str, node: Any, field: str, key: str | None = None) -> ClaimwireError:
        """A located error: ``node``'s line, or that of its ``key``."""
        return ClaimwireError(message, file=self.path, line=line_of(node, key), field=field)

    def mapping(self, node: Any, key: str, where: str) -> Mapping[str, Any]:
        value = node.get(key) if isinstance(node, Mapping) else None
        if not isinstance(value, Mapping):
            raise self.fail("expected a mapping", node, f"{where}.{key}".strip("."))
        return value

    def name(self, parent: Mapping[str, Any], name: Any, where: str) -> str:
        """``name``, a key of ``parent``, if it is a :data:`NAME` (or names are not checked);
        a located error if not."""
        if not self.strict or (isinstance(name, str) and NAME.fullmatch(name)):
            return str(name)
        raise self.fail(
            "expected a name of ASCII letters and digits joined by single - or _ (it names "
            f"files, BRAT types and Label Studio controls, which join names with __), got {name!r}",
            parent,
            where,
            name if isinstance(name, str) else None,
        )

    def strings(self, node: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = node.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("expected a list of strings", node, f"{where}.{key}")
        return tuple(value)

    def attributes(
        self, node: Mapping[str, Any], where: str, lists: Mapping[str, tuple[str, ...]]
    ) -> dict[str, Attribute]:
        raw = node.get("attributes") or {}
        if not isinstance(raw, Mapping):
            raise self.fail("expected a mapping of attributes", node, f"{where}.attributes")
        result = {}
        for name, spec in raw.items():
            here = f"{where}.attributes.{name}"
            self.name(raw, name, here)
            if not isinstance(spec, Mapping):
                raise self.fail("expected a mapping with a type", node, here)
            kind = spec.get("type")
            if kind not in ATTRIBUTE_TYPES:
                raise self.fail(
                    f"unknown type {kind!r}; expected one of {', '.join(sorted(ATTRIBUTE_TYPES))}",
                    spec,
                    f"{here}.type",
                )
            values = self.strings(spec, "values", here)
            if "values_from" in spec:
                source = spec["values_from"]
                if source not in lists:
                    raise self.fail(
                        f"expected one of {', '.join(lists)}", spec, f"{here}.values_from"
                    )
                values = lists[source]
            if kind == "choice" and not values:
                raise self.fail("a choice needs values or values_from", spec, here)
            for value in values if self.strict else ():
                joined = (where.rpartition(".")[2], name) == STANCE_VALUES and "=" in value
                if joined or not CHOICE_VALUE.fullmatch(value):
                    raise self.fail(
                        "expected a value with no control character"
                        + (" and, a stance's, no '=' (stance choices are TARGET=VALUE)" * joined)
                        + f", got {value!r}",
                        spec,
                        f"{here}.values",
                        "values",
                    )
                if value != value.strip():
                    raise self.fail(
                        f"expected a value without leading or trailing spaces, got {value!r}",
                        spec,
                        f"{here}.values",
                        "values",
                    )
            counts = Counter(value.strip() for value in values if self.strict)
            twice = next((v for v, n in counts.items() if n > 1), None)
            if twice is not None:
                raise self.fail(
                    f"the value {twice!r} is given twice", spec, f"{here}.values", "values"
                )
            labels = self.strings(spec, "labels", here)
            if kind == "ref" and not labels:
                raise self.fail("a ref needs the labels it may point to", spec, here)
            required = spec.get("required", False)
            if not isinstance(required, bool):
                raise self.fail("expected true or false", spec, f"{here}.required")
            result[name] = Attribute(
                name,
                kind,
                required,
                values,
                labels,
                self.strings(spec, "allow", here),
                str(spec.get("description", "")),
            )
        return result


def _disclosure(
    reader: _Reader, root: Mapping[str, Any]
) -> tuple[dict[str, DisclosureField], dict[str, float | None], dict[str, float]]:
    node = reader.mapping(root, "disclosure", "")
    fields_node = reader.mapping(node, "fields", "disclosure")
    fields = {}
    for name, spec in fields_node.items():
        reader.name(fields_node, name, f"disclosure.fields.{name}")
        tier = spec.get("tier") if isinstance(spec, Mapping) else None
        if tier not in TIERS:
            raise reader.fail(
                f"expected tier core or extended, got {tier!r}",
                spec,
                f"disclosure.fields.{name}.tier",
            )
        fields[name] = DisclosureField(
            name, tier, str(spec.get("description", "")), str(spec.get("anchor", ""))
        )
    statuses = dict(reader.mapping(node, "statuses", "disclosure"))
    weights = dict(reader.mapping(node, "weights", "disclosure"))
    if set(weights) != set(TIERS):
        raise reader.fail("expected weights for core and extended", node, "disclosure.weights")
    return fields, statuses, weights


def _unique_name(
    reader: _Reader,
    parent: Mapping[str, Any],
    name: Any,
    earlier: Iterable[str],
    what: str,
    reserved: AbstractSet[str] = frozenset(),
) -> None:
    """Check the ``name`` of a layer or relation type (``what``): a :data:`NAME`, not
    ``reserved``, and not one of the ``earlier`` ones' but for case (each names a file or a
    folder: a config, a Hub config, one where case is not told apart)."""
    where = f"{what}s.{name}"
    reader.name(parent, name, where)
    same = [other for other in earlier if other.casefold() == name.casefold()]
    if reader.strict and (name.casefold() in reserved or same):
        taken = f"{what} {same[0]!r}" if same else "the config with every layer (full.xml)"
        raise reader.fail(
            f"a {what} cannot be named {name!r}: {taken} has that name", parent, where, name
        )


def load_schema(path: Path | None = None, *, strict: bool = True) -> Schema:
    """Load and check a schema file; a broken schema is a located error. ``strict``: its
    names are checked too (:meth:`_Reader.name`); a release's own schema is read without."""
    path = path or default_schema_path()
    root = load_yaml(path)
    reader = _Reader(path, strict)
    if not isinstance(root, Mapping):
        raise ClaimwireError("expected a mapping at the top level", file=path)
    for key in ("name", "version"):
        if not isinstance(root.get(key), str):
            raise reader.fail("expected a string", root, key)
    # Schemas before 1.1.0 listed stance targets here; now they are TARGET items per document.
    targets_node = reader.mapping(root, "stance_targets", "") if "stance_targets" in root else {}
    targets = {
        tid: StanceTarget(tid, str(spec.get("name", tid)), str(spec.get("description", "")))
        for tid, spec in targets_node.items()
    }
    fields, statuses, weights = _disclosure(reader, root)
    lists = {"stance_targets": tuple(targets), "disclosure": tuple(fields)}
    status_values = tuple(statuses)
    layers: dict[str, str] = {}
    labels: dict[str, Label] = {}
    layers_node = reader.mapping(root, "layers", "")
    for layer_name, layer in layers_node.items():
        _unique_name(reader, layers_node, layer_name, layers, "layer", RESERVED_LAYERS)
        layers[layer_name] = str(layer.get("description", ""))
        labels_node = reader.mapping(layer, "labels", f"layers.{layer_name}")
        for label_name, spec in labels_node.items():
            where = f"layers.{layer_name}.labels.{label_name}"
            reader.name(labels_node, label_name, where)
            if label_name in labels:
                raise reader.fail("label defined twice", spec, where)
            scope = spec.get("scope")
            if scope not in SCOPES:
                raise reader.fail(
                    f"expected scope span, document or either, got {scope!r}",
                    spec,
                    f"{where}.scope",
                )
            attributes = reader.attributes(spec, where, lists)
            if spec.get("disclosure") is True:
                for name, disclosure in fields.items():
                    attributes[name] = Attribute(
                        name, "choice", True, status_values, description=disclosure.description
                    )
            labels[label_name] = Label(
                label_name,
                layer_name,
                scope,
                " ".join(str(spec.get("description", "")).split()),
                str(spec.get("anchor", "")),
                attributes,
            )
    relations: dict[str, RelationType] = {}
    relations_node = reader.mapping(root, "relations", "")
    for name, spec in relations_node.items():
        where = f"relations.{name}"
        _unique_name(reader, relations_node, name, relations, "relation")
        head, tail = reader.strings(spec, "head", where), reader.strings(spec, "tail", where)
        for end, names in (("head", head), ("tail", tail)):
            unknown = [n for n in names if n not in labels]
            if unknown or not names:
                raise reader.fail(
                    f"expected known labels, got {unknown or 'none'}", spec, f"{where}.{end}"
                )
        relations[name] = RelationType(
            name,
            str(spec.get("description", "")),
            head,
            tail,
            reader.attributes(spec, where, lists),
        )
    for label in labels.values():
        for attribute in label.attributes.values():
            unknown = [n for n in attribute.labels if n not in labels]
            if unknown:
                raise ClaimwireError(
                    f"ref to unknown labels {unknown}",
                    file=path,
                    field=f"{label.name}.{attribute.name}",
                )
    return Schema(
        str(root["name"]),
        str(root["version"]),
        layers,
        labels,
        relations,
        targets,
        fields,
        statuses,
        weights,
        path,
    )
