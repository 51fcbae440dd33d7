"""Duplicates at ingest: exact (normalized text) and near (MinHash LSH on word 5-grams)."""

from __future__ import annotations

import html
import json
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.synthetic import synthetic_texts
from claimwire.corpus.duplicates import (
    DEFAULT_THRESHOLD,
    PERMUTATIONS,
    DuplicateFinder,
    Fingerprint,
    _BandTable,
    _Spilled,
    band_keys,
    fingerprint,
    shingles,
    words,
)
from claimwire.corpus.release import build_release, open_release

from .helpers import run_cli


def edit_words(text: str, count: int, rng: random.Random) -> str:
    """``count`` words replaced at random: a release re-sent with a few corrections."""
    tokens = text.split(" ")
    for index in rng.sample(range(len(tokens)), count):
        tokens[index] = "corrigé"
    return " ".join(tokens)


def jaccard(a: str, b: str) -> float:
    left, right = shingles(words(a)), shingles(words(b))
    return len(left & right) / len(left | right)


def test_planted_near_duplicates_are_all_found_and_distinct_releases_are_not() -> None:
    rng = random.Random(15)
    distinct = list(synthetic_texts(400, rng))
    finder = DuplicateFinder()
    assert [finder.check(f"d{i}", "raw", t) for i, t in enumerate(distinct)] == [None] * 400
    planted = {f"e{i}": edit_words(distinct[i], 3, rng) for i in range(0, 400, 4)}
    found = {doc_id: finder.check(doc_id, "raw", text) for doc_id, text in planted.items()}
    assert all(d is not None and d.kind == "near" for d in found.values())
    assert {d.kept for d in found.values() if d} == {f"d{i}" for i in range(0, 400, 4)}
    # the margin: the most similar distinct pair is far below the threshold
    sample = distinct[:60]
    closest = max(jaccard(a, b) for i, a in enumerate(sample) for b in sample[:i])
    assert closest < DEFAULT_THRESHOLD - 0.2


