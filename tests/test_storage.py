"""Inputs in object storage: releases, predictions, gold and raw folders named by an
``s3://`` URI are read through pyarrow's S3 filesystem from a real S3 server on 127.0.0.1
(moto's), and give the same output, byte for byte, as their local copies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus.release import open_release
from claimwire.eval.completed import completed_path, write_completed

from .helpers import (
    REPO,
    SEED_RAW,
    CliResult,
    make_project,
    one_error_line,
    release_with_test_claims,
    run_cli,
)

pytest.importorskip("moto.server")
import pyarrow.fs as pafs
from moto.server import ThreadedMotoServer

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
PREDICTIONS = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
BUCKET = "claimwire-data"
SECRET = "s3cr3t-never-shown"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookups from a test
    "HOME": "/nonexistent",  # no ~/.aws of whoever runs the tests
}


@dataclass
class Server:
    endpoint: str
    filesystem: pafs.S3FileSystem

    def uri(self, key: str) -> str:
        """``s3://BUCKET/key`` with this server as its endpoint (in the URI's query)."""
        return f"s3://{BUCKET}/{key}?endpoint_override={self.endpoint}&scheme=http&region=us-east-1"

    def put(self, key: str, body: bytes) -> None:
        """Store ``body`` under ``key`` exactly as given, through the S3 API itself."""
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            aws_access_key_id="testing",
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )
        client.put_object(Bucket=BUCKET, Key=key, Body=body)

    def upload(self, local: Path, key: str) -> str:
        if local.is_dir():
            pafs.copy_files(str(local), f"{BUCKET}/{key}", destination_filesystem=self.filesystem)
        else:
            with self.filesystem.open_output_stream(f"{BUCKET}/{key}") as out:
                out.write(local.read_bytes())
        return self.uri(key)


