"""`hub export` of a release whose schema is the user's own: every label and relation type
reaches the published dataset (offsets, text, typed attributes), loaded back by `datasets`;
the card's language tags and descriptions follow the release (hostile findings H1, L5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from claimwire.corpus.release import build_release, open_release
from claimwire.defaults import default_file
from claimwire.model import Annotation, Document, Quote, Relation

from .helpers import REPO, one_error_line, run_cli

FRENCH = "Communiqué numéro {i}.\n\nLa société a racheté Acme pour 12,5 millions d'euros en 2024.\n"
ENGLISH = (
    "Press release number {i}.\n\nThe company said its revenue rose by twelve percent in 2024, "
    "according to its chief executive, who spoke to reporters in New York on Monday.\n"
)


def _schema(path: Path, **layers: Any) -> Path:
    """The bundled schema with ``layers`` added (a layer named as an existing one is
    extended: its labels are merged), a CLAIM attribute, and with ``events`` a relation type
    between its EVENTs."""
    schema = yaml.safe_load(default_file("schema.yaml").read_text(encoding="utf-8"))
    for name, layer in layers.items():
        if name in schema["layers"]:
            schema["layers"][name]["labels"].update(layer["labels"])
        else:
            schema["layers"][name] = layer
    schema["layers"]["claims"]["labels"]["CLAIM"]["attributes"]["speaker"] = {
        "type": "text",
        "required": False,
        "description": "Who says it.",
    }
    if "events" in layers:
        schema["relations"]["causes"] = {
            "description": "One event causes another.",
            "head": ["EVENT"],
            "tail": ["EVENT"],
            "attributes": {
                "certainty": {"type": "choice", "required": True, "values": ["low", "high"]}
            },
        }
    path.write_text(yaml.safe_dump(schema, allow_unicode=True, sort_keys=False), "utf-8")
    return path


EVENTS = {
    "description": "Business events.",
    "labels": {
        "EVENT": {
            "scope": "span",
            "description": "A business event.",
            "anchor": "ACE 2005",
            "attributes": {
                "kind": {"type": "choice", "required": True, "values": ["merger", "launch"]},
                "confirmed": {"type": "boolean", "required": False},
                "amount": {"type": "decimal", "required": False},
            },
        },
        "TOPIC": {
            "scope": "document",
            "description": "What the release is about.",
            "anchor": "none",
            "attributes": {"confirmed": {"type": "text", "required": True}},
        },
    },
}
QUOTE = {"labels": {"QUOTE": {"scope": "span", "description": "A quote.", "anchor": "PARC"}}}


def _span(doc: Document, id: str, layer: str, label: str, exact: str, **attributes: Any) -> Any:
    start = doc.text.index(exact)
    quote = Quote.from_text(doc.text, start, start + len(exact))
    return Annotation(
        f"{doc.id}:{id}", doc.id, layer, label, start, start + len(exact), quote, attributes
    )


def _gold(documents: Iterator[Document]) -> Iterator[Annotation | Relation]:
    for doc in documents:
        yield _span(doc, "claim", "claims", "CLAIM", "La société a racheté Acme",
                    claim_type="other", checkworthy=True, speaker="la société")  # fmt: skip
        yield _span(doc, "quote", "claims", "QUOTE", "pour 12,5 millions")
        yield _span(doc, "buy", "events", "EVENT", "racheté", kind="merger", confirmed=True,
                    amount="12.5")  # fmt: skip
        yield _span(doc, "pay", "events", "EVENT", "millions d'euros", kind="launch")
        yield Annotation(f"{doc.id}:topic", doc.id, "events", "TOPIC", None, None, None,
                         {"confirmed": "yes"})  # fmt: skip
        yield Relation(f"{doc.id}:r", doc.id, "causes", f"{doc.id}:buy", f"{doc.id}:pay",
                       {"certainty": "high"})  # fmt: skip


def _release(root: Path, text: str, documents: int, schema: Path, gold: Any = None) -> Path:
    raw = root / "raw"
    raw.mkdir(parents=True)
    for i in range(documents):
        (raw / f"doc{i:02}.txt").write_text(text.format(i=i), "utf-8")
    build_release(raw, root / "releases", "0.1.0", gold=gold, schema_file=schema)
    return root / "releases" / "0.1.0"


@pytest.fixture(scope="module")
def own_schema(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("own")
    schema = _schema(root / "schema.yaml", events=EVENTS, claims=QUOTE)
    release = _release(root, FRENCH, 4, schema, _gold)
    out = root / "export"
    done = run_cli("hub", "export", release, "--out", out)
    assert done.returncode == 0, done.stderr
    return release, out


def _expected(release: Path, labels: set[str]) -> dict[str, dict[str, Any]]:
    opened = open_release(release)
    texts = {d.id: d.text for d in opened.documents()}
    return {
        a.id: {
            "label": a.label,
            "start": a.start,
            "end": a.end,
            "text": None if a.start is None else texts[a.doc_id][a.start : a.end],
            "doc_id": a.doc_id,
        }
        for a in opened.annotations()
        if a.label in labels
    }


def test_every_label_of_the_users_schema_is_loaded_back_by_datasets(
    own_schema: tuple[Path, Path], tmp_path: Path
) -> None:
    """Before: configs documents, sentences, claims, tokens only; no EVENT, TOPIC or QUOTE
    row, no `kind`, no `speaker`, no `causes` relation (exit 0, no warning)."""
    import datasets

    release, out = own_schema
    cache = str(tmp_path / "cache")
    events = datasets.load_dataset(str(out), "events_spans", cache_dir=cache)
    rows = [row for split in events.values() for row in split]
    expected = _expected(release, {"EVENT", "TOPIC"})
    assert {r["id"]: {k: r[k] for k in expected[r["id"]]} for r in rows} == expected
    features = events[next(iter(events))].features["attributes"]
    assert {name: f.dtype for name, f in features.items()} == {
        "kind": "string",
        "confirmed": "string",  # a boolean for EVENT, text for TOPIC: JSON text
        "amount": "string",  # a decimal: its exact text
    }
    by_id = {r["id"]: r["attributes"] for r in rows}
    doc = next(iter(expected.values()))["doc_id"]
    assert by_id[f"{doc}:buy"] == {"kind": "merger", "confirmed": "true", "amount": "12.5"}
    assert by_id[f"{doc}:pay"] == {"kind": "launch", "confirmed": None, "amount": None}
    assert by_id[f"{doc}:topic"] == {"kind": None, "confirmed": json.dumps("yes"), "amount": None}

    claims = datasets.load_dataset(str(out), "claims_spans", cache_dir=cache)
    rows = [row for split in claims.values() for row in split]
    expected = _expected(release, {"QUOTE", "CLAIM"})  # CLAIM: an attribute more, `speaker`
    assert {r["id"]: {k: r[k] for k in expected[r["id"]]} for r in rows} == expected
    speakers = {r["attributes"]["speaker"] for r in rows if r["label"] == "CLAIM"}
    assert speakers == {"la société"}
    assert claims[next(iter(claims))].features["attributes"]["checkworthy"].dtype == "bool"
    fixed = datasets.load_dataset(str(out), "claims", cache_dir=cache)
    assert sum(part.num_rows for part in fixed.values()) == 4  # still in the fixed config

    causes = datasets.load_dataset(str(out), "causes_relations", cache_dir=cache)
    [row, *_] = [row for split in causes.values() for row in split]
    assert (row["head_label"], row["tail_label"]) == ("EVENT", "EVENT")
    assert row["head"].endswith(":buy") and row["attributes"] == {"certainty": "high"}

    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| `events_spans` |" in card and "| `causes_relations` |" in card
    assert "| `attributes.kind` | string | `EVENT`: choice (merger, launch) |" in card
    croissant = json.loads((out / "croissant.json").read_text(encoding="utf-8"))
    assert {"events_spans", "claims_spans", "causes_relations"} <= {
        r["name"] for r in croissant["recordSet"]
    }
    loaded = run_cli("hub", "load", release, "--config", "events_spans")
    assert loaded.returncode == 0 and "attributes" in loaded.stdout, loaded.stderr


def test_a_layer_that_cannot_name_a_config_is_refused(tmp_path: Path) -> None:
    """A layer name the schema takes but a folder cannot (`<layer>_spans`, over 255 bytes)."""
    layer = {"description": "x", "labels": {"ODD": {"scope": "span", "description": "d"}}}
    name = "e" * 250
    schema = _schema(tmp_path / "schema.yaml", **{name: layer})
    release = _release(tmp_path, FRENCH, 2, schema)
    out = tmp_path / "export"
    done = run_cli("hub", "export", release, "--out", out)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"layer '{name}' cannot name a Hub config" in done.stderr
    assert not out.exists()


def test_an_english_release_is_described_as_english(tmp_path: Path) -> None:
    """Before: tagged `french`, its tokens "spaCy's French tokens", and the card said the
    gold had one annotator although the release held none."""
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(default_file("schema.yaml").read_bytes())
    release = _release(tmp_path, ENGLISH, 3, schema)
    assert {d.lang for d in open_release(release).documents()} == {"en"}
    out = tmp_path / "export"
    assert run_cli("hub", "export", release, "--out", out).returncode == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    metadata = yaml.safe_load(card.split("---\n")[1])
    assert metadata["language"] == ["en"] and metadata["tags"] == ["press-releases", "english"]
    assert "spaCy's French tokens" not in card
    assert "this release: en" in card and "The release holds no gold annotation yet." in card
    assert "One annotator" not in card


def test_the_bundled_release_keeps_its_french_card(tmp_path: Path) -> None:
    """Its export is as before, and nothing is left out (`spans` and `relations` hold every
    record whole: tests/test_hub_lossless.py)."""
    out = tmp_path / "export"
    done = run_cli("hub", "export", REPO / "corpus/releases/1.1.0", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "not in the exported dataset" not in done.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    metadata = yaml.safe_load(card.split("---\n")[1])
    assert metadata["tags"][-2:] == ["press-releases", "french"] and "claims" in metadata["tags"]
    assert "spaCy's French tokens" in card and "One annotator authored the gold" in card
    assert "single-issuer" in card and "The French law of 19 July 1977" in card
    assert not list((out / "data").glob("*_spans")) and not list((out / "data").glob("*_rel*"))
