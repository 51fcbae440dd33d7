"""Label Studio labeling configs generated from the schema.

One config per layer and one with every layer (``full.xml``). In each:

* ``<Labels name="label">`` over ``<Text name="text" granularity="symbol">`` — the span labels
  (character granularity, so offsets are exact);
* per-region attributes: for every span label and attribute, a control named
  ``LABEL__attribute`` (Choices for choices and booleans, Number for decimals, TextArea for
  text), shown when a region of that label is selected;
* ``<Relations>``: every relation type, the quote types (a second label on an
  ``attributed_to`` arrow), and ``cue`` (an arrow from the content to its cue);
* document-level Choices: the issuer's stance (``issuer__stance``) and the SURVEY checklist
  (``SURVEY__field``); a quoted source's stance is a per-region choice on its SOURCE region
  (``SOURCE__stance``). Stance choices are dynamic (``value="$stance_choices"``): each task
  lists its own document's targets, one option ``<target id>=<stance>`` per target and
  stance value, so every document shows its own targets.

Control names are built here and parsed back by :mod:`.convert`: one naming scheme.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from claimwire.annotation.schema import Attribute, Schema
from claimwire.errors import ClaimwireError
from claimwire.files import atomic_write_text
from claimwire.names import child

SEP = "__"
LABELS = "label"
TEXT = "text"
CUE_RELATION = "cue"
STANCE_LABEL = "STANCE"
ISSUER = "issuer"
STANCE_CHOICES = "stance_choices"
"""The task data field holding a task's stance options (see :func:`stance_options`)."""
TARGETS = "targets"
"""The task data field holding the task's TARGET items."""
CHOICE_SEP = "="
COLOURS = (
    "#ffd166",
    "#06d6a0",
    "#118ab2",
    "#ef476f",
    "#8d99ae",
    "#f4a261",
    "#2a9d8f",
    "#b5838d",
    "#6d6875",
    "#e9c46a",
)


def control(owner: str, attribute: str, target: str | None = None) -> str:
    """``CLAIM__claim_type``, ``SOURCE__stance``, ``issuer__stance``; with a target, the
    per-target controls of schemas before 1.1.0 (``issuer__stance__BRI``)."""
    return SEP.join([owner, attribute] + ([target] if target else []))


def stance_options(
    targets: Iterable[tuple[str, str]], values: Iterable[str]
) -> list[dict[str, str]]:
    """A task's dynamic stance options: for each ``(target id, name)`` and stance value, one
    option whose value is ``<target id>=<stance>`` and whose text is ``<name>: <stance>``."""
    values = list(values)
    return [
        {"value": f"{tid}{CHOICE_SEP}{value}", "html": escape(f"{name}: {value}")}
        for tid, name in targets
        for value in values
    ]


def parse_stance_choice(choice: str) -> tuple[str, str]:
    """``<target id>=<stance>`` → ``(target id, stance)``."""
    target, _, stance = choice.rpartition(CHOICE_SEP)
    return target, stance


def _stance_controls(schema: Schema, owner: str, per_region: bool) -> list[str]:
    """The stance choices of a holder: dynamic (the task's own targets), or, for a schema
    that still lists its targets, one static single choice per target."""
    stance = schema.attribute(STANCE_LABEL, "stance")
    if not schema.stance_targets or stance is None:
        return [_stance_choices(control(owner, "stance"), per_region, "stance, one per target")]
    return [
        _choices(control(owner, "stance", t), stance.values, per_region, target.name)
        for t, target in schema.stance_targets.items()
    ]


def _stance_choices(name: str, per_region: bool, hint: str) -> str:
    attrs = (
        f'name={quoteattr(name)} toName="{TEXT}" choice="multiple" '
        f'value="${STANCE_CHOICES}" showInline="false"'
    )
    if per_region:
        attrs += ' perRegion="true"'
    return f'<Header value={quoteattr(hint)} size="6"/><Choices {attrs}/>'


def _choices(name: str, values: tuple[str, ...], per_region: bool, hint: str) -> str:
    attrs = f'name={quoteattr(name)} toName="{TEXT}" choice="single" showInline="true"'
    if per_region:
        attrs += ' perRegion="true"'
    inner = "".join(f"<Choice value={quoteattr(v)}/>" for v in values)
    return f'<Header value={quoteattr(hint)} size="6"/><Choices {attrs}>{inner}</Choices>'


