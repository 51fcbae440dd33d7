"""Benchmark tasks (``eval/tasks/*.yaml``), checked against the schema when loaded."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.annotation.yaml_lines import line_of, load_yaml
from claimwire.defaults import default_file
from claimwire.errors import ClaimwireError
from claimwire.eval.matching import SCHEMES
from claimwire.files import sha256
from claimwire.project import find_project
from claimwire.record_keys import did_you_mean

OVERLAP = "overlap"
KINDS = ("spans", "stance")
RELEASE_TASKS = "tasks"  # a release may carry the task definitions it was scored with
DEFAULT_SPLIT = "test"
"""The split a task file without ``split`` scores."""


@dataclass(frozen=True, slots=True)
class RelationSpec:
    type: str
    head: tuple[str, ...]
    tail: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    description: str
    kind: str
    labels: tuple[str, ...]
    schemes: tuple[str, ...] = ()
    primary: str = "strict"
    attributes: tuple[str, ...] = ()
    relations: tuple[RelationSpec, ...] = ()
    value_tolerance: float = 0.005
    disclosure: str | None = None
    forbid_overlap: bool = False
    classes: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    split: str | None = DEFAULT_SPLIT
    """The split scored unless another is asked for (``all``: every document); None for
    a task made in code that scores what it is given."""
    path: Path | None = field(default=None, compare=False)

    @property
    def digest(self) -> str:
        """8 hex digits of SHA-256 over what decides a score (labels, schemes, attributes,
        relations, tolerance, classes…; not the description, the file or the default split):
        a task changed under the same name gets another signature."""
        definition = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("description", "path", "split")
        }
        return sha256(json.dumps(definition, sort_keys=True, default=_plain))[:8]

    @property
    def span_schemes(self) -> tuple[str, ...]:
        return tuple(s for s in self.schemes if s != OVERLAP)

    @property
    def related_labels(self) -> tuple[str, ...]:
        """Every label the task reads: its own, its relations' ends and its survey label."""
        names = list(self.labels)
        for relation in self.relations:
            names += [*relation.head, *relation.tail]
        if self.disclosure:
            names.append(self.disclosure)
        return tuple(dict.fromkeys(names))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def default_tasks_dir(release: Path | None = None) -> Path:
    """The tasks a release carries (``RELEASE/tasks``), else the project's ``eval/tasks``,
    else the packaged default tasks."""
    if release is not None and (release / RELEASE_TASKS).is_dir():
        return release / RELEASE_TASKS
    project = find_project()
    if project is not None and project.tasks.is_dir():
        return project.tasks
    return default_file("tasks")


