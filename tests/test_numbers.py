"""The quantity normalizer, case by case in French and in English:
(text, [(surface, value, unit, qualifier)])."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from claimwire.annotation.numbers import find_quantities

from .helpers import run_cli

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"

CASES: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    # decimal comma and digit groups
    ("90 % des personnes interrogées", [("90 %", "90", "percent", "exact")]),
    (f"92,4{NBSP}% des personnes", [(f"92,4{NBSP}%", "92.4", "percent", "exact")]),
    (f"92,4{NNBSP}%", [(f"92,4{NNBSP}%", "92.4", "percent", "exact")]),
    ("un échantillon de 1 004 personnes", [("1 004", "1004", "count", "exact")]),
    (f"3{NNBSP}000 salariés", [(f"3{NNBSP}000", "3000", "count", "exact")]),
    (f"12{NBSP}500 visiteurs", [(f"12{NBSP}500", "12500", "count", "exact")]),
    (f"1{THIN}250{THIN}000 habitants", [(f"1{THIN}250{THIN}000", "1250000", "count", "exact")]),
    ("1.000 euros", [("1.000 euros", "1000", "EUR", "exact")]),
    ("un taux de 0,3 % au premier trimestre", [("0,3 %", "0.3", "percent", "exact")]),
    ("de 2,5 à 3,75 %", [("2,5", "2.5", "count", "exact"), ("3,75 %", "3.75", "percent", "exact")]),
    # percent words and points
    ("vingt-cinq pour cent", [("vingt-cinq pour cent", "25", "percent", "exact")]),
    ("12 pour cent des voix", [("12 pour cent", "12", "percent", "exact")]),
    ("3 points de pourcentage", [("3 points de pourcentage", "3", "points", "exact")]),
    (
        "92 points sur 100",
        [("92 points", "92", "points", "exact"), ("100", "100", "count", "exact")],
    ),
    # scale words (long scale in French)
    (
        "94,8 milliards de dollars en 2024",
        [("94,8 milliards de dollars", "94800000000", "USD", "exact")],
    ),
    ("1,5 million de personnes", [("1,5 million", "1500000", "count", "exact")]),
    ("2 millions d’euros", [("2 millions d’euros", "2000000", "EUR", "exact")]),
    ("2 millions d'euros", [("2 millions d'euros", "2000000", "EUR", "exact")]),
    ("un billion de yens", [("un billion de yens", "1000000000000", "JPY", "exact")]),
    ("3 mille participants", [("3 mille", "3000", "count", "exact")]),
    (
        "2,5 Md€ sur cinq ans",
        [("2,5 Md€", "2500000000", "EUR", "exact"), ("cinq ans", "5", "year", "exact")],
    ),
    ("4 Mds de dollars", [("4 Mds de dollars", "4000000000", "USD", "exact")]),
    ("12 M€ de chiffre d’affaires", [("12 M€", "12000000", "EUR", "exact")]),
    # currencies before and after
    ("82,40 dollars le baril", [("82,40 dollars", "82.40", "USD", "exact")]),
    ("12,5 € l’unité", [("12,5 €", "12.5", "EUR", "exact")]),
    ("$2.3 millions", [("$2.3 millions", "2300000", "USD", "exact")]),
    ("5 $US par action", [("5 $US", "5", "USD", "exact")]),
    ("10 USD", [("10 USD", "10", "USD", "exact")]),
    ("40 milliards de yuans", [("40 milliards de yuans", "40000000000", "CNY", "exact")]),
    (
        "300 millions de dollars américains",
        [("300 millions de dollars américains", "300000000", "USD", "exact")],
    ),
    ("7 livres sterling", [("7 livres sterling", "7", "GBP", "exact")]),
    # qualifiers
    (
        "plus de 30 milliards de dollars",
        [("30 milliards de dollars", "30000000000", "USD", "more_than")],
    ),
    (
        "ont dépassé les 30 milliards de dollars",
        [("30 milliards de dollars", "30000000000", "USD", "more_than")],
    ),
    ("près de 1 004 personnes", [("1 004", "1004", "count", "about")]),
    ("environ 300 000 habitants", [("300 000", "300000", "count", "about")]),
    ("quelque 40 pays", [("40", "40", "count", "about")]),
    ("au moins 12 morts", [("12", "12", "count", "at_least")]),
    ("moins de 5 %", [("5 %", "5", "percent", "less_than")]),
    ("jusqu’à 20 %", [("20 %", "20", "percent", "at_most")]),
    ("env. 4 millions d’euros", [("4 millions d’euros", "4000000", "EUR", "about")]),
    # spelled-out numbers
    ("les cinq pays d’Asie centrale", [("cinq", "5", "count", "exact")]),
    ("trois centres de coopération", [("trois", "3", "count", "exact")]),
    ("deux ans se sont écoulés", [("deux ans", "2", "year", "exact")]),
    ("quatre-vingt-dix pays", [("quatre-vingt-dix", "90", "count", "exact")]),
    ("vingt et un jours", [("vingt et un jours", "21", "day", "exact")]),
    # not quantities
    ("une étude et un rapport", []),
    ("le 30ᵉ anniversaire", []),
    ("le 1er avril, le 2e trimestre, la 30ème édition", []),
    ("le XXIᵉ siècle", []),
    ("En 2020, la Chine a proposé", []),
    ("PÉKIN, 19 juin 2025 (GLOBE NEWSWIRE)", []),
    ("du 4 au 6 juin", []),
    ("à 14 h 30, puis à 15 h", []),
    ("+33 1 23 45 67 89", []),
    ("GlobeNewswire Distribution ID 9471272", []),
    ("l’art. 5 et la p. 12", []),
    ("https://news.cgtn.com/news/2025-06-18/p.html", []),
    ("code ISIN FR0000123456", []),
    ("le COVID-19 et le G20", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_quantities(text: str, expected: list[tuple[str, str, str, str]]) -> None:
    found = find_quantities(text)
    assert [(q.text, q.value, q.unit, q.qualifier) for q in found] == [
        (surface, Decimal(value), unit, qualifier) for surface, value, unit, qualifier in expected
    ]
    for quantity in found:
        assert text[quantity.start : quantity.end] == quantity.text


def test_case_count() -> None:
    assert len(CASES) >= 40


def test_english_billion_is_short_scale() -> None:
    [quantity] = find_quantities("$2.3 billion", lang="en")
    assert quantity.value == Decimal("2.3e9") and quantity.unit == "USD"
    [french] = find_quantities("2,3 billions de dollars")
    assert french.value == Decimal("2.3e12")


@pytest.mark.parametrize(
    ("figure", "kind"),
    [("12,5", float), ("1" * 4000, int), ("9" * 5000, str)],
    ids=["decimal", "4000-digits", "5000-digits"],
)
def test_a_figure_too_long_for_a_json_number_is_written_as_its_decimal_text(
    figure: str, kind: type
) -> None:
    """Over 4,300 digits Python neither writes nor reads an integer's text, and no float
    holds the value: it is written as its decimal text (it was an internal error)."""
    result = run_cli("numbers", f"{figure} %")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    [found] = find_quantities(f"{figure} %")
    assert type(row["value"]) is kind and Decimal(row["value"]) == found.value


def test_cli_prints_one_json_object_per_quantity() -> None:
    text = "Le commerce a atteint 94,8 milliards de dollars en 2024, soit plus de 12 %."
    result = run_cli("numbers", text)
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {
            "start": 22,
            "end": 47,
            "text": "94,8 milliards de dollars",
            "value": 94800000000,
            "unit": "USD",
            "qualifier": "exact",
        },
        {
            "start": 70,
            "end": 74,
            "text": "12 %",
            "value": 12,
            "unit": "percent",
            "qualifier": "more_than",
        },
    ]
    assert [text[r["start"] : r["end"]] for r in rows] == [r["text"] for r in rows]


ENGLISH: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    ("Trade reached $94.8 billion in 2024.", [("$94.8 billion", "94.8e9", "USD", "exact")]),
    ("more than 3.5 trillion yuan", [("3.5 trillion yuan", "3.5e12", "CNY", "more_than")]),
    ("revenue of $5m", [("$5m", "5e6", "USD", "exact")]),
    ("a €2.3bn deal", [("€2.3bn", "2.3e9", "EUR", "exact")]),
    ("the 1.5 bn figure", [("1.5 bn", "1.5e9", "count", "exact")]),
    ("12.5 million pounds", [("12.5 million pounds", "12.5e6", "GBP", "exact")]),
    ("4,500 thousand tonnes", [("4,500 thousand", "4.5e6", "count", "exact")]),
    ("1,012 adults were surveyed", [("1,012", "1012", "count", "exact")]),
    ("about 1,200 people", [("1,200", "1200", "count", "about")]),
    ("nearly 40% of respondents", [("40%", "40", "percent", "about")]),
    ("over 12 per cent", [("12 per cent", "12", "percent", "more_than")]),
    ("at least 500 companies", [("500", "500", "count", "at_least")]),
    ("up 4.2 percentage points", [("4.2 percentage points", "4.2", "points", "exact")]),
    ("aged 18 and over", [("18", "18", "count", "at_least")]),
    ("3 years", [("3 years", "3", "year", "exact")]),
    ("In 2023, sales rose 7%", [("7%", "7", "percent", "exact")]),
    ("awesome 12 people", [("12", "12", "count", "exact")]),  # "some" only as a word
    ("5 m tall", [("5", "5", "count", "exact")]),  # "m" is a scale only for money
    ("the 3rd quarter", []),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH, ids=[c[0][:40] for c in ENGLISH])
def test_english_quantities(text: str, expected: list[tuple[str, str, str, str]]) -> None:
    """Before: "$94.8 billion" in an English document read 94,800,000,000,000 (long scale)."""
    found = find_quantities(text, lang="en")
    assert [(q.text, q.value, q.unit, q.qualifier) for q in found] == [
        (surface, Decimal(value), unit, qualifier) for surface, value, unit, qualifier in expected
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sondage auprès de 1 012 personnes", ("1 012", "1012", "count", "exact")),
        ("près de 1 012 personnes", ("1 012", "1012", "count", "about")),
        ("les personnes de 18 ans et plus", ("18 ans", "18", "year", "at_least")),
        ("2,5 trillions de dollars", ("2,5 trillions de dollars", "2.5e18", "USD", "exact")),
    ],
)
def test_french_qualifiers_and_long_scale(text: str, expected: tuple[str, str, str, str]) -> None:
    """ "auprès de" is not "près de"; "18 ans et plus" is not an exact quantity."""
    [quantity] = find_quantities(text, lang="fr")
    surface, value, unit, qualifier = expected
    assert (quantity.text, quantity.value, quantity.unit, quantity.qualifier) == (
        surface,
        Decimal(value),
        unit,
        qualifier,
    )


@pytest.mark.parametrize("lang", ["fr", "fr-CA", "fr_FR", None])
def test_french_variants_read_the_long_scale(lang: str | None) -> None:
    [quantity] = find_quantities("2,3 billions de dollars", lang=lang)
    assert quantity.value == Decimal("2.3e12")


UNSPACED_AND_DATES: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    # a letter of an unspaced script is a boundary on both sides of a figure and of its unit
    ("zh", "65%的受访者信任该品牌", [("65%", "65", "percent")]),
    ("zh", "2024年销售额增长了12%。", [("12%", "12", "percent")]),
    ("zh", "调查1000名受访者", [("1000", "1000", "count")]),
    ("zh", "第3季度增长了12％", [("12％", "12", "percent")]),  # 第3: an ordinal
    ("zh", "2025年3月3日，10时", []),  # a date and a time
    ("ja", "売上高は12%増加した", [("12%", "12", "percent")]),
    ("ja", "100日間", [("100", "100", "count")]),  # three digits before 日: not a date
    ("th", "ยอดขายเพิ่มขึ้น12%ในปี", [("12%", "12", "percent")]),
    ("ko", "매출이 12%의 증가", [("12%", "12", "percent")]),  # "%" needs no space after it
    ("en", "COVID-19, the G20 and the A380", []),  # a spaced script's word is no boundary
    # Arabic: its digits, separators, percent sign, months and proclitics
    (
        "ar",
        "بنسبة ١٢٪ و٣٫٥٪ و١٬٢٠٠ شخص",
        [("١٢٪", "12", "percent"), ("٣٫٥٪", "3.5", "percent"), ("١٬٢٠٠", "1200", "count")],
    ),
    ("ar", "3 مارس 2025 ارتفعت المبيعات 12%", [("12%", "12", "percent")]),
    ("ar", "في 3 آذار و٥ أيلول", []),
    # English datelines: "Month D, YYYY" is a date like "D Month YYYY"
    (
        "en",
        "NEW YORK, March 3, 2025 (GLOBE NEWSWIRE) -- sales rose 12% in 2024",
        [("12%", "12", "percent")],
    ),
    ("en", "CHICAGO, Jan. 5, 2025 /PRNewswire/ -- 40 companies", [("40", "40", "count")]),
    ("en", "LONDON, MARCH 3 (Reuters) - Sept 30 and 7 banks", [("7", "7", "count")]),
    ("en", "Xmar 3 firms", [("3", "3", "count")]),  # a month is a whole word
    ("fr", "PARIS, 3 mars 2025 -- March 3, 2025 -- 12 %", [("12 %", "12", "percent")]),
]


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    UNSPACED_AND_DATES,
    ids=[f"{c[0]}-{c[1][:30]}" for c in UNSPACED_AND_DATES],
)
def test_unspaced_scripts_arabic_and_datelines(
    lang: str, text: str, expected: list[tuple[str, str, str]]
) -> None:
    """Before: "12%" after a Chinese letter was never read, "65%的" was 65 *count*, and the day
    of "March 3, 2025" was a quantity in every English wire release."""
    found = find_quantities(text, lang=lang)
    assert [(q.text, q.value, q.unit) for q in found] == [
        (surface, Decimal(value), unit) for surface, value, unit in expected
    ]
    assert all(text[q.start : q.end] == q.text for q in found)


def test_rules_read_chinese_figures_and_skip_the_english_dateline() -> None:
    """`run rules`: NUM_STATs of a Chinese and of an English release, through the CLI's reader."""
    from claimwire.corpus.ingest import RawDocument, build_document
    from claimwire.systems.rules import RulesSystem

    texts = {
        "zh": "2024年销售额增长了12%。调查1000名受访者，65%的受访者信任该品牌。",
        "en": "NEW YORK, March 3, 2025 (GLOBE NEWSWIRE) -- Sales rose 12% in 2024.",
    }
    stats = {}
    for lang, text in texts.items():
        raw = RawDocument(text, f"{lang}.txt", "0" * 64, overrides={"lang": lang})
        [output] = RulesSystem().annotate([build_document(raw)], None)
        stats[lang] = [
            (text[a.start : a.end], a.attributes["unit"])
            for a in output.annotations
            if a.label in ("NUM_STAT", "SURVEY_STAT") and a.start is not None
        ]
    assert stats == {
        "zh": [("12%", "percent"), ("1000", "count"), ("65%", "percent")],
        "en": [("12%", "percent")],
    }


