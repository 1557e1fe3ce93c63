"""The label -> distil -> tag recipe, measured: fastText accuracy and speed, LLM labelling concurrency.

    python benchmarks/bench_classifier.py [--demo-docs 4000] [--per-class 200] [--llm-docs 96]

Accuracy (macro-F1 over the four domains):
  demo/held-out       fastText trained on demo gold labels, scored on its held-out split
  real/test           on the REAL sample of `real_sample.py` (text on this machine, test half), fastText trained on
                        demo gold labels, on heuristic labels of the real dev half, on gold labels of the
                        real dev half (an upper bound standing for good LLM labels); the heuristic for reference
Speed: fastText `predict` vs `predict_many` (docs/s, MB/s).
LLM labelling: a local OpenAI-compatible server answering after 50 ms; wall time at concurrency 1, 8 and 32,
and a rerun served from the cache (requests sent: 0). Results: benchmarks/results/bench_classifier.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
RESULTS = ROOT / "benchmarks" / "results" / "bench_classifier.json"


def macro_f1(gold: list[str], pred: list[str]) -> float:
    from curation.classifiers.fasttext_tagger import classification_metrics

    return round(classification_metrics(gold, pred)["macro_f1"], 4)


def top(probs: dict[str, float]) -> str:
    return max(probs, key=probs.__getitem__)


def accuracy(work: Path, demo_docs: int, per_class: int) -> dict:
    from real_sample import build_real_sample

    from curation.classifiers.fasttext_tagger import FastTextClassifier, train_fasttext
    from curation.classifiers.heuristic import HeuristicClassifier
    from curation.demo.data import iter_documents

    demo = list(iter_documents(demo_docs, seed=0))
    t0 = time.perf_counter()
    demo_metrics = train_fasttext(demo, work / "demo.bin", valid_fraction=0.2)
    train_s = time.perf_counter() - t0
    real = build_real_sample(per_class=per_class, seed=0)
    dev = [r for r in real if r["split"] == "dev"]
    test = [r for r in real if r["split"] == "test"]
    heuristic = HeuristicClassifier()
    heuristic_dev = [{**r, "label": heuristic.label(r["text"])} for r in dev]
    train_fasttext(heuristic_dev, work / "heuristic_distilled.bin", valid_fraction=0.0)
    train_fasttext(dev, work / "real_gold.bin", valid_fraction=0.0)
    gold = [r["label"] for r in test]
    texts = [r["text"] for r in test]
    scores = {"heuristic": macro_f1(gold, [heuristic.label(t) for t in texts])}
    for name in ("demo", "heuristic_distilled", "real_gold"):
        clf = FastTextClassifier(work / f"{name}.bin")
        scores[f"fasttext_{name}"] = macro_f1(gold, [top(p) for p in clf.predict_many(texts)])
    counts = {d: sum(r["label"] == d for r in test) for d in ("pure_code", "code_text", "math_text", "general")}
    return {"demo_heldout": {"n": demo_metrics["n_valid"], "macro_f1": round(demo_metrics["macro_f1"], 4),
                             "accuracy": round(demo_metrics["accuracy"], 4), "train_s": round(train_s, 2)},
            "real_test": {"n_dev": len(dev), "n_test": len(test), "test_counts": counts, "macro_f1": scores}}


def speed(work: Path, n: int = 4000) -> dict:
    from curation.classifiers.fasttext_tagger import FastTextClassifier
    from curation.demo.data import iter_documents

    texts = [d["text"] for d in iter_documents(n, seed=1)]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    clf = FastTextClassifier(work / "demo.bin")
    clf.predict(texts[0])  # load once
    t0 = time.perf_counter()
    for t in texts:
        clf.predict(t)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    clf.predict_many(texts)
    many = time.perf_counter() - t0
    return {"docs": n, "mb": round(mb, 2), "predict_docs_per_s": round(n / one), "predict_mb_per_s": round(mb / one, 2),
            "predict_many_docs_per_s": round(n / many), "predict_many_mb_per_s": round(mb / many, 2)}


def llm_labelling(work: Path, n: int) -> dict:
    from curation.classifiers.llm_label import LLMClassifier
    from tests.openai_server import FakeOpenAIServer

    texts = [f"document {i} [label:{('general', 'math_text')[i % 2]} scaffold:{i % 4}]" for i in range(n)]
    out = {"docs": n, "server_delay_s": 0.05}
    with FakeOpenAIServer(delay=0.05) as srv:
        for conc in (1, 8, 32):
            srv.reset_counts()
            clf = LLMClassifier(srv.base_url, "fake-model", cache_dir=work / f"cache{conc}", max_concurrency=conc)
            t0 = time.perf_counter()
            clf.label_many(texts)
            out[f"concurrency_{conc}"] = {"wall_s": round(time.perf_counter() - t0, 2),
                                          "max_in_flight": srv.max_in_flight, "requests": len(srv.requests)}
        srv.reset_counts()
        clf = LLMClassifier(srv.base_url, "fake-model", cache_dir=work / "cache32", max_concurrency=32)
        t0 = time.perf_counter()
        clf.label_many(texts)
        out["rerun_from_cache"] = {"wall_s": round(time.perf_counter() - t0, 3), "requests": len(srv.requests)}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demo-docs", type=int, default=4000)
    p.add_argument("--per-class", type=int, default=200)
    p.add_argument("--llm-docs", type=int, default=96)
    args = p.parse_args()
    from tracemix.atomic import write_json
    from tracemix.provenance import provenance

    with tempfile.TemporaryDirectory(prefix="tracemix-bench-clf-") as tmp:
        work = Path(tmp)
        result = {"accuracy": accuracy(work, args.demo_docs, args.per_class), "fasttext_speed": speed(work),
                  "llm_labelling": llm_labelling(work, args.llm_docs)}
    result.update(provenance(vars(args)))
    write_json(RESULTS, result)
    acc = result["accuracy"]
    print(f"demo held-out macro-F1 (fastText on demo labels): {acc['demo_heldout']['macro_f1']}")
    print(f"real test ({acc['real_test']['n_test']} docs) macro-F1:", acc["real_test"]["macro_f1"])
    print("fastText speed:", result["fasttext_speed"])
    print("LLM labelling:", result["llm_labelling"])
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