def _strings(node: Mapping[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = node.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClaimwireError(
            "expected a list of strings", file=path, line=line_of(node, key), field=key
        )
    return tuple(value)


TASK_KEYS = (
    "name",
    "description",
    "kind",
    "labels",
    "schemes",
    "primary",
    "attributes",
    "relations",
    "value_tolerance",
    "disclosure",
    "forbid_overlap",
    "classes",
    "positive",
    "split",
)
"""The keys a task file may hold."""


def load_task(path: Path, schema: Schema) -> Task:
    """Read one task file, strictly (no unknown key, values of their types, at their
    lines), and check every name in it against the schema."""
    node = load_yaml(path)
    if not isinstance(node, Mapping):
        raise ClaimwireError("expected a mapping", file=path)

    def fail(message: str, key: str, where: Any = node) -> ClaimwireError:
        return ClaimwireError(message, file=path, line=line_of(where, key), field=key)

    for key in node:
        if key not in TASK_KEYS:
            hint = did_you_mean(key, TASK_KEYS)
            raise fail(f"unknown key{hint}; a task has only {', '.join(TASK_KEYS)}", key)
    kind = node.get("kind")
    if kind not in KINDS:
        raise fail(f"expected one of {', '.join(KINDS)}", "kind")
    labels = _strings(node, "labels", path)
    if not labels:
        raise fail("expected at least one label of the schema", "labels")
    for label in labels:
        if label not in schema.labels:
            raise fail(f"label {label!r} is not in the schema", "labels")
    schemes = _strings(node, "schemes", path)
    for scheme in schemes:
        if scheme not in (*SCHEMES, OVERLAP):
            raise fail(
                f"unknown scheme {scheme!r}; expected {', '.join((*SCHEMES, OVERLAP))}", "schemes"
            )
    relations = []
    specs = node.get("relations") or []
    if not isinstance(specs, list) or not all(isinstance(spec, Mapping) for spec in specs):
        raise fail("expected a list of mappings with type, head and tail", "relations")
    for spec in specs:
        relation = RelationSpec(
            str(spec.get("type")), _strings(spec, "head", path), _strings(spec, "tail", path)
        )
        if relation.type not in schema.relations:
            raise fail(f"relation {relation.type!r} is not in the schema", "relations", spec)
        relations.append(relation)
    attributes = _strings(node, "attributes", path)
    for attribute in attributes:
        if not any(schema.attribute(label, attribute) for label in labels):
            raise fail(f"no label of the task has attribute {attribute!r}", "attributes")
    disclosure = node.get("disclosure")
    if disclosure is not None and not schema.is_survey(str(disclosure)):
        raise fail(f"{disclosure!r} is not a survey label", "disclosure")
    primary = str(node.get("primary", "strict"))
    classes = _strings(node, "classes", path)
    if kind == "stance":
        allowed = schema.attribute(labels[0], "stance") if labels else None
        if allowed is None or set(classes) - set(allowed.values):
            raise fail("classes must be the stance values of the schema", "classes")
    elif primary not in schemes:
        raise fail(f"primary scheme {primary!r} is not one of the task's schemes", "primary")
    tolerance = node.get("value_tolerance", 0.005)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise fail(f"expected a number ≥ 0, got {tolerance!r}", "value_tolerance")
    forbid_overlap = node.get("forbid_overlap", False)
    if not isinstance(forbid_overlap, bool):
        raise fail(f"expected true or false, got {forbid_overlap!r}", "forbid_overlap")
    split = node.get("split", DEFAULT_SPLIT)
    if not isinstance(split, str) or not split:
        raise fail(f"expected a split name (or all), got {split!r}", "split")
    return Task(
        name=str(node.get("name", path.stem)),
        description=str(node.get("description", "")),
        kind=kind,
        labels=labels,
        schemes=schemes,
        primary=primary,
        attributes=attributes,
        relations=tuple(relations),
        value_tolerance=float(tolerance),
        disclosure=str(disclosure) if disclosure else None,
        forbid_overlap=forbid_overlap,
        classes=classes,
        positive=_strings(node, "positive", path),
        split=split,
        path=path,
    )


def load_tasks(schema: Schema, directory: Path | None = None) -> dict[str, Task]:
    """Every task of a folder (default: :func:`default_tasks_dir`), by name."""
    directory = directory or default_tasks_dir()
    tasks: dict[str, Task] = {}
    files: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        task = load_task(path, schema)
        if task.name in tasks:
            raise ClaimwireError(
                f"task {task.name!r} is also defined by {files[task.name].name}: two files "
                "with one name would leave one of them unused; rename one task",
                file=path,
                field="name",
            )
        tasks[task.name], files[task.name] = task, path
    return tasks


def find_task(name_or_path: str, schema: Schema, release: Path | None = None) -> Task:
    """A task by the path of its file, or by name among the release's own tasks, else the
    project's, else the packaged ones."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return load_task(path, schema)
    tasks = load_tasks(schema, default_tasks_dir(release))
    if name_or_path not in tasks:
        raise ClaimwireError(f"unknown task {name_or_path!r}; known: {', '.join(tasks)}")
    return tasks[name_or_path]