def test_many_phone_numbers_are_skipped_in_linear_time() -> None:
    """Before: every figure was checked against every phone number and URL of the text, so
    300,000 characters of them took 26 CPU s (quadratic); now well under a second."""
    text = "+33 1 23 45 67 89 and 12 % " * 11_111
    started = time.process_time()
    found = find_quantities(text)
    assert time.process_time() - started < 8
    assert len(found) == 11_111 and {q.text for q in found} == {"12 %"}


MONTHS: list[tuple[str, str, list[str]]] = [
    # an English month is capitalised: a lower-case "may", "march", "august" is a word
    ("en", "Prices 12 may increase", ["12"]),
    ("en", "the 12 march for climate", ["12"]),
    ("en", "The 12 august members", ["12"]),
    ("en", "12 May 2025, 12 MAY, on 3 June", []),
    ("en", "12 may 2025", []),  # a year after it: a date, however written
    # a day has one or two digits
    ("en", "10,000 March in Paris", ["10,000"]),
    # French months are French: lower case, or capitals in a dateline
    ("fr", "le 12 mai, le 3 MARS 2025, du 4 au 6 juin", []),
    ("fr", "12 may augmenter", ["12"]),
    ("en", "he sold 3 Mars bars", ["3"]),
    ("en", "3 mars 2025", []),
    ("de", "am 12 Mai 2025", []),
    ("zh", "100日間，3月", ["100"]),
]


@pytest.mark.parametrize(
    ("lang", "text", "expected"), MONTHS, ids=[f"{c[0]}-{c[1][:30]}" for c in MONTHS]
)
def test_a_month_after_a_figure_is_written_as_a_month(
    lang: str, text: str, expected: list[str]
) -> None:
    """Before: the month check ignored case and language, so "12 may increase" and "3 Mars
    bars" lost their figure, read as the dates 12 May and 3 March."""
    assert [q.text for q in find_quantities(text, lang=lang)] == expected