@pytest.fixture(scope="module")
def s3() -> Iterator[Server]:
    """A real S3 server on 127.0.0.1 holding the bundled releases 1.1.0 and its parent, the
    rules system's predictions for it and the seed's raw folder."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"{host}:{port}"
    filesystem = pafs.S3FileSystem(
        access_key="testing",
        secret_key=SECRET,
        endpoint_override=endpoint,
        scheme="http",
        region="us-east-1",
        allow_bucket_creation=True,
    )
    filesystem.create_dir(BUCKET)
    served = Server(endpoint, filesystem)
    served.upload(RELEASE, "releases/1.1.0")
    served.upload(RELEASE.parent / "1.0.0", "releases/1.0.0")  # its parent (validation reads it)
    served.upload(PREDICTIONS, "runs/rules/predictions.jsonl")
    served.upload(SEED_RAW, "raw")
    yield served
    server.stop()


def cli(*args: str | Path, tmp: Path, env: dict[str, str] | None = None) -> CliResult:
    """The command with the test credentials and its own temporary folder (to see that the
    local copies are removed)."""
    (tmp / "tmp").mkdir(exist_ok=True)
    return run_cli(*args, env={**CREDENTIALS, "TMPDIR": str(tmp / "tmp"), **(env or {})})


def same(remote: CliResult, local: CliResult) -> None:
    assert remote.returncode == local.returncode == 0, remote.stderr + local.stderr
    assert remote.stdout == local.stdout


def test_scores_from_s3_are_those_of_the_local_copy(s3: Server, tmp_path: Path) -> None:
    release, predictions = s3.uri("releases/1.1.0"), s3.uri("runs/rules/predictions.jsonl")
    args = ("--task", "claims", "--format", "json", "--bootstrap", "100")
    remote = cli("eval", "score", predictions, "--release", release, *args, tmp=tmp_path)
    local = cli("eval", "score", PREDICTIONS, "--release", RELEASE, *args, tmp=tmp_path)
    same(remote, local)
    assert '"cor"' in remote.stdout
    assert f"s3://{BUCKET}/releases/1.1.0" in remote.stderr and SECRET not in remote.stderr
    assert "endpoint_override" not in remote.stderr  # the query is never shown
    assert list((tmp_path / "tmp").iterdir()) == []  # the local copies are gone
    gold = cli(
        "eval", "score", predictions, "--release", release, "--gold",
        s3.uri("releases/1.1.0/annotations.jsonl"), *args, tmp=tmp_path,
    )  # fmt: skip
    assert gold.returncode == 0, gold.stderr
    checked = cli(
        "eval", "check", predictions, "--release", release, "--task", "claims", tmp=tmp_path
    )
    assert checked.returncode == 0, checked.stderr
    assert f"OK s3://{BUCKET}/runs/rules/predictions.jsonl: " in checked.stdout
    assert "?" not in checked.stdout  # the query is never shown


def test_validate_stats_diff_and_export_from_s3(s3: Server, tmp_path: Path) -> None:
    release = s3.uri("releases/1.1.0")
    for command in (("corpus", "validate", "--json"), ("corpus", "stats", "--json")):
        same(
            cli(*command[:2], release, *command[2:], tmp=tmp_path),
            cli(*command[:2], RELEASE, *command[2:], tmp=tmp_path),
        )
    parent = s3.uri("releases/1.0.0")
    same(
        cli("corpus", "diff", "--json", parent, release, tmp=tmp_path),
        cli("corpus", "diff", "--json", RELEASE.parent / "1.0.0", RELEASE, tmp=tmp_path),
    )
    exported = []
    for name, source in (("remote", release), ("local", RELEASE)):
        out = tmp_path / name
        result = cli("hub", "export", source, "--out", out, tmp=tmp_path)
        assert result.returncode == 0, result.stderr
        exported.append(
            {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        )
    assert exported[0] == exported[1] and any(k.endswith(".parquet") for k in exported[0])


def test_run_reads_its_release_from_s3(s3: Server, tmp_path: Path) -> None:
    outputs = []
    for name, source in (("remote", s3.uri("releases/1.1.0")), ("local", str(RELEASE))):
        out = tmp_path / f"{name}.jsonl"
        result = cli("run", "rules", "--release", source, "--out", out, tmp=tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_build_reads_its_raw_folder_from_s3(s3: Server, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    stamp = {"SOURCE_DATE_EPOCH": "1700000000"}
    releases = []
    for name, raw in (("remote", s3.uri("raw")), ("local", str(SEED_RAW))):
        out = project / name
        result = run_cli(
            "corpus", "build", "--version", "1.0.0", "--raw", raw, "--out", out,
            cwd=project, env={**CREDENTIALS, **stamp},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        releases.append(
            {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        )
    assert releases[0] == releases[1] and "1.0.0/documents.jsonl" in releases[0]


def test_a_remote_set_brings_its_list_of_completed_documents(s3: Server, tmp_path: Path) -> None:
    """A set file in storage with ``NAME.completed.txt`` beside it scores as its local copy
    does: the list is fetched with it (before: left behind, so a system's claim on a
    document the annotator completed without finding one was not counted spurious), and a
    predicted set's list is checked as a local one's is."""
    release = release_with_test_claims(tmp_path, 8, claimed="all")
    claims = [a.to_dict() for a in open_release(release).annotations()]
    documents = sorted({c["doc_id"] for c in claims})
    local = tmp_path / "gold" / "alice.jsonl"
    local.parent.mkdir()
    local.write_text("".join(json.dumps(c) + "\n" for c in claims if c["doc_id"] in documents[:3]))
    write_completed(local, documents[:4])
    system = tmp_path / "system.jsonl"
    system.write_text("".join(json.dumps(c) + "\n" for c in claims))
    for name in ("alice.jsonl", "alice.completed.txt"):
        s3.upload(local.parent / name, f"gold/{name}")
    args = ("--release", release, "--task", "claims", "--split", "all", "--format", "json")
    scores = [
        cli("eval", "score", system, "--gold", gold, *args, "--bootstrap", "20", tmp=tmp_path)
        for gold in (s3.uri("gold/alice.jsonl"), str(local))
    ]
    same(*scores)
    strict = json.loads(scores[0].stdout)["systems"][0]["schemes"]["strict"]
    assert (strict["cor"], strict["spu"]) == (3, 1)
    completed_path(local).write_text("not-a-document\n")
    s3.upload(completed_path(local), "gold/alice.completed.txt")
    checked = cli(
        "eval", "check", s3.uri("gold/alice.jsonl"), "--release", release, "--task", "claims",
        tmp=tmp_path,
    )  # fmt: skip
    assert checked.returncode == 1 and one_error_line(checked.stderr), checked.stderr
    assert f"s3://{BUCKET}/gold/alice.completed.txt:1: 'not-a-document' is not a document" in (
        checked.stderr
    )
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_bad_prediction_line_is_located_at_its_uri(s3: Server, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    lines = PREDICTIONS.read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join([lines[0], lines[1].replace('"start"', '"begin"')]) + "\n")
    uri = s3.upload(broken, "runs/broken.jsonl")
    result = cli(
        "eval",
        "score",
        uri,
        "--release",
        s3.uri("releases/1.1.0"),
        "--task",
        "claims",
        tmp=tmp_path,
    )
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"s3://{BUCKET}/runs/broken.jsonl:2:" in result.stderr
    assert str(tmp_path / "tmp") not in result.stderr  # never the local copy


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("releases/9.9.9", "no such object or prefix"),
        ("runs/missing.jsonl", "no such object or prefix"),
    ],
)
def test_a_missing_key_is_one_line(s3: Server, tmp_path: Path, key: str, expected: str) -> None:
    result = cli("corpus", "validate", s3.uri(key), tmp=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"s3://{BUCKET}/{key}: {expected}" in result.stderr


def test_a_missing_bucket_is_one_line(s3: Server, tmp_path: Path) -> None:
    uri = s3.uri("releases/1.1.0").replace(BUCKET, "no-such-bucket")
    result = cli("corpus", "stats", uri, tmp=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "s3://no-such-bucket/releases/1.1.0: no such" in result.stderr


def test_a_refused_connection_is_one_line(tmp_path: Path) -> None:
    uri = "s3://claimwire-data/releases/1.1.0?endpoint_override=127.0.0.1:1&scheme=http"
    result = cli("corpus", "validate", uri, tmp=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "s3://claimwire-data/releases/1.1.0: could not connect" in result.stderr
    assert "127.0.0.1:1" not in result.stderr


def test_missing_or_refused_credentials_are_one_line(s3: Server, tmp_path: Path) -> None:
    import moto.settings

    before = moto.settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # the server checks credentials now
    try:
        none = cli(
            "corpus", "stats", s3.uri("releases/1.1.0"), tmp=tmp_path,
            env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
        )  # fmt: skip
        wrong = cli("corpus", "stats", s3.uri("releases/1.1.0"), tmp=tmp_path)
    finally:
        moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = before
    for result in (none, wrong):
        assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
        assert f"s3://{BUCKET}/releases/1.1.0: " in result.stderr
        assert SECRET not in result.stderr + result.stdout
    assert "no AWS credentials were found" in none.stderr
    assert "access denied" in wrong.stderr


def test_an_unknown_scheme_is_one_line(tmp_path: Path) -> None:
    result = cli("corpus", "validate", "ftp://example.org/releases/1.0.0", tmp=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "ftp://example.org/releases/1.0.0: no pyarrow filesystem reads this" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("hub", "export", str(RELEASE), "--out", "s3://claimwire-data/export"),
        ("run", "rules", "--release", str(RELEASE), "--out", "s3://claimwire-data/p.jsonl"),
        ("corpus", "build", "--version", "9.0.0", "--out", "s3://claimwire-data/releases"),
    ],
)
def test_writing_to_object_storage_is_refused(command: tuple[str, ...], tmp_path: Path) -> None:
    result = cli(*command, tmp=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "writing to object storage is not supported" in result.stderr
    assert not Path("s3:").exists() and not (tmp_path / "s3:").exists()


def test_file_uris_read_local_folders(tmp_path: Path) -> None:
    copy = tmp_path / "1.1.0"
    shutil.copytree(RELEASE, copy)
    same(
        cli("corpus", "stats", "--json", f"file://{copy}", tmp=tmp_path),
        cli("corpus", "stats", "--json", copy, tmp=tmp_path),
    )
    assert os.listdir(tmp_path / "tmp") == []


def test_a_worker_without_the_copies_makes_them_from_their_uri(
    s3: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage sent to another node (no shared filesystem: the driver's copies are not
    there) reads its parts from the URI: the copies are made again at the same paths, with
    the same stamps, and the stage gives what it gave on the driver."""
    import pickle

    from claimwire import storage
    from claimwire.corpus.ingest import BuildDocuments
    from claimwire.corpus.raw_folder import raw_files
    from claimwire.files import file_stamp

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    raw = storage.fetch(s3.uri("raw"))
    try:
        files = [p for p in raw_files(raw).files if p.suffix == ".txt"]
        batch = [(i, path) for i, path in enumerate(files)]
        stamps = {path: file_stamp(path) for path in raw.rglob("*") if path.is_file()}
        here = BuildDocuments(raw)(batch)
        sent = pickle.dumps(storage.carried(BuildDocuments(raw)))
        assert s3.endpoint.encode() in sent  # the URI, whole, travels with the stage
        storage.remove_copies()  # the node the stage lands on has none of them
        assert not raw.exists()
        there = pickle.loads(sent)(batch)
        assert [b.line for b in there] == [b.line for b in here] and here
        assert {path: file_stamp(path) for path in stamps} == stamps
        assert [p.name for p in raw.parent.iterdir()] == ["raw"]  # no staging left behind
    finally:
        storage.remove_copies()
        shutil.rmtree(raw.parent.parent, ignore_errors=True)


