"""Quantities with their offsets: "94,8 milliards de dollars" → 94800000000 USD.

The document's language decides the conventions: French (decimal comma, long scale:
milliard = 1e9, billion = 1e12, trillion = 1e18) or, for every other language, English
(decimal point, "1,012" grouping, short scale: billion = 1e9, trillion = 1e12, "bn", "tn",
"m" and "k" after a currency symbol). The rest of this note describes French.

Handles the decimal comma, digit groups separated by a space, U+00A0, U+202F or U+2009 (and
"." before exactly three digits), "%" and "pour cent", scale words (mille, million, milliard
= 1e9, billion = 1e12 in French — 1e9 in English), abbreviations (M€, Md, Mds, Mrd),
currencies before or after the number ("de dollars", "d'euros", "$", "€", "USD"), spelled-out
numbers (through ``text2num``, on our own word spans so offsets survive), and qualifiers
("plus de", "près de", "environ", "ont dépassé les"). Ordinals (1er, 2e, 30ᵉ, 30ème), years,
dates, times, phone numbers, identifiers and reference numbers (art. 3, p. 12) are not
quantities. Values are exact :class:`~decimal.Decimal` numbers.

In every language: digits of any script (Arabic-Indic ٣٫٥ and ١٬٢٠٠ too), "٪" and "％";
a letter of a script written without spaces (Chinese, Japanese kana, Thai; see
:mod:`claimwire.corpus.words`) is a boundary on both sides of a figure and its unit
("调查1000名", "65%的"), and so is an Arabic letter before one (the proclitic "و3"). Dates
are skipped: "3 March", "March 3, 2025", "Jan. 5", "3 مارس", "3 آذار", "3月", "3日", and "3 mars"
in French; so are ordinals "第3". A month follows a day of one or two digits and is written as
a month: an English one capitalised ("12 May", "12 MAY": "12 may increase" keeps its 12), a
French one in a French document ("3 Mars bars" in English is 3 bars); in any case and language
when a year follows ("12 may 2025"). Chinese number words, units and qualifiers are not read.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from text_to_num import text2num

from claimwire.corpus.words import UNSPACED_CLASS

_SPACE = "[ \u00a0\u202f\u2009]"
_LETTER = rf"[^\W{UNSPACED_CLASS}]"
"""A letter or digit of a script written with spaces: a letter of Chinese, Japanese or Thai
next to a figure is a word boundary, as in :mod:`claimwire.corpus.words`."""
_END = rf"(?!{_LETTER})"
_ARABIC_LETTERS = "\u0620-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06fc\u06ff"
_START = rf"(?<![^\W{UNSPACED_CLASS}{_ARABIC_LETTERS}])(?<![.,/\-+@#\u066b\u066c])"
"""Where a figure may start: not inside a word, but after an Arabic letter ("و3", "ب12%":
"and", "by" are written against the next word) or a letter of an unspaced script."""
_DIGITS = re.compile(
    _START + rf"(?P<int>\d{{1,3}}(?:{_SPACE}\d{{3}})+(?!\d)|\d{{1,3}}(?:\.\d{{3}})+(?![\d,])|\d+)"
    r"(?:[,.\u066b](?P<frac>\d+))?"
)
_DIGITS_EN = re.compile(  # English: "1,012" groups thousands, "94.8" is a decimal point
    _START
    + rf"(?P<int>\d{{1,3}}(?:[,\u066c]\d{{3}})+(?![\d])|\d{{1,3}}(?:{_SPACE}\d{{3}})+(?!\d)|\d+)"
    r"(?:[.\u066b](?P<frac>\d+))?"
)
_NUMBER_WORDS = (
    "zéro|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
    "quinze|seize|vingts?|trente|quarante|cinquante|soixante|cents?|mille"
)
_SPELLED = re.compile(
    rf"(?<![\w’'-])(?:{_NUMBER_WORDS})(?:(?:-| et | |-et-)(?:{_NUMBER_WORDS}))*(?![\w’'-])",
    re.IGNORECASE,
)
_SCALE_WORDS = {  # French: the long scale
    "mille": Decimal(1000),
    "million": Decimal(10) ** 6,
    "millions": Decimal(10) ** 6,
    "milliard": Decimal(10) ** 9,
    "milliards": Decimal(10) ** 9,
    "billion": Decimal(10) ** 12,
    "billions": Decimal(10) ** 12,
    "trillion": Decimal(10) ** 18,
    "trillions": Decimal(10) ** 18,
    "md": Decimal(10) ** 9,
    "mds": Decimal(10) ** 9,
    "mrd": Decimal(10) ** 9,
    "mrds": Decimal(10) ** 9,
    "m": Decimal(10) ** 6,
    "k": Decimal(1000),
}
_SCALE = re.compile(
    rf"{_SPACE}*(?P<scale>millions?|milliards?|billions?|trillions?|mille|Mds?|Mrds?|Md"
    rf"|M(?={_SPACE}*(?:€|\$|d[’']euros|de{_SPACE}+dollars))|k(?=€|\$)){_END}",
)
_SCALE_WORDS_EN = {  # English: the short scale
    "thousand": Decimal(1000),
    "million": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
    "k": Decimal(1000),
    "m": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "mln": Decimal(10) ** 6,
    "bn": Decimal(10) ** 9,
    "b": Decimal(10) ** 9,
    "tn": Decimal(10) ** 12,
}
_SCALE_EN = re.compile(  # abbreviations stick to the number: "$5m", "€2.3bn", "1.2 bn"
    rf"(?:{_SPACE}*(?P<scale>thousand|million|billion|trillion)s?"
    rf"|{_SPACE}?(?P<abbr>bn|tn|mn|mln|m|b|k)){_END}",
    re.IGNORECASE,
)
_CURRENCIES: tuple[tuple[str, str], ...] = (
    (r"dollars?(?:\s+américains|\s+US)?", "USD"),
    (r"euros?", "EUR"),
    (r"yuans?|renminbi", "CNY"),
    (r"yens?", "JPY"),
    (r"livres?\s+sterling", "GBP"),
    (r"francs?\s+suisses", "CHF"),
    (r"roubles?", "RUB"),
    (r"tenges?", "KZT"),
    (r"pounds?(?:\s+sterling)?", "GBP"),
    (r"USD|EUR|CNY|RMB|JPY|GBP|CHF|RUB|KZT", ""),
)
_CURRENCY_WORD = re.compile(
    rf"{_SPACE}*(?:(?:de{_SPACE}+|d[’']))?(?P<currency>"
    + "|".join(f"(?:{pattern})" for pattern, _ in _CURRENCIES)
    + rf"){_END}",
    re.IGNORECASE,
)
_CURRENCY_SYMBOL = re.compile(rf"{_SPACE}*(?P<symbol>\$\s?US|US\$|€|\$|£|¥)")
_PREFIX_SYMBOL = re.compile(r"(?P<symbol>US\$|\$|€|£|¥)" + rf"{_SPACE}?\Z")
_SYMBOLS = {
    "$US": "USD",
    "$ US": "USD",
    "US$": "USD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
}
_PERCENT = re.compile(  # also the full-width "％" and the Arabic "٪"
    rf"{_SPACE}*(?:[%\uff05\u066a]|(?:pour{_SPACE}?cent|pourcent|percent|per cent){_END})"
)
_OR_MORE = re.compile(  # "18 ans et plus", "aged 65 and over": an open interval from below
    rf"{_SPACE}*(?:et{_SPACE}+plus|ou{_SPACE}+plus|et{_SPACE}+au-delà|and{_SPACE}+(?:over|above|older)"
    rf"|or{_SPACE}+(?:more|older|above)|\+){_END}",
    re.IGNORECASE,
)
_POINTS = re.compile(
    rf"{_SPACE}+(?:percentage{_SPACE}+)?points?(?:{_SPACE}+de{_SPACE}+pourcentage)?{_END}"
)
_DURATION = re.compile(
    rf"{_SPACE}+(?P<unit>ans|années|année|an|mois|jours|jour|semaines"
    rf"|years?|months?|days?|weeks?){_END}",
    re.IGNORECASE,
)
_DURATION_UNITS = {
    "an": "year",
    "ans": "year",
    "année": "year",
    "années": "year",
    "mois": "month",
    "jour": "day",
    "jours": "day",
    "semaines": "week",
    "year": "year",
    "years": "year",
    "month": "month",
    "months": "month",
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
}
_ENGLISH_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_FRENCH_MONTHS = (
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)
_ARABIC_MONTHS = (  # the Egyptian and Gulf names, then the Levantine ones
    "يناير|فبراير|مارس|[أإا]بريل|مايو|يوني[وه]|يولي[وه]|[أا]غسطس|سبتمبر|[أا]كتوبر|نوفمبر|ديسمبر|"
    "كانون|شباط|[آا]ذار|نيسان|[أا]يار|حزيران|تموز|آب|[أا]يلول|تشرين"
)


def _capitalised(months: str) -> str:
    """``months`` ("may|june") as English writes them: "May|MAY|June|JUNE"."""
    return "|".join(form for month in months.split("|") for form in (month.title(), month.upper()))


_BEFORE_MONTH = rf"(?:{_SPACE}+(?i:au|et|-){_SPACE}+\d{{1,2}})?{_SPACE}+"
"""Between a day and its month: spaces, or a range's second day ("3 au 5 mars", "3 - 5 May")."""
_DATE_AFTER = re.compile(  # after a day of one or two digits
    # "3 March", "3 MARCH", "3 مارس" in every language; lower-case "3 may" is no date
    rf"{_BEFORE_MONTH}(?:{_capitalised(_ENGLISH_MONTHS)}|{_ARABIC_MONTHS}){_END}"
    # any month in any case, then a year: "3 may 2025", "3 Mai 2025"
    rf"|{_BEFORE_MONTH}(?i:{_ENGLISH_MONTHS}|{_FRENCH_MONTHS}){_SPACE}+\d{{4}}(?!\d)"
    r"|[月日号號时時](?![間间])"  # "3月", "3日"
)
_FRENCH_DATE_AFTER = re.compile(rf"{_BEFORE_MONTH}(?i:{_FRENCH_MONTHS}){_END}")
"""French writes its months in lower case ("3 mars"), in capitals in a dateline ("3 MARS")."""
_ABBREVIATED_MONTHS = "jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
_DATE_BEFORE = re.compile(  # an English dateline's "March 3, 2025", "Jan. 5", "MARCH 3"
    rf"(?<!{_LETTER})(?:"
    + _capitalised(f"{_ENGLISH_MONTHS}|{_ABBREVIATED_MONTHS}")
    + rf")\.?{_SPACE}+\Z"
)
_TIME_AFTER = re.compile(rf"{_SPACE}*h(?:{_SPACE}*\d{{2}})?{_END}|:\d{{2}}")
_ORDINAL_AFTER = re.compile(rf"(?:er|re|e|ème|eme|ᵉ|ᵉʳ|ʳᵉ|nd|st|th|rd|°){_END}")
_REFERENCE_BEFORE = re.compile(  # "第" makes a Chinese or Japanese ordinal: 第3季度
    r"(?:\b(?:art|p|pp|n°|no|vol|chap|al)\.?|\barticle|\bnuméro|\bID|\bISIN|\bcode|°|#|第"
    rf"|\d{_SPACE}*h)"
    rf"{_SPACE}*\Z",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?\d{1,4}(?:[ .\u00a0]\d{2,3}){3,}")
# URLs and e-mails are found token by token (a token is a run of non-space characters): the
# single pattern ``\S+@\S+\.\w+`` restarted at every character of a long token, quadratic.
_TOKEN = re.compile(r"\S+")
_URL_START = re.compile(r"\b(?:https?://|www\.)")
_DOT_WORD = re.compile(r"\.\w")
_QUALIFIERS: tuple[tuple[str, str], ...] = (
    (r"pas moins de|pas moins d[’']|au moins|at least|no less than|minimum", "at_least"),
    (r"pas plus de|au plus|jusqu[’']à|at most|up to|no more than|maximum", "at_most"),
    (
        r"plus de|plus d[’']|au-delà de|supérieure? à|(?:ont|a|avait|avaient)\s+dépassé(?:\s+les?)?"
        r"|dépassant(?:\s+les?)?|more than|over|exceeded|exceeding",
        "more_than",
    ),
    (r"moins de|moins d[’']|inférieure? à|less than|fewer than|under", "less_than"),
    (
        r"près de|près d[’']|environ|env\.|quelque|autour de|approximativement|presque|quasiment"
        r"|about|around|nearly|almost|approximately|roughly|some|~",
        "about",
    ),
)
_QUALIFIER = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(f"(?P<q{i}>{pattern})" for i, (pattern, _) in enumerate(_QUALIFIERS))
    + rf"){_SPACE}*\Z",
    re.IGNORECASE,
)
_ARTICLES = frozenset({"un", "une"})


