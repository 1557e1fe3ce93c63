"""The compact metadata table a mixture is planned from: one row per tagged document, no text.

Documents whose id the recipe's `exclude` files list are dropped before anything is planned.
Columns: `id, domain, scaffold_score, n_bytes, n_tokens (null unless tagged with the recipe's tokenizer),
file (index into the source file list), row (row within that file), entry (mixture key), bucket, rank`.
`rank` is the 64-bit hash of (seed, id) that orders every selection.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curation.mixing.recipe import Recipe, Unit
from tracemix.domains import DOMAINS
from tracemix.errors import DataError

REQUIRED_COLUMNS = ("id", "text", "domain")
SCAFFOLD, PLAIN, ALL = "scaffold", "plain", "all"


@dataclass
class MixTable:
    frame: pl.DataFrame  # documents that belong to some mixture entry
    files: list[str]  # source parquet files, indexed by the `file` column
    file_source: list[int]  # source index of each file
    supply: dict[str, dict[str, dict[str, int]]]  # source -> domain -> {documents, bytes, tokens?}
    tokens_known: bool  # n_tokens present (for all rows) in the recipe's tokenizer


def stable_hash(seed: int, key: str) -> int:
    """64-bit blake2b of (seed, key): stable across processes, machines and library versions."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest(), "big")


def source_files(recipe: Recipe) -> tuple[list[str], list[int]]:
    files, owners = [], []
    for i, folder in enumerate(recipe.source_paths()):
        for path in sorted(folder.glob("*.parquet")):
            files.append(str(path))
            owners.append(i)
    return files, owners