@pytest.mark.parametrize("flush", [_BandTable.FLUSH, 64])
@pytest.mark.parametrize("threshold", [DEFAULT_THRESHOLD, 0.3])
def test_near_duplicate_candidates_are_those_of_datasketchs_lsh(
    threshold: float, flush: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bands give the candidates datasketch's MinHashLSH gives at every step, duplicates
    planted at several distances among distinct texts; with a small ``flush`` most keys are
    in sorted runs that merged several times. (Bands are not capped here: the cap on a band's
    kept documents is the one way the finder departs from datasketch, tested below.)"""
    from datasketch import LeanMinHash, MinHashLSH

    monkeypatch.setattr(_BandTable, "FLUSH", flush)
    monkeypatch.setattr(DuplicateFinder, "BUCKET", 10**9)
    rng = random.Random(16)
    distinct = list(synthetic_texts(240, rng))
    texts = distinct + [edit_words(distinct[i], 2 + i % 40, rng) for i in range(0, 240, 3)]
    finder = DuplicateFinder(threshold)
    lsh = MinHashLSH(threshold=max(0.05, threshold - 0.2), num_perm=PERMUTATIONS)
    asked = 0
    for number, text in enumerate(texts):
        # every other one with its band keys made beside its MinHash, as the build's stage does
        print_ = fingerprint(text, banding=finder.banding if number % 2 else None)
        minhash = LeanMinHash(seed=1, hashvalues=print_.hashvalues, scheme="affine32")
        expected = set(lsh.query(minhash))
        ours = finder.candidates(band_keys(print_.hashvalues, finder.bands, finder.rows))
        assert set(ours) == expected and len(ours) == len(expected), number
        asked += len(expected)
        if finder.admit(f"d{number}", "raw", print_) is None:
            lsh.insert(f"d{number}", minhash)
    assert asked > 80  # the planted texts (at least) found candidates


def test_exact_duplicates_ignore_case_spacing_and_punctuation() -> None:
    finder = DuplicateFinder()
    assert finder.check("a", "a.txt", "Le sommet, à Astana.\n\nLa Chine signe.") is None
    duplicate = finder.check("b", "b.txt", "le sommet à Astana  La Chine signe !")
    assert duplicate is not None and (duplicate.kind, duplicate.kept) == ("exact", "a")


def test_threshold_is_checked() -> None:
    with pytest.raises(ValueError, match="threshold"):
        DuplicateFinder(1.5)


def as_html(text: str) -> str:
    """The seed release as a wire service's web page (paragraphs in <p>, site chrome around)."""
    title, *paragraphs = [p for p in text.split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><nav><a href='/'>Accueil</a> <a href='/fr'>Communiqués</a></nav>"
        f"<article><h1>{html.escape(title)}</h1>{body}</article>"
        "<footer>© GlobeNewswire, Inc. Tous droits réservés.</footer></body></html>"
    )


def test_build_keeps_one_of_txt_html_and_edited_copies_and_reports_the_others(
    raw_dir: Path, tmp_path: Path
) -> None:
    seed = (raw_dir / "release-fr.txt").read_text(encoding="utf-8")
    (raw_dir / "release-fr.html").write_text(as_html(seed.split("\n", 1)[1]), encoding="utf-8")
    (raw_dir / "release-fr-corrected.txt").write_text(
        edit_words(seed, 4, random.Random(1)), encoding="utf-8"
    )
    (raw_dir / "zz-copy.txt").write_text(seed, encoding="utf-8")
    out = tmp_path / "releases"
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw_dir, "--out", out)
    assert result.returncode == 0, result.stderr
    release = open_release(out / "0.1.0")
    [document] = list(release.documents())
    assert document.meta["source_file"] == "release-fr-corrected.txt"  # the first in file order
    manifest = json.loads((out / "0.1.0" / "MANIFEST.json").read_text(encoding="utf-8"))
    left_out = {d["source"]: d["kind"] for d in manifest["duplicates"]["left_out"]}
    assert left_out == {"release-fr.html": "near", "release-fr.txt": "near", "zz-copy.txt": "near"}
    changes = (out / "0.1.0" / "CHANGES.md").read_text(encoding="utf-8")
    assert "Duplicates left out: 3." in changes and "release-fr.html" in changes
    assert "duplicate left out" in result.stdout
    strict = run_cli(
        "corpus",
        "build",
        "--version",
        "0.1.0",
        "--raw",
        raw_dir,
        "--out",
        tmp_path / "strict",
        "--near-duplicates",
        "1.0",
    )
    assert strict.returncode == 0, strict.stderr
    kept = {d.meta["source_file"] for d in open_release(tmp_path / "strict" / "0.1.0").documents()}
    assert "release-fr.html" in kept and "zz-copy.txt" not in kept  # the exact copy still goes