INT_DIGITS = 4300
"""The most digits Python reads or writes an integer's text with by default (CPython's
``sys.get_int_max_str_digits()``): a longer whole number is written as its decimal text."""


def json_number(value: Decimal) -> int | float | str:
    """``value`` as JSON carries it: a whole number as an integer, any other as a float; as
    its decimal text when no number a JSON reader makes would hold it (a whole number of
    more than :data:`INT_DIGITS` digits, or beyond a float's range)."""
    if value == value.to_integral():
        if value.adjusted() < INT_DIGITS:
            return int(value)
    elif math.isfinite(number := float(value)):
        return number
    return format(value, "f")  # normalize() would round to 28 digits


@dataclass(frozen=True, slots=True)
class Quantity:
    start: int
    end: int
    text: str
    value: Decimal
    unit: str
    qualifier: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "value": json_number(self.value),
            "unit": self.unit,
            "qualifier": self.qualifier,
        }


def _url_or_email(token: str) -> int | None:
    """Where a URL or an e-mail address starts in ``token``, if it holds one."""
    url = _URL_START.search(token)
    if url is not None:
        return url.start()
    at = token.find("@")
    if at > 0 and _DOT_WORD.search(token, at + 2):
        return 0
    return None


def _excluded(text: str) -> list[tuple[int, int]]:
    """Spans that hold no quantity: URLs, e-mail addresses, phone numbers (linear time)."""
    spans = [m.span() for m in _PHONE.finditer(text)]
    for token in _TOKEN.finditer(text):
        offset = _url_or_email(token.group())
        if offset is not None:
            spans.append((token.start() + offset, token.end()))
    return spans


