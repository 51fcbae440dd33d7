"""Publishing: the Hub layout, a real `datasets` round trip, Croissant, and the upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwire.corpus.release import open_release
from claimwire.hub.load import load_corpus

from .fake_hub import FakeHub
from .helpers import REPO, release_with_test_claims, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
CONFIGS = (
    "documents",
    "sentences",
    "claims",
    "attribution",
    "statistics",
    "stance",
    "tokens",
    "spans",
    "relations",
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hub") / "export"
    result = run_cli("hub", "export", RELEASE, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_layout_and_card(exported: Path) -> None:
    assert {p.relative_to(exported).as_posix() for p in exported.rglob("*.parquet")} == {
        f"data/{c}/test-00000-of-00001.parquet" for c in CONFIGS
    }
    card = (exported / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "config_name: claims" in card and "version: 1.0.0" in card
    assert "class_label" in card and "## The survey disclosure checklist" in card
    assert "## Changelog" in card and "81 added" in card


@pytest.mark.parametrize("config", CONFIGS)
def test_datasets_loads_every_config_back_identically(
    exported: Path, tmp_path: Path, config: str
) -> None:
    dataset = load_corpus(exported, config, cache_dir=tmp_path / "cache")
    rows = dataset["test"]
    release = open_release(RELEASE)
    [document] = list(release.documents())
    annotations = list(release.annotations())
    if config == "documents":
        assert rows[0]["text"] == document.text and rows[0]["id"] == document.id
        assert [(p["start"], p["end"]) for p in rows[0]["sentences"]] == list(document.sentences)
    elif config == "sentences":
        assert [document.text[r["start"] : r["end"]] for r in rows] == list(rows["text"])
        assert len(rows) == len(document.sentences)
    elif config == "claims":
        claims = [a for a in annotations if a.label == "CLAIM"]
        assert sorted(rows["id"]) == sorted(a.id for a in claims)
        assert all(document.text[r["start"] : r["end"]] == r["text"] for r in rows)
        names = rows.features["claim_type_label"].names
        assert all(names[r["claim_type_label"]] == r["claim_type"] for r in rows)
    elif config == "attribution":
        assert len(rows) == sum(1 for r in release.relations() if r.type == "attributed_to")
        assert all(
            document.text[r["source_start"] : r["source_end"]] == r["source_text"] for r in rows
        )
    elif config == "statistics":
        stats = {a.id: a for a in annotations if a.label in ("SURVEY_STAT", "NUM_STAT")}
        assert sorted(rows["id"]) == sorted(stats)
        for row in rows:
            assert row["value"] == float(
                stats[row["id"]].attributes["value"]
            )  # float64: 92.4 stays 92.4
            assert row["value_decimal"] == stats[row["id"]].attributes["value"]
        polls = [r for r in rows if r["label"] == "SURVEY_STAT"]
        assert polls and all(r["disclosure"]["conductor"] == "present" for r in polls)
        assert polls[0]["disclosure_core"] == pytest.approx(2 / 6)
        assert rows.features["value"].dtype == "float64"
    elif config == "tokens":
        assert len(rows) == len(document.sentences)
        from seqeval.metrics.sequence_labeling import get_entities

        names = rows.features["claims_tags"].feature.names
        spans = {  # IOB2 tags back to character spans, read by seqeval: exactly the gold CLAIMs
            (row["token_starts"][first], row["token_ends"][last])
            for row in rows
            for _, first, last in get_entities([names[t] for t in row["claims_tags"]])
        }
        assert spans == {(a.start, a.end) for a in annotations if a.label == "CLAIM"}
        for row in rows:
            offsets = zip(row["tokens"], row["token_starts"], row["token_ends"], strict=True)
            assert all(document.text[s:e] == token for token, s, e in offsets)
    elif config == "spans":  # every annotation (tests/test_hub_lossless.py rebuilds them)
        assert sorted(rows["id"]) == sorted(a.id for a in annotations)
        assert all(
            r["text"] is None or document.text[r["start"] : r["end"]] == r["text"] for r in rows
        )
    elif config == "relations":
        assert sorted(rows["id"]) == sorted(r.id for r in release.relations())
    else:
        assert len(rows) == 12 and set(rows["stance"]) == {"FAVOR", "NONE"}
        assert rows.features["stance_label"].names == ["FAVOR", "AGAINST", "NONE"]


def test_croissant_validates_offline(exported: Path) -> None:
    validator = Path(sys.executable).parent / "mlcroissant"
    done = subprocess.run(
        [str(validator), "validate", "--jsonld", str(exported / "croissant.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads((exported / "croissant.json").read_text(encoding="utf-8"))
    names = {record["name"] for record in document["recordSet"]}
    assert names == set(CONFIGS)
    objects = {o["@id"]: o for o in document["distribution"] if o["@type"] == "cr:FileObject"}
    import hashlib

    for path, item in objects.items():
        assert hashlib.sha256((exported / path).read_bytes()).hexdigest() == item["sha256"]


def test_export_refuses_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run_cli("hub", "export", RELEASE, "--out", out)
    assert result.returncode == 1 and "no claimwire export made it" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    broken = tmp_path / "releases" / "1.0.0"
    import shutil

    shutil.copytree(RELEASE, broken)
    (broken / "CHANGES.md").write_text("edited")
    result = run_cli("hub", "export", broken, "--out", tmp_path / "x")
    assert result.returncode == 1 and "does not validate" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub().start()
    yield fake
    fake.stop()


def publish(
    hub: FakeHub,
    *extra: str,
    token: str | None = "hf_secret_token_123",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``hub publish`` of the bundled release to ``hub``, in a clean environment (plus ``env``)."""
    variables = {
        "PATH": "/usr/bin:/bin",
        "HF_ENDPOINT": hub.url,
        "COLUMNS": "200",
        "HF_HOME": "/nonexistent-hf-home",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": str(REPO / "src"),  # this checkout's code, not an installed copy
        **(env or {}),
    }
    if token:
        variables["HF_TOKEN"] = token
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "claimwire",
            "hub",
            "publish",
            str(RELEASE),
            "--repo-id",
            "claimwire-test/corpus",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=variables,
        timeout=300,  # a safety net for the test run, not a measurement
        check=False,
    )


