"""The corpus in code: ``load_corpus`` returns a ``datasets.DatasetDict``.

from claimwire.hub.load import load_corpus
claims = load_corpus("corpus/releases/1.0.0", "claims")        # a release folder
claims = load_corpus("exported-dir", "claims")                 # a `hub export` folder
claims = load_corpus("1.0.0", "claims", repo_id="ORG/NAME")    # the Hub, pinned to v1.0.0
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claimwire.corpus.release import MANIFEST
from claimwire.errors import ClaimwireError
from claimwire.hub.export import DATA, export_release
from claimwire.hub.generic import is_generic
from claimwire.hub.network import bounded, failure, within_deadline
from claimwire.hub.tables import BUILDERS, DEFAULT_CONFIG
from claimwire.names import check_repo_id
from claimwire.outputs import EXPORT_MARKER

_VERSION = re.compile(r"v?(\d+\.\d+\.\d+)")
_CONFIG_NAME = re.compile(r"- config_name: (?P<name>\S+)")
CARD = "README.md"
HEADER_BYTES = 1 << 20
"""How much of a dataset card is read for its YAML header (an export's is ~25 KB)."""


def load_corpus(
    source: str | Path,
    config: str = DEFAULT_CONFIG,
    *,
    repo_id: str | None = None,
    cache_dir: str | Path | None = None,
) -> Any:
    """Load one config of the corpus from a release folder, an export folder, or the Hub."""
    import datasets

    if config not in BUILDERS and not is_generic(config):
        raise ClaimwireError(
            f"unknown config {config!r}; expected one of {', '.join(BUILDERS)}, or LAYER_spans "
            "or TYPE_relations for a layer or relation type of the schema"
        )
    path = Path(source)
    cache = str(cache_dir) if cache_dir else None
    if path.is_dir() and (path / MANIFEST).exists():
        # exported into a temporary folder, loaded into memory, and the folder removed
        with tempfile.TemporaryDirectory(prefix="claimwire-export-") as export:
            export_release(path, Path(export) / "data", force=True)
            _check_config(_card_configs(Path(export) / "data" / CARD) or set(), config, path)
            return _loaded(
                str(path),
                lambda: datasets.load_dataset(
                    str(Path(export) / "data"), config, cache_dir=cache, keep_in_memory=True
                ),
            )
    if path.is_dir():
        check_hub_export(path, config)
        return _loaded(str(path), lambda: datasets.load_dataset(str(path), config, cache_dir=cache))
    version = _VERSION.fullmatch(str(source))
    if version is None:
        raise ClaimwireError(f"{source!r} is neither a folder nor a version X.Y.Z")
    if not repo_id:
        raise ClaimwireError("loading a version from the Hub needs --repo-id ORG/NAME")
    if Path(check_repo_id(repo_id)).exists():  # `datasets` would read the local path instead
        raise ClaimwireError(
            f"--repo-id {repo_id!r} is also a local path; give a folder as SOURCE instead"
        )
    bounded()
    where = f"{repo_id}@v{version.group(1)}"
    with within_deadline(f"hub load {where}"):
        return _loaded(
            where,
            lambda: datasets.load_dataset(
                repo_id, config, revision=f"v{version.group(1)}", cache_dir=cache
            ),
        )


def check_hub_export(path: Path, config: str) -> None:
    """Refuse a folder that is not what ``hub export`` writes (a ``convert`` export carries
    the same marker): its marker, a README.md dataset card whose YAML header lists the
    configs, and the parquet files of ``config`` in ``data/CONFIG/``."""
    if not (path / EXPORT_MARKER).is_file():
        raise ClaimwireError(
            "neither a release (MANIFEST.json) nor a `hub export` folder", file=path
        )
    configs = _card_configs(path / CARD)
    if configs is None:
        raise ClaimwireError(
            f"not a `hub export` folder, cannot load it: it holds no {CARD} whose YAML header "
            f"lists the configs (`configs:`); expected what `claimwire hub export` writes: "
            f"{CARD}, {DATA}/CONFIG/*.parquet and croissant.json",
            file=path,
        )
    _check_config(configs, config, path)
    folder = path / DATA / config
    if not (folder.is_dir() and _holds_parquet(folder)):
        raise ClaimwireError(
            f"cannot load config {config!r}: {DATA}/{config}/ holds no parquet file, which "
            f"its {CARD} names; export the release again",
            file=path,
        )


def _check_config(configs: set[str], config: str, path: Path) -> None:
    if config not in configs:
        raise ClaimwireError(
            f"cannot load config {config!r}: this export has "
            f"{', '.join(sorted(configs)) or 'none'} (a config without rows is left out)",
            file=path,
        )


def _holds_parquet(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(entry.name.endswith(".parquet") for entry in entries)


def _card_configs(card: Path) -> set[str] | None:
    """The config names in the YAML header of a dataset card (read no further than
    :data:`HEADER_BYTES`), None when it has no header listing ``configs:``."""
    try:
        with card.open("rb") as handle:
            head = handle.read(HEADER_BYTES)
    except OSError:
        return None
    lines = head.decode("utf-8", "replace").splitlines()
    if not lines or lines[0] != "---" or "---" not in lines[1:]:
        return None
    header = lines[1 : lines.index("---", 1)]
    if "configs:" not in header:
        return None
    return {m["name"] for line in header if (m := _CONFIG_NAME.fullmatch(line))}


def _loaded(where: str, load: Callable[[], Any]) -> Any:
    """``load()``; whatever ``datasets`` raises on a broken folder, a bad card or an
    unreachable Hub becomes one line naming ``where`` (the underlying error included, its
    tokens masked). Anything ``datasets`` can raise on hostile data is caught: it is the
    only call inside."""
    try:
        return load()
    except ClaimwireError:
        raise
    except Exception as error:
        cause = error.__cause__ or error.__context__
        why = failure(error, f"cannot load {where} with `datasets`")
        if cause is not None and str(cause).strip():
            why += f" (because {failure(cause, type(cause).__name__).split(': ', 1)[-1]})"
        raise ClaimwireError(why) from None
