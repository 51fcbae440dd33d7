"""Duplicates at ingest: exact (normalized text) and near (MinHash LSH on word 5-grams)."""

from __future__ import annotations

import html
import pickle
import random
import re
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
    left_out = {d.source: d.kind for d in release.duplicates()}
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


UNSPACED_RELEASES = {
    "zh": (
        "阿克米公司公布创纪录增长\n\n北京，2025年3月3日——阿克米公司表示，2024年销售额增长了12%。"
        "首席执行官简·多伊说：“我们很高兴。”根据对1000名成年人的调查，90%的受访者更喜欢阿克米。"
        "该公司计划在2025年扩大生产规模，并在东南亚开设三家新工厂，预计将创造两千个就业岗位。"
        "公司董事会批准了每股0.5元的股息。\n"
    ),
    "ja": (
        "アクメ社、過去最高の成長を発表\n\n東京、2025年3月3日――アクメ社は2024年の売上高が12%増加した"
        "と発表した。最高経営責任者のジェーン・ドウ氏は「大変うれしく思います」と述べた。成人1000人を"
        "対象とした調査によると、回答者の90%がアクメを好んでいる。同社は2025年に生産を拡大し、東南"
        "アジアに三つの新工場を開設する計画で、約2000人の雇用が生まれる見込みだ。\n"
    ),
    "th": (
        "บริษัทแอคมีรายงานการเติบโตเป็นประวัติการณ์\n\nกรุงเทพฯ 3 มีนาคม 2025 บริษัทแอคมีเปิดเผยว่ายอดขาย"
        "ในปี2024เพิ่มขึ้น12%ประธานเจ้าหน้าที่บริหารกล่าวว่าเรายินดีเป็นอย่างยิ่งจากการสำรวจผู้ใหญ่1000คน"
        "ร้อยละ90ชื่นชอบแอคมีบริษัทวางแผนขยายการผลิตในปี2025และเปิดโรงงานใหม่สามแห่งในเอเชียตะวันออก"
        "เฉียงใต้ซึ่งคาดว่าจะสร้างงานสองพันตำแหน่ง\n"
    ),
    "ja-marks": (  # 々 and 〇: words of their own, as Han characters are
        "〇〇株式会社、人々の暮らしを支える新サービス\n\n東京、２〇２５年３月３日――〇〇株式会社は、"
        "様々な地域の人々に向けた新サービスを発表した。売上高は12%増加した。我々は時々、顧客の声を"
        "聞き、各々の要望に応えてきたと代表取締役は述べた。調査では回答者の90%が満足と答えた。\n"
    ),
}
OTHER_ZH_RELEASE = (
    "星辰科技发布新款智能手表\n\n上海，2025年5月10日——星辰科技今天推出第三代智能手表，续航时间延长至"
    "十四天。产品经理李华表示，新品支持血氧监测和离线地图。该手表将于六月在全国两百家门店上市，"
    "售价一千九百九十九元。分析人士认为，可穿戴设备市场竞争日趋激烈。\n"
)


@pytest.mark.parametrize("language", sorted(UNSPACED_RELEASES))
def test_a_corrected_resend_in_a_script_without_spaces_is_a_near_duplicate(language: str) -> None:
    """Each character of such a script is a word: one corrected figure changes five
    shingles, not every shingle of its paragraph (before, the Chinese copy was kept)."""
    text = UNSPACED_RELEASES[language]
    finder = DuplicateFinder()
    assert finder.check("a", "a.txt", text) is None
    assert finder.check("other", "other.txt", OTHER_ZH_RELEASE) is None
    duplicate = finder.check("b", "b.txt", text.replace("12%", "13%"))
    assert duplicate is not None and (duplicate.kind, duplicate.kept) == ("near", "a")
    assert jaccard(text, text.replace("12%", "13%")) > 0.85
    assert jaccard(text, OTHER_ZH_RELEASE) < 0.05


def test_marks_of_scripts_without_spaces_are_words_of_their_own() -> None:
    """The duplicate finder's words use :mod:`claimwire.corpus.words`' ranges. Before, its own
    copy left out 々 〆 〇, the Hangzhou numerals, the kana repeat marks and CJK Extension H:
    "〇〇" was one word, and "２〇２５" (full-width digits) another."""
    assert words("〇〇株式会社の人々") == list("〇〇株式会社の人々")
    assert words("２〇２５年〱〻") == ["２", "〇", "２５", "年", "〱", "〻"]
    assert words("𱍐𱍑") == ["𱍐", "𱍑"]  # CJK Extension H


