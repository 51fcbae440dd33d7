"""``run command``: what the external program sees, and what it may answer."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.model import Document
from claimwire.systems import command
from claimwire.systems.base import RunContext
from claimwire.systems.command import CommandSystem
from claimwire.systems.program import LINE_LIMIT

from .helpers import REPO, one_error_line, release_with_test_claims, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
[DOCUMENT_ID] = [d.id for d in open_release(RELEASE).documents()]
SECRETS = {
    "LABEL_STUDIO_API_KEY": "ls-secret-0123456789",
    "HF_TOKEN": "hf_secret0123456789abcdef",
    "MY_MODEL_KEY": "model-secret-42",
}


def _run(tmp_path: Path, cmd: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``claimwire run command`` in a real process whose environment holds the secrets."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "claimwire",
            "run",
            "command",
            "-o",
            f"cmd={cmd}",
            *extra,
            "--release",
            str(RELEASE),
            "--out",
            str(tmp_path / "out.jsonl"),
        ],
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "PYTHONPATH": str(REPO / "src"),
            **SECRETS,
        },
        check=False,
    )


def _seen(tmp_path: Path, *extra: str) -> dict[str, str]:
    printed = tmp_path / "env.txt"
    printed.unlink(missing_ok=True)
    done = _run(tmp_path, f"sh -c 'env > {printed}'", *extra, "--overwrite")
    assert done.returncode == 0, done.stderr
    pairs = (line.partition("=") for line in printed.read_text(encoding="utf-8").splitlines())
    return {name: value for name, _, value in pairs}


def test_the_program_sees_only_the_basics_and_the_named_variables(tmp_path: Path) -> None:
    """Before: the program inherited every variable, tokens included."""
    plain = _seen(tmp_path)
    assert not set(SECRETS) & set(plain)
    assert {"PATH", "HOME", "LANG"} <= set(plain) and "PYTHONPATH" not in plain
    named = _seen(tmp_path, "--env", "MY_MODEL_KEY", "--env", "HF_TOKEN")
    assert named["MY_MODEL_KEY"] == SECRETS["MY_MODEL_KEY"]
    assert named["HF_TOKEN"] == SECRETS["HF_TOKEN"]
    assert "LABEL_STUDIO_API_KEY" not in named
    assert json.loads((tmp_path / "out.jsonl.meta.json").read_text())["options"]["env"] == (
        "MY_MODEL_KEY,HF_TOKEN"
    )  # names only, never values


def test_a_secret_the_program_prints_when_it_fails_is_masked(tmp_path: Path) -> None:
    done = _run(tmp_path, "sh -c 'echo key=$MY_MODEL_KEY >&2; exit 3'", "--env", "MY_MODEL_KEY")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "exited with 3" in done.stderr and SECRETS["MY_MODEL_KEY"] not in done.stderr


def _answering(tmp_path: Path, line: str) -> str:
    program = tmp_path / "answer.py"
    program.write_text(f"import sys\nsys.stdin.read()\nprint({line!r})\n", encoding="utf-8")
    return f"{sys.executable} {program}"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            '{"id": "x:1", "doc_id": "not-in-batch", "layer": "claims", "label": "CLAIM"}',
            "document 'not-in-batch', which is not among the",
        ),
        ("5", "expected a JSON object"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": 1}', "field 'id'"),
        (
            '{"id": "a", "id": "b", "doc_id": "x", "layer": "claims", "label": "CLAIM"}',
            "key 'id' appears twice",
        ),
    ],
    ids=["unknown document", "a number", "a list", "id a number", "duplicate key"],
)
def test_a_bad_answer_is_one_located_line(tmp_path: Path, answer: str, says: str) -> None:
    """Before: a record for another document was dropped and the run said it wrote the
    file; a number or a list was an internal error."""
    done = _run(tmp_path, _answering(tmp_path, answer))
    assert done.returncode == 1, done.stderr
    assert one_error_line(done.stderr) and says in done.stderr, done.stderr
    assert f"'s answer for document '{DOCUMENT_ID}'>:1: " in done.stderr


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["-o", "timeout=abc"], "option timeout 'abc'"),
        (["-o", "timeout=-1"], "option timeout '-1'"),
        (["--env", "A=B"], "--env 'A=B'"),
        (["--env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE: not set"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, options: list[str], says: str) -> None:
    done = _run(tmp_path, "true", *options)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert says in done.stderr


def test_an_unbalanced_command_line_and_env_for_another_system(tmp_path: Path) -> None:
    done = _run(tmp_path, "sh -c 'unclosed")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "not a command line" in done.stderr
    other = run_cli(
        "run", "rules", "--env", "HF_TOKEN", "--release", RELEASE, "--out", tmp_path / "r.jsonl"
    )
    assert other.returncode == 1 and "--env is for the command system" in other.stderr


def _program(tmp_path: Path, name: str, source: str) -> str:
    """A small Python program written into ``tmp_path``, as a command line."""
    program = tmp_path / name
    program.write_text(textwrap.dedent(source), encoding="utf-8")
    return f"{sys.executable} {program}"


def _document(text: str) -> Document:
    return Document("d1", text, "fr", "test", ((0, len(text)),), ((0, len(text)),))


def _context() -> RunContext:
    return RunContext(open_release(RELEASE), (), "test")


QUOTING = """\
    import json, sys
    for line in sys.stdin:
        d = json.loads(line)
        print(json.dumps({"id": d["id"] + ":c1", "doc_id": d["id"], "layer": "claims",
            "label": "CLAIM", "start": 0, "end": len(d["text"]),
            "quote": {"exact": d["text"]}}, ensure_ascii=False))
