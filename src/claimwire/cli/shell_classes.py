"""Typer's shell completion classes, showing each help literally.

Typer hands a completion's help to rich as markup, so a bracketed note such as
``[env LABEL_STUDIO_URL]`` or ``[default: the newest]`` was taken for a tag and dropped
("Label Studio URL ."). claimwire's helps hold no markup (:data:`claimwire.cli.lazy.MARKUP`):
these classes escape each help before Typer renders it, and :func:`register` puts them in
place of Typer's for the shells that show helps.
"""

from __future__ import annotations

from rich.markup import escape
from typer import _completion_classes as typer_classes
from typer._click.shell_completion import CompletionItem, add_completion_class


def _literal(item: CompletionItem) -> CompletionItem:
    return CompletionItem(item.value, item.type, help=escape(item.help) if item.help else None)


class ZshComplete(typer_classes.ZshComplete):
    def format_completion(self, item: CompletionItem) -> str:
        return super().format_completion(_literal(item))


class FishComplete(typer_classes.FishComplete):
    def format_completion(self, item: CompletionItem) -> str:
        return super().format_completion(_literal(item))


class PowerShellComplete(typer_classes.PowerShellComplete):
    def format_completion(self, item: CompletionItem) -> str:
        return super().format_completion(_literal(item))


CLASSES: dict[str, type[ZshComplete | FishComplete | PowerShellComplete]] = {
    "zsh": ZshComplete,
    "fish": FishComplete,
    "powershell": PowerShellComplete,
}
"""The class of each shell whose completion shows helps (bash shows names only)."""


def register() -> None:
    """Answer completion requests with :data:`CLASSES` (after Typer registered its own)."""
    for shell, kind in CLASSES.items():
        add_completion_class(kind, shell)
    add_completion_class(PowerShellComplete, "pwsh")
