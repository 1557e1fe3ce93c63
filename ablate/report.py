"""Sweep report from summary.json: the frame, metrics with intervals, effects stated with evidence, plots.

Every sentence about an effect comes from a corrected comparison: "detected" when it is significant after
the correction, "no detectable effect" otherwise, always with the interval that bounds its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tracemix.atomic import write_text
from tracemix.plots import pyplot, save_png

UNITS = {"bpb": "bits/byte", "accuracy": "", "jsd": "bits", "gjsd": "bits"}
NAMES = {"bpb": "held-out bits per byte", "accuracy": "accuracy", "jsd": "mean routing JSD between domains",
         "gjsd": "generalised routing JSD"}
CORRECTION = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def _num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _interval(m: dict[str, Any]) -> str:
    if m.get("mean") is None:
        return "–"
    if m.get("ci_low") is None:
        return f"{_num(m['mean'])} (n={m['n']})"
    return f"{_num(m['mean'])} [{_num(m['ci_low'])}, {_num(m['ci_high'])}]"


def _describe(metric: str) -> str:
    family, _, part = metric.partition("/")
    name = NAMES.get(family, family)
    return f"{name} ({part})" if part else name


def _x(variants: list[dict[str, Any]]) -> tuple[list[Any], str, bool]:
    """x values for plots: the axis value when the sweep has one numeric axis, else the variant index."""
    axes = list(variants[0]["label"]) if variants else []
    if len(axes) == 1 and all(isinstance(v["label"][axes[0]], int | float) for v in variants):
        return [v["label"][axes[0]] for v in variants], axes[0], True
    return list(range(len(variants))), "variant", False


def _plot_family(variants, family: str, path: Path) -> str | None:
    """One line per metric of the family, mean over seeds with its 95% interval as error bars."""
    names = [m for m in variants[0]["metrics"] if m.split("/")[0] == family]
    if not names:
        return None
    xs, xlabel, numeric = _x(variants)
    fig, ax = pyplot().subplots(figsize=(6.4, 4))
    for name in names:
        stats = [v["metrics"].get(name, {}) for v in variants]
        mean = np.array([np.nan if s.get("mean") is None else s["mean"] for s in stats])
        low = np.array([m if s.get("ci_low") is None else s["ci_low"] for s, m in zip(stats, mean, strict=True)])
        high = np.array([m if s.get("ci_high") is None else s["ci_high"] for s, m in zip(stats, mean, strict=True)])
        ax.errorbar(xs, mean, yerr=[mean - low, high - mean], marker="o", capsize=3, label=name.split("/", 1)[1])
    if not numeric:
        ax.set_xticks(xs, [v["name"] for v in variants], rotation=30, ha="right", fontsize=7)
    unit = UNITS.get(family, "")
    ax.set(xlabel=xlabel, ylabel=f"{family} ({unit})" if unit else family,
           title=f"{NAMES.get(family, family)}: mean and 95% CI over seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return str(save_png(fig, path, dpi=110))


def _effect_sentence(c: dict[str, Any], correction: str) -> str:
    unit = UNITS.get(c["metric"].split("/")[0], "")
    size = f"{c['effect']:+.3f}{' ' + unit if unit else ''}"
    if c["p_value"] is None:
        why = ("no variation: both variants score the same in every seed" if c["test"].startswith("none")
               else "not testable with fewer than two seeds per variant")
        return f"- No test on {_describe(c['metric'])} at `{c['b']}` vs `{c['a']}`: {size}; {why}."
    ci = f"95% CI [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]"
    evidence = f"{c['test']} over {c['n']} seeds, {correction}-adjusted p = {c['p_adjusted']:.3g}"
    if c["significant"]:
        direction = "higher" if c["effect"] > 0 else "lower"
        return f"- **Detected**: {_describe(c['metric'])} is {direction} at `{c['b']}` than at `{c['a']}`: {size}, {ci} ({evidence})."
    return f"- No detectable effect on {_describe(c['metric'])} at `{c['b']}` vs `{c['a']}`: {size}, {ci} ({evidence})."


def _accuracy_note(variants: list[dict[str, Any]]) -> list[str]:
    values = {round(r["metrics"][m], 9) for v in variants for r in v["runs"] for m in r["metrics"]
              if m.startswith("accuracy/")}
    if len(values) != 1:
        return []
    (value,) = values
    return ["", f"Accuracy is {value:.3f} on every task in every run: these models are too small and too briefly "
            "trained to answer the reasoning items, so accuracy cannot move at this scale and its comparisons "
            "carry no information. Held-out bits per byte is the measure that responds to the data at this "
            "scale."]


def render(summary: dict[str, Any], plots: dict[str, str], out: Path) -> str:
    variants, comps = summary["variants"], summary["comparisons"]
    correction = CORRECTION.get(summary["correction"], summary["correction"])
    frame = summary["frame"]
    seeds = variants[0]["seeds"] if variants else []
    lines = [f"# Ablation: {summary['name']}", "",
             f"{len(variants)} variants of `{summary['sweep']['recipe']}`, each trained with "
             f"`{summary['sweep']['train']['config']}` once per seed {seeds}: "
             f"{summary['ran'] + summary['cached']} stages, each cached under `cache/STAGE/KEY/`.", "",
             "## Frame", "",
             f"- One tokenizer for every run: `{frame['tokenizer_path']}` (hash `{frame['tokenizer'][:12]}`).",
             f"- One held-out set, carved before mixing by a hash of each document id and excluded from every "
             f"mixture: `{frame['heldout']}`, {frame['heldout_documents']} documents "
             f"({', '.join(f'{d}: {n}' for d, n in frame['heldout_by_domain'].items())}; fractions "
             f"{', '.join(f'{d} {f:g}' for d, f in frame['heldout_fraction'].items())}).",
             "- Held-out loss is in bits per byte, which does not depend on the tokenizer.", ""]
    names = list(variants[0]["metrics"]) if variants else []
    lines += ["## Metrics", "", "Mean over seeds with its 95% t-interval.", "",
              "| metric | " + " | ".join(f"`{v['name']}`" for v in variants) + " |",
              "|---|" + "---|" * len(variants)]
    lines += [f"| {m} | " + " | ".join(_interval(v["metrics"].get(m, {})) for v in variants) + " |" for m in names]
    lines += ["", "## Effects", ""]
    if not comps:
        lines.append("One variant: nothing to compare.")
    else:
        found = [c for c in comps if c["significant"]]
        lines.append(f"Every variant is compared with the baseline `{variants[0]['name']}` on every metric "
                     f"({len(comps)} comparisons, {correction} correction at alpha = {summary['alpha']}); "
                     f"{len(found)} detected.")
        lines.append("")
        lines += [_effect_sentence(c, correction) for c in sorted(comps, key=lambda c: not c["significant"])]
        lines += _accuracy_note(variants)
        lines += ["", "\"No detectable effect\" means the difference could not be told from seed-to-seed noise "
                  "with these seeds; it is not evidence that the effect is zero: its interval bounds how large "
                  "it could be. More seeds narrow the intervals."]
    if plots:
        lines += ["", "## Plots", "", "Error bars: 95% intervals over seeds.", ""]
        lines += [f"![{name}]({Path(p).relative_to(out)})" for name, p in plots.items()]
    lines += ["", "`summary.json` holds every number above, per seed too; stage outputs live under "
              "`cache/STAGE/KEY/`.", ""]
    return "\n".join(lines)


def write_report(summary: dict[str, Any], out: Path) -> dict[str, str]:
    """Write report.md and plots/*.png from a summary; return {family: plot path}."""
    plots = {}
    for family in ("bpb", "accuracy", "jsd", "gjsd"):
        path = _plot_family(summary["variants"], family, out / "plots" / f"{family}_vs_axis.png")
        if path:
            plots[family] = path
    write_text(out / "report.md", render(summary, plots, out))
    return plots