def _digit_value(match: re.Match[str]) -> Decimal:
    integer = re.sub(r"[^\d]", "", match.group("int"))
    fraction = match.group("frac")
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def _spelled_value(words: str) -> Decimal | None:
    if words.lower() in _ARTICLES:
        return None  # "un", "une" are articles far more often than numbers
    try:
        return Decimal(text2num(words.lower(), "fr"))
    except ValueError:
        return None


def _currency_code(word: str) -> str:
    for pattern, code in _CURRENCIES:
        if re.fullmatch(pattern, word, re.IGNORECASE):
            return code or ("CNY" if word.upper() == "RMB" else word.upper())
    return word.upper()


def _qualifier(text: str, start: int, end: int) -> str:
    """The qualifier before a quantity ("plus de", "about" — whole words only: "auprès de" is
    not "près de"), or after it ("18 ans et plus", "65 and over": at least)."""
    if _OR_MORE.match(text, end):
        return "at_least"
    match = _QUALIFIER.search(text, max(0, start - 40), start)
    if match is None:
        return "exact"
    index = next(int(name[1:]) for name, value in match.groupdict().items() if value)
    return _QUALIFIERS[index][1]


def is_french(lang: str | None) -> bool:
    """French number conventions (decimal comma, long scale) for ``fr`` and its variants;
    every other language is read with English ones (decimal point, short scale)."""
    return (lang or "fr").lower().replace("_", "-").split("-")[0] == "fr"


