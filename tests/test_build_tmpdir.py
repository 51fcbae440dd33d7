"""A full temporary folder during ``corpus build`` is named as such: it was reported as the
release's own disk being full ("corpus/releases/1.0.0: no space left … free space and
rerun"), so the user freed space on the wrong disk."""

from __future__ import annotations

import json
import random
from pathlib import Path

from .helpers import make_project, run_cli, tmpfs

WORDS = "le la les un une selon sondage pour cent millions hausse baisse commerce accord".split()


def _releases(count: int) -> str:
    """``count`` raw JSONL releases of a few hundred words each, every one different."""
    rng = random.Random(5)
    lines = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(400))
        lines.append(json.dumps({"text": f"Communiqué {n}.\n\n{words}.\n"}) + "\n")
    return "".join(lines)


def test_a_full_tmpdir_during_a_build_names_the_temporary_folder(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "tmp", "300k") as small:
        project = make_project(tmp_path / "p")
        (project / "corpus" / "raw").mkdir()
        (project / "corpus" / "raw" / "r.jsonl").write_text(_releases(1000), encoding="utf-8")
        built = run_cli(
            "corpus", "build", "--version", "1.0.0", cwd=project, env={"TMPDIR": str(small)}
        )
        assert built.returncode == 1, built.stdout + built.stderr
        [line] = [x for x in built.stderr.splitlines() if x.startswith("error:")]
        assert line.startswith(f"error: $TMPDIR ({small}): no space left"), line
        assert "set TMPDIR to a folder on a larger disk" in line
        assert not (project / "corpus" / "releases" / "1.0.0").exists()
