"""``claimwire init``: a new project folder, from the packaged defaults.

The folder gets ``claimwire.toml``, ``corpus/raw/``, the default schema to edit
(``annotation/schema.yaml``), guidelines and Label Studio configs generated from it, the
default benchmark tasks (``eval/tasks/``), a README stub and a ``.gitignore``. A new folder
is built beside its place and renamed into it; an empty folder (``claimwire init .``) is
filled where it is (:mod:`claimwire.in_place`), its entries built in a hidden folder inside it,
then moved up one by one. A failure leaves nothing behind either way; what a killed ``init``
left is removed by the next one.
"""

from __future__ import annotations

from pathlib import Path

from claimwire.annotation.guidelines import BEGIN, END, render_tables
from claimwire.annotation.label_studio.config import write_configs
from claimwire.annotation.schema import load_schema
from claimwire.defaults import default_file
from claimwire.errors import ClaimwireError
from claimwire.files import atomic_directory, folder_lock
from claimwire.in_place import clean_dead_staging, filled_in_place
from claimwire.project import PROJECT_FILE

GITIGNORE = """\
# claimwire: local virtualenvs, caches and staging folders
.venv/
.venv-ls/
.cache/
__pycache__/
.*.tmp/
"""


def _toml(name: str, lang: str) -> str:
    return (
        "# A claimwire project: commands run anywhere below this folder find this file.\n"
        f'name = "{name}"\n'
        f'lang = "{lang}"\n\n'
        "[paths]\n"
        'corpus = "corpus"\n'
        'annotation = "annotation"\n'
        'eval = "eval"\n'
    )


def _readme(name: str, lang: str) -> str:
    return f"""# {name}

A claimwire project (language `{lang}`): press releases, their annotation and benchmarks.

```sh
cp my-releases/*.txt corpus/raw/              # raw inputs: .txt, .html, .jsonl[.gz|.zst]
claimwire corpus build --version 0.1.0        # an immutable, checksummed release
claimwire run rules --out runs/rules.jsonl    # a baseline over the newest release
claimwire eval score runs/rules.jsonl --task claims
claimwire annotate config                     # Label Studio configs from the schema
claimwire hub export --out hub/0.1.0          # parquet, dataset card, croissant.json
```

Edit `annotation/schema.yaml` to change the labels, then `claimwire annotate guidelines`
and `claimwire annotate config` regenerate what derives from it.
"""


def _guidelines(name: str) -> str:
    return (
        f"# Annotation guidelines — {name}\n\n"
        "Write here how annotators decide each label; the tables below are generated from "
        "`annotation/schema.yaml` by `claimwire annotate guidelines`.\n\n"
        f"{BEGIN}\n{END}\n"
    )


def _copy(source: Path, target: Path) -> None:
    """``source`` (a file, or a folder of them) copied to ``target``; an error writing names
    the file written, not the packaged one read (``shutil``'s copies name the source)."""
    if source.is_dir():
        target.mkdir()
        for entry in sorted(source.iterdir()):
            _copy(entry, target / entry.name)
        return
    data = source.read_bytes()
    try:
        target.write_bytes(data)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(target)) from error


def init_project(target: Path, lang: str = "fr") -> list[Path]:
    """Create a project in ``target`` (new, or an empty folder, filled in place: the working
    folder too); returns the files written. What a killed ``init`` left in the folder is
    removed first (:func:`claimwire.in_place.clean_dead_staging`)."""
    if not lang.isalpha() or len(lang) not in (2, 3):
        raise ClaimwireError(f"expected a language code such as fr or en, got {lang!r}")
    name = target.resolve().name
    if not target.is_dir():
        _check_empty(target)
        with atomic_directory(target) as staging:
            _write_project(staging, name, lang)
    else:
        with folder_lock(target):  # one init at a time; a staging folder found is a dead one's
            clean_dead_staging(target)
            _check_empty(target)
            with filled_in_place(target) as staging:
                _write_project(staging, name, lang)
    return sorted(p for p in target.rglob("*") if p.is_file())


def _check_empty(target: Path) -> None:
    """Refuse a ``target`` that is a file, or a folder that holds anything."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ClaimwireError(
            "is not empty; claimwire init makes a project in a new or empty folder", file=target
        )


def _write_project(staging: Path, name: str, lang: str) -> None:
    """The project's files, written into ``staging``."""
    (staging / "corpus" / "raw").mkdir(parents=True)
    (staging / "annotation" / "gold").mkdir(parents=True)
    (staging / "eval").mkdir()
    _copy(default_file("schema.yaml"), staging / "annotation" / "schema.yaml")
    _copy(default_file("tasks"), staging / "eval" / "tasks")
    schema = load_schema(staging / "annotation" / "schema.yaml")
    guidelines = _guidelines(name).replace(f"{BEGIN}\n", f"{BEGIN}\n\n{render_tables(schema)}\n")
    (staging / "annotation" / "guidelines.md").write_text(guidelines, encoding="utf-8")
    write_configs(schema, staging / "annotation" / "label_studio", check=False)
    (staging / PROJECT_FILE).write_text(_toml(name, lang), encoding="utf-8")
    (staging / "README.md").write_text(_readme(name, lang), encoding="utf-8")
    (staging / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    for keep in ("corpus/raw", "annotation/gold"):
        (staging / keep / ".gitkeep").touch()
