"""The paper's scaffold scorer: `classifier train-scaffold`, `classifier train --target scaffold`, `tag --scaffold`."""

from __future__ import annotations

import json
import statistics

import pyarrow.parquet as pq
import pytest

from curation.classifiers.cli import main
from curation.classifiers.registry import load_scaffold_scorer
from curation.classifiers.scaffold_fasttext import FastTextScaffoldScorer, scaffold_records
from curation.tagging.tag import run_tag
from tests.curation.classifiers.test_fasttext_tagger import synthetic_corpus
from tracemix.errors import DataError, RecipeError, TracemixError

FAST_FT = ["--dim", "16", "--bucket", "20000", "--epoch", "15"]


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _scores(folder) -> dict[str, list[float]]:
    by_label: dict[str, list[float]] = {}
    for path in sorted(folder.glob("*.parquet")):
        for row in pq.read_table(path, columns=["id", "scaffold_score"]).to_pylist():
            by_label.setdefault(row["id"], []).append(row["scaffold_score"])
    return by_label


def test_train_scaffold_then_tag_with_it(tmp_path, capsys):
    corpus = synthetic_corpus(240, seed=4)
    raw = _write(tmp_path / "raw" / "corpus.jsonl", corpus)
    run_tag(str(raw), tmp_path / "tagged", progress=False, quiet=True)
    model = tmp_path / "scaffold.bin"
    assert main(["train-scaffold", "--input", str(tmp_path / "tagged"), "--output", str(model),
                 "--valid-fraction", "0.25", *FAST_FT]) == 0
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "--scaffold fasttext:" in out
    metrics = json.loads((tmp_path / "scaffold.bin.metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9 and set(metrics["per_class"]) == {"code", "other"}
    assert metrics["positive"] == ["pure_code"] and metrics["negative"] == ["math_text", "general"]

    run_tag(str(raw), tmp_path / "tagged_ft", progress=False, quiet=True, scaffold=f"fasttext:{model}")
    manifest = json.loads((tmp_path / "tagged_ft" / "manifest.json").read_text())
    scorer = FastTextScaffoldScorer(model)
    assert manifest["scaffold_scorer"] == scorer.name and manifest["scaffold"] == f"fasttext:{model.resolve()}"
    heuristic_manifest = json.loads((tmp_path / "tagged" / "manifest.json").read_text())
    assert heuristic_manifest["scaffold_scorer"] == "scaffold-heuristic-v1"
    scores = {k: v[0] for k, v in _scores(tmp_path / "tagged_ft").items()}
    label = {r["id"]: r["label"] for r in corpus}
    code = statistics.mean(s for k, s in scores.items() if label[k] == "pure_code")
    prose = statistics.mean(s for k, s in scores.items() if label[k] == "general")
    assert code > 0.8 > 0.2 > prose  # the code probability: code clearly above prose
    assert scores == {k: pytest.approx(scorer.score(r["text"]), abs=1e-6) for k, r in
                      ((r["id"], r) for r in corpus)}


def test_llm_scaffold_ratings_distil_into_a_scorer(tmp_path):
    rows = synthetic_corpus(200, seed=5)
    for i, r in enumerate(rows):  # the rating follows the text: math gets 3, code 2, the rest 0
        r["scaffold_rating"] = {"math_text": 3, "pure_code": 2}.get(r["label"], 0)
        r["id"] = f"r{i}"
    labels = _write(tmp_path / "labels.jsonl", rows)
    model = tmp_path / "rating.bin"
    assert main(["train", "--labels", str(labels), "--target", "scaffold", "--output", str(model), *FAST_FT]) == 0
    scorer = load_scaffold_scorer(f"fasttext:{model}")
    math = [scorer.score(r["text"]) for r in rows if r["label"] == "math_text"]
    general = [scorer.score(r["text"]) for r in rows if r["label"] == "general"]
    assert statistics.mean(math) > 0.8 and statistics.mean(general) < 0.2 and scorer.score("  ") == 0.0

    rows[3]["scaffold_rating"] = 7
    _write(labels, rows)
    with pytest.raises(DataError, match="'scaffold_rating' is 7; a scaffold rating is an integer 0-3"):
        main(["train", "--labels", str(labels), "--target", "scaffold", "--output", str(model)])


def test_scaffold_errors_say_what_to_do(tmp_path):
    corpus = [r for r in synthetic_corpus(40, seed=6) if r["label"] != "pure_code"]
    raw = _write(tmp_path / "raw" / "corpus.jsonl", corpus)
    run_tag(str(raw), tmp_path / "tagged", progress=False, quiet=True)
    with pytest.raises(DataError, match="is tagged pure_code, so there is no 'code' class"):
        scaffold_records(tmp_path / "tagged")
    with pytest.raises(RecipeError, match="--positive pure_cod: use one or more of"):
        scaffold_records(tmp_path / "tagged", positive=("pure_cod",))
    with pytest.raises(DataError, match="train-scaffold --input TAGGED_FOLDER"):
        load_scaffold_scorer(f"fasttext:{tmp_path / 'missing.bin'}")
    with pytest.raises(RecipeError, match="Did you mean 'fasttext'"):
        load_scaffold_scorer("fastext:x.bin")
    domain_model = tmp_path / "domain.bin"
    assert main(["train", "--labels", str(raw), "--output", str(domain_model), *FAST_FT]) == 0
    with pytest.raises(TracemixError, match="neither code/other nor scaffold0-3"):
        FastTextScaffoldScorer(domain_model)
