"""`hub export` loses nothing of the gold: every annotation and relation of a release is
rebuilt, record for record, from the `spans` and `relations` configs as `datasets` loads
them — the bundled release, a release with a schema of the user's own, and one whose spans
no task config holds (a SOURCE, CUE or CONTENT in no attribution, a SURVEY without a figure,
a DISCLOSURE without evidence, an anchored TARGET with aliases)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from claimwire.corpus.release import open_release
from claimwire.defaults import default_file
from claimwire.model import Annotation, Document, Quote, Relation

from .helpers import REPO, run_cli
from .test_hub_user_schema import EVENTS, FRENCH, QUOTE, _gold, _release, _schema, _span

BUNDLED = REPO / "corpus" / "releases" / "1.1.0"


def _exported(release: Path, out: Path) -> str:
    done = run_cli("hub", "export", release, "--out", out)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _rebuilt(out: Path, cache: Path) -> tuple[list[Annotation | Relation], dict[str, str]]:
    """The gold records as a user of `datasets` rebuilds them from the export (and the split
    each row gives its record)."""
    import datasets

    records: list[Annotation | Relation] = []
    splits: dict[str, str] = {}
    spans = datasets.load_dataset(str(out), "spans", cache_dir=str(cache))
    for split in spans.values():
        for row in split:
            quote = row["quote"]
            records.append(
                Annotation(
                    row["id"],
                    row["doc_id"],
                    row["layer"],
                    row["label"],
                    row["start"],
                    row["end"],
                    Quote(quote["exact"], quote["prefix"], quote["suffix"]) if quote else None,
                    json.loads(row["attributes_json"]),
                    row["author"],
                )
            )
            splits[row["id"]] = row["split"]
    if (out / "data" / "relations").exists():
        relations = datasets.load_dataset(str(out), "relations", cache_dir=str(cache))
        for split in relations.values():
            for row in split:
                records.append(
                    Relation(
                        row["id"],
                        row["doc_id"],
                        row["type"],
                        row["head"],
                        row["tail"],
                        json.loads(row["attributes_json"]),
                        row["author"],
                    )
                )
                splits[row["id"]] = row["split"]
    return records, splits


def _assert_round_trip(release: Path, out: Path, cache: Path) -> list[Annotation | Relation]:
    opened = open_release(release)
    gold: list[Annotation | Relation] = [*opened.annotations(), *opened.relations()]
    assert gold
    rebuilt, splits = _rebuilt(out, cache)
    assert len(rebuilt) == len(gold)
    by_id = {record.id: record for record in rebuilt}
    assert by_id == {record.id: record for record in gold}  # every field, equal as records
    documents = {d.id: d.split for d in opened.documents()}
    assert splits == {r.id: documents[r.doc_id] for r in gold}
    return gold


def test_the_bundled_release_is_rebuilt_whole_and_nothing_is_said_left_out(
    tmp_path: Path,
) -> None:
    """Before: no `spans` or `relations` config, and the export warned that it left out the
    quote_type of 10 CONTENT, the offsets of 5 DISCLOSURE and of 2 TARGET, the aliases of 3
    TARGET; 7 relations (from_survey, evidence_of) and every quote's context were in no
    config."""
    out = tmp_path / "export"
    stderr = _exported(BUNDLED, out)
    assert "not in the exported dataset" not in stderr and "warning" not in stderr, stderr
    gold = _assert_round_trip(BUNDLED, out, tmp_path / "cache")
    assert len(gold) == 85 + 29
    card = (out / "README.md").read_text(encoding="utf-8")
    metadata = yaml.safe_load(card.split("---\n")[1])
    assert {"spans", "relations"} <= {c["config_name"] for c in metadata["configs"]}
    assert "| `attributes_json` | string |" in card and "| `quote` | struct" in card
    assert 'spans = load_dataset("ORG/NAME", "spans", revision="v1.1.0")' in card
    assert 'for row in spans["test"]:' in card
    croissant = json.loads((out / "croissant.json").read_text(encoding="utf-8"))
    assert {"spans", "relations"} <= {r["name"] for r in croissant["recordSet"]}


def test_a_release_of_the_users_schema_is_rebuilt_whole(tmp_path: Path) -> None:
    """Its own labels and relation types too (before: no `spans` config to load)."""
    schema = _schema(tmp_path / "schema.yaml", events=EVENTS, claims=QUOTE)
    release = _release(tmp_path / "own", FRENCH, 4, schema, _gold)
    out = tmp_path / "export"
    _exported(release, out)
    gold = _assert_round_trip(release, out, tmp_path / "cache")
    assert {r.label for r in gold if isinstance(r, Annotation)} == {
        "CLAIM",
        "QUOTE",
        "EVENT",
        "TOPIC",
    }
    assert {r.type for r in gold if isinstance(r, Relation)} == {"causes"}


SURVEY: dict[str, Any] = {
    "name": "A poll",
    "sampling_type": "unknown",
    "self_selected": False,
    "sponsor_is_interested_party": "unknown",
    "sponsor_is_publisher": True,
}
UNLINKED = (
    "Communiqué numéro {i}.\n\nSelon Marie Dupont, directrice de la société, un sondage "
    "mené par Ipsos montre que le marché grandit. Acme salue l'accord.\n"
)


def _unlinked(documents: Iterator[Document]) -> Iterator[Annotation | Relation]:
    """Spans of the bundled schema that no task config holds: in no relation."""
    disclosure = yaml.safe_load(default_file("schema.yaml").read_text(encoding="utf-8"))
    fields = dict.fromkeys(disclosure["disclosure"]["fields"], "absent")
    for doc in documents:
        yield _span(doc, "src", "attribution", "SOURCE", "Marie Dupont",
                    source_kind="person", named=True)  # fmt: skip
        yield _span(doc, "cue", "attribution", "CUE", "Selon")
        yield _span(doc, "content", "attribution", "CONTENT", "le marché grandit",
                    quote_type="indirect")  # fmt: skip
        yield _span(doc, "disclosure", "statistics", "DISCLOSURE", "mené par Ipsos",
                    field="conductor")  # fmt: skip
        yield _span(doc, "target", "stance", "TARGET", "l'accord", name="accord",
                    aliases="l'accord|accord")  # fmt: skip
        yield Annotation(f"{doc.id}:survey", doc.id, "statistics", "SURVEY", None, None, None,
                         {**SURVEY, **fields})  # fmt: skip


def test_spans_in_no_relation_are_rebuilt_whole(tmp_path: Path) -> None:
    """Before: the SOURCE, CUE, CONTENT, DISCLOSURE and SURVEY were in no config, and the
    TARGET only as a name."""
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(default_file("schema.yaml").read_bytes())
    release = _release(tmp_path / "unlinked", UNLINKED, 3, schema, _unlinked)
    out = tmp_path / "export"
    stderr = _exported(release, out)
    assert "not in the exported dataset" not in stderr, stderr
    gold = _assert_round_trip(release, out, tmp_path / "cache")
    documents = sum(1 for _ in open_release(release).documents())
    assert len(gold) == 6 * documents and not (out / "data" / "relations").exists()


@pytest.mark.parametrize("config", ["spans", "relations"])
def test_hub_load_reads_the_whole_gold_configs(config: str) -> None:
    loaded = run_cli("hub", "load", BUNDLED, "--config", config)
    assert loaded.returncode == 0, loaded.stderr
    assert "attributes_json" in loaded.stdout and "author" in loaded.stdout
