"""Reading inputs from object storage: a real S3 server on 127.0.0.1 (moto's) against the
local disk, in one process, wall-clock seconds (network reads wait, they do not compute).

For a synthetic release with gold and predictions (``synthetic_release.py``), measured:

* the release and the predictions read from the local disk (8 MiB reads; the page cache is
  warm, as it is for a release used twice) and copied from S3 by ``claimwire.storage.fetch``
  (what every command does with a URI): MB/s;
* ranged reads of one document's lines each (``read_at``), the other way to read a batch of
  documents back from S3 without a local copy: milliseconds per request, and what a pass
  over every document of the three record files would cost;
* the whole ``eval score`` command from the local release and from its ``s3://`` URI.

Needs ``moto[server]`` (the ``dev`` extra). Run: ``python benchmarks/bench_storage.py
[--documents N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.fs as pafs
from moto.server import ThreadedMotoServer
from rich.console import Console
from rich.table import Table

from claimwire import storage

HERE = Path(__file__).resolve().parent
BUCKET = "claimwire-bench"
_CHUNK = 8 << 20


def _read_local(files: list[Path]) -> int:
    total = 0
    for path in files:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                total += len(chunk)
    return total


def _document_ranges(path: Path) -> list[tuple[int, int]]:
    """(offset, length) of each document's run of lines in a document-ordered record file."""
    ranges: list[tuple[int, int]] = []
    current, start, at = None, 0, 0
    with path.open("rb") as handle:
        for line in handle:
            doc = json.loads(line).get("doc_id", json.loads(line).get("id"))
            if doc != current and current is not None:
                ranges.append((start, at - start))
                start = at
            current = doc
            at += len(line)
    ranges.append((start, at - start))
    return ranges


def _cli(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "claimwire", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300, help="ranged reads to time")
    options = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as scratch:
        root = Path(scratch)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "synthetic_release.py"),
                str(root / "data"),
                "--documents",
                str(options.documents),
            ],
            check=True,
            capture_output=True,
        )
        release = root / "data" / "releases" / "1.0.0"
        predictions = root / "data" / "predictions.jsonl"
        files = [*sorted(p for p in release.rglob("*") if p.is_file()), predictions]
        size = sum(p.stat().st_size for p in files)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        env = {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        os.environ.update(env)
        query = f"?endpoint_override={host}:{port}&scheme=http&region=us-east-1"
        fs = pafs.S3FileSystem(
            endpoint_override=f"{host}:{port}", scheme="http", region="us-east-1",
            allow_bucket_creation=True,
        )  # fmt: skip
        fs.create_dir(BUCKET)
        pafs.copy_files(str(release), f"{BUCKET}/releases/1.0.0", destination_filesystem=fs)
        with fs.open_output_stream(f"{BUCKET}/predictions.jsonl") as out:
            out.write(predictions.read_bytes())
        release_uri = f"s3://{BUCKET}/releases/1.0.0{query}"
        predictions_uri = f"s3://{BUCKET}/predictions.jsonl{query}"

        _read_local(files)  # warm the page cache
        started = time.perf_counter()
        _read_local(files)
        local_s = time.perf_counter() - started
        started = time.perf_counter()
        storage.fetch(release_uri)
        storage.fetch(predictions_uri)
        fetch_s = time.perf_counter() - started
        storage.remove_copies()

        annotations = sorted(release.glob("annotations*.jsonl"))[0]  # or its first shard
        ranges = _document_ranges(annotations)
        handle = fs.open_input_file(f"{BUCKET}/releases/1.0.0/{annotations.name}")
        sample = ranges[: options.requests]
        started = time.perf_counter()
        for offset, length in sample:
            handle.read_at(length, offset)
        per_request = (time.perf_counter() - started) / len(sample)
        handle.close()
        documents = sum(len(_document_ranges(p)) for p in release.glob("documents*.jsonl"))

        score = ("--task", "claims", "--split", "all", "--score-only")
        local_cmd = min(  # the faster of two runs each: the machine is shared
            _cli("eval", "score", str(predictions), "--release", str(release), *score, env=env)
            for _ in range(2)
        )
        s3_cmd = min(
            _cli("eval", "score", predictions_uri, "--release", release_uri, *score, env=env)
            for _ in range(2)
        )
        server.stop()

    mb = size / 1e6
    table = Table(
        title=f"reading {documents:,} documents ({mb:.1f} MB) — load {os.getloadavg()[0]:.1f}"
    )
    for column in ("what", "seconds", "rate"):
        table.add_column(column, justify="left" if column == "what" else "right")
    table.add_row(
        "local disk, 8 MiB reads (page cache warm)", f"{local_s:.3f}", f"{mb / local_s:,.0f} MB/s"
    )
    table.add_row(
        "S3 (moto, 127.0.0.1): local copy, storage.fetch",
        f"{fetch_s:.3f}",
        f"{mb / fetch_s:,.0f} MB/s",
    )
    table.add_row(
        "S3: one ranged read per document (read_at)",
        f"{per_request * 1000:.2f} ms each",
        f"{documents * 3 * per_request:.1f} s for 3 files × {documents:,} documents",
    )
    table.add_row("eval score, local release", f"{local_cmd:.2f}", "")
    table.add_row(
        "eval score, s3:// release and predictions", f"{s3_cmd:.2f}", f"{s3_cmd / local_cmd:.2f}×"
    )
    console.print(table)


if __name__ == "__main__":
    main()
