"""The options that choose an engine (``corpus build``, ``run``, ``eval score``)."""

from __future__ import annotations

import typer

ENGINE = typer.Option(
    "local",
    "--engine",
    help="Where per-document stages run: local (this process) or ray (Ray Data actors on "
    "this machine's cores, or on the cluster at --ray-address; needs claimwire[ray]).",
)
RAY_ADDRESS = typer.Option(
    None,
    "--ray-address",
    envvar="RAY_ADDRESS",
    help="Ray cluster to run on with --engine ray (e.g. ray://head:10001) [default: a local "
    "Ray with this machine's cores].",
)
