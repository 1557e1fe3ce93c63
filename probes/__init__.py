"""MoE routing probes: router hooks, streaming counts, specialization / JSD / competition / synergy metrics.

Public API: `run_probe(model, data, output, ...) -> dict`, `compare_runs(run_a, run_b, output) -> dict`,
`discover_routers(model) -> list[RouterSite]`. Imports are lazy so `tracemix --help` stays fast.
"""

from __future__ import annotations

_LAZY = {
    "run_probe": "probes.run",
    "compare_runs": "probes.compare",
    "discover_routers": "probes.discover",
    "RouterSite": "probes.discover",
    "RouterHooks": "probes.hooks",
    "RoutingCounts": "probes.counts",
    "load_result": "probes.report",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'probes' has no attribute {name!r}")
