"""``claimwire numbers`` and ``claimwire annotate``: schema, gold and guidelines tools."""

from __future__ import annotations

import json

import typer

from claimwire.annotation.numbers import find_quantities


def numbers(
    text: str = typer.Argument(..., help="French (or English) text to read quantities from."),
    lang: str = typer.Option("fr", help="Language: 'fr' reads billion as 1e12, 'en' as 1e9."),
) -> None:
    """Print one JSON object per quantity: start, end, text, value, unit, qualifier."""
    for quantity in find_quantities(text, lang=lang):
        print(json.dumps(quantity.to_dict(), ensure_ascii=False))