def _digit_candidates(text: str, french: bool) -> Iterator[tuple[int, int, Decimal, bool]]:
    for match in (_DIGITS if french else _DIGITS_EN).finditer(text):
        yield match.start(), match.end(), _digit_value(match), True


def _spelled_candidates(text: str) -> Iterator[tuple[int, int, Decimal, bool]]:
    for match in _SPELLED.finditer(text):
        value = _spelled_value(match.group(0))
        if value is None and _SCALE.match(text, match.end()):
            value = Decimal(1)  # "un milliard": here the article is a number
        if value is not None:
            yield match.start(), match.end(), value, False


def find_quantities(text: str, lang: str | None = "fr") -> list[Quantity]:
    """Every quantity in ``text``, in order, with exact ``[start, end)`` offsets, read with the
    conventions of the document's language ``lang`` (see :func:`is_french`)."""
    french = is_french(lang)
    excluded = sorted(_excluded(text))
    next_excluded, excluded_until = 0, 0  # candidates come in order: one walk of ``excluded``
    found: list[Quantity] = []
    for start, end, value, digits in heapq.merge(
        _digit_candidates(text, french), _spelled_candidates(text) if french else ()
    ):
        while next_excluded < len(excluded) and excluded[next_excluded][0] <= start:
            excluded_until = max(excluded_until, excluded[next_excluded][1])
            next_excluded += 1
        if start < excluded_until:
            continue
        if digits and (
            _ORDINAL_AFTER.match(text, end)
            or (end - start <= 2 and _is_date(text, start, end, french))
            or _TIME_AFTER.match(text, end)
            or _REFERENCE_BEFORE.search(text, max(0, start - 20), start)
        ):
            continue
        quantity = _read_quantity(text, start, end, value, french)
        if quantity is None or (found and quantity.start < found[-1].end):
            continue
        found.append(quantity)
    return found


