"""Probe artifacts: routing.parquet, counts.npz, tokens.npz, metrics.json, report.md and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from probes import metrics as M
from probes.counts import RoutingCounts
from probes.summary import routing_rows, summarise
from tracemix.artifacts import begin, read_manifest, write_manifest
from tracemix.atomic import atomic_path, write_json, write_text
from tracemix.plots import pyplot, save_png
from tracemix.provenance import config_hash

ROUTING_SCHEMA = pa.schema([("model", pa.string()), ("layer", pa.int32()), ("domain", pa.string()),
                            ("expert", pa.int32()), ("n_selected", pa.int64()), ("prob_sum", pa.float64()),
                            ("n_tokens", pa.int64())])


def save_figure(fig, path: Path) -> None:
    save_png(fig, path, dpi=110, bbox_inches="tight")


def save_layer_plot(fig, ax, ylabel: str, title: str, path: Path) -> None:
    """Finish a per-layer line plot (integer layer axis, bits from 0, legend) and save it."""
    ax.set_xlabel("layer")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_heatmaps(f: np.ndarray, layers: list[int], domains: list[str], folder: Path) -> list[str]:
    """One PNG per layer: domain x expert load f(l,d,e)."""
    plt = pyplot()
    out = []
    for li, layer in enumerate(layers):
        fig, ax = plt.subplots(figsize=(max(4.0, 0.25 * f.shape[-1] + 2), 0.45 * len(domains) + 1.4))
        im = ax.imshow(f[li], aspect="auto", cmap="viridis", vmin=0)
        ax.set_yticks(range(len(domains)), domains)
        ax.set_xlabel("expert")
        ax.set_title(f"layer {layer}: load f(d, e)")
        fig.colorbar(im, ax=ax, fraction=0.03)
        path = folder / f"layer_{layer:03d}.png"
        save_figure(fig, path)
        out.append(str(path.name))
    return out


def plot_jsd(metrics: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    layers = [row["layer"] for row in metrics["per_layer"]]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for pair in metrics["summary"]["mean_jsd_by_pair"]:
        a, b = pair.split("|")
        ax.plot(layers, [row["jsd"][a][b] for row in metrics["per_layer"]], marker="o", label=f"{a} vs {b}")
    ax.plot(layers, [row["generalised_jsd"] for row in metrics["per_layer"]], "k--", label="I(D; E)")
    save_layer_plot(fig, ax, "JSD (bits)", "JSD between domains by layer", path)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    fmt = [" | ".join(str(c) for c in header), " | ".join("---" for _ in header)]
    fmt += [" | ".join("" if c is None else (f"{c:.3f}" if isinstance(c, float) else str(c)) for c in r)
            for r in rows]
    return "\n".join(f"| {line} |" for line in fmt)


def render_report(model: str, m: dict[str, Any]) -> str:
    s, base = m["summary"], m["baselines"]
    doms = m["domains"]
    lines = [f"# Routing probe: {model}", ""]
    tokens = ", ".join(f"{d} {n:,}" for d, n in m["n_tokens"].items())
    lines.append(f"{m['num_experts']} experts, top-{m['top_k']}, {len(m['layers'])} MoE layers; "
                 f"tokens probed: {tokens}.")
    if s["mean_jsd_by_pair"]:
        pair, val = max(s["mean_jsd_by_pair"].items(), key=lambda kv: kv[1] or 0)
        low, lval = min(s["mean_jsd_by_pair"].items(), key=lambda kv: kv[1] or 0)
        closest = f"; the closest are {low.replace('|', ' and ')} ({lval:.3f})" if low != pair else ""
        lines.append(f"The most separated domains are {pair.replace('|', ' and ')} (mean JSD {val:.3f} bits)"
                     f"{closest}. Mean I(D; E) across layers is {s['mean_generalised_jsd']:.3f} bits "
                     "(0: every domain routed alike).")
    spec = s["mean_max_specialization"]
    top_d = max(spec, key=spec.get)
    lines.append(f"Specialization against the uniform k/E = {base['specialization_uniform']:.3f}: {top_d} is the "
                 f"most specialised (its busiest expert takes {spec[top_d]:.2f} of its tokens on average).")
    rep = s["mean_repeat_rate"]
    lines.append(f"Consecutive tokens share an expert at {min(rep.values()):.2f}-{max(rep.values()):.2f} against "
                 f"{base['repeat_random']:.2f} for random routing; {s['n_contested_experts']} (layer, expert) "
                 f"slots are contested by two or more domains (lift > {m['thresholds']['lift']}).")
    lines += ["", "## Per domain (mean over layers)", ""]
    lines.append(_table(["domain", "tokens", "norm. entropy", "max specialization", "repeat rate",
                         "contested share"],
                        [[d, m["n_tokens"][d], s["mean_normalised_entropy"][d], spec[d], rep[d],
                          s["mean_contested_share"][d]] for d in doms]))
    lines += ["", "## Per layer", ""]
    rows = []
    for row in m["per_layer"]:
        jac = list(row["core_jaccard"].values())
        rows.append([row["layer"], row["mean_jsd"], row["generalised_jsd"], len(row["contested_experts"]),
                     float(np.mean(jac)) if jac else None])
    lines.append(_table(["layer", "mean JSD", "I(D;E)", "contested experts", "mean core Jaccard"], rows))
    lines += ["", "## Co-activation: the strongest pair per layer, pooled and per domain", "",
              "`i→j CA` is CA(i, j) = N(i, j) / N(i): how often expert j fires with expert i.", ""]
    by_domain = {(r["layer"], r["domain"]): r.get("top_coactivation") or [] for r in m["per_layer_domain"]}
    pair = lambda top: f"{top[0][0]}→{top[0][1]} {top[0][2]:.2f}" if top else "–"  # noqa: E731
    lines.append(_table(["layer", "pooled", *doms],
                        [[row["layer"], pair(row["top_coactivation"]),
                          *(pair(by_domain.get((row["layer"], d), [])) for d in doms)] for row in m["per_layer"]]))
    lines += ["", "Files: `routing.parquet` (counts per layer, domain, expert), `metrics.json`, "
              "`heatmaps/layer_*.png`, `jsd_by_layer.png`, `tokens.npz` (per-token experts for `probe compare`).",
              ""]
    return "\n".join(lines)


def write_samples(path: Path, samples: dict[str, np.ndarray], layers: list[int], domains: list[str]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, layers=np.asarray(layers), domain_names=np.asarray(domains, dtype=str), **samples)


def write_run(output: str | Path, model: str, counts: RoutingCounts, config: dict,
              parents: list[dict[str, Any]]) -> dict:
    """Write every artifact of a probe run, manifest.json last (`parents` from `tracemix.artifacts`);
    returns metrics (also in metrics.json)."""
    out = begin(output, "probe")
    (out / "heatmaps").mkdir(parents=True, exist_ok=True)
    state = counts.state()
    metrics = summarise(state, counts.layers, counts.domains, counts.num_experts, counts.top_k)
    metrics = {"model": model, "family": config.get("family"), **metrics}
    with atomic_path(out / "routing.parquet") as tmp:
        table = pa.table(routing_rows(model, state, counts.layers, counts.domains), schema=ROUTING_SCHEMA)
        pq.write_table(table, tmp)
    counts.save(out / "counts.npz")
    write_samples(out / "tokens.npz", counts.samples(), counts.layers, counts.domains)
    probed = [i for i, d in enumerate(counts.domains) if state["n_tokens"][0, i] > 0]
    f = M.load(state["selected"], state["n_tokens"], counts.top_k)[:, probed]
    plot_heatmaps(f, counts.layers, [counts.domains[i] for i in probed], out / "heatmaps")
    plot_jsd(metrics, out / "jsd_by_layer.png")
    write_json(out / "metrics.json", {**metrics, "config_hash": config_hash(config)})
    write_text(out / "report.md", render_report(model, metrics))
    write_manifest(out, "probe", config, parents, extra={"model": model, "family": config.get("family")})
    return metrics


def load_result(run_dir: str | Path) -> dict[str, Any]:
    """The verified result of a probe run: metrics.json's content (per-layer specialization, JSD,
    competition and synergy; see `probes.summary.summarise`) plus `manifest` (the run's verified manifest)
    and `path`."""
    import json

    manifest = read_manifest(run_dir, "probe")
    metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    return {**metrics, "manifest": manifest, "path": str(Path(run_dir))}
