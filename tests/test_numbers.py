"""The French quantity normalizer, case by case: (text, [(surface, value, unit, qualifier)])."""

from __future__ import annotations

import json
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