def test_publish_uploads_one_commit_then_tags_it(hub: FakeHub, exported: Path) -> None:
    done = publish(hub)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "hf_secret_token_123" not in done.stdout + done.stderr
    assert len(hub.commits) == 1
    assert hub.tags == {"v1.0.0": hub.commits[0]}
    assert set(hub.files) == {
        p.relative_to(exported).as_posix()
        for p in exported.rglob("*")
        if p.is_file() and p.name != ".claimwire-export"  # the local marker stays local
    }
    for path, data in hub.files.items():
        if path.endswith(".parquet"):
            assert data == (exported / path).read_bytes()
    assert all(r.authorization == "Bearer hf_secret_token_123" for r in hub.requests)
    paths = [r.path.split("?")[0] for r in hub.requests]
    assert paths[0] == "/api/repos/create"
    assert paths.index("/api/datasets/claimwire-test/corpus/commit/main") < max(
        i for i, p in enumerate(paths) if "/tag/" in p
    )
    # a published release is immutable: the same tag again is refused before anything is sent
    before = len(hub.requests)
    again = publish(hub)
    assert again.returncode == 1 and "already has tag v1.0.0" in again.stderr
    assert not any("/commit/" in r.path for r in hub.requests[before:])


def test_publish_without_token_or_with_dry_run_sends_nothing(hub: FakeHub) -> None:
    """Without a token the exit code is 1 (before: 0, which passed a CI job meant to publish);
    a dry run is 0."""
    for done, code in ((publish(hub, token=None), 1), (publish(hub, "--dry-run"), 0)):
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr
        assert (
            "Nothing was sent" in done.stderr
            and "data/claims/test-00000-of-00001.parquet" in done.stdout
        )
    assert hub.requests == []


def test_unreachable_hub_is_a_clear_error(hub: FakeHub) -> None:
    hub.stop()
    done = publish(hub)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot reach the Hub" in done.stderr or "refused" in done.stderr
    os.environ.pop("HF_TOKEN", None)


def test_card_lists_a_bounded_number_of_surveys() -> None:
    """Past CARD_SURVEYS, the card gives the rest as one line of counts and mean scores."""
    from claimwire.hub.card import CARD_SURVEYS, _survey_lines

    surveys = [
        {
            "name": f"poll {i}",
            "disclosure": {"core": 0.5, "full": 0.25 if i % 2 else None},
            "flags": ["self_selected"] if i % 3 == 0 else [],
        }
        for i in range(CARD_SURVEYS + 30)
    ]
    lines = [line for line in _survey_lines(surveys) if line]
    assert len(lines) == CARD_SURVEYS + 1
    rest = surveys[CARD_SURVEYS:]
    flagged = sum(1 for s in rest if s["flags"])
    assert lines[-1] == (
        f"- and 30 more surveys: mean core 0.50, mean full 0.25; risk flags: "
        f"self_selected {flagged}."
    )


@pytest.fixture(scope="module")
def partly_annotated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release whose train and dev documents are not annotated yet: CLAIMs on test only."""
    release = release_with_test_claims(tmp_path_factory.mktemp("partly"), 20)
    assert {d.split for d in open_release(release).documents()} == {"train", "dev", "test"}
    return release


def test_a_release_with_unannotated_splits_loads_in_every_config(
    partly_annotated: Path, tmp_path: Path
) -> None:
    """Before: empty train/dev parquet files were declared and `datasets.load_dataset(DIR,
    "claims")` failed ("Instruction 'train' corresponds to no data!")."""
    import datasets
    import yaml

    out = tmp_path / "export"
    done = run_cli("hub", "export", partly_annotated, "--out", out, "--repo-id", "acme/wire-claims")
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    metadata = yaml.safe_load(card.split("---\n")[1])
    configs = {c["config_name"]: [f["split"] for f in c["data_files"]] for c in metadata["configs"]}
    assert configs["claims"] == ["test"]
    assert configs["documents"] == ["train", "validation", "test"]
    assert "stance" not in configs  # no row in any split: left out
    assert metadata["size_categories"] == ["n<1K"]
    for config, splits in configs.items():
        loaded = datasets.load_dataset(str(out), config, cache_dir=str(tmp_path / "cache"))
        assert list(loaded) == splits
        assert all(part.num_rows > 0 for part in loaded.values())
    assert 'load_dataset("acme/wire-claims", "claims", revision="v0.1.0")' in card
    assert "ORG/NAME" not in card
    assert "| `claim_type` | string | Full Fact's claim type. |" in card
    assert "| `start` | int" in card and "start offset in the document's text" in card
    listed = {p.relative_to(out).as_posix() for p in out.rglob("*.parquet")}
    assert "data/claims/test-00000-of-00001.parquet" in listed
    assert "data/claims/train-00000-of-00001.parquet" not in listed
    assert "data/documents/validation-00000-of-00001.parquet" in listed
    loaded = run_cli("hub", "load", out, "--config", "claims")
    assert loaded.returncode == 0 and "Traceback" not in loaded.stderr


def test_load_corpus_leaves_no_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: every call on a release folder left a claimwire-export-* folder behind."""
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    dataset = load_corpus(RELEASE, "claims", cache_dir=tmp_path / "cache")
    assert dataset["test"].num_rows == 19
    assert list(temporary.iterdir()) == []