def test_a_kept_document_costs_its_band_keys_and_a_few_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per kept document: its 25 band keys (8 bytes each: 32 bits of the key and the owner)
    and the places of its id, digest and signature in temporary files, in under 260 bytes of
    memory (333 with 64-bit keys in the runs; with the id, digest and signature in memory it
    was about 1 KB; with a dict entry per band and a numpy array per signature, about 4 KB).
    What grows from the 1,000th kept document to the 5,000th is measured: the newest keys (at
    most ``FLUSH``) sit in a dict and the newest bytes for the files in a buffer, constants
    made small here."""
    import tracemalloc

    monkeypatch.setattr(_BandTable, "FLUSH", 256)
    monkeypatch.setattr(_Spilled, "BUFFER", 4096)
    prints = [fingerprint(text) for text in synthetic_texts(5000, random.Random(3))]
    finder = DuplicateFinder()
    tracemalloc.start()
    kept = [finder.admit(f"document-{n:06d}", "raw", p) for n, p in enumerate(prints[:1000])]
    half, _ = tracemalloc.get_traced_memory()
    kept += [finder.admit(f"document-{n:06d}", "raw", p) for n, p in enumerate(prints) if n >= 1000]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert kept[1000:].count(None) > 3900
    assert (held - half) / kept[1000:].count(None) < 260, (held - half) / kept[1000:].count(None)
    assert finder.candidates(band_keys(prints[7].hashvalues, finder.bands, finder.rows)) == [
        "document-000007"
    ]  # what went to the files is read back
    finder.close()


def test_the_build_stage_makes_the_band_keys_the_finder_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage (on an engine's worker) makes each document's band keys for the finder's
    banding, so the driver, which admits documents one at a time, does not."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i, text in enumerate(synthetic_texts(12, random.Random(3))):
        (raw / f"r{i}.txt").write_text(text, encoding="utf-8")
    seen: list[bool] = []
    admit = DuplicateFinder.admit

    def spied(finder: DuplicateFinder, doc_id: str, source: str, print_: Any) -> Any:
        made = band_keys(print_.hashvalues, finder.bands, finder.rows)
        seen.append(print_.banding == finder.banding and print_.keys == made)
        return admit(finder, doc_id, source, print_)

    monkeypatch.setattr(DuplicateFinder, "admit", spied)
    build_release(raw, tmp_path / "out", "0.1.0", near_duplicates=0.5)
    assert len(seen) == 12 and all(seen)


def test_a_fingerprint_crosses_processes_as_bytes_and_comes_back_the_same() -> None:
    """Each document's fingerprint is pickled from a worker to the driver: its MinHash goes
    as bytes (an array pickles several times slower), and comes back equal, same type."""
    text = next(iter(synthetic_texts(1, random.Random(5))))
    print_ = fingerprint(text, banding=DuplicateFinder().banding)
    data = pickle.dumps(print_, protocol=pickle.HIGHEST_PROTOCOL)
    assert b"numpy" not in data  # no array reduced by numpy's own pickling
    back = pickle.loads(data)
    assert back.hashvalues.dtype == print_.hashvalues.dtype
    assert back.hashvalues.tolist() == print_.hashvalues.tolist()
    assert (back.digest, back.banding, back.keys) == (print_.digest, print_.banding, print_.keys)


def _print(values: Any, digest: bytes) -> Fingerprint:
    return Fingerprint(digest, np.asarray(values, dtype=np.uint64))


def test_a_band_many_kept_documents_share_gives_a_bounded_number_of_candidates() -> None:
    """Boilerplate makes one band common to every release of a wire: each new release is a
    candidate of the first BUCKET kept with it, not of all of them (a quadratic build)."""
    rng = np.random.default_rng(7)
    finder = DuplicateFinder()
    common = rng.integers(0, 2**32, finder.rows)
    for number in range(200):
        values = rng.integers(0, 2**32, PERMUTATIONS)
        values[: finder.rows] = common  # the first band is everyone's
        assert finder.admit(f"d{number}", "s", _print(values, bytes([number % 256]) * 32)) is None
    new = rng.integers(0, 2**32, PERMUTATIONS)
    new[: finder.rows] = common
    keys = band_keys(new.astype(np.uint64), finder.bands, finder.rows)
    found = finder.candidates(keys)
    assert found == [f"d{n}" for n in range(len(found))]  # the first kept
    assert len(found) == DuplicateFinder.BUCKET < 200


def test_a_text_whose_bands_are_all_full_still_has_its_exact_copy_found() -> None:
    rng = np.random.default_rng(8)
    finder = DuplicateFinder()
    target = rng.integers(0, 2**32, PERMUTATIONS)
    rows = finder.rows
    for band in range(finder.bands):  # BUCKET others share each of the target's bands
        for other in range(DuplicateFinder.BUCKET):
            values = rng.integers(0, 2**32, PERMUTATIONS)
            values[band * rows : (band + 1) * rows] = target[band * rows : (band + 1) * rows]
            digest = rng.bytes(32)
            assert finder.admit(f"b{band}-{other}", "s", _print(values, digest)) is None
    assert finder.admit("target", "a.txt", _print(target, b"T" * 32)) is None
    again = finder.admit("copy", "a.html", _print(target.copy(), b"T" * 32))
    assert again is not None and (again.kept, again.kind) == ("target", "exact")
