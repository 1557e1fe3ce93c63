"""Writing a planned mixture with datatrove: scatter -> gather -> finalize, on any `tracemix.executors` executor.

1. `ScatterSelected` (tasks over source files) reads only the row groups holding selected rows and
   spills each selected copy into its output shard's folder as Arrow IPC; every source row is read once.
2. `GatherShard` (tasks over output shards) loads one shard's spill, puts it in its shuffled order and
   yields `Document`s to a datatrove Parquet/JSONL writer, so memory is bounded by one shard.
3. `FinalizeMixture` (one task) moves the shards into the build folder (or converts them with
   `save_to_disk`), writes manifest.json last, and swaps the build folder into the output folder whole.
Everything happens in the work folder `.NAME.mix/` beside the output; each stage logs datatrove completions
under its `logs/`, so an interrupted run resumes where it stopped when the same command is run again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

SPILL, STAGING, SELECTION, DRAFT = "spill", "staging", "selection.parquet", "manifest.draft.json"
BUILD = "build"  # the complete mixture is assembled here, then swapped into the output folder in one step


def output_schema(files: list[str], unit_is_tokens: bool):
    """Union of the source schemas plus `bucket` and `repeat` (and `n_tokens` in the recipe's tokenizer)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tracemix.errors import DataError

    try:
        schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise DataError(f"sources have incompatible columns: {err}") from None
    fields = [f for f in schema if f.name not in ("bucket", "repeat") and not f.name.startswith("_")]
    if unit_is_tokens:
        fields = [f for f in fields if f.name != "n_tokens"] + [pa.field("n_tokens", pa.int64())]
    fields += [pa.field("bucket", pa.string()), pa.field("repeat", pa.int64())]
    order = {"id": 0, "text": 1}
    return pa.schema(sorted(fields, key=lambda f: order.get(f.name, 2)))


def shard_name(shard: int, n_shards: int) -> str:
    """Hub-style names: `datasets.load_dataset(FORMAT, data_dir=...)` takes them as the train split and
    leaves manifest.json alone."""
    return f"train-{shard:05d}-of-{n_shards:05d}"


class ScatterSelected(PipelineStep):
    """Spill the selected rows of this task's source files into per-shard Arrow IPC files."""

    name = "🎯 scatter selected rows"
    type = "🧪 - MIX"
    _requires_dependencies = ["pyarrow"]

    def __init__(self, work_dir: str, files: list[str], schema: Any, unit_is_tokens: bool):
        super().__init__()
        self.work_dir, self.files, self.schema, self.unit_is_tokens = work_dir, files, schema, unit_is_tokens

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        selection = pq.read_table(os.path.join(self.work_dir, SELECTION))
        for f in range(rank, len(self.files), world_size):
            mine = selection.filter(pc.equal(selection["file"], f))
            if mine.num_rows == 0:
                continue
            pf = pq.ParquetFile(self.files[f])
            columns = [c for c in self.schema.names if c in pf.schema_arrow.names]
            starts = [0]
            for g in range(pf.num_row_groups):
                starts.append(starts[-1] + pf.metadata.row_group(g).num_rows)
            writers: dict[int, Any] = {}
            rows = mine["row"].to_numpy()
            for g in range(pf.num_row_groups):
                lo, hi = rows.searchsorted(starts[g]), rows.searchsorted(starts[g + 1])
                if lo == hi:
                    continue
                part = mine.slice(lo, hi - lo)
                block = pf.read_row_group(g, columns=columns).take(pa.array(rows[lo:hi] - starts[g]))
                block = self._conform(block, part)
                with self.track_time():
                    self._spill(block, part["shard"].to_numpy(), f, writers)
                self.stat_update("selected", value=block.num_rows)
            for shard, (writer, tmp) in writers.items():
                writer.close()
                os.replace(tmp, self._spill_path(shard, f))
        if data:
            yield from data

    def _conform(self, block, part):
        import pyarrow as pa

        cols = {}
        for field in self.schema:
            if field.name == "bucket":
                cols["bucket"] = part["bucket"]
            elif field.name == "repeat":
                cols["repeat"] = part["repeat"].cast(pa.int64())
            elif field.name == "n_tokens" and self.unit_is_tokens:
                cols["n_tokens"] = part["size"].cast(pa.int64())
            elif field.name in block.column_names:
                cols[field.name] = block[field.name].cast(field.type)
            else:
                cols[field.name] = pa.nulls(block.num_rows, field.type)
        cols["_order"] = part["order"]
        return pa.table(cols)

    def _spill_path(self, shard: int, f: int) -> str:
        return os.path.join(self.work_dir, SPILL, f"{shard:05d}", f"{f:05d}.arrow")

    def _spill(self, block, shards, f: int, writers: dict) -> None:
        import numpy as np
        import pyarrow as pa

        order = np.argsort(shards, kind="stable")
        block, shards = block.take(pa.array(order)), shards[order]
        bounds = np.flatnonzero(np.diff(shards)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(shards)], strict=True):
            shard = int(shards[lo])
            if shard not in writers:
                final = self._spill_path(shard, f)
                Path(final).parent.mkdir(parents=True, exist_ok=True)
                tmp = final + ".tmp"
                writers[shard] = (pa.ipc.new_file(tmp, block.schema), tmp)
            writers[shard][0].write_table(block.slice(lo, hi - lo))


