"""Deterministic selection: each (entry, bucket) takes the documents with the lowest hash of (seed, id).

The order depends only on the seed and the ids, so the same recipe and data give the same selection
whatever the number of tasks or workers. Sizes come from the table (`n_tokens`, `n_bytes`, or 1 per
document); when token counts are missing or from another tokenizer, only candidates are counted, in hash
order, in growing batches, so a 1% mixture of a large corpus does not tokenize the other 99%.
A bucket takes documents until its target is met, so it overshoots by less than one
document. With `max_repeats > 1`, a short bucket is upsampled by whole passes over its hash order plus a prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from curation.mixing.plan import Cell, Shortfall, shortfall_message
from curation.mixing.recipe import Recipe, Unit
from curation.mixing.table import MixTable, stable_hash
from tracemix.errors import DataError, RecipeError

FIRST_BATCH, MAX_BATCH = 256, 16384


@dataclass
class BucketSelection:
    cell: Cell
    target: int
    positions: np.ndarray  # rows of the table's frame, in selection order (repeats included)
    repeat: np.ndarray  # copy number of each selected row (0 = first copy)
    sizes: np.ndarray  # budget units of each selected copy
    supply_documents: int
    supply_units: int | None  # None when not every candidate had to be counted
    counted: int  # documents counted lazily for this bucket

    @property
    def achieved(self) -> int:
        return int(self.sizes.sum())

    @property
    def documents(self) -> int:
        return len(self.positions)

    @property
    def copies(self) -> int:
        return int(self.repeat.max()) + 1 if len(self.repeat) else 0


class LazySizer:
    """Counts the budget unit of documents read back from the source shards, row group by row group."""

    def __init__(self, files: list[str], unit: Unit, tokenizer: str | None):
        self.files, self.unit, self.tokenizer_name = files, unit, tokenizer

    @cached_property
    def tokenizer(self):
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.tokenizer_name)
        except (OSError, ValueError) as err:
            raise RecipeError(f"tokenizer: cannot load '{self.tokenizer_name}': {str(err).rstrip('.')}. Give a local tokenizer "
                              "folder, or tag the sources with this tokenizer so n_tokens is recorded") from None

    def __call__(self, file_idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
        texts = fetch_texts(self.files, file_idx, rows)
        if self.unit == Unit.BYTES:
            return np.array([len(t.encode("utf-8")) for t in texts], dtype=np.int64)
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return np.array([len(x) for x in ids], dtype=np.int64)


def fetch_texts(files: list[str], file_idx: np.ndarray, rows: np.ndarray) -> list[str]:
    """`text` of the given (file, row) pairs, reading only the row groups that hold them."""
    import pyarrow.parquet as pq

    out: list[str | None] = [None] * len(rows)
    for f in np.unique(file_idx):
        pf = pq.ParquetFile(files[int(f)])
        starts = np.cumsum([0] + [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)])
        where = np.nonzero(file_idx == f)[0]
        groups = np.searchsorted(starts, rows[where], side="right") - 1
        for g in np.unique(groups):
            texts = pf.read_row_group(int(g), columns=["text"]).column("text")
            for k in where[groups == g]:
                out[k] = texts[int(rows[k] - starts[g])].as_py() or ""
    return out  # type: ignore[return-value]


def _prefix_meeting(cum: np.ndarray, target: float) -> int:
    """Number of leading documents needed to meet `target` (cum: running totals); overshoot < one document."""
    if target <= 0:
        return 0
    return min(int(np.searchsorted(cum, target, side="left")) + 1, len(cum))


def select_cell(cell: Cell, target: int, positions: np.ndarray, sizes: np.ndarray, file_idx: np.ndarray,
                rows: np.ndarray, sizer: LazySizer | None, max_repeats: int) -> BucketSelection | Shortfall:
    """Select from candidates already sorted by rank; `sizes` holds -1 where the size is unknown."""
    n, counted, scanned = len(positions), 0, len(positions)
    empty = np.zeros(0, dtype=np.int64)
    if (sizes < 0).any():
        scanned, total, batch = 0, 0, FIRST_BATCH
        while scanned < n and total < target:
            end = min(n, scanned + batch)
            unknown = np.nonzero(sizes[scanned:end] < 0)[0] + scanned
            if len(unknown):
                sizes[unknown] = sizer(file_idx[unknown], rows[unknown])  # type: ignore[misc]
                counted += len(unknown)
            total += int(sizes[scanned:end].sum())
            scanned, batch = end, min(batch * 2, MAX_BATCH)
    cum = np.cumsum(sizes[:scanned])
    supply = int(cum[-1]) if scanned else 0
    supply_units = supply if scanned == n else None
    if target == 0:
        return BucketSelection(cell, 0, empty, empty, empty, n, supply_units, counted)
    if supply >= target:
        k = _prefix_meeting(cum, target)
        return BucketSelection(cell, target, positions[:k], np.zeros(k, dtype=np.int64), sizes[:k].copy(), n,
                               supply_units, counted)
    passes = math.ceil(target / supply) if supply > 0 else None
    if passes is None or passes > max_repeats:
        return Shortfall(cell, (), target, supply, n)
    full = passes - 1
    k = _prefix_meeting(cum, target - full * supply)
    pos = np.concatenate([np.tile(positions, full), positions[:k]])
    rep = np.concatenate([np.repeat(np.arange(full, dtype=np.int64), n), np.full(k, full, dtype=np.int64)])
    size = np.concatenate([np.tile(sizes, full), sizes[:k]])
    return BucketSelection(cell, target, pos, rep, size, n, supply_units, counted)


def select_documents(table: MixTable, targets: dict[Cell, int], recipe: Recipe) -> dict[Cell, BucketSelection]:
    """Select every (entry, bucket); raise DataError naming every bucket the data cannot fill."""
    unit = recipe.budget.unit
    frame = table.frame.with_row_index("_pos")
    if unit == Unit.DOCUMENTS:
        size = pl.lit(1, pl.Int64)
    elif unit == Unit.BYTES:
        size = pl.col("n_bytes").fill_null(-1)
    else:
        size = pl.col("n_tokens").fill_null(-1)
    frame = frame.with_columns(size.alias("_size")).sort("entry", "bucket", "rank", "id")
    groups = frame.partition_by("entry", "bucket", as_dict=True)
    sizer = LazySizer(table.files, unit, recipe.tokenizer) if unit != Unit.DOCUMENTS else None
    out: dict[Cell, BucketSelection] = {}
    shortfalls: list[Shortfall] = []
    from tqdm.auto import tqdm

    for cell, target in tqdm(targets.items(), desc="mix: selecting", unit="bucket", disable=None):
        sub = groups.get(cell)
        if sub is None:
            sub = frame.clear()
        result = select_cell(cell, target, sub["_pos"].to_numpy().astype(np.int64),
                             sub["_size"].to_numpy().astype(np.int64).copy(),
                             sub["file"].to_numpy(), sub["row"].to_numpy().astype(np.int64), sizer,
                             recipe.max_repeats)
        if isinstance(result, Shortfall):
            result.domains = recipe.entry_domains(cell[0])
            shortfalls.append(result)
        else:
            out[cell] = result
    if shortfalls:
        raise DataError(shortfall_message(recipe, shortfalls))
    return out


def selection_frame(table: MixTable, selections: dict[Cell, BucketSelection], recipe: Recipe) -> pl.DataFrame:
    """One row per selected copy with its place in the shuffled output: `order` and `shard`."""
    parts = []
    for sel in selections.values():
        if not sel.documents:
            continue
        rows = table.frame[sel.positions.tolist()].select("id", "file", "row", "domain", "entry", "bucket",
                                                         "n_bytes")
        parts.append(rows.with_columns(pl.Series("repeat", sel.repeat), pl.Series("size", sel.sizes)))
    if not parts:
        raise DataError(f"{recipe.file}: the plan selects no documents")
    sel = pl.concat(parts)
    keys = [stable_hash(recipe.seed, f"shuffle\x00{i}\x00{r}") for i, r in
            zip(sel["id"].to_list(), sel["repeat"].to_list(), strict=True)]
    sel = sel.with_columns(pl.Series("_key", keys, dtype=pl.UInt64)).sort("_key", "id", "repeat")
    n = sel.height
    n_shards = max(1, min(n, math.ceil(int(sel["n_bytes"].sum()) / recipe.output.shard_bytes)))
    order = np.arange(n, dtype=np.int64)
    sel = sel.with_columns(pl.Series("order", order), pl.Series("shard", (order * n_shards) // n))
    return sel.drop("_key").sort("file", "row", "repeat")
