"""Systems: registry, the rules baseline on sentences it was not written from, stance
baselines, the command and transformers adapters, resumable runs, and the benchmark."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from claimwire.benchmark import benchmark
from claimwire.corpus.ingest import RawDocument, build_document
from claimwire.corpus.release import build_release, open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.evaluate import Evaluation
from claimwire.model import Annotation, Document, replaced
from claimwire.systems.base import (
    DocumentOutput,
    RunContext,
    available_systems,
    load_system,
    run_system,
)
from claimwire.systems.rules import RulesSystem
from claimwire.systems.stance import LexiconSystem, SklearnSystem, StanceItem

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
OLD_RELEASE = REPO / "corpus" / "releases" / "1.0.0"  # schema 1.0.0: targets in the schema


def document(text: str) -> Document:
    return build_document(RawDocument(text, "synthetic.txt", "0" * 64))


@pytest.fixture(scope="module")
def rules() -> RulesSystem:
    return RulesSystem()


def spans(output: DocumentOutput, text: str, label: str) -> list[str]:
    return [
        text[a.start : a.end]
        for a in output.annotations
        if a.label == label and a.start is not None
    ]


def test_every_built_in_system_is_registered() -> None:
    assert {"rules", "stance-majority", "stance-lexicon", "stance-sklearn", "hf", "command"} <= set(
        available_systems()
    )
    with pytest.raises(ClaimwireError, match="unknown system 'oracle'"):
        load_system("oracle")
    listing = run_cli("systems")
    assert (
        "stance-sklearn" in listing.stdout
        and "claimwire.systems.stance:SklearnSystem" in listing.stdout
    )


def test_rules_on_new_sentences(rules: RulesSystem) -> None:
    text = (
        "Selon l’Insee, le chômage a reculé de 0,3 % au premier trimestre.\n\n"
        "« Nous allons investir davantage », a affirmé Marie Curie, directrice de l’institut.\n\n"
        "Jeanne Martin a souligné que les exportations vers le Japon ont atteint 12 milliards "
        "d’euros en 2023.\n\n"
        "Un sondage réalisé par Ifop pour Le Figaro du 3 au 5 mai auprès de 1 004 personnes en "
        "ligne indique que 61 % des personnes interrogées soutiennent la réforme."
    )
    doc = document(text)
    [output] = rules.annotate([doc], None)
    assert "Selon" in spans(output, text, "CUE") and "a affirmé" in spans(output, text, "CUE")
    sources = spans(output, text, "SOURCE")
    assert (
        "l’Insee" in sources
        and "Marie Curie, directrice de l’institut" in sources
        and "Jeanne Martin" in sources
    )
    assert "Nous allons investir davantage" in spans(output, text, "CLAIM") + spans(
        output, text, "CONTENT"
    )
    stats = {
        text[a.start : a.end]: a.attributes for a in output.annotations if a.label == "NUM_STAT"
    }
    assert (
        stats["12 milliards d’euros"]["value"] == "12000000000"
        and stats["12 milliards d’euros"]["unit"] == "EUR"
    )
    assert stats["12 milliards d’euros"]["time_reference"] == "2023"
    assert stats["0,3 %"]["unit"] == "percent"
    [poll] = [a for a in output.annotations if a.label == "SURVEY_STAT"]
    assert text[poll.start : poll.end] == "61 % des personnes interrogées"
    # the rules take the whole sentence up to its period as the proposition
    assert poll.attributes["proposition"] == text[text.index("Un sondage") : -1]
    [survey] = [a for a in output.annotations if a.label == "SURVEY"]
    fields = survey.attributes
    assert (
        fields["conductor"],
        fields["sponsor"],
        fields["sample_size"],
        fields["fieldwork_dates"],
        fields["mode"],
    ) == ("present",) * 5
    assert fields["population"] == "absent" and survey.attributes["name"] == "Survey by Ifop"
    attributed = {(r.type, r.head, r.tail) for r in output.relations}
    assert any(kind == "from_survey" and head == poll.id for kind, head, _ in attributed)
    assert sum(1 for r in output.relations if r.type == "evidence_of") == 5


def test_rules_output_passes_the_format_checker(tmp_path: Path) -> None:
    out = tmp_path / "rules.jsonl"
    result = run_cli("run", "rules", "--release", RELEASE, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "system:rules@1.0|" in result.stdout
    for task in ("claims", "attribution", "statistics"):
        assert run_cli("eval", "check", out, "--task", task, "--release", RELEASE).returncode == 0


def test_lexicon_judges_the_target_sentences() -> None:
    def judge(text: str) -> str:
        words = ("Belt and Road Initiative", "BRI", "Ceinture")
        return LexiconSystem.judge(StanceItem("d", "issuer", "d:t", text, words[0], words))

    assert judge("La BRI est un succès majeur.") == "FAVOR"
    assert judge("La Ceinture est un piège de la dette.") == "AGAINST"
    assert judge("Le traité est important.") == "NONE"


def test_sklearn_trains_when_there_is_a_training_split() -> None:
    system = SklearnSystem(min_train="4")
    train = [
        StanceItem("d", "issuer", "BRI", t)
        for t in (
            "un succès formidable",
            "une réussite remarquable",
            "un échec total",
            "une catastrophe",
        )
    ]
    labels = ["FAVOR", "FAVOR", "AGAINST", "AGAINST"]
    test = [
        StanceItem("d", "issuer", "BRI", "un succès"),
        StanceItem("d", "issuer", "BRI", "un échec"),
    ]
    assert system._fit_predict(train, labels, test) == ["FAVOR", "AGAINST"]
    assert system._fit_predict(train, labels, test) == system._fit_predict(train, labels, test)


@pytest.mark.parametrize("name", ["stance-majority", "stance-lexicon", "stance-sklearn"])
def test_stance_systems_answer_every_gold_pair(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.jsonl"
    assert run_cli("run", name, "--release", RELEASE, "--out", out).returncode == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    gold = [a for a in open_release(RELEASE).annotations() if a.label == "STANCE"]
    assert {(r["attributes"]["holder"], r["attributes"]["target"]) for r in records} == {
        (a.attributes["holder"], a.attributes["target"]) for a in gold
    }
    assert {r["attributes"]["stance"] for r in records} <= {"FAVOR", "AGAINST", "NONE"}
    again = tmp_path / "again.jsonl"
    run_cli("run", name, "--release", RELEASE, "--out", again)
    assert again.read_text() == out.read_text()  # seeded, deterministic


def test_baselines_still_run_on_a_release_with_the_old_schema(tmp_path: Path) -> None:
    """1.0.0 lists its stance targets in its schema and has a boolean interest flag."""
    for name, task in (("rules", "statistics"), ("stance-lexicon", "stance")):
        out = tmp_path / f"{name}.jsonl"
        assert run_cli("run", name, "--release", OLD_RELEASE, "--out", out).returncode == 0
        checked = run_cli("eval", "check", out, "--task", task, "--release", OLD_RELEASE)
        assert checked.returncode == 0, checked.stderr


FAKE = """
import json, sys
for line in sys.stdin:
    doc = json.loads(line)
    start, end = doc["sentences"][0]
    print(json.dumps({"id": doc["id"] + ":c1", "doc_id": doc["id"], "layer": "claims",
                      "label": "CLAIM", "start": start, "end": end - 1,
                      "attributes": {"claim_type": "other", "checkworthy": True}}))