class GatherShard(PipelineStep):
    """Yield each of this task's output shards as Documents, in the shuffled order of the plan."""

    name = "🔀 gather shard"
    type = "🧪 - MIX"
    _requires_dependencies = ["pyarrow"]

    def __init__(self, work_dir: str, n_shards: int):
        super().__init__()
        self.work_dir, self.n_shards = work_dir, n_shards

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import pyarrow as pa

        for shard in range(rank, self.n_shards, world_size):
            folder = Path(self.work_dir, SPILL, f"{shard:05d}")
            tables = [pa.ipc.open_file(pa.memory_map(str(p))).read_all() for p in sorted(folder.glob("*.arrow"))]
            table = pa.concat_tables(tables).sort_by("_order").drop_columns(["_order"])
            del tables
            tag = shard_name(shard, self.n_shards)
            self.stat_update("documents", value=table.num_rows)
            for batch in table.to_batches(max_chunksize=1000):
                for row in batch.to_pylist():
                    text, doc_id = row.pop("text") or "", row.pop("id")
                    row["_shard"] = tag
                    yield Document(text=text, id=doc_id, metadata=row)


def flat_row(self, document: Document) -> dict:
    """Writer adapter: the tagged columns at top level, as in the source shards."""
    row = {"id": document.id, "text": document.text}
    row.update((k, v) for k, v in document.metadata.items() if k != "_shard")
    return row


class FinalizeMixture(PipelineStep):
    """Move the written shards into the output folder and write manifest.json (and weights.json) last."""

    name = "📦 finalize mixture"
    type = "🧪 - MIX"

    def __init__(self, work_dir: str, output_dir: str, fmt: str):
        super().__init__()
        self.work_dir, self.output_dir, self.fmt = work_dir, output_dir, fmt

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from tracemix.artifacts import crash_point, read_manifest, write_manifest
        from tracemix.atomic import replace_dir, write_json
        from tracemix.errors import DataError

        out, staging, build = Path(self.output_dir), Path(self.work_dir, STAGING), Path(self.work_dir, BUILD)
        manifest = json.loads(Path(self.work_dir, DRAFT).read_text())
        if not build.exists() and not any(staging.glob("*")) and (out / "manifest.json").is_file():
            try:  # a rerun after the swap already happened
                if read_manifest(out, "mixture").get("fingerprint") == manifest["fingerprint"]:
                    return
            except DataError:
                pass
        build.mkdir(parents=True, exist_ok=True)
        expected = manifest["output"]["shards"]
        if self.fmt == "hf":
            manifest["output"]["shards"] = self._save_to_disk(build, staging, expected)
        else:
            for name in expected:
                if (staging / name).exists():
                    os.replace(staging / name, build / name)
            missing = [n for n in expected if not (build / n).exists()]
            if missing:
                raise RuntimeError(f"{out}: shards missing after writing: {missing[:5]}")
        crash_point("mix:shards-moved")
        weights = manifest.pop("_weights", None)
        if weights is not None:
            write_json(build / "weights.json", weights)
        write_manifest(build, "mixture", manifest.pop("config"), manifest.pop("parents"), extra=manifest)
        crash_point("mix:before-swap")
        replace_dir(build, out)
        if data:
            yield from data

    def _save_to_disk(self, out: Path, staging: Path, expected: list[str]) -> list[str]:
        from datasets import Dataset

        files = [str(staging / n) for n in expected]
        target = Path(self.work_dir, "hf")
        if target.exists():
            shutil.rmtree(target)
        ds = Dataset.from_parquet(files, cache_dir=str(Path(self.work_dir, "hf_cache")))
        ds.save_to_disk(str(target))
        names = sorted(p.name for p in target.iterdir())
        for name in names:
            os.replace(target / name, out / name)
        return [n for n in names if n.endswith(".arrow")]
