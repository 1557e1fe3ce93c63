"""Compare eval runs: a task / domain table and a grouped bar chart of domain accuracy per run
(e.g. the IFT study's 0% / 50% / 100% coding mixtures side by side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.report import domain_sort_key, load_run
from tracemix.atomic import write_json, write_text
from tracemix.errors import DataError
from tracemix.plots import pyplot, save_png
from tracemix.provenance import file_hash, provenance


def _labels(runs: list[Path]) -> list[str]:
    names = [r.name or str(r) for r in runs]
    # two runs/x/eval folders would share a name; fall back to the parent folder, then the full path
    if len(set(names)) < len(names):
        names = [f"{r.parent.name}/{r.name}" for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]
    return names


def compare_table(runs: list[str | Path]) -> dict[str, Any]:
    if not runs:
        raise DataError("give at least one run folder to compare")
    paths = [Path(r) for r in runs]
    loaded = [load_run(p, with_samples=False)[0] for p in paths]
    labels = _labels(paths)
    tasks = list(dict.fromkeys(t for res in loaded for t in res["tasks"]))
    domains = sorted({d for res in loaded for d in res["domains"]}, key=domain_sort_key)
    return {
        "runs": labels,
        "models": [res["model"] for res in loaded],
        "tasks": {t: [res["tasks"].get(t, {}).get("accuracy") for res in loaded] for t in tasks},
        "domains": {d: [res["domains"].get(d, {}).get("accuracy") for res in loaded] for d in domains},
        "overall": [res["overall"]["accuracy"] for res in loaded],
        "parents": {label: file_hash(p / "results.json") for label, p in zip(labels, paths, strict=True)},
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def render_table(table: dict[str, Any]) -> str:
    head = "| | " + " | ".join(table["runs"]) + " |"
    sep = "|---" * (len(table["runs"]) + 1) + "|"
    lines = ["Accuracy (%) by task", "", head, sep]
    lines += [f"| {t} | " + " | ".join(_pct(v) for v in vals) + " |" for t, vals in table["tasks"].items()]
    lines += ["", "Mean accuracy (%) by domain", "", head, sep]
    lines += [f"| {d} | " + " | ".join(_pct(v) for v in vals) + " |" for d, vals in table["domains"].items()]
    lines.append("| **overall** | " + " | ".join(_pct(v) for v in table["overall"]) + " |")
    return "\n".join(lines) + "\n"


def plot_domains(table: dict[str, Any], path: str | Path) -> Path:
    plt = pyplot()
    domains = [*table["domains"], "overall"]
    values = [*table["domains"].values(), table["overall"]]
    n_runs = len(table["runs"])
    width = 0.8 / n_runs
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(domains) * max(1, n_runs / 2)), 4))
    for j, run in enumerate(table["runs"]):
        xs = [i + (j - (n_runs - 1) / 2) * width for i in range(len(domains))]
        ys = [100 * (v[j] or 0.0) for v in values]
        bars = ax.bar(xs, ys, width, label=run)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(range(len(domains)), domains)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Zero-shot accuracy by domain")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path, dpi=120)


def compare(runs: list[str | Path], output: str | Path | None = None) -> dict[str, Any]:
    """Table of task and domain accuracy across runs; with `output`, also compare.{md,json,png}."""
    table = compare_table(runs)
    if output is not None:
        out = Path(output)
        write_text(out / "compare.md", render_table(table))
        plot_domains(table, out / "compare.png")
        write_json(out / "compare.json", {**table, "manifest": provenance({"runs": [str(r) for r in runs]},
                                                                          table["parents"])})
    return table
