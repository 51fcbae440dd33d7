"""claimwire: claims, sources and survey statistics in wire press releases."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata only when asked (a fast start-up)."""
    if name != "__version__":
        raise AttributeError(f"module 'claimwire' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("claimwire")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"
