"""The guidelines' tables, generated from the schema and kept in sync with it."""

from __future__ import annotations

from pathlib import Path

from claimwire.annotation.schema import Attribute, Schema
from claimwire.errors import ClaimwireError
from claimwire.files import atomic_write_text
from claimwire.markup import md_code, md_text

BEGIN = "<!-- BEGIN GENERATED TABLES: `claimwire annotate guidelines` writes this part -->"
END = "<!-- END GENERATED TABLES -->"


def _values(attribute: Attribute) -> str:
    if attribute.values:
        return ", ".join(md_code(v, cell=True) for v in attribute.values)
    if attribute.type == "ref":
        allowed = [md_code(a, cell=True) for a in attribute.allow]
        return "id of a " + " or ".join([*attribute.labels, *allowed])
    return {"boolean": "`true`, `false`", "decimal": 'exact decimal, e.g. `"92.4"`'}.get(
        attribute.type, "free text"
    )


def _attributes_table(title: str, attributes: dict[str, Attribute]) -> list[str]:
    if not attributes:
        return [f"**{title}** has no attributes.", ""]
    lines = [
        f"**{title}**",
        "",
        "| attribute | type | required | values | meaning |",
        "|---|---|---|---|---|",
    ]
    for attribute in attributes.values():
        lines.append(
            f"| `{attribute.name}` | {attribute.type} | {'yes' if attribute.required else 'no'} "
            f"| {_values(attribute)} | {md_text(attribute.description)} |"
        )
    return [*lines, ""]


def render_tables(schema: Schema) -> str:
    """Markdown tables of every layer, label, attribute, relation, target and field."""
    lines = [
        f"### Labels (schema {schema.name} {schema.version})",
        "",
        "| layer | label | scope | definition | anchored in |",
        "|---|---|---|---|---|",
    ]
    for label in schema.labels.values():
        lines.append(
            f"| {label.layer} | `{label.name}` | {label.scope} | {md_text(label.description)} "
            f"| {md_text(label.anchor)} |"
        )
    lines += ["", "### Attributes", ""]
    disclosure = set(schema.disclosure_fields)
    for label in schema.labels.values():
        own = {k: v for k, v in label.attributes.items() if k not in disclosure}
        lines += _attributes_table(label.name, own)
        if schema.is_survey(label.name):
            lines += [
                f"{label.name} also has one attribute per disclosure field (below), each "
                f"one of {', '.join(md_code(s, cell=True) for s in schema.disclosure_statuses)}.",
                "",
            ]
    lines += [
        "### Relations",
        "",
        "| relation | from (head) | to (tail) | meaning |",
        "|---|---|---|---|",
    ]
    for relation in schema.relations.values():
        lines.append(
            f"| `{relation.name}` | {', '.join(relation.head)} | {', '.join(relation.tail)} "
            f"| {md_text(relation.description)} |"
        )
    lines.append("")
    for relation in schema.relations.values():
        if relation.attributes:
            lines += _attributes_table(f"{relation.name} (relation)", dict(relation.attributes))
    if schema.stance_targets:  # schemas before 1.1.0; since then, TARGET items per document
        lines += ["### Stance targets", "", "| id | target | description |", "|---|---|---|"]
        for target in schema.stance_targets.values():
            lines.append(
                f"| {md_code(target.id, cell=True)} | {md_text(target.name)} "
                f"| {md_text(target.description)} |"
            )
    statuses, weights = schema.disclosure_statuses, schema.disclosure_weights
    core = sum(1 for f in schema.disclosure_fields.values() if f.tier == "core")
    lines += [
        "",
        "### Disclosure checklist",
        "",
        f"Scores: present {statuses['present']}, partial {statuses['partial']}, absent "
        f"{statuses['absent']}; `not_applicable` fields leave the full score. Core score = mean "
        f"over the {core} core fields; full score weights core ×{weights['core']}, extended "
        f"×{weights['extended']}.",
        "",
        "| field | tier | what is disclosed | anchored in |",
        "|---|---|---|---|",
    ]
    for field in schema.disclosure_fields.values():
        description, anchor = md_text(field.description), md_text(field.anchor)
        lines.append(f"| `{field.name}` | {field.tier} | {description} | {anchor} |")
    return "\n".join(lines) + "\n"


def updated_guidelines(text: str, schema: Schema, path: Path) -> str:
    """``text`` with its generated part replaced by fresh tables."""
    if BEGIN not in text or END not in text:
        raise ClaimwireError(f"expected the markers {BEGIN} and {END}", file=path)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{render_tables(schema)}\n{END}{tail}"


def sync_guidelines(path: Path, schema: Schema, check: bool) -> bool:
    """Regenerate the tables in ``path``; with ``check`` only report. True when in sync."""
    text = path.read_text(encoding="utf-8")
    fresh = updated_guidelines(text, schema, path)
    if fresh == text:
        return True
    if not check:
        atomic_write_text(path, fresh)
    return False