def test_texts_in_cjk_extension_h_are_not_exact_duplicates_of_each_other() -> None:
    """Before, Extension H (U+31350–U+323AF, not yet letters in Python 3.11's Unicode 14)
    was no word at all: any two texts written in it were exact duplicates of each other."""
    rng = random.Random(5)
    first, second = (
        "".join(chr(rng.randrange(0x31350, 0x323B0)) for _ in range(300)) for _ in range(2)
    )
    finder = DuplicateFinder()
    assert finder.check("a", "a.txt", first) is None
    assert finder.check("b", "b.txt", second) is None
    duplicate = finder.check("c", "c.txt", first[:150] + "二" + first[151:])
    assert duplicate is not None and (duplicate.kind, duplicate.kept) == ("near", "a")


def test_texts_written_with_spaces_keep_their_words(raw_dir: Path) -> None:
    """French, English and the synthetic releases: the words (so the digests, shingles and
    near duplicates) are those of ``\\w+``, as before scripts without spaces were split."""
    texts = [
        (raw_dir / "release-fr.txt").read_text(encoding="utf-8"),
        "Acme Corp said sales rose 12% in 2024 -- naïve café déjà-vu, O'Brien & Co.",
        "안녕하세요 세계, Привет мир, مرحبا بالعالم",  # Korean, Cyrillic, Arabic: spaced
        *synthetic_texts(200, random.Random(4)),
    ]
    for text in texts:
        assert words(text) == re.findall(r"\w+", text.casefold())


def test_the_build_leaves_out_a_chinese_resend_instead_of_splitting_it(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    text = UNSPACED_RELEASES["zh"]
    (raw / "zh-a.txt").write_text(text, encoding="utf-8")
    (raw / "zh-b.txt").write_text(text.replace("12%", "13%"), encoding="utf-8")
    out = tmp_path / "releases"
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", out)
    assert result.returncode == 0, result.stderr
    release = open_release(out / "0.1.0")
    [document] = list(release.documents())
    assert document.meta["source_file"] == "zh-a.txt"
    assert [(d.source, d.kind) for d in release.duplicates()] == [("zh-b.txt", "near")]


def test_a_long_documents_fingerprint_is_hashed_in_bounded_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long document's shingles are hashed a batch at a time: the same MinHash as all at
    once, without its shingles × permutations matrix (a 15 MB document's build peaked at
    1.6 GB; 348 MB now)."""
    import tracemalloc

    from claimwire.corpus import duplicates

    rng = random.Random(3)
    text = " ".join(f"w{rng.randrange(100_000)}" for _ in range(200_000))
    tracemalloc.start()
    batched = fingerprint(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB"  # at once: 200,000 × 128 × 8 B ≈ 200 MB
    monkeypatch.setattr(duplicates, "HASHED_AT_ONCE", 10**9)
    whole = fingerprint(text)
    assert np.array_equal(batched.hashvalues, whole.hashvalues) and batched.digest == whole.digest


def test_a_build_names_twenty_duplicates_and_counts_the_rest(raw_dir: Path, tmp_path: Path) -> None:
    """Many duplicates left out: the summary and the changelog name the first 20 and count
    the others (a build of mostly copies printed 105,343 lines and wrote a 7.7 MB changelog);
    the release's duplicates.jsonl lists every one."""
    seed = (raw_dir / "release-fr.txt").read_text(encoding="utf-8")
    for index in range(24):
        (raw_dir / f"zz-copy-{index:02d}.txt").write_text(seed, encoding="utf-8")
    out = tmp_path / "releases"
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw_dir, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("duplicate left out:") == 20
    assert "… and 4 more duplicates left out" in result.stdout
    changes = (out / "0.1.0" / "CHANGES.md").read_text(encoding="utf-8")
    assert "Duplicates left out: 24." in changes and changes.count("zz-copy-") == 20
    assert "… and 4 more (`duplicates.jsonl` lists them all)" in changes
    assert len(list(open_release(out / "0.1.0").duplicates())) == 24
