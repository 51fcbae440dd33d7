"""Text from data made inert in Markdown: it shows as written and never becomes markup.

A system name, a task description, a survey's name or a schema's description can hold
``<script>``, ``[x](javascript:…)`` or a ``|`` that would cut a table row. :func:`md_text`
escapes HTML (``& < >``) and the characters that start Markdown constructs (CommonMark lets a
backslash escape any ASCII punctuation), and folds line breaks into spaces so a table row
stays one line; :func:`md_code` gives an inline code span when it can. HTML outputs use
:func:`html.escape`.
"""

from __future__ import annotations

import html
import re

# Backslash, backtick, emphasis, links and images, tables, strikethrough, headings; '_' only
# where it could open or close emphasis (CommonMark ignores it inside a word).
_ACTIVE = re.compile(r"[\\`*\[\]|~#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_text(text: object) -> str:
    """``text`` as inline Markdown that renders as exactly this text (one line)."""
    flat = " ".join(str(text).split())
    return _ACTIVE.sub(lambda m: "\\" + m.group(), html.escape(flat, quote=False))


def md_code(text: object, *, cell: bool = False) -> str:
    """``text`` as an inline code span (in a table ``cell``, with ``|`` escaped, as GFM
    requires); as :func:`md_text` when it holds a backtick."""
    flat = " ".join(str(text).split())
    if "`" in flat or not flat:
        return md_text(flat)
    return f"`{flat.replace('|', chr(92) + '|') if cell else flat}`"


# An inline code span: a run of backticks, then the least text up to a run of as many.
_CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")


def html_free(markdown: str) -> str:
    """Markdown whose structure (headings, lists, code spans) is kept, with any raw HTML in it
    shown as text and no link or image: outside code spans, ``[`` and ``]`` are escaped, so
    ``[x](javascript:…)`` and ``![x](https://tracker…)`` show as written."""
    escaped = html.escape(markdown, quote=False)
    pieces, at = [], 0
    for span in _CODE_SPAN.finditer(escaped):
        pieces += [_no_links(escaped[at : span.start()]), span.group()]
        at = span.end()
    return "".join([*pieces, _no_links(escaped[at:])])


def _no_links(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")
