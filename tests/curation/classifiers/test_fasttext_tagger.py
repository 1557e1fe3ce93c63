"""fastText domain classifier: training, held-out metrics, determinism, pickling, bad model files."""

from __future__ import annotations

import json
import pickle
import random

import pytest

from curation.classifiers.fasttext_tagger import (
    FastTextClassifier,
    _zero_filled_allocations,
    classification_metrics,
    flatten,
    in_valid_split,
    train_fasttext,
)
from tracemix.domains import DOMAINS
from tracemix.errors import DataError, TracemixError

# Small model: the corpus is a few hundred documents.
SMALL = {"dim": 16, "bucket": 20_000, "epoch": 15}

_WORDS = ["river", "market", "lantern", "garden", "harbor", "violin", "meadow", "council", "season", "archive", "journey", "orchard", "festival", "winter", "painter", "island", "library", "bridge", "village", "museum"]
_VARS = ["x", "y", "z", "n", "k", "total", "count", "value", "items", "result"]


def _prose(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def _code(rng: random.Random) -> str:
    a, b = rng.sample(_VARS, 2)
    return (f"def {rng.choice(_WORDS)}_{a}({a}, {b}):\n    if {a} > {rng.randint(1, 9)}:\n"
            f"        return {a} * {b}\n    for i in range({b}):\n        {a} += i\n    return {a}\n")


def _math(rng: random.Random) -> str:
    a, b = rng.randint(2, 40), rng.randint(2, 40)
    return (f"Let $f(x) = {a}x^2 + {b}x$. Then $f'(x) = {2 * a}x + {b}$, so the derivative vanishes at "
            f"$x = -{b}/{2 * a}$. Step 1: we have {a} + {b} = {a + b}. Step 2: therefore the total is {a * b}.")


def synthetic_corpus(n: int, seed: int = 0) -> list[dict]:
    """Labelled documents for the four domains with random content (a stand-in for the demo corpus)."""
    rng = random.Random(seed)
    makers = {
        "pure_code": lambda: _code(rng) + "\n" + _code(rng),
        "code_text": lambda: f"{_prose(rng, 12)} Here is how:\n\n```python\n{_code(rng)}```\n\n{_prose(rng, 8)}",
        "math_text": lambda: f"{_prose(rng, 6)} {_math(rng)}",
        "general": lambda: " ".join(_prose(rng, rng.randint(8, 16)) for _ in range(3)),
    }
    return [{"id": f"doc-{i}", "text": makers[DOMAINS[i % 4]](), "label": DOMAINS[i % 4]} for i in range(n)]


def demo_or_synthetic(tmp_path, n: int = 400) -> list[dict]:
    """The project's demo corpus when its generator is available, else the synthetic one above."""
    try:
        from curation.demo.data import main as demo_main
    except ImportError:
        return synthetic_corpus(n)
    out = tmp_path / "demo"
    assert demo_main(["--output", str(out), "--docs", str(n), "--seed", "3"]) in (0, None)
    return [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]


def test_flatten_and_split_are_deterministic():
    assert flatten("def f():\n    return 1\n") == "def f(): return 1"
    picks = [in_valid_split(f"id{i}", 7, 0.2) for i in range(2000)]
    assert picks == [in_valid_split(f"id{i}", 7, 0.2) for i in range(2000)]
    assert 300 < sum(picks) < 500  # ~20 %
    assert picks != [in_valid_split(f"id{i}", 8, 0.2) for i in range(2000)]


def test_classification_metrics_exact():
    gold = ["pure_code", "pure_code", "general", "math_text"]
    pred = ["pure_code", "general", "general", "math_text"]
    m = classification_metrics(gold, pred)
    assert m["accuracy"] == 0.75
    assert m["per_class"]["pure_code"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m["per_class"]["general"]["precision"] == 0.5
    assert m["confusion"]["pure_code"] == {"pure_code": 1, "code_text": 0, "math_text": 0, "general": 1}
    # code_text is absent from gold and predictions: it does not drag the macro mean down.
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1.0) / 3)


def test_train_reaches_sane_accuracy_and_metrics_shape(tmp_path):
    records = demo_or_synthetic(tmp_path)
    model = tmp_path / "domain.bin"
    m = train_fasttext(records, model, seed=0, valid_fraction=0.25, **SMALL)
    assert model.is_file()
    assert m["n_train"] + m["n_valid"] == len([r for r in records if r["text"].strip()])
    assert m["n_valid"] > 40
    assert m["accuracy"] >= 0.8, m
    assert m["macro_f1"] >= 0.75, m
    assert set(m["per_class"]) == set(DOMAINS)
    assert set(m["confusion"]) == set(DOMAINS)
    assert sum(sum(row.values()) for row in m["confusion"].values()) == m["n_valid"]
    assert m["params"]["seed"] == 0 and m["params"]["thread"] == 1
    json.dumps(m)  # the CLI writes it as JSON


def test_single_thread_training_is_reproducible(tmp_path):
    records = synthetic_corpus(120)
    a = train_fasttext(records, tmp_path / "a.bin", seed=5, **SMALL)
    b = train_fasttext(records, tmp_path / "b.bin", seed=5, **SMALL)
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    assert a["confusion"] == b["confusion"]


def test_classifier_predicts_distribution_and_pickles(tmp_path):
    model = tmp_path / "domain.bin"
    train_fasttext(synthetic_corpus(200), model, **SMALL)
    clf = FastTextClassifier(model)
    assert clf.name.startswith("fasttext:domain:") and len(clf.name.split(":")[2]) == 8
    text = "def area_x(x, y):\n    if x > 3:\n        return x * y\n    return x\n"
    probs = clf.predict(text)
    assert set(probs) == set(DOMAINS)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-9)
    assert max(probs, key=probs.get) == "pure_code"
    blob = pickle.dumps(clf)
    assert len(blob) < 10_000  # the model stays behind; workers reload it from the path
    clone = pickle.loads(blob)
    assert clone._model is None
    assert clone.predict(text) == probs
    assert clone.name == clf.name
    assert clf.predict_many([text, "The river market opens at dawn."])[0] == probs
    assert clf.predict(" \n ") == {"pure_code": 0.0, "code_text": 0.0, "math_text": 0.0, "general": 1.0}


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(TracemixError, match="fastText model not found.*tracemix classifier train"):
        FastTextClassifier(tmp_path / "nope.bin")


def test_model_with_foreign_labels_is_rejected(tmp_path):
    import fasttext

    data = tmp_path / "sent.txt"
    data.write_text("__label__positive good great\n__label__negative bad awful\n" * 5)
    foreign = tmp_path / "sentiment.bin"
    with _zero_filled_allocations():  # the same guard against fastText's uninitialised rows
        model = fasttext.train_supervised(input=str(data), epoch=1, dim=4, bucket=1000, thread=1, verbose=0)
    model.save_model(str(foreign))
    with pytest.raises(TracemixError, match=r"\['negative', 'positive'\] are not domains"):
        FastTextClassifier(foreign)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(TracemixError, match="not a fastText model"):
        FastTextClassifier(junk)


def test_bad_records_name_the_record(tmp_path):
    with pytest.raises(DataError, match="record 1: label 'poetry' is not a domain"):
        train_fasttext([{"text": "a", "label": "general"}, {"text": "b", "label": "poetry"}], tmp_path / "m.bin")
    with pytest.raises(DataError, match="labels.jsonl:3: missing string field 'text'"):
        train_fasttext([{"label": "general", "_where": "labels.jsonl:3"}], tmp_path / "m.bin")
    assert not (tmp_path / "m.bin").exists()
