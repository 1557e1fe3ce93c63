"""The mixture manifest (targets and achieved sizes per domain, group and bucket; provenance) and the
plan table printed by `tracemix mix --dry-run`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.mixing.plan import Cell, bucket_shares, tolerance
from curation.mixing.recipe import Recipe
from curation.mixing.select import BucketSelection
from curation.mixing.table import MixTable
from tracemix.artifacts import parent_ref
from tracemix.domains import DOMAINS
from tracemix.errors import DataError
from tracemix.provenance import config_hash, provenance


def source_refs(recipe: Recipe) -> list[dict[str, Any]]:
    """The recipe's tagged sources as manifest parents, each verified complete (a crashed tag run is refused)."""
    refs = []
    for i, folder in enumerate(recipe.source_paths()):
        try:
            refs.append(parent_ref(folder, "tagged"))
        except DataError as err:
            raise DataError(f"{recipe.file}: sources[{i}]: {err}") from None
    return refs


def build_manifest(recipe: Recipe, table: MixTable, targets: dict[Cell, int],
                   selections: dict[Cell, BucketSelection], fingerprint: str,
                   parents: list[dict[str, Any]]) -> dict[str, Any]:
    """The mixture's own manifest fields plus provenance (`config` is the resolved recipe, `config_hash` its
    hash) and `parents` (the tagged sources); `tracemix.artifacts.write_manifest` adds the file list."""
    total = recipe.budget.total
    shares = bucket_shares(recipe)
    frame = table.frame
    entries: dict[str, Any] = {}
    per_domain: dict[str, dict[str, int]] = {d: {"achieved": 0, "documents": 0} for d in DOMAINS}
    for cell, sel in selections.items():
        key, bucket = cell
        entry = entries.setdefault(key, {"domains": list(recipe.entry_domains(key)),
                                         "share": recipe.mixture[key],
                                         "effective_share": recipe.effective_shares()[key],
                                         "target": 0, "achieved": 0, "documents": 0, "buckets": {}})
        rows = frame[sel.positions.tolist()] if sel.documents else frame.clear()
        largest = int(sel.sizes.max()) if sel.documents else 0
        cell_info = {
            "share": shares[cell], "target": sel.target, "achieved": sel.achieved, "documents": sel.documents,
            "unique_documents": int(rows["id"].n_unique()) if sel.documents else 0,
            "copies_max": sel.copies, "supply_documents": sel.supply_documents, "supply": sel.supply_units,
            "counted_lazily": sel.counted, "tolerance": tolerance(total, largest),
        }
        if key in recipe.density:
            cell_info["rule"] = recipe.density[key].model_dump(mode="json")
        entry["buckets"][bucket] = cell_info
        entry["target"] += sel.target
        entry["achieved"] += sel.achieved
        entry["documents"] += sel.documents
        if sel.documents:
            import numpy as np

            domains = rows["domain"].to_numpy()
            for d in np.unique(domains):
                mask = domains == d
                per_domain[str(d)]["achieved"] += int(sel.sizes[mask].sum())
                per_domain[str(d)]["documents"] += int(mask.sum())
    achieved = sum(e["achieved"] for e in entries.values())
    domains = {}
    for d, info in per_domain.items():
        key = next((k for k in recipe.mixture if d in recipe.entry_domains(k)), None)
        domains[d] = {"target": entries[key]["target"] if key == d else None, **info,
                      "weight": info["achieved"] / achieved if achieved else 0.0}
    groups = {}
    for g, members in recipe.groups.items():
        target = entries[g]["target"] if g in entries else (
            sum(domains[m]["target"] or 0 for m in members) if all(m in recipe.mixture for m in members) else None)
        groups[g] = {"domains": members, "target": target,
                     "achieved": sum(domains[m]["achieved"] for m in members),
                     "documents": sum(domains[m]["documents"] for m in members)}
    used = max((s.copies for s in selections.values()), default=0)
    return {
        "kind": "mixture",
        "name": recipe.name,
        "recipe_file": recipe.file,
        "fingerprint": fingerprint,
        "seed": recipe.seed,
        "tokenizer": recipe.tokenizer,
        "unit": recipe.budget.unit.value,
        "budget": {"total": total, "achieved": achieved, "documents": sum(e["documents"] for e in entries.values())},
        "entries": entries,
        "domains": domains,
        "groups": groups,
        "repeats": {"max_repeats": recipe.max_repeats, "copies_max": used,
                    "upsampled": used > 1},
        "supply": table.supply,
        "selection": {"rank": "blake2b-64(seed, id), lowest first", "order": "blake2b-64(seed, id, repeat)",
                      "tokens_known": table.tokens_known,
                      "counted_lazily": sum(s.counted for s in selections.values())},
        **provenance(recipe.resolved()),
        "parents": parents,
    }