def test_ray_reads_remote_inputs_as_the_local_engine(s3: Server, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    import tempfile

    short = {"TMPDIR": tempfile.gettempdir()}  # Ray's sockets live there: a short path
    release, predictions = s3.uri("releases/1.1.0"), s3.uri("runs/rules/predictions.jsonl")
    args = ("--task", "claims", "--format", "json", "--bootstrap", "100")
    ray_args = ("--engine", "ray")
    same(
        cli("eval", "score", predictions, "--release", release, *args, *ray_args,
            tmp=tmp_path, env=short),
        cli("eval", "score", PREDICTIONS, "--release", RELEASE, *args, tmp=tmp_path),
    )  # fmt: skip
    outputs = []
    for engine, source in (("ray", s3.uri("releases/1.1.0")), ("local", str(RELEASE))):
        out = tmp_path / f"{engine}.jsonl"
        result = cli(
            "run", "rules", "--release", source, "--out", out, "--engine", engine,
            tmp=tmp_path, env=short,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_a_key_that_would_leave_the_copy_is_refused(s3: Server, tmp_path: Path) -> None:
    s3.put("hostile/a.txt", b"fine")
    s3.put("hostile/../../../escape.txt", b"out")
    result = cli("corpus", "build", "--version", "1.0.0", "--raw", s3.uri("hostile"),
                 "--out", tmp_path / "releases", tmp=tmp_path)  # fmt: skip
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"s3://{BUCKET}/hostile: a key under it cannot be a file name" in result.stderr
    assert not list(tmp_path.rglob("escape.txt")) and not (tmp_path / "releases").exists()


def test_credentials_in_the_uri_are_never_shown(s3: Server, tmp_path: Path) -> None:
    """``s3://KEY:SECRET@bucket/…`` (Arrow's form): neither the secret nor the query is shown,
    on success (the OK line, the release used) or failure, and no wrong advice is given."""
    inline = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}  # only the URI's

    def secret(key: str) -> str:
        return s3.uri(key).replace("s3://", f"s3://testing:{SECRET}@")

    release, predictions = secret("releases/1.1.0"), secret("runs/rules/predictions.jsonl")
    checked = cli(
        "eval", "check", predictions, "--release", release, "--task", "claims",
        tmp=tmp_path, env=inline,
    )  # fmt: skip
    scored = cli(
        "eval", "score", predictions, "--release", release, "--task", "claims",
        "--bootstrap", "100", tmp=tmp_path, env=inline,
    )  # fmt: skip
    refused = cli(
        "corpus", "stats", f"s3://testing:{SECRET}@{BUCKET}/releases/1.1.0"
        "?endpoint_override=127.0.0.1:1&scheme=http", tmp=tmp_path, env=inline,
    )  # fmt: skip
    for result in (checked, scored, refused):
        shown = result.stdout + result.stderr
        assert SECRET not in shown and "endpoint_override" not in shown, shown
    assert checked.returncode == scored.returncode == 0, checked.stderr + scored.stderr
    assert f"OK s3://{BUCKET}/runs/rules/predictions.jsonl: " in checked.stdout
    assert f"release 1.1.0 (s3://{BUCKET}/releases/1.1.0)" in scored.stderr
    assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
    assert f"s3://{BUCKET}/releases/1.1.0: could not connect" in refused.stderr
    assert "no AWS credentials were found" not in refused.stderr  # they are in the URI


def test_shown_drops_the_query_and_the_credentials() -> None:
    from claimwire.storage import shown

    assert shown("s3://AK:S3cr%2Ft@b/k/x?endpoint_override=h:1") == "s3://b/k/x"
    assert shown("s3://AK:Se/cret@b/k") == "s3://b/k"  # a secret with a bare "/"
    assert shown("hdfs://namenode:8020/a/b@c") == "hdfs://namenode:8020/a/b@c"
    assert shown("s3://b/k@x:y") == "s3://b/k@x:y"


def broken_release(tmp_path: Path, name: str, manifest: str) -> Path:
    folder = tmp_path / name / "1.1.0"
    shutil.copytree(RELEASE, folder)
    (folder / "MANIFEST.json").write_text(manifest, encoding="utf-8")
    return folder


def test_a_remote_release_with_a_broken_manifest_is_validated_as_the_local_one(
    s3: Server, tmp_path: Path
) -> None:
    """A broken MANIFEST or a parent that is no plain name: the same report (problems, exit
    status) from the URI as from the local folder, not one error line instead."""
    text = (RELEASE / "MANIFEST.json").read_text(encoding="utf-8")
    truncated = broken_release(tmp_path, "truncated", text[: len(text) // 2])
    parent = json.loads(text)
    parent["parent"] = "../1.0.0"
    outside = broken_release(tmp_path, "outside", json.dumps(parent, indent=2))
    cases = ((truncated, ("--json",), "manifest-invalid"), (outside, (), "parent-not-found"))
    for folder, options, code in cases:
        uri = s3.upload(folder, f"{folder.parent.name}/1.1.0")
        remote = cli("corpus", "validate", uri, *options, tmp=tmp_path)
        local = cli("corpus", "validate", folder, *options, tmp=tmp_path)
        assert remote.returncode == local.returncode == 1, remote.stderr
        assert remote.stdout == local.stdout and "error:" not in remote.stderr
        assert code in remote.stdout


def test_fixed_lines_name_the_uri(s3: Server, tmp_path: Path) -> None:
    lines = PREDICTIONS.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["start"], first["end"] = first["start"] + 1, first["end"] + 1
    shifted = tmp_path / "shifted.jsonl"
    shifted.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n")
    uri = s3.upload(shifted, "runs/shifted/predictions.jsonl")
    args = ("--release", s3.uri("releases/1.1.0"), "--task", "claims", "--fix-offsets")
    checked = cli("eval", "check", uri, *args, tmp=tmp_path)
    scored = cli("eval", "score", uri, *args, "--bootstrap", "100", tmp=tmp_path)
    assert checked.returncode == scored.returncode == 0, checked.stderr + scored.stderr
    fixed = f"fixed s3://{BUCKET}/runs/shifted/predictions.jsonl:1: moved"
    assert fixed in checked.stdout and fixed in scored.stderr
    assert "claimwire-remote-" not in checked.stdout + scored.stderr


def test_keys_a_local_copy_cannot_hold_are_named(s3: Server, tmp_path: Path) -> None:
    """A key both an object and a folder (legal in S3), a key too long for a local file name:
    one line naming the keys, never the local copy."""
    s3.put("clash/sub", b"a file")
    s3.put("clash/sub/b.txt", b"and a folder")
    s3.put(f"long/{'n' * 300}.txt", b"long")
    expected = {
        "clash": "the key 'sub' is both an object and a folder (of 'sub/b.txt')",
        "long": f"could not make the local copy of 'long/{'n' * 300}.txt' (File name too long)",
    }
    for prefix, message in expected.items():
        result = cli("corpus", "build", "--version", "1.0.0", "--raw", s3.uri(prefix),
                     "--out", tmp_path / "releases", tmp=tmp_path)  # fmt: skip
        assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
        assert f"s3://{BUCKET}/{prefix}: {message}" in result.stderr
        assert "claimwire-remote-" not in result.stderr
    assert os.listdir(tmp_path / "tmp") == []


def test_copies_are_removed_when_the_command_is_terminated(s3: Server, tmp_path: Path) -> None:
    script = (
        "import os, signal, sys\n"
        "from claimwire import storage\n"
        "copy = storage.fetch(sys.argv[1])\n"
        "print(copy, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
    )
    result = python(script, s3.uri("releases/1.1.0"), tmp=tmp_path)
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert "claimwire-remote-" in result.stdout and "Traceback" not in result.stderr
    assert os.listdir(tmp_path / "tmp") == []


def test_copies_of_killed_processes_are_swept_at_the_next_start(s3: Server, tmp_path: Path) -> None:
    """SIGKILL runs no exit handler: the next command removes what a dead process left, never
    the copies of one that still runs."""
    fetch = (
        "import sys\nfrom claimwire import storage\nprint(storage.fetch(sys.argv[1]), flush=True)\n"
    )
    uri = s3.uri("runs/rules/predictions.jsonl")
    killed = python(
        fetch + "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", uri, tmp=tmp_path
    )
    assert killed.returncode == -signal.SIGKILL and Path(killed.stdout.strip()).exists()
    alive = subprocess.Popen(
        [sys.executable, "-c", fetch + "sys.stdin.read()\n", uri],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=python_env(tmp_path),
    )  # fmt: skip
    try:
        assert alive.stdout is not None
        living = Path(alive.stdout.readline().strip())
        listed = python(fetch + "import os\nprint(len(os.listdir(sys.argv[2])))\n", uri,
                        str(tmp_path / "tmp"), tmp=tmp_path)  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        assert living.exists() and not Path(killed.stdout.strip()).exists()
        assert listed.stdout.splitlines()[-1] == "2"  # the living one's and its own
    finally:
        alive.communicate("")
    assert os.listdir(tmp_path / "tmp") == []


class _CutThenGone:
    """A divisible part cut here, in the driver, which has the local copies its pieces read;
    once cut, the copies are removed: the node Ray's actors land on has none of them."""

    def __init__(self, part: Any) -> None:
        self.part = part
        self.cut: list[Any] = []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.part)

    def pieces(self, items: int) -> Iterator[Any]:
        from claimwire import storage

        self.cut = list(self.part.pieces(items))
        storage.remove_copies()
        return iter(self.cut)


def test_a_ray_actor_makes_the_copies_before_it_reads_its_range_of_a_jsonl_input(
    s3: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Ray build's actor reads its own range of a JSONL input before it first calls the
    stage: on a node without the driver's copies it makes them first, from their URIs."""
    ray = pytest.importorskip("ray")
    from claimwire import storage
    from claimwire.corpus.ingest import BuildDocuments, RawFiles
    from claimwire.corpus.raw_folder import raw_files
    from claimwire.engine import open_engine

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)  # before Ray starts: its workers see them
    monkeypatch.setenv("RAY_worker_niceness", "0")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    lines = [json.dumps({"text": f"Le PIB a augmenté de {i} % en 2024."}) for i in range(5)]
    (feeds / "feed.jsonl").write_text("\n".join(lines) + "\n")
    raw = storage.fetch(s3.upload(feeds, "raw-jsonl"))
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        part = _CutThenGone(RawFiles(raw, tuple(enumerate(raw_files(raw).files))))
        here = BuildDocuments(raw)(list(part))
        # ranges of 2 lines, sent to an actor with the stage as it travels (its copies' URIs)
        there = list(open_engine("ray").map(BuildDocuments(raw), [part], 2))
        assert len(part.cut) == 3 and [b.line for b in there] == [b.line for b in here] and here
    finally:
        ray.shutdown()
        storage.remove_copies()
        shutil.rmtree(raw.parent.parent, ignore_errors=True)


def _stage_for_a_node_without_copies(
    s3: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, list[tuple[int, Path]]]:
    """A build stage over the raw folder's copy, carried and pickled with its batch to a
    file; then the copies are removed, as on a node that has none of them. The file, the
    folder the copies were in, and the batch."""
    import pickle

    from claimwire import storage
    from claimwire.corpus.ingest import BuildDocuments
    from claimwire.corpus.raw_folder import raw_files

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    raw = storage.fetch(s3.uri("raw"))
    texts = (path for path in raw_files(raw).files if path.suffix == ".txt")
    batch = list(enumerate(texts))
    sent = tmp_path / "stage.pickle"
    sent.write_bytes(pickle.dumps((storage.carried(BuildDocuments(raw)), batch)))
    storage.remove_copies()
    return sent, raw.parent.parent, batch


def _run_as_a_worker(sent: Path, batch: list[tuple[int, Path]], tmp_path: Path) -> None:
    """Run the pickled stage on its batch in a fresh process, as a worker would."""
    script = (
        "import pickle, sys\n"
        "stage, batch = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(len(stage(batch)), flush=True)\n"
    )
    result = python(script, str(sent), tmp=tmp_path)
    assert result.returncode == 0 and int(result.stdout) == len(batch) > 0, result.stderr


def test_a_worker_removes_the_copies_it_made_when_it_exits(
    s3: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a node without the driver's copies, the worker makes them and removes them when it
    exits (nothing of a run is left on the node)."""

    sent, root, batch = _stage_for_a_node_without_copies(s3, tmp_path, monkeypatch)
    _run_as_a_worker(sent, batch, tmp_path)
    assert not root.exists()  # what the worker made is gone with it


@pytest.mark.parametrize("together", [False, True], ids=["one-after-the-other", "at-once"])
def test_a_copy_two_workers_share_outlives_the_one_that_made_it(
    s3: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, together: bool
) -> None:
    """Two workers of one node without the driver's copies, started one after the other (the
    second reads the copies the first made) or at once (both make them): when the first
    exits, the copies stay for the second; the last to exit removes them."""

    sent, root, batch = _stage_for_a_node_without_copies(s3, tmp_path, monkeypatch)
    script = (
        "import pickle, sys\n"
        "stage, batch = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(len(stage(batch)), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(len(stage(batch)), flush=True)\n"
    )
    workers: list[subprocess.Popen[str]] = []
    try:
        for _ in range(2):
            worker = subprocess.Popen(
                [sys.executable, "-c", script, str(sent)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=python_env(tmp_path),
            )  # fmt: skip
            workers.append(worker)
            if not together:
                assert worker.stdout is not None
                assert int(worker.stdout.readline()) == len(batch) > 0
        for worker in workers if together else []:
            assert worker.stdout is not None
            assert int(worker.stdout.readline()) == len(batch) > 0
        first, second = workers
        out, err = first.communicate("\n")
        assert first.returncode == 0, err
        assert batch[0][1].is_file()  # the second still reads them
        out, err = second.communicate("\n")
        assert second.returncode == 0 and int(out) == len(batch), err
        assert not root.exists()  # the last to leave removed them
    finally:
        for worker in workers:
            worker.kill()
            worker.communicate()
        shutil.rmtree(root, ignore_errors=True)


def test_a_worker_removes_the_empty_folders_it_made_above_the_copies(
    s3: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver's temporary folder may be missing on a worker's node: the worker makes it,
    and removes it with the copies when it is the last to leave (left empty)."""
    import tempfile

    from claimwire import storage

    above = tmp_path / "nodir"
    (above / "sub").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(above / "sub"))
    storage.remove_copies()  # the next copies go to the folder above
    sent, root, batch = _stage_for_a_node_without_copies(s3, tmp_path, monkeypatch)
    assert root.is_relative_to(above / "sub")
    shutil.rmtree(above)  # the worker's node has no such folder
    _run_as_a_worker(sent, batch, tmp_path)
    assert not above.exists()  # the folders it made are gone with the copies


def test_a_folder_of_copies_another_worker_is_removing_is_made_again(tmp_path: Path) -> None:
    """Two workers made the same folder at once and the other one, done already, is removing
    it: locking it says so (the caller makes it again), it never takes a dying folder."""
    import fcntl
    import threading

    from claimwire import storage

    folder = tmp_path / "claimwire-remote-x"
    folder.mkdir()
    lock = folder / storage._SHARED
    handle = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)  # the other worker, leaving last, removes it
    outcome: list[object] = []
    locking = threading.Thread(target=lambda: outcome.append(storage._hold(folder, lock.name)))
    locking.start()
    locking.join(0.3)
    assert not outcome  # it waits for the removal to end
    shutil.rmtree(folder)
    os.close(handle)
    locking.join(5)
    assert outcome == [storage.Hold.LOST]
    assert folder not in storage._held


