"""Sweep report: a table per variant (accuracy by domain, routing metrics), trend sentences and plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tracemix.atomic import write_text
from tracemix.domains import DOMAINS
from tracemix.plots import pyplot, save_png


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def collect(summary: dict[str, Any], out: Path) -> list[dict[str, Any]]:
    """One flat row per variant: axis values, final loss, accuracy by domain, routing metrics."""
    rows, first_probe = [], None
    for variant in summary["variants"]:
        stages = variant["stages"]
        row: dict[str, Any] = {"variant": variant["name"], "label": variant["label"]}
        row["final_loss"] = stages["train"]["result"].get("final_loss")
        if "eval" in stages:
            res = _read(Path(stages["eval"]["result"]["path"]) / "results.json") or {}
            row["accuracy"] = {d: v["accuracy"] for d, v in res.get("domains", {}).items()}
            row["accuracy"]["overall"] = res.get("overall", {}).get("accuracy")
        if "perplexity" in stages:
            res = _read(Path(stages["perplexity"]["result"]["path"]) / "perplexity.json") or {}
            row["loss"] = {d: v["loss"] for d, v in res.get("domains", {}).items()}
        if "probe" in stages:
            probe_dir = Path(stages["probe"]["result"]["path"])
            metrics = _read(probe_dir / "metrics.json") or {}
            row["generalised_jsd"] = metrics.get("summary", {}).get("mean_generalised_jsd")
            row["jsd_by_pair"] = metrics.get("summary", {}).get("mean_jsd_by_pair", {})
            row["jsd_by_layer"] = {str(x["layer"]): x["mean_jsd"] for x in metrics.get("per_layer", [])}
            if first_probe is None:
                first_probe = probe_dir
            row["displacement_by_layer"] = _displacement(first_probe, probe_dir, out / "compare" / variant["name"])
        rows.append(row)
    return rows


def _displacement(run_a: Path, run_b: Path, out: Path) -> dict[str, float]:
    """Routing displacement of each layer from the first variant, averaged over domains."""
    from probes import compare_runs

    if run_a == run_b:
        return {}
    result = compare_runs(run_a, run_b, out)
    per_domain = np.array([result["displacement"][d] for d in result["domains"]])  # [D, L]
    return {str(layer): round(float(per_domain[:, i].mean()), 6) for i, layer in enumerate(result["layers"])}


def _x(rows: list[dict[str, Any]]) -> tuple[list[Any], str, bool]:
    """x values for plots: the axis value when the sweep has one numeric axis, else the variant index."""
    axes = list(rows[0]["label"]) if rows else []
    if len(axes) == 1 and all(isinstance(r["label"][axes[0]], int | float) for r in rows):
        return [r["label"][axes[0]] for r in rows], axes[0], True
    return list(range(len(rows))), "variant", False


def _trend(xs: list[float], ys: list[float | None]) -> float | None:
    """Spearman rank correlation of a metric with the axis (None with fewer than 3 points or no spread)."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    if len(pairs) < 3:
        return None
    rx, ry = (_ranks(np.asarray(v, dtype=float)) for v in zip(*pairs, strict=True))
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks with ties sharing their average rank (so a flat metric has no trend)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (starts + (counts - 1) / 2)[inverse]


def _plot(rows, xs, xlabel, numeric, series: dict[str, list], title: str, ylabel: str, path: Path) -> str:
    fig, ax = pyplot().subplots(figsize=(6.4, 4))
    for name, ys in series.items():
        ax.plot(xs, [np.nan if y is None else y for y in ys], marker="o", label=name)
    if not numeric:
        ax.set_xticks(xs, [r["variant"] for r in rows], rotation=30, ha="right", fontsize=7)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return str(save_png(fig, path, dpi=110))


def _series(rows, field: str) -> dict[str, list]:
    order = {d: i for i, d in enumerate(DOMAINS)}  # taxonomy order, then eval domains, overall last
    keys = sorted({k for r in rows for k in (r.get(field) or {})},
                  key=lambda k: (k == "overall", order.get(k, len(order)), k))
    return {k: [(r.get(field) or {}).get(k) for r in rows] for k in keys}