def _attribute_control(label: str, attribute: Attribute) -> str:
    name = control(label, attribute.name)
    hint = f"{attribute.name}" + (f": {attribute.description}" if attribute.description else "")
    if attribute.type in ("choice", "boolean"):
        values = attribute.values if attribute.type == "choice" else ("true", "false")
        return _choices(name, values, True, hint)
    if attribute.type == "decimal":
        return (
            f'<Header value={quoteattr(hint)} size="6"/>'
            f'<Number name={quoteattr(name)} toName="{TEXT}" perRegion="true"/>'
        )
    return (
        f'<Header value={quoteattr(hint)} size="6"/>'
        f'<TextArea name={quoteattr(name)} toName="{TEXT}" perRegion="true" editable="true" '
        f'maxSubmissions="1" rows="1"/>'
    )


def render_config(schema: Schema, layers: list[str]) -> str:
    """The XML config for some layers of the schema."""
    span_labels = [l for l in schema.labels.values() if l.layer in layers and l.is_span]  # noqa: E741
    document_labels = [l for l in schema.labels.values() if l.layer in layers and not l.is_span]  # noqa: E741
    parts = [
        '<View style="display: grid; grid-template-columns: 2fr 1fr; gap: 1em">',
        "<View>",
        '<Header value="$title"/>',
    ]
    if span_labels:
        parts.append(f'<Labels name="{LABELS}" toName="{TEXT}">')
        for i, label in enumerate(span_labels):
            parts.append(
                f'<Label value={quoteattr(label.name)} background="{COLOURS[i % len(COLOURS)]}"/>'
            )
        parts.append("</Labels>")
    parts.append(f'<Text name="{TEXT}" value="$text" granularity="symbol"/>')
    relations = [
        r
        for r in schema.relations.values()
        if all(
            schema.labels[n].layer in layers for n in (*r.head, *r.tail) if schema.labels[n].is_span
        )
    ]
    if relations:
        values = [r.name for r in relations]
        for relation in relations:
            quote_type = relation.attributes.get("quote_type")
            if quote_type is not None:
                values += [v for v in quote_type.values if v not in values]
            if "cue" in relation.attributes and CUE_RELATION not in values:
                values.append(CUE_RELATION)
        parts.append(
            "<Relations>"
            + "".join(f"<Relation value={quoteattr(v)}/>" for v in values)
            + "</Relations>"
        )
    parts.append("</View><View>")
    for label in span_labels:
        controls = [
            _attribute_control(label.name, a) for a in label.attributes.values() if a.type != "ref"
        ]
        if (
            label.name == "SOURCE"
            and STANCE_LABEL in schema.labels
            and schema.labels[STANCE_LABEL].layer in layers
        ):
            controls += _stance_controls(schema, "SOURCE", True)
        if controls:
            parts.append(
                f'<View visibleWhen="region-selected" whenLabelValue={quoteattr(label.name)}>'
                f'<Header value={quoteattr(label.name)} size="5"/>{"".join(controls)}</View>'
            )
    for label in document_labels:
        if label.name == STANCE_LABEL:
            parts.append('<Header value="Stance of the issuer" size="5"/>')
            parts += _stance_controls(schema, ISSUER, False)
            continue
        if label.scope == "either":
            continue  # given with the task (its TARGETs), not annotated here
        parts.append(f'<Header value={quoteattr(label.name + " (one per document)")} size="5"/>')
        for attribute in label.attributes.values():
            name = control(label.name, attribute.name)
            if attribute.type in ("choice", "boolean"):
                options = attribute.values if attribute.type == "choice" else ("true", "false")
                parts.append(_choices(name, options, False, attribute.name))
            else:
                parts.append(
                    f'<Header value={quoteattr(attribute.name)} size="6"/>'
                    f'<TextArea name={quoteattr(name)} toName="{TEXT}" maxSubmissions="1" '
                    'rows="1"/>'
                )
    parts.append("</View></View>")
    return "\n".join(parts) + "\n"


def configs(schema: Schema) -> dict[str, str]:
    """``{file name: XML}``: one config per layer, and ``full.xml`` with every layer."""
    result = {f"{layer}.xml": render_config(schema, [layer]) for layer in schema.layers}
    result["full.xml"] = render_config(schema, list(schema.layers))
    return result


def write_configs(schema: Schema, folder: Path, check: bool) -> list[str]:
    """Write the configs (or, with ``check``, list the files that are out of date)."""
    stale = []
    made = configs(schema)
    for name, xml in made.items():
        path = child(folder, name, what="config")
        if not path.exists() or path.read_text(encoding="utf-8") != xml:
            stale.append(name)
            if not check:
                atomic_write_text(path, xml)
    extra = (
        sorted(p.name for p in folder.glob("*.xml") if p.name not in made)
        if folder.exists()
        else []
    )
    if extra and check:
        raise ClaimwireError(f"configs the schema no longer makes: {', '.join(extra)}", file=folder)
    return stale
