"""YAML loading that remembers each mapping's line, so errors can name it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import yaml

from claimwire.errors import ClaimwireError


class LinedDict(dict[str, Any]):
    """A mapping that knows the line (1-based) where it starts in its YAML file, and the
    line of each of its keys."""

    line: int | None = None
    key_lines: dict[str, int] = {}  # noqa: RUF012 (each mapping read is given its own)


DEPTH = 100
"""How deep collections may nest in a YAML file claimwire reads (a schema needs 5): deeper
is a located error, before PyYAML's recursion reaches the interpreter's limit."""


class _LineLoader(yaml.SafeLoader):
    """Safe loading without aliases (``*name`` could expand a few bytes into gigabytes) and
    without collections nested deeper than :data:`DEPTH`."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._refuse("aliases (*name) are not accepted; write the value out")
        collection = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
        if collection and self.depth >= DEPTH:
            self._refuse(f"nested too deeply to read (more than {DEPTH} levels)")
        self.depth += collection
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= collection

    def _refuse(self, problem: str) -> NoReturn:
        """The located error of the node about to be composed."""
        start = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        raise yaml.composer.ComposerError(None, None, problem, start)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LinedDict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue  # the safe constructor refuses unhashable keys itself
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice in one mapping (first on line {seen[key]}); "
                "expected each key once",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    mapping = LinedDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(key): line for key, line in seen.items()}
    return mapping


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A date or time as YAML reads one; an impossible one (``2025-02-30``) is a located
    error, not Python's ``ValueError``."""
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is not a valid date or time; correct it, or quote it if it is text",
            node.start_mark,
        ) from None


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def line_of(node: Any, key: str | None = None) -> int | None:
    """The line a mapping read by :func:`load_yaml` starts on, or that of its ``key``, if
    known."""
    if key is not None and key in getattr(node, "key_lines", {}):
        return int(node.key_lines[key])
    return getattr(node, "line", None)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file (safely, without aliases); syntax errors, unreadable files and
    nesting too deep to parse are located errors. Every YAML claimwire reads comes here."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ClaimwireError("file not found", file=path) from None
    except IsADirectoryError:
        raise ClaimwireError("is a folder, expected a YAML file", file=path) from None
    except UnicodeDecodeError as error:
        raise ClaimwireError(f"not valid UTF-8 at byte {error.start}", file=path) from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except RecursionError:
        raise ClaimwireError("nested too deeply to read", file=path) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise ClaimwireError(
            f"not valid YAML: {problem}", file=path, line=mark.line + 1 if mark else None
        ) from None
