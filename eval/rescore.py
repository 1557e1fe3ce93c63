"""Re-score a saved run with another extractor, without generating again."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from eval.report import load_run, summarize, write_run
from eval.runner import _check_extractor, make_llm_extractor, score_samples, task_info
from eval.task import parse_task
from tracemix.artifacts import parent_ref, read_manifest
from tracemix.errors import DataError


def rescore(run_dir: str | Path, extractor: str = "rules", output: str | Path | None = None,
            extractor_model: str | None = None, extractor_base_url: str | None = None,
            sandbox_kw: dict | None = None, **llm_kw: Any) -> dict[str, Any]:
    """Re-extract and re-score `run_dir/samples.jsonl`; write to `output` (default: in place)."""
    _check_extractor(extractor)
    results, samples = load_run(run_dir)
    configs = results.get("task_configs")
    if not configs:
        raise DataError(f"{run_dir}/results.json has no `task_configs`; it was not written by `tracemix eval`")
    tasks = {name: parse_task(cfg, f"{run_dir}/results.json: task_configs.{name}") for name, cfg in configs.items()}
    if extractor == "llm":
        from eval.backends.openai import run_cache_dir

        llm_kw.setdefault("cache_dir", run_cache_dir(output or run_dir))  # this rescoring run's own cache
    llm = make_llm_extractor(extractor_model, extractor_base_url, **llm_kw) if extractor == "llm" else None
    by_task: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        if s["task"] not in tasks:
            raise DataError(f"{run_dir}/samples.jsonl: task '{s['task']}' is not in results.json")
        keep = ("task", "id", "prompt", "generation", "gold", "options", "prompt_truncated")
        by_task[s["task"]].append({k: s[k] for k in keep if k in s})
    rescored: list[dict] = []
    for name, task in tasks.items():
        rescored += score_samples(task, by_task.get(name, []), extractor, llm, sandbox_kw)
    config = {"rescored_from": str(run_dir), "extractor": extractor, "extractor_model": extractor_model}
    new = {**results, "extractor": extractor, "extractor_llm": llm.describe() if llm else None,
           **summarize(rescored, {n: task_info(t) for n, t in tasks.items()}, extractor)}
    generation = read_manifest(run_dir, "eval")
    in_place = output is None or Path(output).resolve() == Path(run_dir).resolve()
    # in place the run keeps its own parents (the checkpoint); elsewhere the generation run is the parent
    parents = generation["parents"] if in_place else [parent_ref(run_dir, "eval")]
    write_run(output or run_dir, new, rescored, config=config, parents=parents,
              extra={"generation_config_hash": generation["config_hash"]})
    return new
