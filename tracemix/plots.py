"""Headless matplotlib and atomic PNG writes, shared by every report that draws."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display; safe on clusters and in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: str | Path, **savefig_kw) -> Path:
    """Write `fig` to `path` atomically and free it."""
    from tracemix.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", **savefig_kw)
    pyplot().close(fig)
    return path