"""


def test_an_answer_holding_unicode_line_separators_is_one_record(tmp_path: Path) -> None:
    """Before: the answer was split with str.splitlines, which breaks at U+2028, U+2029 and
    U+0085 (raw inside JSON strings): 'not valid JSON: Unterminated string'."""
    text = "Le ministre a dit\u2028que 90 % approuvent\u2029la réforme\x85annoncée."
    system = CommandSystem(cmd=_program(tmp_path, "quote.py", QUOTING))
    [output] = system.annotate([_document(text)], _context())
    assert [a.quote.exact for a in output.annotations if a.quote] == [text]


def test_what_the_program_prints_is_never_held_whole(tmp_path: Path) -> None:
    """Before: subprocess.run(capture_output=True) held all of stdout and stderr (64 MB
    each here); now a line at a time and the last bytes of stderr."""
    noisy = """\
        import sys
        sys.stdin.read()
        for _ in range(64):
            sys.stdout.write(" " * 2**20 + "\\n")
            sys.stderr.write("progress " * (2**20 // 9) + "\\n")
    """
    system = CommandSystem(cmd=_program(tmp_path, "noisy.py", noisy))
    tracemalloc.start()
    try:
        [output] = system.annotate([_document("Un texte.")], _context())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert output.annotations == [] and peak < 16 * 2**20, peak


def test_a_line_over_the_limit_is_located_and_the_program_killed(tmp_path: Path) -> None:
    """Before: any line was read whole; and the run waited for the program to end."""
    long_line = f"""\
        import sys, time
        sys.stdin.read()
        print()
        print("x" * ({LINE_LIMIT} + 1), flush=True)
        time.sleep(60)
    """
    started = time.monotonic()
    done = _run(tmp_path, _program(tmp_path, "long.py", long_line))
    assert time.monotonic() - started < 30
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"'s answer for document '{DOCUMENT_ID}'>:2: a line longer than {LINE_LIMIT} bytes" in (
        done.stderr
    )


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped by init counts)."""
    for _ in range(50):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


SPAWNING = """\
    import subprocess, sys, time
    child = subprocess.Popen(["sleep", "40"])
    open(sys.argv[1], "w").write(str(child.pid))
    time.sleep(40)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_timeout_kills_the_programs_whole_group(tmp_path: Path) -> None:
    """Before: the program was killed, not its children, and the run waited for them to
    close its pipes (40 s here)."""
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    cmd = _program(tmp_path, "spawn.py", SPAWNING) + f" {pid_file}"
    done = _run(tmp_path, cmd, "-o", "timeout=2")
    assert time.monotonic() - started < 30
    assert done.returncode == 1 and "command timed out after 2 s" in done.stderr, done.stderr
    assert _gone(int(pid_file.read_text()))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigterm_kills_the_programs_whole_group(tmp_path: Path) -> None:
    """Before: claimwire ended on SIGTERM and left the program and its children running."""
    pid_file = tmp_path / "child.pid"
    cmd = _program(tmp_path, "spawn.py", SPAWNING) + f" {pid_file}"
    argv = [sys.executable, "-m", "claimwire", "run", "command", "-o", f"cmd={cmd}"]
    run = subprocess.Popen(
        [*argv, "--release", str(RELEASE), "--out", str(tmp_path / "out.jsonl")],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=30) != 0
    assert _gone(int(pid_file.read_text()))


REPEATING = """\
    import json, subprocess, sys
    child = subprocess.Popen(["sleep", "40"])
    open(sys.argv[1], "w").write(str(child.pid))
    doc_id = json.loads(sys.stdin.readline())["id"]
    record = json.dumps({"id": "z", "doc_id": doc_id, "layer": "claims", "label": "CLAIM"})
    while True:
        print(record)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_program_repeating_itself_is_stopped_at_the_records_bound(tmp_path: Path) -> None:
    """Before: every record was held until the timeout (600 s by default), growing
    claimwire by 25-37 MB a second; then a line cut by the kill was called bad JSON."""
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    cmd = _program(tmp_path, "repeat.py", REPEATING) + f" {pid_file}"
    done = _run(tmp_path, cmd, "-o", "timeout=120")
    assert time.monotonic() - started < 60
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"'s answer for document '{DOCUMENT_ID}'>:2001: over 2,000 records for document " in (
        done.stderr
    )
    assert "-o max_records=N" in done.stderr
    assert (tmp_path / "out.jsonl").read_bytes() == b""  # nothing of the batch written
    assert _gone(int(pid_file.read_text()))


def test_max_records_sets_the_bound_and_the_answer_is_bounded_in_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmd = _program(tmp_path, "repeat.py", REPEATING) + f" {tmp_path / 'child.pid'}"
    with pytest.raises(ClaimwireError, match="over 3 records for document 'd1'") as bound:
        CommandSystem(cmd=cmd, max_records="3").annotate([_document("Un texte.")], _context())
    assert bound.value.line == 4
    monkeypatch.setattr(command, "ANSWER_BYTES", 2**20)
    big = """\
        import json, sys
        doc_id = json.loads(sys.stdin.readline())["id"]
        for n in range(8):
            print(json.dumps({"id": str(n), "doc_id": doc_id, "layer": "claims",
                "label": "CLAIM", "attributes": {"note": "x" * 300_000}}))
    """
    with pytest.raises(ClaimwireError, match="the answer to a batch of 1 documents is over 1 MiB"):
        CommandSystem(cmd=_program(tmp_path, "big.py", big)).annotate(
            [_document("Un texte.")], _context()
        )
    for given in ("0", "-1", "ten", "1e3"):
        with pytest.raises(ClaimwireError, match=f"option max_records '{given}'"):
            CommandSystem(cmd="true", max_records=given)


def test_a_line_cut_by_the_timeout_is_reported_as_the_timeout(tmp_path: Path) -> None:
    """Before: the kill cut the last line, which was parsed first: 'not valid JSON'."""
    cutting = """\
        import sys, time
        sys.stdin.read()
        sys.stdout.write('{"id": "x:1", "doc_id": "unfinish')
        sys.stdout.flush()
        time.sleep(60)
    """
    done = _run(tmp_path, _program(tmp_path, "cut.py", cutting), "-o", "timeout=2")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "command timed out after 2 s" in done.stderr and "JSON" not in done.stderr


DETACHING = """\
    import json, subprocess, sys
    for line in sys.stdin:
        d = json.loads(line)
        print(json.dumps({"id": d["id"] + ":c", "doc_id": d["id"], "layer": "claims",
            "label": "CLAIM", "start": 0, "end": 5}))
    sys.stdout.flush()
    holder = subprocess.Popen(["sleep", "40"], start_new_session=True)  # keeps our stdout
    open(sys.argv[1], "w").write(str(holder.pid))
"""


def test_a_detached_holder_of_the_output_does_not_outlast_the_timeout(tmp_path: Path) -> None:
    """Before: a helper in another session held stdout, so the run waited for it (40 s here;
    forever for a daemon) and then said it had timed out."""
    pid_file = tmp_path / "holder.pid"
    cmd = _program(tmp_path, "detach.py", DETACHING) + f" {pid_file}"
    started = time.monotonic()
    try:
        done = _run(tmp_path, cmd, "-o", "timeout=3")
        assert time.monotonic() - started < 25
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "command timed out after 3 s" in done.stderr
    assert "it exited, but a process it started still holds its output" in done.stderr


SECOND_BATCH_BAD = """\
    import json, pathlib, sys
    calls = pathlib.Path(sys.argv[1])
    calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
    ids = [json.loads(line)["id"] for line in sys.stdin]
    for i, doc in enumerate(ids):
        record = {"id": doc + ":c", "doc_id": doc, "layer": "claims", "label": "CLAIM",
                  "start": 0, "end": 1}
        if calls.read_text() == "xx" and i == 1:
            record["start"] = "zero"
        print(json.dumps(record))
"""


def test_a_bad_line_of_the_second_batch_names_the_batch_and_its_document(
    tmp_path: Path,
) -> None:
    """Before: ``<PROGRAM stdout>:2``, the line counted from the start of each batch's
    answer and nothing naming the batch: line 2 of which of the batches?"""
    release = release_with_test_claims(tmp_path, 9)
    ids = [d.id for d in open_release(release).documents()]
    cmd = _program(tmp_path, "second.py", SECOND_BATCH_BAD) + f" {tmp_path / 'calls'}"
    out = tmp_path / "out.jsonl"
    done = run_cli(
        "run", "command", "-o", f"cmd={cmd}", "--split", "all", "--batch-size", "3",
        "--release", release, "--out", out,
    )  # fmt: skip
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    batch = f"<{sys.executable}'s answer for documents {ids[3]!r} … {ids[5]!r} (3)>"
    said = f"{batch}:2: field 'start': bad output line (document {ids[4]!r}): "
    assert said in done.stderr, done.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3  # the first batch's


def test_a_failing_batch_is_named_by_its_documents(tmp_path: Path) -> None:
    """Before: ``command exited with 3`` alone, whichever batch it was."""
    done = _run(tmp_path, "sh -c 'exit 3'")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"<sh's answer for document {DOCUMENT_ID!r}>: command exited with 3" in done.stderr


def test_a_key_misspelled_in_every_batch_is_warned_of_once_a_run(tmp_path: Path) -> None:
    """Each batch's answer is located on its own; an unknown key still counts for the run."""
    release = release_with_test_claims(tmp_path, 9)
    misspelling = QUOTING.replace('"quote":', '"atributes": {}, "quote":')
    done = run_cli(
        "run", "command", "-o", f"cmd={_program(tmp_path, 'misspell.py', misspelling)}",
        "--split", "all", "--batch-size", "3", "--release", release, "--out", tmp_path / "o.jsonl",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [warned] = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert "(3)>:1: field 'atributes': unknown key" in warned
