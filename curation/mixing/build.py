"""Plan, select and write a mixture: the library entry point behind `tracemix mix`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from curation.mixing.manifest import build_manifest, content_fingerprint, source_refs, weights
from curation.mixing.plan import bucket_targets
from curation.mixing.recipe import Format, Recipe, Unit, load_recipe
from curation.mixing.select import select_documents, selection_frame
from curation.mixing.table import load_table
from curation.mixing.write import (
    BUILD,
    DRAFT,
    SELECTION,
    STAGING,
    FinalizeMixture,
    GatherShard,
    ScatterSelected,
    flat_row,
    output_schema,
    shard_name,
)
from tracemix.artifacts import MANIFEST, check_disjoint, read_manifest
from tracemix.atomic import atomic_path, restore_dir, write_json
from tracemix.errors import DataError, RecipeError
from tracemix.executors import Executor, ExecutorSettings, as_settings, build_executor


def plan_mixture(recipe: Recipe) -> tuple[dict[str, Any], Any, Any]:
    """Validate sources, read the metadata table and select; return (manifest, table, selections)."""
    recipe.check_sources()
    parents = source_refs(recipe)  # every source is a complete tagged folder
    table = load_table(recipe)
    targets = bucket_targets(recipe)
    selections = select_documents(table, targets, recipe)
    manifest = build_manifest(recipe, table, targets, selections, content_fingerprint(recipe, table.files), parents)
    return manifest, table, selections


def build_mixture(recipe: Recipe | str | Path | dict, output: str | Path | None = None, dry_run: bool = False, *,
                  overrides: dict[str, Any] | None = None, tasks: int | None = None, workers: int | None = None,
                  executor: str | Executor | ExecutorSettings = Executor.LOCAL, export_weights: bool = False,
                  overwrite: bool = False) -> dict[str, Any]:
    """Build the mixture a recipe describes and return its manifest (also written to OUTPUT/manifest.json).

    `recipe` is a `Recipe`, a recipe file or a dict; `overrides` are dotted keys applied before validation.
    `output` overrides `output.path`. `dry_run=True` plans and selects (so short supply still fails) but
    writes nothing. `executor` is a name or `tracemix.executors.ExecutorSettings`; `tasks`/`workers`, when
    given, override its own. They never change the selection or the shards. A finished output with the
    same recipe and sources is reused; a different one is replaced only with `overwrite=True`.
    """
    if not isinstance(recipe, Recipe) or overrides:
        recipe = load_recipe(recipe, overrides)
    settings = as_settings(executor, tasks=tasks, workers=workers)
    out_path = output or recipe.output.path
    if not dry_run and not out_path:
        raise RecipeError(f"{recipe.file}: output.path: no output folder; set output.path or pass --output DIR")
    if not dry_run:
        check_disjoint(out_path, recipe.source_paths())
    manifest, table, selections = plan_mixture(recipe)
    if dry_run:
        manifest["dry_run"] = True
        return manifest

    out = Path(out_path).expanduser().resolve()
    restore_dir(out)  # a crash in the middle of a replace: the old mixture goes back in place
    existing = _existing_manifest(out)
    if existing is not None and existing.get("fingerprint") == manifest["fingerprint"] and not overwrite:
        if export_weights and not (out / "weights.json").is_file():
            write_json(out / "weights.json", weights(existing))
        return {**existing, "reused": True}
    _check_output(out, overwrite)
    # Built beside the output and swapped in whole when complete: a kill at any point leaves the old or the
    # new mixture, and readers never see shards of an unfinished build.
    work = work_dir(out)
    fmt = recipe.output.format
    sel = selection_frame(table, selections, recipe)
    n_shards = int(sel["shard"].max()) + 1
    ext = "jsonl" if fmt == Format.JSONL else "parquet"
    manifest["output"] = {"path": str(out), "format": fmt.value, "documents": sel.height,
                          "shards": [f"{shard_name(s, n_shards)}.{ext}" for s in range(n_shards)]
                          if fmt != Format.HF else []}
    staged = [f"{shard_name(s, n_shards)}.parquet" for s in range(n_shards)]

    t1, t2 = min(settings.tasks, len(table.files)), min(settings.tasks, n_shards)
    work_id = {"fingerprint": manifest["fingerprint"], "tasks": [t1, t2], "format": fmt.value}
    _prepare_work(work, work_id)
    with atomic_path(work / SELECTION) as tmp:
        sel.select("file", "row", "repeat", "bucket", "size", "order", "shard").write_parquet(tmp)
    draft = dict(manifest)
    draft["output"] = {**manifest["output"], "shards": manifest["output"]["shards"] or staged}
    if export_weights:
        draft["_weights"] = weights(manifest)
    write_json(work / DRAFT, draft)

    schema = output_schema(table.files, recipe.budget.unit == Unit.TOKENS)
    writer = _writer(fmt, str(work / STAGING), schema, recipe.output.compression)
    logs = work / "logs"
    stage1 = build_executor([ScatterSelected(str(work), table.files, schema, recipe.budget.unit == Unit.TOKENS)],
                            settings.with_overrides(tasks=t1), logs / "scatter", job_name=f"mix-scatter-{recipe.name}")
    stage2 = build_executor([GatherShard(str(work), n_shards), writer], settings.with_overrides(tasks=t2),
                            logs / "gather", depends=stage1, job_name=f"mix-gather-{recipe.name}")
    stage3 = build_executor([FinalizeMixture(str(work), str(out), fmt.value)],
                            settings.with_overrides(tasks=1, workers=1), logs / "finalize", depends=stage2,
                            job_name=f"mix-finalize-{recipe.name}")
    stage3.run()
    if settings.executor == Executor.SLURM:
        manifest["submitted"] = True  # the jobs run later; manifest.json appears when they finish
        return manifest
    final = _existing_manifest(out)
    if final is None or (work / BUILD).exists() or final.get("fingerprint") != manifest["fingerprint"]:
        raise DataError(f"{out}: the pipeline ended without putting the new mixture in place; see {logs} and "
                        "rerun the same command to resume")
    shutil.rmtree(work, ignore_errors=True)
    return final


def _writer(fmt: Format, folder: str, schema, compression: str):
    if fmt == Format.JSONL:
        from datatrove.pipeline.writers import JsonlWriter

        return JsonlWriter(folder, output_filename="${_shard}.jsonl", compression=None, adapter=flat_row)
    from datatrove.pipeline.writers import ParquetWriter

    return ParquetWriter(folder, output_filename="${_shard}.parquet", adapter=flat_row, schema=schema,
                         compression=None if compression == "none" else compression, max_file_size=-1)


def work_dir(out: Path) -> Path:
    """Where a mixture is built (spill, staging, logs, and `build/`, the folder swapped in at the end)."""
    return out.parent / f".{out.name}.mix"


def _existing_manifest(out: Path) -> dict[str, Any] | None:
    """The verified manifest of the complete mixture at `out`, or None."""
    if not (out / MANIFEST).is_file():
        return None
    try:
        return read_manifest(out, "mixture")
    except DataError:
        return None


def _check_output(out: Path, overwrite: bool) -> None:
    """Refuse to replace a folder holding something else, or another mixture unless asked to."""
    if not out.exists() or not any(not p.name.startswith(".") for p in out.iterdir()):
        return
    try:
        existing = read_manifest(out, "mixture")
    except DataError as err:
        try:
            kind = json.loads((out / MANIFEST).read_text()).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None
        if kind != "mixture":
            raise DataError(f"{out}: output folder is not empty and holds no mixture; choose another --output "
                            "(nothing was deleted)") from None
        if not overwrite:
            raise DataError(f"{out}: holds an incomplete or altered mixture ({err}); pass --overwrite to rebuild "
                            "it") from None
        return
    if not overwrite:
        raise DataError(f"{out}: holds a mixture built from another recipe or data "
                        f"('{existing.get('name')}'); pass --overwrite to replace it, or choose another --output")


def _prepare_work(work: Path, work_id: dict[str, Any]) -> None:
    """Reuse an interrupted run's work folder only if it was planned from the same recipe and sources."""
    stamp = work / "work.json"
    if work.exists():
        try:
            same = json.loads(stamp.read_text()) == work_id
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    write_json(stamp, work_id)
