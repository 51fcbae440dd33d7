"""Commands whose modules are imported only when they run (or are completed, or asked for
their own help), so that ``claimwire --version``, ``--help`` and shell completion start fast.

A :class:`LazyCommand` stands in the root group with a fixed one-line help; the first time
click makes a context for it, it imports its module and hands over to the real command.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

MARKUP = None
"""No rich markup in help texts: notes such as ``[env LABEL_STUDIO_URL]`` show literally."""


def _load(target: str, name: str) -> Any:
    """The click command of ``module:attribute`` (a Typer app, or a command function)."""
    module, _, attribute = target.partition(":")
    loaded = getattr(importlib.import_module(module), attribute)
    if not isinstance(loaded, typer.Typer):
        single = typer.Typer(rich_markup_mode=MARKUP, add_completion=False)
        single.command(name)(loaded)
        loaded = single
    return typer.main.get_command(loaded)


class LazyCommand(TyperCommand):
    """A command of the root group that imports ``module:attribute`` when first used."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name, help=help, short_help=help)
        self.target = target
        self._real: Any = None

    @property
    def real(self) -> Any:
        if self._real is None:
            self._real = _load(self.target, self.name or "")
        return self._real

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        return self.real.make_context(info_name, args, parent=parent, **extra)


def lazy_group(commands: dict[str, tuple[str, str]]) -> type[TyperGroup]:
    """A root group class holding ``name → (module:attribute, one-line help)`` lazily."""

    class Group(TyperGroup):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name, (target, text) in commands.items():
                self.add_command(LazyCommand(name, target, text))

        def _main_shell_completion(self, *args: Any, **kwargs: Any) -> None:
            from claimwire.cli.shell_classes import register

            register()  # helps shown literally, as --help shows them
            super()._main_shell_completion(*args, **kwargs)

    return Group
