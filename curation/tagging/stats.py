"""Per-domain statistics of a tagged folder: documents, bytes, tokens, scaffold histogram, bad input.

`compute_stats(DIR)` scans the Parquet shards lazily with polars (only the columns it needs) and sums the
bad-input logs the readers left in `DIR/logs/bad_input/`. `tracemix stats DIR` prints the table again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tracemix.domains import DOMAINS
from tracemix.errors import DataError

N_BINS = 10  # scaffold histogram: [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]
MAX_EXAMPLES = 50
BAD_INPUT_DIR = "logs/bad_input"
_SPARK = "▁▂▃▄▅▆▇█"


def shard_paths(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.parquet") if not p.name.startswith("."))


def read_tagged(folder: str | Path, complete: bool = False) -> dict[str, Any]:
    """The manifest of a complete tagged folder (refusing one whose run crashed or whose files changed).
    `complete=True` first completes a folder whose tasks all finished but that has no manifest yet (a Slurm
    run, or a run killed after its last task)."""
    from tracemix.artifacts import PARTIAL, read_manifest

    folder = Path(folder)
    if complete and (folder / PARTIAL).is_file():
        finish_tagging(folder)
    return read_manifest(folder, "tagged")


def finish_tagging(output: str | Path) -> dict[str, Any]:
    """Once every datatrove task of the run has completed, write `stats.json` and the manifest (last);
    returns the stats. Refuses a folder whose run has tasks missing (crashed, or Slurm jobs still going)."""
    from curation.classifiers.registry import HEURISTIC_SCAFFOLD
    from curation.tagging.schema import tagged_schema
    from tracemix.artifacts import external_ref, write_manifest
    from tracemix.provenance import file_hash

    output = Path(output)
    config_path = output / "logs" / "tag_config.json"
    if not config_path.is_file():
        raise DataError(f"{output}: no logs/tag_config.json, so `tracemix tag` never ran here; tag the data with "
                        "`tracemix tag --output DIR`")
    config = json.loads(config_path.read_text())
    done = len(list((output / "logs" / "completions").glob("[0-9]*")))
    if done < config["tasks"]:
        raise DataError(f"{output}: incomplete: {done} of {config['tasks']} tagging tasks finished (a run crashed "
                        "or its jobs are still going); rerun the same `tracemix tag` command to resume it")
    stats = write_stats(output)
    spec = config["classifier"]
    parents = [external_ref(config["input"], "raw", files=config["input_files"])]
    if spec.startswith("fasttext:"):
        model_file = spec.split(":", 1)[1]
        parents.append(external_ref(model_file, "classifier", sha256=file_hash(model_file)))
    scaffold = config.get("scaffold", "heuristic")
    if scaffold.startswith("fasttext:"):
        model_file = scaffold.split(":", 1)[1]
        parents.append(external_ref(model_file, "scaffold_scorer", sha256=file_hash(model_file)))
    extra = {
        "input": config["input"],
        "classifier": spec,
        "tagger": config["tagger"],
        "scaffold": scaffold,  # which scorer made `scaffold_score`: recipes threshold this one
        "scaffold_scorer": config.get("scaffold_scorer", HEURISTIC_SCAFFOLD),
        "tokenizer": config["tokenizer"],
        "columns": tagged_schema(bool(config["tokenizer"])).names,
        "documents": stats["documents"],
        "bytes": stats["bytes"],
        "tokens": stats["tokens"],
        "bad_input": stats["bad_input"]["counts"],
    }
    write_manifest(output, "tagged", config, parents, extra=extra, skip=("logs",))
    return stats


def bad_input_summary(folder: str | Path) -> dict[str, Any]:
    """Sum of the per-task bad-input logs: counts per reason and the first file:line examples, plus every
    file of a folder input that was not read, with its reason (`skipped_files`)."""
    counts: dict[str, int] = {}
    examples: list[dict] = []
    skipped: list[dict] = []
    for path in sorted((Path(folder) / BAD_INPUT_DIR).glob("*.json")):
        log = json.loads(path.read_text())
        for reason, n in log.get("counts", {}).items():
            counts[reason] = counts.get(reason, 0) + int(n)
        examples += log.get("examples", [])
        skipped += log.get("skipped_files", [])
    examples.sort(key=lambda e: (e["reason"], str(e["file"]), str(e["line"]).zfill(12)))
    return {
        "total": sum(counts.values()),
        "counts": dict(sorted(counts.items())),
        "examples": examples[:MAX_EXAMPLES],
        "skipped_files": skipped,
    }


def compute_stats(folder: str | Path) -> dict[str, Any]:
    import polars as pl

    folder = Path(folder)
    shards = shard_paths(folder)
    if not shards:
        raise DataError(
            f"{folder} holds no Parquet shards; is it a folder written by `tracemix tag`? "
            "If a run is still going (Slurm/Ray), wait for it to finish."
        )
    lf = pl.scan_parquet([str(p) for p in shards])
    names = lf.collect_schema().names()
    missing = [c for c in ("id", "domain", "n_bytes", "scaffold_score") if c not in names]
    if missing:
        raise DataError(
            f"{folder}: shards lack the tagged columns {missing}; tag the data with `tracemix tag`"
        )
    has_tokens = "n_tokens" in names
    bin_ = (pl.col("scaffold_score") * N_BINS).floor().clip(0, N_BINS - 1).cast(pl.Int64)
    aggs = [
        pl.len().alias("documents"),
        pl.col("n_bytes").sum().alias("bytes"),
        pl.col("scaffold_score").mean().alias("scaffold_mean"),
    ]
    aggs += [(bin_ == b).sum().alias(f"bin{b}") for b in range(N_BINS)]
    if has_tokens:
        aggs.append(pl.col("n_tokens").sum().alias("tokens"))
    rows = {r["domain"]: r for r in lf.group_by("domain").agg(aggs).collect().to_dicts()}
    n_ids = (
        lf.select(pl.len().alias("n"), pl.col("id").n_unique().alias("unique")).collect().row(0, named=True)
    )

    total_docs = sum(r["documents"] for r in rows.values())
    total_bytes = sum(r["bytes"] for r in rows.values())
    total_tokens = sum(r["tokens"] or 0 for r in rows.values()) if has_tokens else None
    unknown = sorted(set(rows) - set(DOMAINS), key=str)
    domains: dict[str, dict[str, Any]] = {}
    for d in [*DOMAINS, *unknown]:
        r = rows.get(d, {})
        entry = {
            "documents": r.get("documents", 0),
            "bytes": r.get("bytes", 0) or 0,
            "share_documents": r.get("documents", 0) / total_docs if total_docs else 0.0,
            "share_bytes": (r.get("bytes", 0) or 0) / total_bytes if total_bytes else 0.0,
            "scaffold_mean": r.get("scaffold_mean"),
            "scaffold_hist": [int(r.get(f"bin{b}", 0)) for b in range(N_BINS)],
        }
        if has_tokens:
            entry["tokens"] = r.get("tokens", 0) or 0
            entry["share_tokens"] = entry["tokens"] / total_tokens if total_tokens else 0.0
        domains[str(d)] = entry
    return {
        "folder": str(folder),
        "shards": len(shards),
        "documents": total_docs,
        "bytes": total_bytes,
        "tokens": total_tokens,
        "duplicate_ids": n_ids["n"] - n_ids["unique"],
        "scaffold_bins": [round(b / N_BINS, 1) for b in range(N_BINS + 1)],
        "domains": domains,
        "bad_input": bad_input_summary(folder),
    }


def write_stats(folder: str | Path) -> dict[str, Any]:
    from tracemix.atomic import write_json

    stats = compute_stats(folder)
    write_json(Path(folder) / "stats.json", stats)
    return stats


def _spark(hist: list[int]) -> str:
    top = max(hist) if hist else 0
    return "".join(" " if not n else _SPARK[min(len(_SPARK) - 1, n * len(_SPARK) // (top + 1))] for n in hist)


def print_stats(stats: dict[str, Any], console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    has_tokens = stats.get("tokens") is not None
    table = Table(title=f"tagged: {stats['folder']}  ({stats['shards']} shards)", title_justify="left")
    for col in [
        "domain",
        "documents",
        "share",
        "MB",
        *(["tokens"] if has_tokens else []),
        "scaffold mean",
        "scaffold 0 → 1",
    ]:
        table.add_column(col, justify="left" if col in ("domain", "scaffold 0 → 1") else "right")
    for d, e in stats["domains"].items():
        mean = "-" if e["scaffold_mean"] is None else f"{e['scaffold_mean']:.2f}"
        table.add_row(
            d,
            f"{e['documents']:,}",
            f"{e['share_documents']:.1%}",
            f"{e['bytes'] / 1e6:,.2f}",
            *([f"{e['tokens']:,}"] if has_tokens else []),
            mean,
            _spark(e["scaffold_hist"]),
        )
    table.add_row(
        "total",
        f"{stats['documents']:,}",
        "100%",
        f"{stats['bytes'] / 1e6:,.2f}",
        *([f"{stats['tokens']:,}"] if has_tokens else []),
        "",
        "",
        style="bold",
    )
    console.print(table)
    if stats.get("duplicate_ids"):
        console.print(
            f"[yellow]warning: {stats['duplicate_ids']} duplicate ids[/yellow] (give each input "
            "record a unique `id`, or drop the field so ids become file:line)"
        )
    bad = stats["bad_input"]
    if bad["total"]:
        console.print(
            f"skipped bad input: {bad['total']:,} records "
            + ", ".join(f"{k}={v:,}" for k, v in bad["counts"].items())
        )
        for e in bad["examples"][:8]:
            console.print(f"  {e['reason']:<15} {e['file']}:{e['line']}  {e['detail']}", markup=False)
    else:
        console.print("no bad input")
    skipped = bad.get("skipped_files") or []
    if skipped:
        console.print(f"files not read ({len(skipped)}; all listed in stats.json under bad_input.skipped_files):")
        for s in skipped[:20]:
            console.print(f"  {s['file']}  {s['reason']}", markup=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tracemix stats",
        description="Print the per-domain table of a folder written by `tracemix tag`. A folder whose "
        "tagging run did not finish is refused; one whose Slurm jobs all finished is completed first.",
    )
    parser.add_argument("folder", help="a tagged folder (Parquet shards + logs/)")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON instead of a table")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; pass the --output folder of `tracemix tag`")
    read_tagged(folder, complete=True)
    stats = compute_stats(folder)
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print_stats(stats)
    return 0
