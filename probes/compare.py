"""Compare two probe runs (two checkpoints on the same data): displacement, saturation, contested shifts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from probes import metrics as M
from probes.counts import load_counts
from probes.report import _table, save_layer_plot
from tracemix.atomic import write_json, write_text
from tracemix.errors import TracemixError
from tracemix.plots import pyplot
from tracemix.provenance import provenance


def _load_run(run: str | Path) -> tuple[dict, dict, str]:
    run = Path(run)
    for name in ("counts.npz", "tokens.npz", "metrics.json"):
        if not (run / name).is_file():
            raise TracemixError(f"'{run}' has no {name}; pass two folders written by `tracemix probe --output`.")
    with np.load(run / "tokens.npz", allow_pickle=False) as z:
        tokens = {key: z[key] for key in z.files}
    model = json.loads((run / "metrics.json").read_text()).get("model", str(run))
    return load_counts(run / "counts.npz"), tokens, model


def _token_keys(tokens: dict) -> list[tuple]:
    return list(zip(tokens["doc"].tolist(), tokens["position"].tolist(), tokens["token"].tolist(), strict=True))


def saturation_by_domain(tok_a: dict, tok_b: dict, domains: list[str], top_k: int) -> dict[str, Any]:
    """Router saturation on the tokens both runs sampled (same document, position and token id)."""
    index_b = {key: i for i, key in enumerate(_token_keys(tok_b))}
    pairs = [(i, index_b[key]) for i, key in enumerate(_token_keys(tok_a)) if key in index_b]
    if not pairs:
        return {"n_tokens": 0, "per_layer": [], "per_domain": {}}
    ia, ib = (np.asarray(x) for x in zip(*pairs, strict=True))
    ea, eb = tok_a["experts"][ia], tok_b["experts"][ib]  # [N, L, k]
    names_a = tok_a["domain_names"].tolist()
    dom = np.asarray([names_a[d] for d in tok_a["domain"][ia]])
    per_domain = {d: [float(x) for x in M.router_saturation(ea[dom == d], eb[dom == d], top_k)]
                  for d in domains if (dom == d).any()}
    return {"n_tokens": int(len(pairs)), "per_layer": [float(x) for x in M.router_saturation(ea, eb, top_k)],
            "per_domain": per_domain}


def compare_runs(run_a, run_b, output, *, lift_threshold: float = M.LIFT_THRESHOLD) -> dict:
    """Compare probe runs A (before) and B (after); writes metrics.json, report.md, displacement.png."""
    ca, ta, model_a = _load_run(run_a)
    cb, tb, model_b = _load_run(run_b)
    e, k = int(ca["num_experts"]), int(ca["top_k"])
    if (e, k) != (int(cb["num_experts"]), int(cb["top_k"])) or ca["layers"].tolist() != cb["layers"].tolist():
        raise TracemixError(f"runs differ in architecture: A has {e} experts top-{k}, layers "
                            f"{ca['layers'].tolist()}; B has {int(cb['num_experts'])} top-{int(cb['top_k'])}, "
                            f"layers {cb['layers'].tolist()}. Compare checkpoints of one model shape.")
    dom_a, dom_b = ca["domains"].tolist(), cb["domains"].tolist()
    domains = [d for d in dom_a if d in dom_b and ca["n_tokens"][0, dom_a.index(d)] > 0
               and cb["n_tokens"][0, dom_b.index(d)] > 0]
    if not domains:
        raise TracemixError(f"runs share no probed domain (A: {dom_a}, B: {dom_b}); probe both on the same data.")
    sa = [dom_a.index(d) for d in domains]
    sb = [dom_b.index(d) for d in domains]
    fa = M.load(ca["selected"], ca["n_tokens"], k)[:, sa]  # [L, D, E]
    fb = M.load(cb["selected"], cb["n_tokens"], k)[:, sb]
    displacement = M.jsd(fa, fb)  # [L, D]
    con_a, con_b = M.contested_experts(fa, lift_threshold), M.contested_experts(fb, lift_threshold)
    share_a, share_b = M.contested_share(fa, con_a), M.contested_share(fb, con_b)
    saturation = saturation_by_domain(ta, tb, domains, k)
    layers = ca["layers"].tolist()
    result = {
        "run_a": str(run_a), "run_b": str(run_b), "model_a": model_a, "model_b": model_b,
        "num_experts": e, "top_k": k, "layers": layers, "domains": domains,
        "displacement": {d: [round(float(x), 6) for x in displacement[:, i]] for i, d in enumerate(domains)},
        "mean_displacement": {d: round(float(displacement[:, i].mean()), 6) for i, d in enumerate(domains)},
        "router_saturation": saturation,
        "contested": {
            "threshold": lift_threshold,
            "experts_a": {str(layer): np.flatnonzero(con_a[li]).tolist() for li, layer in enumerate(layers)},
            "experts_b": {str(layer): np.flatnonzero(con_b[li]).tolist() for li, layer in enumerate(layers)},
            "share_a": {d: round(float(share_a[:, i].mean()), 6) for i, d in enumerate(domains)},
            "share_b": {d: round(float(share_b[:, i].mean()), 6) for i, d in enumerate(domains)},
            "share_shift": {d: round(float((share_b - share_a)[:, i].mean()), 6) for i, d in enumerate(domains)},
        },
    }
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    _plot_displacement(result, out / "displacement.png")
    manifest = provenance({"run_a": str(run_a), "run_b": str(run_b), "lift_threshold": lift_threshold},
                          {"run_a": model_a, "run_b": model_b})
    write_json(out / "manifest.json", manifest)
    write_json(out / "metrics.json", result)
    write_text(out / "report.md", _render(result))
    return result


def _plot_displacement(result: dict, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for d, values in result["displacement"].items():
        ax.plot(result["layers"], values, marker="o", label=d)
    save_layer_plot(fig, ax, "JSD(f_A, f_B) (bits)", "routing displacement A -> B", path)


def _render(r: dict) -> str:
    disp = r["mean_displacement"]
    moved = max(disp, key=disp.get)
    still = min(disp, key=disp.get)
    sat = r["router_saturation"]
    lines = [f"# Routing comparison: {r['model_a']} -> {r['model_b']}", "",
             f"Routing moved most for {moved} (mean displacement {disp[moved]:.3f} bits) and least for "
             f"{still} ({disp[still]:.3f})."]
    if sat["n_tokens"]:
        lines.append(f"On {sat['n_tokens']:,} shared tokens, router saturation averages "
                     f"{float(np.mean(sat['per_layer'])):.3f} (1 = the same experts, chance ~ "
                     f"{r['top_k'] / r['num_experts']:.3f}).")
    else:
        lines.append("No shared tokens were found for router saturation (different data or tokenizer).")
    c = r["contested"]
    lines += ["", _table(["domain", "mean displacement", "saturation", "contested share A", "contested share B",
                          "shift"],
                         [[d, disp[d], float(np.mean(sat["per_domain"][d])) if d in sat["per_domain"] else None,
                           c["share_a"][d], c["share_b"][d], c["share_shift"][d]] for d in r["domains"]]), ""]
    return "\n".join(lines)
