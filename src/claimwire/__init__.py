"""claimwire: claims, sources and survey statistics in wire press releases."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("claimwire")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
