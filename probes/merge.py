"""`tracemix probe merge`: sum the counts of probe runs over disjoint data shards (`--shard I/N`).

Routing counts are sums over tokens, so shards of the data probed on several machines add up exactly to
one run over all of them; the metrics are then computed once from the summed counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from probes.counts import RoutingCounts, load_counts
from tracemix.artifacts import parent_ref, read_manifest
from tracemix.errors import TracemixError


def _load(run: Path) -> tuple[dict, dict, dict]:
    for name in ("counts.npz", "tokens.npz", "manifest.json"):
        if not (run / name).is_file():
            raise TracemixError(f"'{run}' has no {name}; pass folders written by `tracemix probe --shard I/N`.")
    config = read_manifest(run, "probe").get("config") or {}
    with np.load(run / "tokens.npz", allow_pickle=False) as z:
        tokens = {key: z[key] for key in ("experts", "domain", "doc", "position", "token")}
    return load_counts(run / "counts.npz"), tokens, config


def merge_runs(runs: list[str | Path], output: str | Path) -> dict:
    """Sum the counts of `runs` (same model and data, different shards) and write one probe run."""
    from probes.report import write_run

    if len(runs) < 2:
        raise TracemixError("give at least two probe runs to merge.")
    loaded = [(Path(r), *_load(Path(r))) for r in runs]
    first_run, first_arrays, first_tokens, first_config = loaded[0]
    shape = ("layers", "domains", "num_experts", "top_k")
    shards = []
    for run, arrays, _, config in loaded:
        if any(not np.array_equal(arrays[k], first_arrays[k]) for k in shape):
            raise TracemixError(f"'{run}' differs from '{first_run}' in layers, domains or experts; merge runs of "
                                "one checkpoint over the same domains (pass --domains to every shard).")
        if config.get("model") != first_config.get("model"):
            raise TracemixError(f"'{run}' probed {config.get('model')}, '{first_run}' probed "
                                f"{first_config.get('model')}; merge runs of one checkpoint only.")
        shards.append(tuple(config.get("shard", (0, 1))))
    if len(set(shards)) < len(shards):
        raise TracemixError(f"runs repeat a data shard ({shards}); each run must cover a different --shard I/N.")
    total = RoutingCounts.from_saved(first_arrays, first_tokens)
    for _, arrays, tokens, _ in loaded[1:]:
        part = RoutingCounts.from_saved(arrays, tokens)
        total.merge(part)
        for key, values in part._samples.items():
            total._samples[key].extend(values)
    config = {**{k: v for k, v in first_config.items() if k != "shard"},
              "merged_from": [str(r) for r, *_ in loaded], "shards": [list(s) for s in shards]}
    parents = [parent_ref(r, "probe") for r, *_ in loaded]
    return write_run(output, str(first_config.get("model", first_run)), total, config, parents)