def _is_date(text: str, start: int, end: int, french: bool) -> bool:
    """Whether the figure ``text[start:end]`` (a day) is part of a date: "3 March", "3 mars"
    in French, "March 3", "3 may 2025", "3月" — never "12 may increase" or "3 Mars bars"."""
    return bool(
        _DATE_AFTER.match(text, end)
        or (french and _FRENCH_DATE_AFTER.match(text, end))
        or _DATE_BEFORE.search(text, max(0, start - 12), start)
    )


def _scale(text: str, position: int, french: bool, money: bool) -> tuple[Decimal, int] | None:
    """The multiplier of a scale word or abbreviation at ``position``, and where it ends. An
    English one-letter abbreviation ("m", "b", "k") counts only after a currency symbol."""
    if french:
        match = _SCALE.match(text, position)
        return (_SCALE_WORDS[match.group("scale").lower()], match.end()) if match else None
    match = _SCALE_EN.match(text, position)
    if match is None:
        return None
    word = (match.group("scale") or match.group("abbr")).lower()
    if word in ("m", "b", "k") and not money:
        return None
    return _SCALE_WORDS_EN[word], match.end()


def _read_quantity(
    text: str, start: int, end: int, value: Decimal, french: bool
) -> Quantity | None:
    """Extend a number with its scale, unit and currency, and read its qualifier."""
    raw = text[start:end]
    position = end
    prefix = _PREFIX_SYMBOL.search(text, max(0, start - 4), start)
    scale = _scale(text, position, french, money=prefix is not None)
    if scale:
        value *= scale[0]
        position = scale[1]
    unit = "count"
    if prefix:
        unit = _SYMBOLS[prefix.group("symbol")]
        start = prefix.start()
    elif percent := _PERCENT.match(text, position):
        unit, position = "percent", percent.end()
    elif symbol := _CURRENCY_SYMBOL.match(text, position):
        unit, position = _SYMBOLS[symbol.group("symbol").replace(" ", "")], symbol.end()
    elif currency := _CURRENCY_WORD.match(text, position):
        unit, position = _currency_code(currency.group("currency")), currency.end()
    elif points := _POINTS.match(text, position):
        unit, position = "points", points.end()
    elif duration := _DURATION.match(text, position):
        unit, position = _DURATION_UNITS[duration.group("unit").lower()], duration.end()
    if unit == "count" and not scale and raw.isdigit() and len(raw) == 4 and 1800 <= value <= 2100:
        return None  # a year
    return Quantity(
        start, position, text[start:position], value, unit, _qualifier(text, start, position)
    )