def source_tokenizer(folder: Path) -> str | None:
    """The tokenizer a tagged folder's `n_tokens` was counted with, from its manifest.json."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    for block in (data, data.get("config") or {}, data.get("recipe") or {}):
        if isinstance(block, dict) and isinstance(block.get("tokenizer"), str):
            return block["tokenizer"]
    return None


def same_tokenizer(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    pa_, pb = Path(a).expanduser(), Path(b).expanduser()
    return pa_.exists() and pb.exists() and pa_.resolve() == pb.resolve()


def _scan_file(path: str, file_idx: int, use_tokens: bool, keep_sources: list[str] | None) -> pl.DataFrame:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected a shard written by "
                        "`tracemix tag` (id, text, domain, scaffold_score, n_bytes, ...)")
    lf = pl.scan_parquet(path).with_row_index("row")
    if keep_sources is not None:
        if "source" not in names:
            raise DataError(f"{path}: no `source` column, so `filter.source` cannot apply")
        lf = lf.filter(pl.col("source").is_in(keep_sources))
    cols = [pl.col("id").cast(pl.String), pl.col("domain").cast(pl.String), pl.col("row").cast(pl.Int64)]
    cols.append(pl.col("scaffold_score").cast(pl.Float64) if "scaffold_score" in names
                else pl.lit(None, pl.Float64).alias("scaffold_score"))
    # n_bytes is in the contract; recompute it from text only for shards that lack it
    cols.append(pl.col("n_bytes").cast(pl.Int64) if "n_bytes" in names
                else pl.col("text").str.len_bytes().cast(pl.Int64).alias("n_bytes"))
    cols.append(pl.col("n_tokens").cast(pl.Int64) if use_tokens and "n_tokens" in names
                else pl.lit(None, pl.Int64).alias("n_tokens"))
    return lf.select(cols).with_columns(pl.lit(file_idx, pl.Int32).alias("file")).collect()


def load_table(recipe: Recipe) -> MixTable:
    """Read the metadata of every source shard (no text) and assign mixture entry, bucket and rank."""
    files, owners = source_files(recipe)
    folders = recipe.source_paths()
    use_tokens = [recipe.budget.unit == Unit.TOKENS
                  and same_tokenizer(source_tokenizer(folders[o]), recipe.tokenizer) for o in owners]
    from tqdm.auto import tqdm

    parts = [_scan_file(f, i, use_tokens[i], recipe.filter.source)
             for i, f in enumerate(tqdm(files, desc="mix: reading metadata", unit="shard", disable=None))]
    frame = pl.concat(parts, how="vertical") if parts else pl.DataFrame()
    if frame.is_empty():
        hint = f" with source in {recipe.filter.source}" if recipe.filter.source else ""
        raise DataError(f"{recipe.file}: the sources hold no documents{hint}")

    bad = frame.filter(~pl.col("domain").is_in(list(DOMAINS)))
    if not bad.is_empty():
        row = bad.row(0, named=True)
        raise DataError(f"{files[row['file']]}: row {row['row']}: unknown domain '{row['domain']}' "
                        f"({bad.height} such rows); domains are {', '.join(DOMAINS)}")
    dup = frame.group_by("id").agg(pl.col("file").first(), pl.len().alias("n")).filter(pl.col("n") > 1)
    if not dup.is_empty():
        row = dup.row(0, named=True)
        raise DataError(f"{files[row['file']]}: id '{row['id']}' appears {row['n']} times across the sources "
                        f"({dup.height} duplicated ids); ids must be unique, e.g. list each tagged folder once")

    excluded = excluded_ids(recipe)
    if excluded:
        frame = frame.filter(~pl.col("id").is_in(excluded))  # the supply below is what may be selected
    supply = _supply(frame, folders, owners)
    domain_entry = {d: key for key in recipe.mixture for d in recipe.entry_domains(key)}
    frame = frame.with_columns(pl.col("domain").replace_strict(domain_entry, default=None).alias("entry"))
    frame = frame.filter(pl.col("entry").is_not_null())
    frame = frame.with_columns(_bucket_expr(recipe).alias("bucket"))
    if recipe.density and frame.filter(pl.col("entry").is_in(list(recipe.density))
                                       & pl.col("scaffold_score").is_null()).height:
        raise DataError(f"{recipe.file}: density: some documents have no scaffold_score; tag the sources "
                        "with `tracemix tag` (which scores every document)")
    ranks = [stable_hash(recipe.seed, i) for i in frame["id"].to_list()]
    frame = frame.with_columns(pl.Series("rank", ranks, dtype=pl.UInt64))
    tokens_known = recipe.budget.unit == Unit.TOKENS and frame["n_tokens"].null_count() == 0
    return MixTable(frame, files, owners, supply, tokens_known)


def excluded_ids(recipe: Recipe) -> list[str]:
    """Ids listed by the recipe's `exclude` Parquet files (or folders of them); no mixture may contain them."""
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for i, raw in enumerate(recipe.exclude):
        path = Path(raw).expanduser()
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        if not path.exists() or not files:
            raise DataError(f"{recipe.file}: exclude[{i}]: '{raw}' is not a Parquet file or a folder of them")
        for f in files:
            if "id" not in pq.read_schema(f).names:
                raise DataError(f"{recipe.file}: exclude[{i}]: {f} has no `id` column")
            ids.update(str(x) for x in pq.read_table(f, columns=["id"]).column("id").to_pylist())
    return sorted(ids)


def _bucket_expr(recipe: Recipe) -> pl.Expr:
    expr = pl.lit(ALL)
    for key, d in recipe.density.items():
        scaffold = pl.when(pl.col("scaffold_score") >= d.threshold).then(pl.lit(SCAFFOLD)).otherwise(pl.lit(PLAIN))
        expr = pl.when(pl.col("entry") == key).then(scaffold).otherwise(expr)
    return expr


def _supply(frame: pl.DataFrame, folders: list[Path], owners: list[int]) -> dict:
    owner = pl.Series("owner", owners, dtype=pl.Int32)
    agg = (frame.with_columns(pl.col("file").replace_strict(list(range(len(owners))), owner.to_list())
                              .alias("source"))
           .group_by("source", "domain")
           .agg(pl.len().alias("documents"), pl.col("n_bytes").sum().alias("bytes"),
                pl.col("n_tokens").sum().alias("tokens"), pl.col("n_tokens").null_count().alias("nulls"))
           .sort("source", "domain"))
    out: dict[str, dict[str, dict[str, int]]] = {}
    for r in agg.iter_rows(named=True):
        cell = {"documents": r["documents"], "bytes": r["bytes"]}
        if r["nulls"] == 0:
            cell["tokens"] = r["tokens"]
        out.setdefault(str(folders[r["source"]]), {})[r["domain"]] = cell
    return out
