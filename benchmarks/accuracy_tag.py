"""Domain-tagging accuracy: macro-F1, per-class F1 and confusion matrices of the taggers.

    python benchmarks/accuracy_tag.py [--demo-docs 4000] [--per-class 400] [--seed 0] [--epoch 25] [--no-packages]

Taggers:
  heuristic              `curation.classifiers.heuristic.HeuristicClassifier` (no training)
  fasttext-demo-gold     fastText trained on the gold labels of the demo corpus's train split
  fasttext-heuristic     fastText trained on heuristic labels of the demo train split plus the real dev texts
                         (their gold labels unused): the "label with a cheap tagger, distil" recipe
Evaluation sets:
  demo-test              held-out 20% of the generated demo corpus (by hash of id)
  demo-chats             generated conversations, flattened as "role: content" turns
  real-dev / real-test   the REAL sample of `real_sample.py` (text on this machine nobody here wrote, plus
                         the package sources of `real_corpora.py`, fetched once into a cache), split by a hash
                         of its path. The heuristic's weights were set looking at real-dev only; real-test is
                         reported, never tuned on. Accuracy is also reported per source (kind of text).
Results: a printed table and benchmarks/results/accuracy_tag.json (with provenance).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
RESULTS = ROOT / "benchmarks" / "results" / "accuracy_tag.json"


def _metrics(gold: list[str], pred: list[str]) -> dict:
    from curation.classifiers.fasttext_tagger import classification_metrics

    return classification_metrics(gold, pred)


def _train(records: list[dict], path: Path, epoch: int, seed: int):
    """A fastText model behind the classifier interface, trained on `{"id", "text", "label"}` records."""
    from curation.classifiers.fasttext_tagger import FastTextClassifier, train_fasttext

    train_fasttext(records, path, epoch=epoch, seed=seed, valid_fraction=0.0)
    return FastTextClassifier(path)


def _labels(clf, texts: list[str]) -> list[str]:
    if hasattr(clf, "predict_many"):
        probs = clf.predict_many(texts)
    else:
        probs = [clf.predict(t) for t in texts]
    return [max(p, key=p.__getitem__) for p in probs]


def _throughput(clf, texts: list[str]) -> dict:
    """CPU-time throughput on one core (process time, so other jobs on the machine do not skew it)."""
    n_bytes = sum(len(t.encode()) for t in texts)
    start = time.process_time()
    for text in texts:
        clf.predict(text)
    cpu = max(1e-9, time.process_time() - start)
    return {"mb_per_s": n_bytes / cpu / 1e6, "docs_per_s": len(texts) / cpu, "mb": n_bytes / 1e6}


def _print_table(results: dict, sets: list[str]) -> None:
    print(f"\n{'macro-F1':<22}" + "".join(f"{s:>12}" for s in sets))
    for name, per_set in results.items():
        row = "".join(f"{per_set[s]['macro_f1']:>12.3f}" if s in per_set else f"{'-':>12}" for s in sets)
        print(f"{name:<22}{row}")


def _print_detail(title: str, m: dict) -> None:
    from tracemix.domains import DOMAINS

    print(f"\n{title}: macro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}, n={m['n']}")
    corner = "gold \\ predicted"
    print(f"{corner:<18}" + "".join(f"{d:>11}" for d in DOMAINS) + f"{'F1':>8}")
    for g in DOMAINS:
        row = "".join(f"{m['confusion'][g][p]:>11}" for p in DOMAINS)
        print(f"{g:<18}{row}{m['per_class'][g]['f1']:>8.3f}")


def _per_source(rows: list[dict], pred: list[str]) -> dict[str, dict]:
    """Accuracy per kind of text (each kind has one gold label) and what it was taken for when wrong."""
    out: dict[str, dict] = {}
    for row, p in zip(rows, pred, strict=True):
        s = out.setdefault(f"{row['label']}/{row['kind']}", {"n": 0, "correct": 0, "wrong_as": Counter()})
        s["n"] += 1
        s["correct"] += p == row["label"]
        if p != row["label"]:
            s["wrong_as"][p] += 1
    return {k: {"n": v["n"], "accuracy": v["correct"] / v["n"], "wrong_as": dict(v["wrong_as"])}
            for k, v in sorted(out.items())}


def _print_sources(per_source: dict) -> None:
    names = list(per_source)
    print(f"\n{'accuracy per source (test | dev)':<36}" + "".join(f"{n:>26}" for n in names))
    for kind in per_source[names[0]]["real-test"]:
        cells = []
        for n in names:
            t, d = per_source[n]["real-test"].get(kind), per_source[n]["real-dev"].get(kind)
            fmt = lambda s: f"{s['accuracy']:.2f} ({s['n']})" if s else "-"  # noqa: E731
            cells.append(f"{fmt(t)} | {fmt(d)}")
        print(f"{kind:<36}" + "".join(f"{c:>26}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-docs", type=int, default=4000)
    parser.add_argument("--demo-chats", type=int, default=400)
    parser.add_argument("--per-class", type=int, default=400, help="real documents per domain (before split)")
    parser.add_argument("--no-packages", action="store_true",
                        help="only text already on the machine: skip the packages of real_corpora.py")
    parser.add_argument("--cache", type=Path, default=None, help="real_corpora.py cache folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epoch", type=int, default=25)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from real_corpora import DEFAULT_CACHE, fetch
    from real_corpora import __doc__ as PACKAGE_RULES
    from real_sample import RULES, build_real_sample

    from curation.classifiers.fasttext_tagger import in_valid_split
    from curation.classifiers.heuristic import HeuristicClassifier
    from curation.demo.data import iter_chats, iter_documents
    from curation.tagging.records import flatten_messages
    from tracemix.atomic import write_json
    from tracemix.provenance import provenance

    t0 = time.perf_counter()
    demo = list(iter_documents(args.demo_docs, seed=args.seed))
    demo_train = [d for d in demo if not in_valid_split(d["id"], args.seed, 0.2)]
    demo_test = [d for d in demo if in_valid_split(d["id"], args.seed, 0.2)]
    chats = [{"id": c["id"], "text": flatten_messages(c["messages"]), "label": c["label"]}
             for c in iter_chats(args.demo_chats, seed=args.seed)]
    print(f"building the real sample from files on this machine (up to {args.per_class} per domain) ...",
          flush=True)
    cache = None if args.no_packages else fetch(args.cache or DEFAULT_CACHE)
    real = build_real_sample(per_class=args.per_class, seed=args.seed, cache=cache)
    real_dev = [r for r in real if r["split"] == "dev"]
    real_test = [r for r in real if r["split"] == "test"]
    composition = Counter(f"{r['label']}/{r['kind']}/{r['split']}" for r in real)
    print(f"real sample: {len(real_dev)} dev + {len(real_test)} test documents "
          f"({time.perf_counter() - t0:.0f} s)")
    eval_sets = {"demo-test": demo_test, "demo-chats": chats, "real-dev": real_dev, "real-test": real_test}

    heuristic = HeuristicClassifier()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tracemix-acc-") as tmp:
        taggers = {"heuristic": heuristic}
        print("training fastText on demo gold labels ...", flush=True)
        taggers["fasttext-demo-gold"] = _train(demo_train, Path(tmp) / "demo_gold.bin", args.epoch, args.seed)
        print("training fastText on heuristic labels ...", flush=True)
        unlabeled = demo_train + real_dev
        silver = [{"id": r["id"], "text": r["text"], "label": lab}
                  for r, lab in zip(unlabeled, _labels(heuristic, [r["text"] for r in unlabeled]), strict=True)]
        taggers["fasttext-heuristic"] = _train(silver, Path(tmp) / "heuristic.bin", args.epoch, args.seed)
        per_source: dict[str, dict] = {}
        for name, clf in taggers.items():
            results[name] = {}
            for set_name, rows in eval_sets.items():
                pred = _labels(clf, [r["text"] for r in rows])
                results[name][set_name] = _metrics([r["label"] for r in rows], pred)
                if set_name.startswith("real-"):
                    per_source.setdefault(name, {})[set_name] = _per_source(rows, pred)
        all_texts = [r["text"] for r in real] + [d["text"] for d in demo_test]
        speed = {"heuristic": _throughput(heuristic, all_texts),
                 "heuristic-demo-only": _throughput(heuristic, [d["text"] for d in demo_test]),
                 "fasttext": _throughput(taggers["fasttext-demo-gold"], all_texts)}

    sets = list(eval_sets)
    _print_table(results, sets)
    _print_detail("heuristic on real-test", results["heuristic"]["real-test"])
    _print_detail("heuristic on real-dev", results["heuristic"]["real-dev"])
    _print_sources(per_source)
    print("\nthroughput (CPU time, one core): " + ", ".join(
        f"{k} {v['mb_per_s']:.1f} MB/s" for k, v in speed.items()))

    config = {"demo_docs": args.demo_docs, "demo_chats": args.demo_chats, "per_class": args.per_class,
              "seed": args.seed, "epoch": args.epoch}
    write_json(args.output, {
        "benchmark": "accuracy_tag",
        "macro_f1": {name: {s: m["macro_f1"] for s, m in per_set.items()} for name, per_set in results.items()},
        "metrics": results,
        "per_source": per_source,
        "throughput": speed,
        "sets": {name: len(rows) for name, rows in eval_sets.items()},
        "real_sample": {"composition": dict(sorted(composition.items())), "rules": RULES,
                        "package_rules": PACKAGE_RULES if cache else None},
        **provenance(config),
    })
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