def load_result(folder: str | Path) -> dict[str, Any]:
    """The verified manifest of a complete mixture (targets and achieved sizes per domain, group and bucket,
    supply, `output.shards`, recipe as `config`, its hash as `config_hash`, parents) plus `path`."""
    from tracemix.artifacts import read_manifest

    return {**read_manifest(folder, "mixture"), "path": str(Path(folder))}


def weights(manifest: dict[str, Any]) -> dict[str, float]:
    """Achieved domain weights in the plain `{domain: weight}` form RegMix / olmix read."""
    return {d: round(info["weight"], 8) for d, info in manifest["domains"].items()}


def content_fingerprint(recipe: Recipe, files: list[str]) -> str:
    stats = [(f, Path(f).stat().st_size, Path(f).stat().st_mtime_ns) for f in files]
    return config_hash({"recipe": recipe.resolved(), "files": stats})


def plan_table(manifest: dict[str, Any]):
    """A rich Table: supply and demand per entry and bucket, copies needed, distance to target."""
    from rich.console import Group
    from rich.table import Table

    unit = manifest["unit"]
    budget = manifest["budget"]
    t = Table(title=f"mixture '{manifest['name']}': {budget['total']:,} {unit}, seed {manifest['seed']}")
    for col in ("entry", "bucket", "share", "target", "achieved", "off", "docs", "supply docs", "supply",
                "copies"):
        t.add_column(col, justify="left" if col in ("entry", "bucket") else "right", no_wrap=True)
    for key, entry in manifest["entries"].items():
        for bucket, b in entry["buckets"].items():
            off = b["achieved"] - b["target"]
            t.add_row(key, bucket, f"{b['share']:.3f}", f"{b['target']:,}", f"{b['achieved']:,}",
                      f"{off:+,}" + ("" if abs(off) <= b["tolerance"] else " !"), f"{b['documents']:,}",
                      f"{b['supply_documents']:,}", "-" if b["supply"] is None else f"{b['supply']:,}",
                      str(b["copies_max"]))
    t.caption = (f"target, achieved and supply in {unit}; achieved {budget['achieved']:,} in "
                 f"{budget['documents']:,} documents. supply '-': counted only as far as needed; "
                 "copies > 1: upsampled (max_repeats)")
    d = Table(title="per domain")
    for col in ("domain", "target", "achieved", "docs", "weight", "supply docs"):
        d.add_column(col, justify="left" if col == "domain" else "right", no_wrap=True)
    supply: dict[str, int] = {}
    for per_source in manifest["supply"].values():
        for domain, cell in per_source.items():
            supply[domain] = supply.get(domain, 0) + cell["documents"]
    for domain, info in manifest["domains"].items():
        target = "-" if info["target"] is None else f"{info['target']:,}"
        d.add_row(domain, target, f"{info['achieved']:,}", f"{info['documents']:,}", f"{info['weight']:.3f}",
                  f"{supply.get(domain, 0):,}")
    return Group(t, d)
