"""The metrics of one training run of a sweep, read from its stage artifacts.

- `bpb/<domain>`, `bpb/all`: held-out bits per byte (eval/perplexity.py) on the sweep's held-out set;
- `accuracy/<task>`, `accuracy/all`: per-item correctness (`samples.jsonl`), kept by item id so two runs
  are compared on the items both answered;
- `jsd/layer<L>`: mean Jensen-Shannon divergence (bits) between the domains' expert loads, over domain pairs,
  with a bootstrap interval over the probed documents when the probe kept every token's experts
  (`tokens.npz`). One routing number per layer keeps the family of comparisons small; the generalised JSD
  gets its bootstrap interval too, kept with the run, and every other routing metric stays in the probe's
  `metrics.json`.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from ablate.stats import bootstrap_documents

N_BOOT = 1000


def perplexity_metrics(folder: str | Path) -> dict[str, float]:
    result = json.loads((Path(folder) / "perplexity.json").read_text())
    out = {f"bpb/{d}": v["bpb"] for d, v in result["domains"].items()}
    out["bpb/all"] = result["all"]["bpb"]
    return out


def eval_items(folder: str | Path) -> dict[str, dict[str, bool]]:
    """{task: {item id: correct}} of an eval run (its verified samples)."""
    from eval.report import load_run

    items: dict[str, dict[str, bool]] = {}
    for row in load_run(folder, with_samples=True)[1]:
        items.setdefault(row["task"], {})[str(row["id"])] = bool(row["correct"])
    return items


def accuracy_items(items: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    """{"accuracy/<task>": {item: correct}, "accuracy/all": {task/item: correct}}: what accuracies pair on."""
    out = {f"accuracy/{task}": dict(v) for task, v in items.items()}
    out["accuracy/all"] = {f"{task}/{i}": c for task, v in items.items() for i, c in v.items()}
    return out


def routing_documents(folder: str | Path) -> dict[str, Any] | None:
    """Per-document expert selections of a probe run: {layers, domains, top_k, docs: {domain: [N, L, E]}}.

    None when `tokens.npz` does not hold every probed token (the probe's `sample_tokens` was smaller than
    its token budget), since a bootstrap over a truncated sample would describe another set of documents."""
    folder = Path(folder)
    with np.load(folder / "counts.npz", allow_pickle=False) as c:
        n_tokens, n_e, top_k = c["n_tokens"], int(c["num_experts"]), int(c["top_k"])
        layers, names = c["layers"].tolist(), c["domains"].tolist()
    with np.load(folder / "tokens.npz", allow_pickle=False) as z:
        experts, dom, doc = z["experts"], z["domain"], z["doc"]  # [T, L, k], [T], [T]
    if len(dom) != int(n_tokens[0].sum()):
        return None
    docs = {}
    for d, name in enumerate(names):
        rows = np.flatnonzero(dom == d)
        if not len(rows):
            continue
        _, which = np.unique(doc[rows], return_inverse=True)  # [T_d] document index of every token
        counts = np.zeros((which.max() + 1, len(layers), n_e), dtype=np.int64)  # [N, L, E]
        layer = np.arange(len(layers))[None, :]  # [1, L]
        for j in range(experts.shape[2]):  # each of the k experts a token chose
            np.add.at(counts, (which[:, None], layer, experts[rows, :, j].astype(np.int64)), 1)
        docs[name] = counts
    return {"layers": layers, "domains": list(docs), "top_k": top_k, "docs": docs}


def routing_statistic(totals: list[np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
    """[B, 2L]: mean pairwise JSD then generalised JSD per layer, from per-domain selections [B, L, E]."""
    from probes.metrics import entropy_bits, jsd

    f = np.stack([t / np.maximum(t.sum(-1, keepdims=True), 1) for t in totals], axis=1)  # [B, D, L, E] loads
    pairs = list(combinations(range(f.shape[1]), 2))
    mean_jsd = (np.mean([jsd(f[:, a], f[:, b]) for a, b in pairs], axis=0) if pairs
                else np.zeros((f.shape[0], f.shape[2])))  # [B, L]
    w = np.full(f.shape[1], 1 / f.shape[1]) if weights is None else weights / weights.sum()
    mix = np.einsum("d,bdle->ble", w, f)
    gjsd = np.clip(entropy_bits(mix) - np.einsum("d,bdl->bl", w, entropy_bits(f)), 0.0, None)
    return np.concatenate([mean_jsd, gjsd], axis=-1)


def routing_metrics(folder: str | Path, n_boot: int = N_BOOT, seed: int = 0) -> tuple[dict[str, float],
                                                                                       dict[str, dict]]:
    """({"jsd/layer<L>": value}, {"jsd/layer<L>", "gjsd/layer<L>": {value, ci_low, ci_high}}) of a probe run:
    the values enter the comparisons, the intervals (bootstrap over documents) describe this run alone."""
    run = routing_documents(folder)
    if run is None:
        from probes import load_result

        return {f"jsd/layer{x['layer']}": x["mean_jsd"] for x in load_result(folder)["per_layer"]}, {}
    groups = [run["docs"][d] for d in run["domains"]]
    weights = np.array([g.sum() for g in groups], dtype=np.float64)  # token shares, as the probe weighs domains
    est, low, high = bootstrap_documents(groups, lambda t: routing_statistic(t, weights), n_boot, seed=seed)
    names = [f"jsd/layer{x}" for x in run["layers"]] + [f"gjsd/layer{x}" for x in run["layers"]]
    intervals = {n: {"value": round(float(v), 6), "ci_low": round(float(lo), 6), "ci_high": round(float(hi), 6)}
                 for n, v, lo, hi in zip(names, est, low, high, strict=True)}
    # only the mean JSD is compared across variants; the generalised JSD keeps its value and interval here
    values = {n: x["value"] for n, x in intervals.items() if n.startswith("jsd/")}
    return values, intervals
