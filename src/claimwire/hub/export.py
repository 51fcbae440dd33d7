"""Export a release in the Hub's layout: parquet per config and split, a dataset card with
its YAML metadata, and a Croissant description.

    DIR/README.md                              card: YAML (configs, dataset_info, version…) + prose
    DIR/croissant.json                         Croissant 1.0 JSON-LD, checksums of every file
    DIR/data/<config>/<split>-00000-of-00001.parquet
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import yaml
from datasets import config as datasets_config
from datasets import disable_progress_bars

from claimwire import __version__
from claimwire.annotation.checks import schema_of, validate
from claimwire.annotation.schema import Schema
from claimwire.corpus.identity import SPLIT_NAMES
from claimwire.corpus.release import CHANGES, Release, open_release
from claimwire.errors import ClaimwireError
from claimwire.files import atomic_directory, folders_removed_on_error, sha256
from claimwire.hub.arrow import arrow_table
from claimwire.hub.card import hub_split, render_card
from claimwire.hub.croissant import croissant
from claimwire.hub.gold import Seen
from claimwire.hub.tables import DEFAULT_CONFIG, Table, batched_tables, tokens_description
from claimwire.outputs import EXPORT_MARKER, check_output, mark_export
from claimwire.storage import stop_on_sigterm

DATA = "data"


@dataclass(frozen=True)
class ExportedFile:
    path: str
    bytes: int
    sha256: str


def parquet_path(config: str, split: str) -> str:
    return f"{DATA}/{config}/{hub_split(split)}-00000-of-00001.parquet"


def table_splits(table: Table, splits: list[str]) -> list[str]:
    """The splits of ``splits`` where ``table`` has rows: an empty split is left out of the
    export (``datasets`` refuses a declared split without data)."""
    return [s for s in splits if table.counts.get(s)]


def size_category(documents: int) -> str:
    """The Hub's ``size_categories`` value for a number of documents."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if documents < limit:
            return name
    return "100K<n<1M" if documents < 1_000_000 else "n>1M"


@dataclass
class _Written:
    """What the parquet writers wrote: each config's features and rows per split (as
    :class:`Table` with counted rows), the Arrow bytes per (config, split), and what they
    saw of the release."""

    tables: list[Table]
    sizes: dict[tuple[str, str], int]
    seen: Seen


def write_parquet(release: Release, schema: Schema, folder: Path) -> _Written:
    """``folder/data/<config>/<split>-00000-of-00001.parquet`` for every config and split
    with rows, written a batch of documents at a time: one ``pyarrow.parquet.ParquetWriter``
    per config × split, fed the batch's rows as Arrow tables built column by column
    (:func:`claimwire.hub.arrow.arrow_table`: the same tables as ``Dataset.from_list``, the
    same Arrow schema, metadata and column options as ``Dataset.to_parquet``)."""
    from datasets.io.parquet import get_parquet_column_options

    writers: dict[tuple[str, str], pq.ParquetWriter] = {}
    counts: dict[str, dict[str, int]] = {}
    sizes: dict[tuple[str, str], int] = {}
    first: list[Table] = []
    seen = Seen()
    try:
        for tables in batched_tables(release, schema, seen=seen):
            first = first or tables
            for table in tables:
                counted = counts.setdefault(table.config, {})
                for split, rows in table.rows.items():
                    if not rows:
                        continue
                    key = (table.config, split)
                    arrow, features = arrow_table(rows, table.features)
                    if key not in writers:
                        target = folder / parquet_path(*key)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        arrow_schema = features.arrow_schema
                        writers[key] = pq.ParquetWriter(
                            target,
                            schema=arrow_schema,
                            use_content_defined_chunking=datasets_config.DEFAULT_CDC_OPTIONS,
                            write_page_index=True,
                            **get_parquet_column_options(features, arrow_schema),
                        )
                    writers[key].write_table(arrow.select(writers[key].schema.names))
                    counted[split] = counted.get(split, 0) + len(rows)
                    sizes[key] = sizes.get(key, 0) + int(arrow.nbytes)
    except BaseException:
        _close_all(writers, finished=False)
        raise
    _close_all(writers, finished=True)
    tokens = tokens_description(seen.languages)
    tables = [
        dataclasses.replace(
            t,
            rows={},
            written=counts.get(t.config, {}),
            description=tokens if t.config == "tokens" else t.description,
        )
        for t in first
    ]
    return _Written(tables, sizes, seen)


def _close_all(writers: dict[tuple[str, str], Any], finished: bool) -> None:
    """Close every writer (a full disk can fail any of them); the first error is raised
    once all are closed, so none is left to fail again when collected."""
    first: BaseException | None = None
    for writer in writers.values():
        try:
            if finished:
                writer.add_key_value_metadata(
                    {"content_defined_chunking": json.dumps(datasets_config.DEFAULT_CDC_OPTIONS)}
                )
            writer.close()
        except OSError as error:
            first = first or error
    if first is not None and finished:
        raise first


