"""Metadata read from a release's own text: dateline, wire, distribution id, issuer, URLs.

Only what the text states is returned; anything not found is ``None``, never a guess.
Supported datelines (French and English dates):

* GLOBE NEWSWIRE — ``PÉKIN, 19 juin 2025 (GLOBE NEWSWIRE) —``
* PR Newswire — ``NEW YORK, June 19, 2025 /PRNewswire/ --``
* Business Wire — ``PARIS--(BUSINESS WIRE)--`` (the date, when given, on a line before)
* ACCESSWIRE — ``AUSTIN, TX / ACCESSWIRE / June 19, 2025 /``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

_FRENCH_MONTHS = {
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
_ENGLISH_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTHS = _FRENCH_MONTHS | _ENGLISH_MONTHS
_MONTH = "(?i:" + "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True)) + ")"
_DAY = r"(?P<day>\d{1,2})(?:er|ᵉʳ|st|nd|rd|th)?"
_DATE = (
    rf"(?:{_DAY}\.?\s+(?P<month>{_MONTH})\.?\s+(?P<year>\d{{4}})"  # 19 juin 2025
    rf"|(?P<month2>{_MONTH})\.?\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year2>\d{{4}}))"
)
_CITY = r"(?P<city>[A-ZÀ-Ý][\w’'.\- ]{0,40}?(?:,\s*[A-Z][\w.]{1,20}?)?)"
_DASH = r"\s*(?:--|[—–-])"
_DATELINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GLOBE NEWSWIRE", re.compile(rf"{_CITY},\s+{_DATE}\s*\(GLOBE NEWSWIRE\){_DASH}")),
    ("PR Newswire", re.compile(rf"{_CITY},\s+{_DATE}\s*/\s*PRNewswire(?:-[A-Za-z]+)?\s*/{_DASH}")),
    ("Business Wire", re.compile(rf"{_CITY}\s*--\s*\((?:BUSINESS WIRE|Business Wire)\)\s*--")),
    (
        "ACCESSWIRE",
        re.compile(rf"{_CITY}\s*/\s*(?:ACCESSWIRE|ACCESS Newswire)\s*/\s*{_DATE}\s*/"),
    ),
)
_LOOSE_DATE = re.compile(_DATE, re.IGNORECASE)
_DISTRIBUTION_ID = re.compile(r"GlobeNewswire Distribution ID\s+(\d+)", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://[^\s<>«»\"]+|\bwww\.[^\s<>«»\"]+")
_URL_TRAILING = ".,;:!?)]’'"
_SOURCE_LINE = re.compile(r"^SOURCE:?[ \t]+(?P<issuer>[^\n]{2,80}?)[ \t]*$", re.MULTILINE)
_ISSUER_VERBS = re.compile(
    r"\A(?P<issuer>[A-Z][\w&.\-]*(?: [A-Z][\w&.\-]*){0,4})"
    r"(?: \([A-Z]+: ?[A-Z.]+\))?,?"
    r" (?:a publié|publie|annonce|a annoncé|présente|(?:today )?announced|(?:today )?announces)\b"
)


@dataclass(frozen=True, slots=True)
class Dateline:
    city: str
    wire: str
    published: str | None
    start: int
    end: int


@dataclass(slots=True)
class Metadata:
    """What a release says about itself. Every field is ``None`` (or empty) when unstated."""

    title: str | None = None
    dateline_city: str | None = None
    published: str | None = None
    wire: str | None = None
    distribution_id: str | None = None
    issuer: str | None = None
    urls: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "dateline_city": self.dateline_city,
            "published": self.published,
            "wire": self.wire,
            "distribution_id": self.distribution_id,
            "issuer": self.issuer,
            "urls": list(self.urls),
        }


def _date_from_match(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    day = groups.get("day") or groups.get("day2")
    month = groups.get("month") or groups.get("month2")
    year = groups.get("year") or groups.get("year2")
    if not (day and month and year):
        return None
    try:
        return date(int(year), _MONTHS[month.lower()], int(day)).isoformat()
    except ValueError:  # 31 février: the text is wrong, we do not guess
        return None


def find_dateline(text: str, search_chars: int = 3000) -> Dateline | None:
    """The first wire dateline within the first ``search_chars`` characters, if any."""
    head = text[:search_chars]
    best: Dateline | None = None
    for wire, pattern in _DATELINES:
        match = pattern.search(head)
        if match is None or (best is not None and match.start() >= best.start):
            continue
        published = _date_from_match(match)
        if published is None and wire == "Business Wire":
            earlier = list(_LOOSE_DATE.finditer(head, 0, match.start()))
            published = _date_from_match(earlier[-1]) if earlier else None
        city = match.group("city").strip()
        best = Dateline(city, wire, published, match.start(), match.end())
    return best


def find_urls(text: str) -> list[str]:
    """Every URL in the text, in order, without trailing punctuation, without repeats."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(text):
        seen.setdefault(match.group(0).rstrip(_URL_TRAILING), None)
    return list(seen)


def find_issuer(text: str, paragraphs: list[tuple[int, int]]) -> str | None:
    """The issuer where the release names it: a ``SOURCE`` line, or an opening such as
    "CGTN a publié …" / "Acme Corp. today announced …" at the start of a paragraph."""
    source = _SOURCE_LINE.search(text)
    if source:
        return source.group("issuer").strip()
    for start, end in paragraphs[:3]:
        match = _ISSUER_VERBS.match(text, start, end)
        if match:
            return match.group("issuer").rstrip(",")
    return None


def _looks_like_title(paragraph: str) -> bool:
    return (
        len(paragraph) <= 200
        and "\n" not in paragraph
        and paragraph[-1:] not in ".:;,"
        and not paragraph.lower().startswith(("http", "www."))
    )


def extract_metadata(
    text: str, paragraphs: list[tuple[int, int]], title: str | None = None
) -> Metadata:
    """Read the metadata a release states; ``title`` from a richer source (HTML) wins."""
    dateline = find_dateline(text)
    if title is None and paragraphs and (dateline is None or paragraphs[0][1] <= dateline.start):
        first = text[paragraphs[0][0] : paragraphs[0][1]]
        title = first if _looks_like_title(first) else None
    distribution = _DISTRIBUTION_ID.search(text)
    return Metadata(
        title=title,
        dateline_city=dateline.city if dateline else None,
        published=dateline.published if dateline else None,
        wire=dateline.wire if dateline else None,
        distribution_id=distribution.group(1) if distribution else None,
        issuer=find_issuer(text, paragraphs),
        urls=find_urls(text),
    )
