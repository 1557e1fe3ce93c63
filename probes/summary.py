"""Turn routing counts into the metrics.json block and the long routing table."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from probes import metrics as M


def _r(x: float, nd: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def routing_rows(model: str, state: dict[str, np.ndarray], layers, domains) -> dict[str, list]:
    """Columns of routing.parquet: one row per (layer, domain, expert)."""
    sel, prob, n_tok = state["selected"], state["prob_sum"], state["n_tokens"]
    n_l, n_d, n_e = sel.shape
    li, di, ei = np.meshgrid(np.arange(n_l), np.arange(n_d), np.arange(n_e), indexing="ij")
    return {
        "model": [model] * sel.size,
        "layer": np.asarray(layers)[li].reshape(-1).astype(np.int32).tolist(),
        "domain": np.asarray(domains, dtype=object)[di].reshape(-1).tolist(),
        "expert": ei.reshape(-1).astype(np.int32).tolist(),
        "n_selected": sel.reshape(-1).astype(np.int64).tolist(),
        "prob_sum": prob.reshape(-1).astype(np.float64).tolist(),
        "n_tokens": n_tok[li, di].reshape(-1).astype(np.int64).tolist(),
    }


def summarise(state: dict[str, np.ndarray], layers: list[int], domains: list[str], num_experts: int,
              top_k: int, lift_threshold: float = M.LIFT_THRESHOLD,
              core_coverage: float = M.CORE_COVERAGE) -> dict[str, Any]:
    """All routing metrics of one probe run (DESIGN.md 'Routing metrics'); unprobed domains are left out."""
    keep = [i for i in range(len(domains)) if state["n_tokens"][0, i] > 0]  # a zero row would skew lift
    state = {key: value[:, keep] for key, value in state.items()}
    domains = [domains[i] for i in keep]
    n_tok = state["n_tokens"]
    f = M.load(state["selected"], n_tok, top_k)  # [L, D, E]
    p = M.soft_load(state["prob_sum"], n_tok)
    ent = M.normalised_entropy(f)  # [L, D]
    spec = M.specialization(f, top_k)
    jsd = M.jsd_matrix(f)  # [L, D, D]
    weights = n_tok[0] / n_tok[0].sum() if n_tok[0].sum() else np.ones(len(domains)) / len(domains)
    gjsd = M.generalised_jsd(f, weights)
    ca = M.coactivation(state["coact"])  # [L, E, E] pooled over domains
    ca_dom = M.coactivation(state["coact"], by_domain=True)  # [L, D, E, E]
    rep_any, rep_first = M.repeat_rates(state["repeat_any"], state["repeat_first"], state["repeat_pairs"])
    contested = M.contested_experts(f, lift_threshold)  # [L, E]
    c_share = M.contested_share(f, contested)
    probed = list(range(len(domains)))
    pairs = list(combinations(probed, 2))

    per_layer, per_layer_domain = [], []
    for li, layer in enumerate(layers):
        cores = {domains[d]: M.core_experts(f[li, d], core_coverage) for d in probed}
        per_layer.append({
            "layer": int(layer),
            "jsd": {domains[a]: {domains[b]: _r(jsd[li, a, b]) for b in probed} for a in probed},
            "mean_jsd": _r(np.mean([jsd[li, a, b] for a, b in pairs])) if pairs else None,
            "generalised_jsd": _r(gjsd[li]),
            "contested_experts": [int(e) for e in np.flatnonzero(contested[li])],
            "core_experts": cores,
            "core_jaccard": {f"{domains[a]}|{domains[b]}": _r(M.jaccard(cores[domains[a]], cores[domains[b]]))
                             for a, b in pairs},
            "top_coactivation": [[i, j, _r(v)] for i, j, v in M.top_pairs(ca[li])],
        })
        for d in probed:
            top = np.argsort(-spec[li, d], kind="stable")[:3]
            per_layer_domain.append({
                "layer": int(layer), "domain": domains[d], "n_tokens": int(n_tok[li, d]),
                "normalised_entropy": _r(ent[li, d]),
                "max_specialization": _r(spec[li, d].max()),
                "top_experts": [[int(e), _r(spec[li, d, e])] for e in top],
                "max_soft_load": _r(p[li, d].max()),
                "repeat_rate": _r(rep_any[li, d]), "first_choice_repeat_rate": _r(rep_first[li, d]),
                "contested_share": _r(c_share[li, d]),
                "top_coactivation": [[i, j, _r(v)] for i, j, v in M.top_pairs(ca_dom[li, d])],
            })

    pair_jsd = {f"{domains[a]}|{domains[b]}": _r(jsd[:, a, b].mean()) for a, b in pairs}
    return {
        "num_experts": num_experts, "top_k": top_k, "layers": [int(x) for x in layers],
        "domains": [domains[d] for d in probed],
        "n_tokens": {domains[d]: int(n_tok[0, d]) for d in probed},
        "thresholds": {"lift": lift_threshold, "core_coverage": core_coverage},
        "baselines": {"specialization_uniform": top_k / num_experts,
                      "repeat_random": M.repeat_baseline(num_experts, top_k),
                      "first_choice_repeat_random": 1.0 / num_experts},
        "summary": {
            "mean_jsd_by_pair": pair_jsd,
            "mean_generalised_jsd": _r(gjsd.mean()),
            "mean_normalised_entropy": {domains[d]: _r(ent[:, d].mean()) for d in probed},
            "mean_max_specialization": {domains[d]: _r(spec[:, d].max(-1).mean()) for d in probed},
            "mean_repeat_rate": {domains[d]: _r(rep_any[:, d].mean()) for d in probed},
            "mean_contested_share": {domains[d]: _r(c_share[:, d].mean()) for d in probed},
            "n_contested_experts": int(contested.sum()),
        },
        "per_layer": per_layer,
        "per_layer_domain": per_layer_domain,
    }
