import json
import pickle
import signal
import time

import pytest
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from curation import DomainTagger
from curation.classifiers.scaffold import scaffold_score
from curation.tagging.tagger import (
    FALLBACK_CHARS,
    FALLBACK_LINE_CHARS,
    NormaliseText,
    fallback_window,
    iter_tagged,
)
from tracemix.domains import DOMAINS


class Planted:
    """Scores planted by keyword, so the expected tags are known in advance."""

    name = "planted-v0"

    def predict(self, text):
        hot = "math_text" if "=" in text else "general"
        return {d: (0.7 if d == hot else 0.1) for d in DOMAINS}


def test_tags_every_metadata_key():
    docs = [Document(text="x = 1 + 2 = 3", id="m"), Document(text="Café au lait.", id="g")]
    out = list(DomainTagger(Planted()).run(iter(docs)))
    assert [d.metadata["domain"] for d in out] == ["math_text", "general"]
    assert out[0].metadata["domain_scores"] == {
        "pure_code": 0.1,
        "code_text": 0.1,
        "math_text": 0.7,
        "general": 0.1,
    }
    assert out[1].metadata["n_bytes"] == len("Café au lait.".encode()) == 14
    assert out[0].metadata["scaffold_score"] == scaffold_score("x = 1 + 2 = 3")
    assert out[0].metadata["tagger"] == "planted-v0" and "n_tokens" not in out[0].metadata


def test_counts_domains_in_stats():
    tagger = DomainTagger(Planted(), batch_size=2)
    list(tagger.run(iter([Document(text=t, id=str(i)) for i, t in enumerate(["a=b", "c", "d", "e=f", "g"])])))
    assert tagger.stats["domain/math_text"].total == 2 and tagger.stats["domain/general"].total == 3
    assert tagger.stats["bytes/general"].total == 3


def test_token_counts_and_pickling(tiny_tokenizer_dir, tiny_tokenizer):
    tagger = DomainTagger("heuristic", tokenizer=str(tiny_tokenizer_dir))
    text = "def add(a, b):\n    return a + b\n"
    (meta,) = [d.metadata for d in tagger.run(iter([Document(text=text, id="c")]))]
    assert meta["n_tokens"] == len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])
    assert abs(sum(meta["domain_scores"].values()) - 1) < 1e-9 and meta["domain"] in DOMAINS
    clone = pickle.loads(pickle.dumps(tagger))  # loaded objects stay behind; the task reloads them
    assert clone._clf is None and clone._tok is None and clone.tokenizer == str(tiny_tokenizer_dir)


def test_normalise_strips_nul_and_reflattens_chats():
    docs = [
        Document(text="a\x00b\ufeff", id="1"),
        Document(text="user: x\x00", id="2", metadata={"messages": [{"role": "user", "content": "x\x00"}]}),
        Document(text="\x00\x00", id="3"),
    ]
    out = list(NormaliseText().run(iter(docs)))
    assert [(d.id, d.text) for d in out] == [("1", "ab"), ("2", "user: x")]
    assert out[1].metadata["messages"] == [{"role": "user", "content": "x"}]


def test_iter_tagged_for_quick_checks():
    (meta,) = list(iter_tagged(["Step 1: 2x = 4. Step 2: x = 2."], classifier=Planted()))
    assert meta["domain"] == "math_text"


