"""Names built from data: safe, unique, never a path; Hub repository ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimwire.annotation.label_studio.convert import to_results
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.names import AUTHOR_MAX, author_name, check_repo_id, child, safe_name

from .helpers import REPO, run_cli


@pytest.mark.parametrize(
    "hostile",
    [
        "../corpus/releases/1.0.0/annotations@x",
        "/abs/dir/name@x",
        "..",
        ".",
        "",
        "a/../../b",
        "\x00nul",
        "con\nsole",
        ".hidden",
        "$(rm -rf ~)@x",
        "ａ／ｂ",
    ],
)
def test_safe_name_is_one_plain_name(hostile: str, tmp_path: Path) -> None:
    name = safe_name(hostile)
    assert "/" not in name and not name.startswith(".") and ".." not in name
    assert child(tmp_path, name).parent == tmp_path


@given(st.text(max_size=60), st.text(max_size=60))
def test_safe_names_are_unique(first: str, second: str) -> None:
    if first != second:
        assert safe_name(first) != safe_name(second)


@pytest.mark.parametrize(
    "plain", ["alice@example.org", "gold", "Zoë Müller", "أحمد@example.org", "a" * AUTHOR_MAX]
)
def test_an_author_s_plain_name_is_kept_as_it_is(plain: str) -> None:
    assert author_name(plain) == plain


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 10_000 + "@example.org",
        "alice@x.org\nbob: 0 annotations",
        "\u202eelif@x.org",  # a right-to-left override: shown reversed
        "eve\x1b[31m@x.org\x07",  # a terminal escape and a bell
        "zero\u200bwidth",
        "line\u2028separator",
        "tab\tbed",
        "nul\x00",
    ],
)
def test_an_author_s_name_is_capped_and_on_one_visible_line(hostile: str) -> None:
    name = author_name(hostile)
    assert len(name) <= AUTHOR_MAX and name.isprintable() and name != hostile
    assert author_name(name) == name  # kept as it is the next time it is read


@given(st.text(max_size=300), st.text(max_size=300))
def test_author_names_are_unique(first: str, second: str) -> None:
    if first != second:
        assert author_name(first) != author_name(second)


def test_plain_emails_keep_their_name_and_stay_distinct() -> None:
    assert safe_name("alice@a.example") == "alice@a.example"
    assert safe_name("alice@b.example") != safe_name("alice@a.example")


@pytest.mark.parametrize("name", ["../x.xml", "/etc/x.xml", "a/b.xml", ".x.xml", "a..b"])
def test_child_refuses_names_that_leave_the_folder(name: str, tmp_path: Path) -> None:
    with pytest.raises(ClaimwireError, match="cannot be a file name"):
        child(tmp_path, name)


def test_child_refuses_a_symlink_out(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link.xml").symlink_to(tmp_path / "elsewhere.xml")
    with pytest.raises(ClaimwireError, match="outside"):
        child(tmp_path / "out", "link.xml")


@pytest.mark.parametrize("good", ["org/name", "Org-1/my_data.set", "a/b"])
def test_repo_ids_of_the_hub_grammar_pass(good: str) -> None:
    assert check_repo_id(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "/abs/path",
        "../../x",
        "org/na\nme",
        "org/$(touch x)",
        "org/name/extra",
        "name",
        "org/..",
        "org/a--b",
        "org/x.git",
        "-org/name",
        "org/" + "x" * 97,
    ],
)
def test_other_repo_ids_are_refused(bad: str) -> None:
    with pytest.raises(ClaimwireError, match="ORG/NAME"):
        check_repo_id(bad)


def test_pull_from_file_with_hostile_emails_writes_inside_out(tmp_path: Path) -> None:
    release = REPO / "corpus" / "releases" / "1.0.0"
    document = next(open_release(release).documents())
    gold = list(open_release(release).annotations())
    emails = ["../../x/annotations@x", "/tmp/abs@x", "alice@a.example", "alice@b.example"]
    export = [
        {
            "id": 1,
            "data": {"text": document.text, "doc_id": document.id},
            "annotations": [
                {
                    "id": n,
                    "completed_by": {"id": n, "email": e},
                    "result": to_results(
                        gold[: n + 1], [], load_schema(release / "schema.yaml"), document.text
                    ),
                }
                for n, e in enumerate(emails)
            ],
        }
    ]
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export), encoding="utf-8")
    root = tmp_path / "root"
    out = root / "a" / "b" / "sets"
    result = run_cli("annotate", "pull", "--from-file", source, "--out", out, "--release", release)
    assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert len(written) == 8 and all(p.parent == Path("a/b/sets") for p in written), written
    assert sum(p.name.endswith(".completed.txt") for p in written) == 4  # each set's list
    assert (out / "alice@a.example.jsonl").exists() and (out / "alice@b.example.jsonl").exists()


def test_config_refuses_a_layer_named_like_a_path(tmp_path: Path) -> None:
    schema = (REPO / "annotation" / "schema.yaml").read_text(encoding="utf-8")
    layers = [line for line in schema.splitlines() if line.startswith("layers:")]
    assert layers, "the schema has a layers section"
    hostile = tmp_path / "schema.yaml"
    hostile.write_text(_rename_first_layer(schema, "../../escaped"), encoding="utf-8")
    out = tmp_path / "a" / "b" / "configs"
    result = run_cli("annotate", "config", "--schema", hostile, "--out", out)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("*.xml"))


def _rename_first_layer(schema: str, name: str) -> str:
    lines = schema.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layers:"))
    first = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].startswith("  ")
        and lines[i].strip()
        and not lines[i].startswith("   ")
        and lines[i].rstrip().endswith(":")
    )
    lines[first] = f"  {name}:"
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("repo_id", ["../x", "/abs", "org/na\nme", "org/$(touch pwned)"])
def test_hub_publish_refuses_a_hostile_repo_id(repo_id: str, tmp_path: Path) -> None:
    release = REPO / "corpus" / "releases" / "1.0.0"
    result = run_cli("hub", "publish", release, "--repo-id", repo_id, "--dry-run", cwd=tmp_path)
    assert result.returncode == 1 and "ORG/NAME" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_hub_load_never_reads_a_local_path_given_as_repo_id(tmp_path: Path) -> None:
    (tmp_path / "org" / "name").mkdir(parents=True)
    for repo_id in ("../../x", "org/name"):
        result = run_cli("hub", "load", "1.0.0", "--repo-id", repo_id, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "--repo-id" in result.stderr
