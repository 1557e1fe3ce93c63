"""summary.json: the sweep's frame, each variant's metrics over its seeds, every comparison with the baseline.

Contract (the report and plots read it; other tools may too):

- `frame`: `tokenizer` (hash of the tokenizer files), `heldout` (path, relative to the sweep output, of the
  Parquet file with the held-out documents: `id`, `domain`, `text`), `heldout_hash`, `heldout_documents`;
- `variants[i]`: `name`, `label`, `seeds`, `metrics` {"bpb/<domain>", "bpb/all", "accuracy/<task>",
  "accuracy/all", "jsd/layer<L>": {"mean", "ci_low", "ci_high", "n"}} (n = seeds), and
  `runs` (one per seed: its metrics; `intervals`: {"jsd/layer<L>", "gjsd/layer<L>": {"value", "ci_low",
  "ci_high"}}, bootstrap over the run's probed documents; its stage records);
- `comparisons`: [{"metric", "a" (the baseline, the first variant), "b", "effect" (b minus a), "ci_low",
  "ci_high", "p_value", "p_adjusted", "significant", "test", "n"}], corrected over all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ablate import metrics as M
from ablate.stats import compare, correct, mean_ci, paired_accuracy
from tracemix.domains import DOMAINS


def run_metrics(stages: dict[str, Any]) -> tuple[dict[str, float], dict[str, dict], dict[str, dict]]:
    """(metric values, bootstrap intervals, accuracy items by metric) of one training run's stage records."""
    values: dict[str, float] = {}
    intervals: dict[str, list[float]] = {}
    items: dict[str, dict[str, bool]] = {}
    if "perplexity" in stages:
        values |= M.perplexity_metrics(stages["perplexity"]["result"]["path"])
    if "eval" in stages:
        items = M.accuracy_items(M.eval_items(stages["eval"]["result"]["path"]))
        values |= {m: sum(v.values()) / len(v) for m, v in items.items() if v}
    if "probe" in stages:
        routing, intervals = M.routing_metrics(stages["probe"]["result"]["path"])
        values |= routing
    return values, intervals, items


def _metric_order(name: str) -> tuple:
    family, _, part = name.partition("/")
    families = ["bpb", "accuracy", "jsd", "gjsd"]
    rank = {d: i for i, d in enumerate(DOMAINS)}
    layer = int(part[5:]) if part.startswith("layer") and part[5:].isdigit() else 0
    return (families.index(family) if family in families else len(families), part == "all",
            rank.get(part, len(rank)), layer, part)


def variant_record(variant: dict[str, Any], shared: dict[str, Any], runs: dict[int, dict[str, Any]]) -> dict:
    """One `variants[i]` entry: per-seed metrics and their mean and 95% interval over seeds."""
    seeds = sorted(runs)
    per_run = []
    for seed in seeds:
        values, intervals, items = run_metrics(runs[seed])
        per_run.append({"seed": seed, "metrics": values, "intervals": intervals, "items": items,
                        "stages": runs[seed]})
    names = sorted({m for r in per_run for m in r["metrics"]}, key=_metric_order)
    metrics = {m: mean_ci([r["metrics"].get(m) for r in per_run]) for m in names}
    return {"name": variant["name"], "label": variant["label"], "overrides": variant["overrides"], "seeds": seeds,
            "metrics": metrics, "runs": per_run, "stages": shared}


def comparisons(variants: list[dict[str, Any]], alpha: float, method: str) -> list[dict[str, Any]]:
    """Every variant against the first on every metric both have, corrected over the whole list.

    Accuracy is paired twice: items (both runs of a seed are scored on the items both answered) and seeds."""
    if len(variants) < 2:
        return []
    base, out = variants[0], []
    for other in variants[1:]:
        for metric in base["metrics"]:
            if metric not in other["metrics"]:
                continue
            a, b = _per_seed(base, other, metric)
            result = compare(a, b)
            out.append({"metric": metric, "a": base["name"], "b": other["name"], **result, "n": len(b)})
    return correct(out, alpha, method)


def _per_seed(base: dict, other: dict, metric: str) -> tuple[dict[int, float], dict[int, float]]:
    runs_a = {r["seed"]: r for r in base["runs"]}
    runs_b = {r["seed"]: r for r in other["runs"]}
    if metric.startswith("accuracy/") and set(runs_a) == set(runs_b):
        a, b = {}, {}
        for seed in runs_a:
            acc_a, acc_b, n = paired_accuracy(runs_a[seed]["items"].get(metric, {}),
                                              runs_b[seed]["items"].get(metric, {}))
            if n:
                a[seed], b[seed] = acc_a, acc_b
        return a, b
    return ({s: r["metrics"].get(metric) for s, r in runs_a.items()},
            {s: r["metrics"].get(metric) for s, r in runs_b.items()})


def frame_record(frame: dict[str, Any], frame_dir: Path, out: Path) -> dict[str, Any]:
    result = frame["result"]
    return {"tokenizer": result["tokenizer_hash"], "tokenizer_path": result["tokenizer"],
            "heldout": str((frame_dir / "heldout.parquet").relative_to(out)),
            "heldout_hash": result["heldout_hash"], "heldout_documents": result["heldout_documents"],
            "heldout_by_domain": result["heldout_by_domain"], "heldout_fraction": result["heldout_fraction"]}


def strip_items(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The variants without per-item correctness (it stays in each eval stage's samples.jsonl)."""
    return [{**v, "runs": [{k: x for k, x in r.items() if k != "items"} for r in v["runs"]]} for v in variants]
