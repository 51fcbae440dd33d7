"""The transformers adapter, on tiny models built here (nothing is downloaded)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from .helpers import REPO, run_cli

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

RELEASE = REPO / "corpus" / "releases" / "1.0.0"


def tiny_model(path: Path, kind: str, labels: list[str], favourite: str) -> Path:
    """A 1-layer BERT whose classifier always prefers ``favourite``: outputs are predictable."""
    characters = string.ascii_lowercase + string.digits + string.punctuation + "’«»—–"
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *characters,
        *(f"##{c}" for c in characters),
    ]
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(
        vocab_file=str(path / "vocab.txt"), do_lower_case=True
    )
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(0)
    model_class = (
        transformers.BertForTokenClassification
        if kind == "token"
        else transformers.BertForSequenceClassification
    )
    model = model_class(config)
    with torch.no_grad():
        model.classifier.bias.zero_()
        model.classifier.bias[labels.index(favourite)] = 10.0
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_token_classification_model_gives_exact_spans(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "ner", "token", ["O", "B-SOURCE", "I-SOURCE"], "I-SOURCE")
    out = tmp_path / "hf.jsonl"
    result = run_cli("run", "hf", "-o", f"model={model}", "--release", RELEASE, "--out", out)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    [document] = open_documents()
    assert records and {r["label"] for r in records} == {"SOURCE"}
    for record in records:
        assert record["quote"]["exact"] == document.text[record["start"] : record["end"]]
        assert not record["quote"]["exact"][0].isspace()
    assert (
        run_cli("eval", "check", out, "--task", "attribution", "--release", RELEASE).returncode == 0
    )


def test_text_classification_model_labels_every_stance_pair(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "stance", "sequence", ["FAVOR", "AGAINST", "NONE"], "AGAINST")
    out = tmp_path / "stance.jsonl"
    result = run_cli(
        "run",
        "hf",
        "-o",
        f"model={model}",
        "-o",
        "task=text-classification",
        "--release",
        RELEASE,
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 12 and {r["attributes"]["stance"] for r in records} == {"AGAINST"}
    scored = json.loads(
        run_cli("eval", "score", out, "--task", "stance", "--release", RELEASE, "--json").stdout
    )
    assert scored["stance"]["per_class"]["AGAINST"]["precision"] == 0.0


def test_a_missing_model_is_a_clear_error_not_a_download(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "hf",
        "-o",
        "model=camembert-base",
        "--release",
        RELEASE,
        "--out",
        tmp_path / "x.jsonl",
    )
    assert result.returncode == 1
    assert "not a local transformers model" in result.stderr and "Traceback" not in result.stderr


def open_documents():  # type: ignore[no-untyped-def]
    from claimwire.corpus.release import open_release

    return list(open_release(RELEASE).documents())
