"""The installed-wheel journey: claimwire as a user gets it from PyPI, on a project of their own.

The sdist is built from (a copy of) this checkout, the wheel from the unpacked sdist (so the
sdist must carry the packaged data too), and the wheel is installed — not editable — into a
fresh virtualenv in a temporary folder outside the checkout. That virtualenv sees the already
installed dependencies through a path entry (a ``.pth`` line naming the current
site-packages: ``.pth`` files *there*, such as an editable install's, are not processed), and
the test first proves that ``claimwire`` is imported from the new virtualenv. Then, with no
checkout in reach (working directory outside it, no PYTHONPATH): ``claimwire init demo``, a
French release of our own with quote-anchored gold, ``corpus build``, ``run rules``,
``eval score``, ``annotate config``, ``hub export`` and ``datasets.load_dataset``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from .helpers import REPO

RELEASE = """\
LYON, le 12 mars 2025 /PRNewswire/ -- La société Bioval a annoncé mercredi l'ouverture \
d'une usine de 40 millions d'euros à Villeurbanne. « Ce site créera 250 emplois d'ici \
2027 », a déclaré Claire Martin, directrice générale de Bioval.

Selon un sondage réalisé par l'institut Opinia pour Bioval du 3 au 5 mars 2025 auprès de \
1 012 personnes, 68 % des personnes interrogées jugent prioritaire la production locale \
de médicaments.

Le marché européen des génériques a atteint 1,2 milliard d'euros en 2024, d'après le \
cabinet Eurostudies.
"""
GOLD = """\
source: communique-lyon.txt
author: gold
annotations:
  - id: claim-jobs
    label: CLAIM
    quote: "Ce site créera 250 emplois d'ici 2027"
    attributes: {claim_type: quantity, checkworthy: true}
  - id: claim-market
    label: CLAIM
    quote: "Le marché européen des génériques a atteint 1,2 milliard d'euros en 2024"
    attributes: {claim_type: quantity, checkworthy: true}
  - id: num-market
    label: NUM_STAT
    quote: "1,2 milliard d'euros"
    attributes: {value: "1200000000", unit: EUR, qualifier: exact}
"""
PACKAGED = {
    "claimwire/defaults/schema.yaml",
    "claimwire/defaults/tasks/claims.yaml",
    "claimwire/defaults/label_studio/full.xml",
}


def _run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _checkout_copy(to: Path) -> Path:
    """This checkout's files as a fresh clone has them (what ``.gitignore`` names left out).
    The sdist is built there: its ``*.egg-info`` is not rewritten beside the ``src`` that the
    tests running at the same time import claimwire (and its entry points) from."""
    lines = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    ignored = [line.strip().rstrip("/") for line in lines if line.strip()[:1] not in ("", "#")]
    shutil.copytree(REPO, to, symlinks=True, ignore=shutil.ignore_patterns(".git", *ignored))
    return to


def _build(tmp: Path) -> tuple[Path, Path]:
    """sdist from (a copy of) the checkout, wheel from the unpacked sdist (setuptools' PEP 517
    hooks)."""
    dist = tmp / "dist"
    dist.mkdir()
    hook = "import sys; from setuptools import build_meta as b; print(b.build_{}(sys.argv[1]))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    checkout = _checkout_copy(tmp / "checkout")
    sdist_name = _run(sys.executable, "-c", hook.format("sdist"), dist, cwd=checkout, env=env)
    sdist = dist / sdist_name.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # Python ≥ 3.11.4
            archive.extractall(tmp / "unpacked", filter="data")
        else:  # an archive we just built ourselves
            archive.extractall(tmp / "unpacked")
    (source,) = (tmp / "unpacked").iterdir()
    wheel_name = _run(sys.executable, "-c", hook.format("wheel"), dist, cwd=source, env=env)
    return sdist, dist / wheel_name.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtualenv with the wheel installed, and the environment to run it in."""
    tmp = tmp_path_factory.mktemp("wheel")
    sdist, wheel = _build(tmp)
    with tarfile.open(sdist) as archive:
        in_sdist = {
            name.split("/", 1)[1].removeprefix("src/") for name in archive.getnames() if "/" in name
        }
    assert in_sdist >= PACKAGED
    assert set(zipfile.ZipFile(wheel).namelist()) >= PACKAGED
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "shared-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps"]
    _run(*pip, "--no-index", wheel, cwd=tmp, env={**env, "PATH": os.environ["PATH"]})
    return venv, env


def test_the_installed_wheel_runs_the_three_journeys_on_a_users_project(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed
    where = _run(
        venv / "bin" / "python",
        "-c",
        "import claimwire; print(claimwire.__file__)",
        cwd=tmp_path,
        env=env,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(REPO)

    def claimwire(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        return _run(venv / "bin" / "claimwire", *args, cwd=cwd, env=env)

    claimwire("init", "demo", "--lang", "fr", cwd=tmp_path)
    demo = tmp_path / "demo"
    (demo / "corpus" / "raw" / "communique-lyon.txt").write_text(RELEASE, encoding="utf-8")
    (demo / "corpus" / "raw" / "communique-lyon.txt.meta.yaml").write_text(
        "split: test\n", encoding="utf-8"
    )
    (demo / "annotation" / "gold" / "communique-lyon.yaml").write_text(GOLD, encoding="utf-8")

    built = claimwire(
        "corpus", "build", "--version", "0.1.0", "--gold", "annotation/gold", cwd=demo
    )
    assert "annotations 3" in built.stdout
    shipped = sorted(p.name for p in (demo / "corpus" / "releases" / "0.1.0" / "tasks").iterdir())
    assert shipped == sorted(p.name for p in (demo / "eval" / "tasks").glob("*.yaml"))
    run = claimwire("run", "rules", "--out", "runs/rules.jsonl", cwd=demo / "corpus")
    assert "release 0.1.0" in run.stderr
    scored = claimwire(
        "eval", "score", "runs/rules.jsonl", "--task", "claims", "--json", cwd=demo / "corpus"
    )
    result = json.loads(scored.stdout)
    assert result["task"] == "claims" and "corpus:0.1.0@" in result["signature"]
    assert 0.0 < result["primary"]["value"] <= 1.0
    claimwire("annotate", "config", "--check", cwd=demo)
    claimwire("hub", "export", "--out", tmp_path / "hub", cwd=demo)
    # The dataset is dropped and collected before exit: Arrow threads that outlive it into
    # the interpreter's teardown may abort the process after its work is done (a known
    # datasets/pyarrow defect: huggingface/datasets#7566, apache/arrow#45214).
    load = (
        "import gc, sys, datasets; d = datasets.load_dataset(sys.argv[1], 'claims'); "
        "print(sum(split.num_rows for split in d.values()), flush=True); del d; gc.collect()"
    )
    loaded = _run(venv / "bin" / "python", "-c", load, tmp_path / "hub", cwd=tmp_path, env=env)
    assert int(loaded.stdout.strip().splitlines()[-1]) == 2


def test_outside_a_project_the_installed_tool_says_how_to_make_one(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed
    done = subprocess.run(
        [venv / "bin" / "claimwire", "eval", "check", "x.jsonl", "--task", "claims"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "claimwire init" in done.stderr and "Traceback" not in done.stderr