"""


def test_command_system_runs_an_external_program(tmp_path: Path) -> None:
    program = tmp_path / "fake_llm.py"
    program.write_text(FAKE, encoding="utf-8")
    out = tmp_path / "llm.jsonl"
    result = run_cli(
        "run",
        "command",
        "-o",
        f"cmd={sys.executable} {program}",
        "--release",
        RELEASE,
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    assert run_cli("eval", "check", out, "--task", "claims", "--release", RELEASE).returncode == 0
    scored = json.loads(
        run_cli("eval", "score", out, "--task", "claims", "--release", RELEASE, "--json").stdout
    )
    assert (
        scored["schemes"]["strict"]["cor"]
        + scored["schemes"]["strict"]["inc"]
        + scored["schemes"]["strict"]["spu"]
        == 1
    )
    broken = tmp_path / "broken.py"
    broken.write_text("import sys; print('not json'); sys.exit(0)", encoding="utf-8")
    failed = run_cli(
        "run",
        "command",
        "-o",
        f"cmd={sys.executable} {broken}",
        "--release",
        RELEASE,
        "--out",
        tmp_path / "b.jsonl",
    )
    assert (
        failed.returncode == 1
        and "bad output line" in failed.stderr
        and "Traceback" not in failed.stderr
    )
    crash = run_cli(
        "run", "command", "-o", "cmd=false", "--release", RELEASE, "--out", tmp_path / "c.jsonl"
    )
    assert crash.returncode == 1 and "command exited with 1" in crash.stderr


class _Flaky:
    name, version, tasks = "flaky", "1", ("claims",)

    def __init__(self, fail_after: int | None) -> None:
        self.fail_after = fail_after
        self.seen = 0

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        outputs = []
        for doc in documents:
            if self.fail_after is not None and self.seen >= self.fail_after:
                raise KeyboardInterrupt
            self.seen += 1
            outputs.append(
                DocumentOutput(doc.id, list(RulesSystem().annotate([doc], context)[0].annotations))
            )
        return outputs


def test_runs_resume_and_interrupted_runs_leave_valid_files(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        json.dumps(
            {"text": f"Document {i}. Selon l’Insee, le PIB a augmenté de {i},5 %.", "split": "test"}
        )
        for i in range(1, 6)
    ]
    (raw / "docs.jsonl").write_text("\n".join(lines), encoding="utf-8")
    build_release(raw, tmp_path / "releases", "0.1.0")
    release = open_release(tmp_path / "releases" / "0.1.0")
    documents = list(release.documents())
    context = RunContext(release, documents, "test", documents)
    out = tmp_path / "run.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_system(_Flaky(fail_after=2), context, out, batch_size=1)
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "half-writ')  # a crash in the middle of a line
    first_ids = {json.loads(line)["doc_id"] for line in out.read_text().splitlines()[:-1]}
    assert len(first_ids) == 2
    run_system(_Flaky(fail_after=None), context, out, batch_size=2)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["doc_id"] for r in records} == {d.id for d in documents}
    assert len({r["id"] for r in records}) == len(records)  # nothing written twice
    with pytest.raises(ClaimwireError, match="not written by `claimwire run`"):
        foreign = tmp_path / "foreign.jsonl"
        foreign.write_text("{}\n")
        run_system(_Flaky(None), context, foreign)


def test_committed_leaderboard_and_runs_match_a_fresh_benchmark(tmp_path: Path) -> None:
    result = benchmark(
        RELEASE, tmp_path / "runs", tmp_path / "leaderboard.md", tmp_path / "report.html"
    )
    assert (tmp_path / "leaderboard.md").read_text(encoding="utf-8") == (
        REPO / "eval" / "leaderboard.md"
    ).read_text(encoding="utf-8")
    for system in ("rules", "stance-majority", "stance-lexicon", "stance-sklearn"):
        for name in ("predictions.jsonl", "predictions.jsonl.meta.json"):
            assert (tmp_path / "runs" / system / name).read_bytes() == (
                REPO / "eval" / "runs" / system / name
            ).read_bytes()
    assert set(result.results) == {"claims", "attribution", "statistics", "stance"}
    assert '<section class="task" data-task="stance">' in (tmp_path / "report.html").read_text()
    assert Evaluation.open(RELEASE, "claims").task.primary == "strict"


def test_stance_training_is_gathered_once_and_batches_do_not_change_predictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training pairs are built once per run (not per batch) from gold indexed by document:
    stance_items runs once per document, and any batch size gives the same file."""
    from claimwire.systems import stance

    words = ["Nous saluons ce progrès remarquable.", "Nous condamnons cette décision injuste."]
    docs = [
        replaced(document(f"Communiqué {i}. {words[i % 2]}"), split=split)
        for i, split in enumerate(["train"] * 30 + ["test"] * 6)
    ]
    gold = [
        Annotation(
            f"{d.id}:stance",
            d.id,
            "stance",
            "STANCE",
            attributes={"holder": "issuer", "target": "t", "stance": ["FAVOR", "AGAINST"][i % 2]},
        )
        for i, d in enumerate(docs)
    ]
    calls: list[str] = []
    original = stance.stance_items

    def counted(doc: Document, *rest: object) -> list[StanceItem]:
        calls.append(doc.id)
        return original(doc, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(stance, "stance_items", counted)
    outputs = []
    for batch_size in (1, 4):
        calls.clear()
        context = RunContext(open_release(RELEASE), docs[30:], "test", docs, gold)
        out = tmp_path / f"batch-{batch_size}.jsonl"
        run_system(SklearnSystem(), context, out, batch_size=batch_size, reproducible=True)
        outputs.append(out.read_bytes())
        assert sorted(calls) == sorted(d.id for d in docs)
    assert outputs[0] == outputs[1]
    labels = [json.loads(line)["attributes"]["stance"] for line in outputs[0].splitlines()]
    assert labels == ["FAVOR", "AGAINST"] * 3


def test_a_run_resumes_only_a_run_of_the_same_signature(tmp_path: Path) -> None:
    """Before: `run rules --out x` kept the command's predictions and rewrote the meta."""
    program = tmp_path / "fake_llm.py"
    program.write_text(FAKE, encoding="utf-8")
    out = tmp_path / "x.jsonl"
    command = ("run", "command", "-o", f"cmd={sys.executable} {program}")
    first = run_cli(*command, "--release", RELEASE, "--out", out)
    assert first.returncode == 0, first.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records and {r["author"] for r in records} == {"command"}  # not "gold"
    before = out.read_bytes(), (tmp_path / "x.jsonl.meta.json").read_bytes()
    other = run_cli("run", "rules", "--release", RELEASE, "--out", out)
    assert other.returncode == 1
    assert "holds another run (system:command@1.0|" in other.stderr
    assert "this run is system:rules@1.0|" in other.stderr
    assert "--overwrite" in other.stderr and "Traceback" not in other.stderr
    assert (out.read_bytes(), (tmp_path / "x.jsonl.meta.json").read_bytes()) == before
    again = run_cli(*command, "--release", RELEASE, "--out", out)  # same signature: resumes
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == before[0]
    replaced = run_cli("run", "rules", "--release", RELEASE, "--out", out, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    meta = json.loads((tmp_path / "x.jsonl.meta.json").read_text(encoding="utf-8"))
    assert meta["system"] == "rules"
    authors = {json.loads(line)["author"] for line in out.read_text().splitlines()}
    assert authors == {"rules"}


def test_unknown_system_options_are_refused_with_the_known_ones(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "stance-sklearn",
        "-o",
        "min_trian=5",
        "--release",
        RELEASE,
        "--out",
        tmp_path / "s.jsonl",
    )
    assert result.returncode == 1
    assert "unknown option min_trian for system stance-sklearn" in result.stderr
    assert "known: min_train, folds, seed" in result.stderr
    assert not (tmp_path / "s.jsonl").exists()


def test_rules_read_numbers_in_the_documents_language(rules: RulesSystem) -> None:
    """Before: an English release's "$94.8 billion" became 94,800,000,000,000 (French scale)."""
    text = "Trade between the two countries reached $94.8 billion in 2024, customs data show."
    english = replaced(document(text), lang="en")
    [output] = rules.annotate([english], None)
    values = [a.attributes.get("value") for a in output.annotations if a.label == "NUM_STAT"]
    assert values == ["94800000000"]