def test_drops_into_a_plain_datatrove_pipeline(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    rows = [{"id": "1", "text": "y = m x + b"}, {"id": "2", "text": "A quiet morning by the lake."}]
    (src / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    LocalPipelineExecutor(
        [
            JsonlReader(str(src)),
            DomainTagger(Planted()),
            JsonlWriter(str(tmp_path / "out"), compression=None),
        ],
        tasks=1,
        workers=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    out = [json.loads(line) for line in (tmp_path / "out" / "00000.jsonl").read_text().splitlines()]
    assert [(r["id"], r["metadata"]["domain"], r["metadata"]["tagger"]) for r in out] == [
        ("1", "math_text", "planted-v0"),
        ("2", "general", "planted-v0"),
    ]


@pytest.mark.parametrize("bad", ["heuristc"])
def test_bad_spec_fails_when_the_step_starts(bad):
    from tracemix.errors import RecipeError

    with pytest.raises(RecipeError):
        list(DomainTagger(bad).run(iter([Document(text="x", id="1")])))


class PlantedWithScaffold(Planted):
    """Also offers the combined call, with a scaffold score the standalone one would never give."""

    def predict_with_scaffold(self, text):
        return self.predict(text), 0.25


def test_uses_the_combined_call_when_the_classifier_has_one():
    docs = [Document(text="x = 1 + 2 = 3", id="m"), Document(text="Plain words.", id="g")]
    out = list(DomainTagger(PlantedWithScaffold()).run(iter(docs)))
    assert [d.metadata["scaffold_score"] for d in out] == [0.25, 0.25]
    assert [d.metadata["domain"] for d in out] == ["math_text", "general"]


def test_heuristic_tags_equal_predict_and_scaffold_score():
    from curation.classifiers.heuristic import HeuristicClassifier

    texts = ["Step 1: 2x = 4\nStep 2: x = 2\nTherefore x = 2.", "def f(x):\n    return x + 1\n", "Hello there."]
    clf = HeuristicClassifier()
    for meta, text in zip(iter_tagged(texts), texts, strict=True):
        assert meta["domain_scores"] == clf.predict(text)
        assert meta["scaffold_score"] == scaffold_score(text)


class Slow:
    """Sleeps on documents that say 'slow' (a stand-in for a pathological input); instant otherwise."""

    name = "slow-v0"

    def __init__(self, window_too: bool = False):
        self.window_too = window_too

    def predict(self, text):
        if "slow" in text and (self.window_too or len(text) > FALLBACK_CHARS):
            time.sleep(5)
        return {d: (0.7 if d == "math_text" else 0.1) for d in DOMAINS}


def test_time_budget_falls_back_to_a_window_then_to_general():
    long_slow = "slow " + "word " * 1_000  # longer than the fallback window
    docs = [Document(text="fast", id="a"), Document(text=long_slow, id="b"), Document(text="ok", id="c")]
    tagger = DomainTagger(Slow(), time_budget_s=0.2)
    start = time.perf_counter()
    out = {d.id: d.metadata for d in tagger.run(iter(docs))}
    assert time.perf_counter() - start < 2
    assert [out[k].get("tag_fallback") for k in "abc"] == [None, "window", None]
    assert out["b"]["domain"] == "math_text"  # the window is short: judged normally
    assert tagger.stats["tag_fallback/window"].total == 1

    tagger = DomainTagger(Slow(window_too=True), time_budget_s=0.1)
    (meta,) = [d.metadata for d in tagger.run(iter([Document(text="slow", id="s")]))]
    assert meta["tag_fallback"] == "general" and meta["domain"] == "general"
    assert meta["domain_scores"] == dict.fromkeys(DOMAINS, 0.25) and meta["scaffold_score"] == 0.0
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL  # the previous handler is back


def test_fallback_window_cuts_lines_and_length():
    text = "a" * 10_000 + "\n" + "b\n" * 5_000
    window = fallback_window(text)
    assert window.split("\n")[0] == "a" * FALLBACK_LINE_CHARS and len(window) <= FALLBACK_CHARS


def test_scaffold_scorer_is_pluggable():
    class Half:
        name = "half-v0"

        def score(self, text):
            return 0.5

    (meta,) = [d.metadata for d in DomainTagger("heuristic", scaffold=Half()).run(iter([Document(text="x", id="1")]))]
    assert meta["scaffold_score"] == 0.5 and meta["tagger"] == "heuristic-v2"
