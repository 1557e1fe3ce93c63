"""Loss-curve PNG from the trainer's log history (training loss, and the MoE aux loss on a second axis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemix.plots import pyplot, save_png


def plot_loss(history: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Write `path` (PNG) from records with `step`, `loss` and optionally `aux_loss`."""
    plt = pyplot()
    if not history:
        raise ValueError("no logged losses to plot; lower `training.logging_steps`")
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot(steps, [r["loss"] for r in history], color="tab:blue", label="train loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    aux = [(r["step"], r["aux_loss"]) for r in history if "aux_loss" in r]
    if aux:
        ax2 = ax.twinx()
        ax2.plot(*zip(*aux, strict=True), color="tab:orange", alpha=0.8, label="router aux loss")
        ax2.set_ylabel("aux loss")
        fig.legend(loc="upper right", bbox_to_anchor=(0.86, 0.9), fontsize=8)
    ax.set_title(title or "training loss")
    fig.subplots_adjust(left=0.12, right=0.86, bottom=0.14, top=0.9)  # fixed margins: tight_layout is slow
    return save_png(fig, path)
