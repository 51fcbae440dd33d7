"""The corpus in code: ``load_corpus`` returns a ``datasets.DatasetDict``.

from claimwire.hub.load import load_corpus
claims = load_corpus("corpus/releases/1.0.0", "claims")        # a release folder
claims = load_corpus("exported-dir", "claims")                 # a `hub export` folder
claims = load_corpus("1.0.0", "claims", repo_id="ORG/NAME")    # the Hub, pinned to v1.0.0
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claimwire.corpus.release import MANIFEST
from claimwire.errors import ClaimwireError
from claimwire.hub.export import export_release
from claimwire.hub.network import bounded, failure, within_deadline
from claimwire.hub.tables import BUILDERS, DEFAULT_CONFIG
from claimwire.names import check_repo_id
from claimwire.outputs import EXPORT_MARKER

_VERSION = re.compile(r"v?(\d+\.\d+\.\d+)")


def load_corpus(
    source: str | Path,
    config: str = DEFAULT_CONFIG,
    *,
    repo_id: str | None = None,
    cache_dir: str | Path | None = None,
) -> Any:
    """Load one config of the corpus from a release folder, an export folder, or the Hub."""
    import datasets

    if config not in BUILDERS:
        raise ClaimwireError(f"unknown config {config!r}; expected one of {', '.join(BUILDERS)}")
    path = Path(source)
    cache = str(cache_dir) if cache_dir else None
    if path.is_dir() and (path / MANIFEST).exists():
        # exported into a temporary folder, loaded into memory, and the folder removed
        with tempfile.TemporaryDirectory(prefix="claimwire-export-") as export:
            export_release(path, Path(export) / "data", force=True)
            return _loaded(
                str(path),
                lambda: datasets.load_dataset(
                    str(Path(export) / "data"), config, cache_dir=cache, keep_in_memory=True
                ),
            )
    if path.is_dir():
        if not (path / EXPORT_MARKER).is_file():
            raise ClaimwireError(
                "neither a release (MANIFEST.json) nor a `hub export` folder", file=path
            )
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