def python(script: str, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``script`` run by this checkout's Python with the test credentials."""
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=python_env(tmp)
    )


def python_env(tmp: Path) -> dict[str, str]:
    """The test credentials, this checkout's code and ``tmp/tmp`` as the temporary folder."""
    (tmp / "tmp").mkdir(exist_ok=True)
    return {
        **CREDENTIALS,
        "PATH": "/usr/bin:/bin",
        "TMPDIR": str(tmp / "tmp"),
        "PYTHONPATH": str(REPO / "src"),
    }


def test_copies_are_private_and_local_paths_are_left_as_they_are(tmp_path: Path) -> None:
    from claimwire import storage

    assert storage.local(RELEASE) == RELEASE and storage.local(str(RELEASE)) == RELEASE
    copy = storage.fetch(f"file://{RELEASE}")
    try:
        assert (copy.parent.parent.stat().st_mode & 0o777) == 0o700  # mkdtemp's own folder
        assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in RELEASE.iterdir())
    finally:
        storage.remove_copies()
    assert not copy.exists()


def test_ray_builds_from_a_remote_raw_folder_as_the_local_engine(
    s3: Server, tmp_path: Path
) -> None:
    pytest.importorskip("ray")
    import tempfile

    project = make_project(tmp_path / "project")
    env = {**CREDENTIALS, "SOURCE_DATE_EPOCH": "1700000000", "TMPDIR": tempfile.gettempdir()}
    releases = []
    for engine, raw in (("ray", s3.uri("raw")), ("local", str(SEED_RAW))):
        out = project / engine
        result = run_cli(
            "corpus", "build", "--version", "1.0.0", "--raw", raw, "--out", out,
            "--engine", engine, cwd=project, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        releases.append(
            {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        )
    assert releases[0] == releases[1] and "1.0.0/documents.jsonl" in releases[0]


def test_a_local_path_is_shown_whole(tmp_path: Path) -> None:
    """Only a URI loses its query when shown: a local file name may hold a ``?``."""
    named = tmp_path / "rules?v=1.jsonl"
    shutil.copy(PREDICTIONS, named)
    result = cli("eval", "check", named, "--release", RELEASE, "--task", "claims", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"OK {named}: " in result.stdout
