"""The duplicates a build leaves out: a release file written as they are found, listed in the
manifest with its checksum, counted there, checked by ``corpus validate``; older releases,
whose manifest lists every one, still read and validate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus.duplicates import Duplicate
from claimwire.corpus.left_out import DUPLICATES
from claimwire.corpus.release import DIGEST, build_release, manifest_digest, open_release
from claimwire.corpus.validate import validate_release
from claimwire.errors import ClaimwireError
from claimwire.files import sha256

from .helpers import run_cli


def copies(raw: Path, count: int) -> None:
    """``count`` exact copies of the seed release, and one with a word changed (near)."""
    seed = (raw / "release-fr.txt").read_text(encoding="utf-8")
    for index in range(count):
        (raw / f"zz-copy-{index:02d}.txt").write_text(seed, encoding="utf-8")
    (raw / "zz-edited.txt").write_text(seed.replace("Chine", "Pékin", 1), encoding="utf-8")


def manifest_of(release: Path) -> dict[str, Any]:
    return json.loads((release / "MANIFEST.json").read_text(encoding="utf-8"))


def save_manifest(release: Path, manifest: dict[str, Any]) -> None:
    """The manifest as a build would write it: its digest made again."""
    manifest[DIGEST] = manifest_digest(manifest)
    (release / "MANIFEST.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@pytest.fixture
def built(raw_dir: Path, tmp_path: Path) -> Path:
    """A release built from the seed, 24 copies of it and an edited one."""
    copies(raw_dir, 24)
    build_release(raw_dir, tmp_path / "releases", "0.1.0")
    return tmp_path / "releases" / "0.1.0"


def test_a_build_writes_its_duplicates_to_a_listed_file_and_counts_them(built: Path) -> None:
    manifest = manifest_of(built)
    lines = (built / DUPLICATES).read_text(encoding="utf-8").splitlines()
    assert manifest["files"][DUPLICATES] == {
        "sha256": sha256(built / DUPLICATES),
        "bytes": (built / DUPLICATES).stat().st_size,
        "records": 25,
    }
    assert manifest["duplicates"] == {
        "near_threshold": 0.7,
        "exact": 24,
        "near": 1,
        "file": DUPLICATES,
    }
    [kept] = [d.id for d in open_release(built).documents()]
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert first == {
        "doc_id": kept,  # an exact copy has the kept one's text, hence its id
        "source": "zz-copy-00.txt",
        "kept": kept,
        "kind": "exact",
        "similarity": 1.0,
    }
    assert last["source"] == "zz-edited.txt" and last["kind"] == "near"
    assert 0.7 <= last["similarity"] <= 1  # one word of 700: MinHash may not see it
    read = list(open_release(built).duplicates())
    assert [Duplicate(**json.loads(line)) for line in lines] == read
    assert list(validate_release(built)) == []


def test_the_manifest_does_not_grow_with_the_duplicates(raw_dir: Path, tmp_path: Path) -> None:
    """2 or 24 copies: the same manifest but for the counts and checksums (it listed every
    duplicate, 225 bytes each: 3.6 MB for 16,000 re-sends)."""
    sizes = []
    for count in (2, 24):
        raw = tmp_path / f"raw-{count}"
        shutil.copytree(raw_dir, raw)
        copies(raw, count)
        build_release(raw, tmp_path / f"releases-{count}", "0.1.0")
        release = tmp_path / f"releases-{count}" / "0.1.0"
        sizes.append((release / "MANIFEST.json").stat().st_size)
        assert (release / DUPLICATES).read_text().count("\n") == count + 1
    assert abs(sizes[1] - sizes[0]) < 10  # a digit or two of the counts and byte sizes


def test_a_build_without_duplicates_writes_no_file(raw_dir: Path, tmp_path: Path) -> None:
    build_release(raw_dir, tmp_path / "releases", "0.1.0")
    release = tmp_path / "releases" / "0.1.0"
    assert not (release / DUPLICATES).exists()
    assert manifest_of(release)["duplicates"] == {"near_threshold": 0.7, "exact": 0, "near": 0}
    assert list(open_release(release).duplicates()) == []


def tampered(release: Path, line: int, change: Any, *, in_step: bool = True) -> None:
    """Line ``line`` of the duplicates file changed by ``change`` (an entry → an entry, or a
    line's text), with the manifest's checksum kept in step unless not ``in_step``."""
    lines = (release / DUPLICATES).read_text(encoding="utf-8").splitlines()
    new = change(lines[line - 1])
    lines[line - 1] = new if isinstance(new, str) else json.dumps(new)
    (release / DUPLICATES).write_text("\n".join(lines) + "\n", encoding="utf-8")
    if in_step:
        manifest = manifest_of(release)
        manifest["files"][DUPLICATES]["sha256"] = sha256(release / DUPLICATES)
        manifest["files"][DUPLICATES]["bytes"] = (release / DUPLICATES).stat().st_size
        save_manifest(release, manifest)


def problems(release: Path) -> list[tuple[str, str | None, int | None, str]]:
    return [(p.code, p.file, p.line, p.message) for p in validate_release(release)]


def with_entry(**changes: Any) -> Any:
    return lambda line: {**json.loads(line), **changes}


@pytest.mark.parametrize(
    ("change", "code", "said"),
    [
        (with_entry(kind="exakt"), "bad-record", "field 'kind': expected 'exact' or 'near'"),
        (with_entry(similarity=0.5), "bad-record", "field 'similarity': an exact duplicate's is 1"),
        (with_entry(kept=""), "bad-record", "field 'kept': expected a non-empty string"),
        (with_entry(extra=1), "bad-record", "field 'extra': unknown field"),
        (with_entry(kept="nobody-0123456789"), "unknown-document", "kept 'nobody-0123456789'"),
        (lambda line: line[:-1], "bad-json", "not valid JSON"),
        (lambda line: "[]", "bad-json", "expected a JSON object"),
    ],
)
def test_validate_locates_a_bad_line_of_the_duplicates(
    built: Path, change: Any, code: str, said: str
) -> None:
    tampered(built, 7, change)
    [(found, file, line, message)] = problems(built)
    assert (found, file, line) == (code, DUPLICATES, 7)
    assert said in message


def test_validate_refuses_a_tampered_duplicates_file_by_name_and_line(built: Path) -> None:
    tampered(built, 3, with_entry(kind="near", similarity=0.2), in_step=False)
    result = run_cli("corpus", "validate", built)
    assert result.returncode == 1
    assert "[duplicates.jsonl] L1 checksum-mismatch" in result.stdout
    assert "[duplicates.jsonl line 3 doc " in result.stdout
    assert "field 'similarity': 0.2 is below the near_threshold, 0.7" in result.stdout
    assert "duplicates.exact is 24, duplicates.jsonl holds 23" in result.stdout
    assert "Traceback" not in result.stderr


def test_validate_checks_the_manifests_counts_and_file(built: Path) -> None:
    (built / DUPLICATES).write_text(
        (built / DUPLICATES).read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8"
    )
    manifest = manifest_of(built)
    manifest["files"][DUPLICATES]["sha256"] = sha256(built / DUPLICATES)
    save_manifest(built, manifest)
    assert {(code, message) for code, _, _, message in problems(built)} == {
        ("manifest-mismatch", "duplicates.exact is 24, duplicates.jsonl holds 23"),
        ("count-mismatch", "24 entries, manifest says 25"),
    }
    del manifest["files"][DUPLICATES]
    save_manifest(built, manifest)
    assert (
        "manifest-invalid",
        "duplicates.file names duplicates.jsonl, which files does not list",
    ) in {(code, message) for code, _, _, message in problems(built)}
    manifest["duplicates"] = {"near_threshold": 2, "exact": -1, "near": 1}
    save_manifest(built, manifest)
    assert {(c, m) for c, _, _, m in problems(built) if c == "manifest-invalid"} == {
        ("manifest-invalid", "duplicates.near_threshold is 2, not a number in (0, 1]"),
        ("manifest-invalid", "duplicates.exact is -1, not a count (an integer, 0 or more)"),
    }


def legacy(release: Path) -> list[dict[str, Any]]:
    """``release`` as a build before the duplicates file made it: its manifest lists every
    duplicate (``duplicates.left_out``); the entries it lists."""
    entries = [json.loads(line) for line in (release / DUPLICATES).read_text().splitlines()]
    (release / DUPLICATES).unlink()
    manifest = manifest_of(release)
    del manifest["files"][DUPLICATES]
    manifest["duplicates"] = {"near_threshold": 0.7, "left_out": entries}
    save_manifest(release, manifest)
    return entries


def test_a_release_whose_manifest_lists_its_duplicates_still_reads_and_validates(
    built: Path,
) -> None:
    entries = legacy(built)
    assert len(entries) == 25
    assert list(validate_release(built)) == []
    assert [Duplicate(**entry) for entry in entries] == list(open_release(built).duplicates())
    result = run_cli("corpus", "validate", built)
    assert result.returncode == 0 and "PASSED" in result.stdout


def test_a_bad_entry_of_a_legacy_list_is_named_by_its_place(built: Path) -> None:
    entries = legacy(built)
    manifest = manifest_of(built)
    manifest["duplicates"]["left_out"][4] = {**entries[4], "kind": None}
    save_manifest(built, manifest)
    assert problems(built) == [
        (
            "bad-record",
            "MANIFEST.json",
            None,
            "field 'duplicates.left_out[4].kind': expected 'exact' or 'near', got None",
        )
    ]
    with pytest.raises(ClaimwireError, match="expected 'exact' or 'near'") as raised:
        list(open_release(built).duplicates())
    assert raised.value.field == "duplicates.left_out[4].kind"


def test_reading_a_bad_line_of_the_duplicates_is_a_located_error(built: Path) -> None:
    tampered(built, 2, with_entry(similarity="high"))
    with pytest.raises(ClaimwireError) as raised:
        list(open_release(built).duplicates())
    error = raised.value
    assert (Path(str(error.file)).name, error.line, error.field) == (DUPLICATES, 2, "similarity")