def write_report(summary: dict[str, Any], out: Path) -> dict[str, Any]:
    rows = collect(summary, out)
    xs, xlabel, numeric = _x(rows)
    plots_dir = out / "plots"
    plots = {}
    acc, jsd, disp = _series(rows, "accuracy"), _series(rows, "jsd_by_layer"), _series(rows, "displacement_by_layer")
    if acc:
        plots["accuracy"] = _plot(rows, xs, xlabel, numeric, acc, "Accuracy by domain", "accuracy",
                                  plots_dir / "accuracy_vs_axis.png")
    loss = _series(rows, "loss")
    if loss:
        plots["loss"] = _plot(rows, xs, xlabel, numeric, loss, "Held-out loss by domain", "loss (nats/token)",
                              plots_dir / "loss_vs_axis.png")
    if jsd:
        plots["jsd"] = _plot(rows, xs, xlabel, numeric, {f"layer {k}": v for k, v in jsd.items()},
                             "Mean JSD between domains, per layer", "JSD (bits)", plots_dir / "jsd_vs_axis.png")
    if disp:
        plots["displacement"] = _plot(rows, xs, xlabel, numeric, {f"layer {k}": v for k, v in disp.items()},
                                      f"Routing displacement from {rows[0]['variant']}", "JSD (bits)",
                                      plots_dir / "displacement_vs_axis.png")
    write_text(out / "report.md", render(summary, rows, xs, xlabel, numeric, plots, out))
    return {"rows": rows, "plots": plots}


def _fmt(v: Any) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def render(summary, rows, xs, xlabel, numeric, plots, out: Path) -> str:
    domains = list(_series(rows, "accuracy"))
    loss_domains = list(_series(rows, "loss"))
    lines = [f"# Ablation: {summary['name']}", "",
             f"{len(rows)} variants of `{summary['sweep']['recipe']}` trained with "
             f"`{summary['sweep']['train']['config']}` (seed {summary['sweep']['seed']}); "
             f"{summary['ran']} stages ran, {summary['cached']} were reused from the cache.", ""]
    header = ["variant", *rows[0]["label"].keys(), "final loss", *[f"acc {d}" for d in domains],
              *[f"loss {d}" for d in loss_domains], "gen. JSD", "mean displacement"] if rows else []
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        disp = list((r.get("displacement_by_layer") or {}).values())
        cells = [r["variant"], *r["label"].values(), r["final_loss"],
                 *[(r.get("accuracy") or {}).get(d) for d in domains],
                 *[(r.get("loss") or {}).get(d) for d in loss_domains], r.get("generalised_jsd"),
                 float(np.mean(disp)) if disp else None]
        lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    lines += ["", "## Trends", ""]
    lines += _trend_sentences(rows, xs, xlabel, numeric, domains, loss_domains) or [
        "Too few variants to speak of trends."]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name}]({Path(p).relative_to(out)})" for name, p in plots.items()]
    lines += ["", "Stage outputs live under `cache/STAGE/KEY/`; `summary.json` maps each variant to them.", ""]
    return "\n".join(lines)


def _trend_sentences(rows, xs, xlabel, numeric, domains, loss_domains=()) -> list[str]:
    if not numeric or len(rows) < 2:
        return []
    out = []
    for d in loss_domains:
        ys = [(r.get("loss") or {}).get(d) for r in rows]
        if ys[0] is None or ys[-1] is None:
            continue
        rho = _trend(xs, ys)
        out.append(f"- Held-out {d} loss goes from {ys[0]:.3f} to {ys[-1]:.3f} nats/token as `{xlabel}` moves "
                   f"{xs[0]} → {xs[-1]}" + (f" (Spearman ρ = {rho:+.2f})." if rho is not None else "."))
    for d in domains:
        ys = [(r.get("accuracy") or {}).get(d) for r in rows]
        if ys[0] is None or ys[-1] is None:
            continue
        rho = _trend(xs, ys)
        if rho is None and len(set(ys)) == 1:
            out.append(f"- {d} accuracy stays at {ys[0]:.3f} across `{xlabel}`.")
            continue
        rho_txt = f" (Spearman ρ = {rho:+.2f})" if rho is not None else ""
        out.append(f"- {d} accuracy goes from {ys[0]:.3f} to {ys[-1]:.3f} as `{xlabel}` moves "
                   f"{xs[0]} → {xs[-1]}{rho_txt}.")
    gj = [r.get("generalised_jsd") for r in rows]
    if gj[0] is not None and gj[-1] is not None:
        rho = _trend(xs, gj)
        out.append(f"- Domain separation in routing (generalised JSD) goes from {gj[0]:.3f} to {gj[-1]:.3f} bits"
                   + (f" (ρ = {rho:+.2f})." if rho is not None else "."))
    disp = [float(np.mean(list(v.values()))) if (v := r.get("displacement_by_layer")) else None for r in rows[1:]]
    if disp and all(d is not None for d in disp):
        far = int(np.argmax(disp)) + 1
        out.append(f"- Routing moves furthest from `{rows[0]['variant']}` at `{rows[far]['variant']}` "
                   f"(mean displacement {max(disp):.3f} bits).")
    return out