SUBJECT_TAGS = {
    "claims": ("claims", "fact-checking"),
    "attribution": ("attribution",),
    "stance": ("stance",),
    "statistics": ("survey-statistics",),
}
"""The card's tags for the fixed configs that have rows."""


def language_tag(code: str) -> str | None:
    """The Hub's tag for a language (``fr``: ``french``): the name of spaCy's class for it,
    None for a language spaCy does not know (the card's ``language`` still lists it)."""
    import spacy

    if not re.fullmatch(r"[a-z]{2,3}", code):  # a code, not a module path spaCy would import
        return None
    try:
        return str(spacy.util.get_lang_class(code).__name__).lower()
    except (ImportError, KeyError, ValueError):
        return None


def card_metadata(
    release: Release,
    tables: list[Table],
    splits: list[str],
    sizes: dict[tuple[str, str], int],
    languages: Collection[str],
) -> dict[str, Any]:
    """The card's YAML: license, languages (and their tags), size, configs with data_files
    (non-empty splits only), features, version. ``tables`` are the tables with at least one
    row; the subject tags name the fixed ones."""
    declared = release.manifest.get("lang")  # the project's, when the build had one
    listed = sorted(languages) or ([declared] if isinstance(declared, str) else [])
    configs = {table.config for table in tables}
    subjects = [tag for config, tags in SUBJECT_TAGS.items() if config in configs for tag in tags]
    named = [tag for tag in map(language_tag, listed) if tag]
    return {
        "license": "other",
        "license_name": "wire-press-releases",
        "license_details": "Press releases distributed by newswires for publication; they stay "
        "their issuers' property and are not relicensed. The annotations follow the code's "
        "Apache-2.0 licence.",
        "language": listed or ["fr"],  # a release of documents in no language known
        "pretty_name": f"claimwire {release.version}: claims, sources and survey statistics in "
        "wire press releases",
        "task_categories": ["token-classification", "text-classification"],
        "size_categories": [
            size_category(int(release.manifest.get("counts", {}).get("documents", 0)))
        ],
        "tags": [*subjects, "press-releases", *named],
        "version": release.version,
        "configs": [
            {
                "config_name": table.config,
                **({"default": True} if table.config == DEFAULT_CONFIG else {}),
                "data_files": [
                    {"split": hub_split(s), "path": parquet_path(table.config, s)}
                    for s in table_splits(table, splits)
                ],
            }
            for table in tables
        ],
        "dataset_info": [
            {
                "config_name": table.config,
                "features": table.features._to_yaml_list(),
                "splits": [
                    {
                        "name": hub_split(s),
                        "num_bytes": sizes[(table.config, s)],
                        "num_examples": table.counts[s],
                    }
                    for s in table_splits(table, splits)
                ],
            }
            for table in tables
        ],
    }


def _check_replaceable(out: Path, force: bool) -> None:
    """``out`` may be written: the output rule (:func:`claimwire.outputs.check_output`: with
    ``force`` only over a folder an earlier export made, its marker)."""
    if out.exists() and not out.is_dir():
        raise ClaimwireError("exists and is not a folder", file=out)
    check_output(out, force=force)


def export_release(
    release_path: Path, out: Path, *, force: bool = False, repo_id: str | None = None
) -> list[ExportedFile]:
    """Write the Hub layout of a release into ``out`` (atomically); refuse an invalid release
    and a non-empty ``out`` without ``force``. SIGTERM ends it as an error does: no staging
    folder, nor folder made for ``out``, is left."""
    stop_on_sigterm()
    problems = validate(release_path)
    if problems:
        raise ClaimwireError(
            f"the release does not validate ({len(problems)} problems, first: {problems[0]}); "
            "fix it before publishing",
            file=release_path,
        )
    _check_replaceable(out, force)
    release = open_release(release_path)
    schema: Schema = schema_of(release_path)
    disable_progress_bars()
    with folders_removed_on_error(out.parent), atomic_directory(out, replace=True) as staging:
        written = write_parquet(release, schema, staging)
        splits = [s for s in SPLIT_NAMES if s in written.seen.splits]
        # a config without a row in any split is left out: it could not be loaded
        tables = [t for t in written.tables if table_splits(t, splits)]
        sizes = written.sizes
        files = sorted(p for p in staging.rglob("*.parquet"))
        checksums = {p.relative_to(staging).as_posix(): sha256(p) for p in files}
        metadata = card_metadata(release, tables, splits, sizes, written.seen.languages)
        changes = (release.path / CHANGES).read_text(encoding="utf-8")
        card = render_card(release, schema, tables, splits, changes, repo_id, written.seen)
        (staging / "README.md").write_text(
            "---\n"
            + yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False)
            + "---\n\n"
            + card,
            encoding="utf-8",
        )
        mark_export(staging, f"hub export of release {release.version}")
        document = croissant(release, tables, checksums, __version__, repo_id)
        (staging / "croissant.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return [
        ExportedFile(p.relative_to(out).as_posix(), p.stat().st_size, sha256(p))
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != EXPORT_MARKER
    ]
