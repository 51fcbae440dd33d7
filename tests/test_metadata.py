import pytest

from claimwire.corpus.language import identify_language
from claimwire.corpus.metadata import extract_metadata, find_dateline, find_urls
from claimwire.corpus.segment import paragraphs


@pytest.mark.parametrize(
    ("text", "city", "published", "wire"),
    [
        (
            "PÉKIN, 19 juin 2025 (GLOBE NEWSWIRE) — Pour la première fois",
            "PÉKIN",
            "2025-06-19",
            "GLOBE NEWSWIRE",
        ),
        (
            "Titre\n\nMONTRÉAL, 1er avril 2024 (GLOBE NEWSWIRE) -- La société",
            "MONTRÉAL",
            "2024-04-01",
            "GLOBE NEWSWIRE",
        ),
        (
            "TORONTO, June 3, 2025 (GLOBE NEWSWIRE) -- Acme Inc.",
            "TORONTO",
            "2025-06-03",
            "GLOBE NEWSWIRE",
        ),
        (
            "NEW YORK, June 19, 2025 /PRNewswire/ -- Acme Corp. today",
            "NEW YORK",
            "2025-06-19",
            "PR Newswire",
        ),
        ("PARIS, 2 septembre 2025 /PRNewswire/ -- Le groupe", "PARIS", "2025-09-02", "PR Newswire"),
        (
            "LONDON, 5 March 2025 /PRNewswire-PRWeb/ -- Foo Ltd",
            "LONDON",
            "2025-03-05",
            "PR Newswire",
        ),
        (
            "June 19, 2025 08:00 AM Eastern Daylight Time\n\nSAN FRANCISCO--(BUSINESS WIRE)--Acme",
            "SAN FRANCISCO",
            "2025-06-19",
            "Business Wire",
        ),
        ("PARIS--(BUSINESS WIRE)--Regulatory News: Acme", "PARIS", None, "Business Wire"),
        (
            "AUSTIN, TX / ACCESSWIRE / June 19, 2025 / Widget Co. announced",
            "AUSTIN, TX",
            "2025-06-19",
            "ACCESSWIRE",
        ),
        (
            "NEW YORK, NY / ACCESS Newswire / May 2, 2025 / Foo",
            "NEW YORK, NY",
            "2025-05-02",
            "ACCESSWIRE",
        ),
        (
            "PÉKIN, 31 février 2025 (GLOBE NEWSWIRE) — Date impossible",
            "PÉKIN",
            None,
            "GLOBE NEWSWIRE",
        ),
    ],
)
def test_datelines(text: str, city: str, published: str | None, wire: str) -> None:
    dateline = find_dateline(text)
    assert dateline is not None
    assert (dateline.city, dateline.published, dateline.wire) == (city, published, wire)


def test_no_dateline_means_none() -> None:
    text = "Un texte sans ligne de date. Paris, 19 juin 2025, il pleuvait."
    assert find_dateline(text) is None
    meta = extract_metadata(text, paragraphs(text))
    assert (meta.wire, meta.published, meta.dateline_city, meta.issuer) == (None, None, None, None)


def test_urls_lose_trailing_punctuation_and_repeats() -> None:
    text = (
        "Voir https://a.fr/x.html. Ou (www.b.org/y), ou https://a.fr/x.html ; http://c.cn/?q=1&r=2."
    )
    assert find_urls(text) == ["https://a.fr/x.html", "www.b.org/y", "http://c.cn/?q=1&r=2"]


def test_seed_like_release() -> None:
    text = (
        "CGTN a publié un article sur le sommet.\n\n"
        "PÉKIN, 19 juin 2025 (GLOBE NEWSWIRE) — Le sommet s’est tenu.\n\n"
        "GlobeNewswire Distribution ID 9471272"
    )
    meta = extract_metadata(text, paragraphs(text))
    assert meta.issuer == "CGTN"
    assert meta.distribution_id == "9471272"
    assert meta.title is None  # the first paragraph is a sentence, not a title


@pytest.mark.parametrize(
    ("text", "issuer"),
    [
        ("NEW YORK, June 19, 2025 /PRNewswire/ -- Hello.\n\nSOURCE Acme Corp.\n", "Acme Corp."),
        ("Foo.\n\nSOURCE: Widget Co.\n", "Widget Co."),
        ("Acme Robotics (NASDAQ: ACME) today announced a deal.", "Acme Robotics"),
        ("Le ministère a publié un rapport.", None),  # lowercase start is not a name
    ],
)
def test_issuer(text: str, issuer: str | None) -> None:
    assert extract_metadata(text, paragraphs(text)).issuer == issuer


def test_title_is_a_heading_line_before_the_dateline() -> None:
    text = "Acme lance un nouveau produit\n\nPARIS, 3 mars 2025 (GLOBE NEWSWIRE) — Acme lance."
    assert extract_metadata(text, paragraphs(text)).title == "Acme lance un nouveau produit"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Le commerce entre la Chine et l’Asie centrale a atteint un niveau record.", "fr"),
        ("Acme Corp. today announced record results for the second quarter of 2025.", "en"),
        ("Der Handel zwischen China und Zentralasien erreichte einen Rekordwert.", "de"),
        ("ok", None),
    ],
)
def test_language(text: str, lang: str | None) -> None:
    assert identify_language(text) == lang
