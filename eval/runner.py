"""run_eval: resolve tasks, load examples, generate, extract, score, write the run folder."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eval.extract import extract
from eval.registry import resolve
from eval.report import summarize, write_run
from eval.scoring import is_correct
from eval.sources import Example, build_prompt, load_examples
from eval.task import Metric, TaskConfig
from tracemix.artifacts import begin, input_ref
from tracemix.atomic import write_json
from tracemix.errors import RecipeError
from tracemix.provenance import config_hash

EXTRACTION_METHODS = ("rules", "llm")
DEFAULT_MAX_NEW_TOKENS = 256


def _check_extractor(extractor: str) -> None:
    if extractor not in EXTRACTION_METHODS:
        raise RecipeError(f"--extractor is '{extractor}'; use one of {', '.join(EXTRACTION_METHODS)}")


def make_llm_extractor(extractor_model: str | None, extractor_base_url: str | None, **kw: Any):
    from eval.llm_extract import LLMExtractor

    return LLMExtractor(extractor_model or "gpt-3.5-turbo", base_url=extractor_base_url, **kw)


def score_samples(task: TaskConfig, rows: list[dict], extractor: str, llm=None,
                  sandbox_kw: dict | None = None, workers: int = 4) -> list[dict]:
    """Fill `extracted`, `correct_by` and `correct` of sample rows (prompt, generation, gold, options)."""
    rules = [extract(task.extractor or "", r["generation"], r.get("options"),
                     r["gold"].get("entry_point") if isinstance(r["gold"], dict) else None) for r in rows]
    llm_answers = (llm.extract(task, [r["prompt"] for r in rows], [r["generation"] for r in rows],
                               [r.get("options") for r in rows]) if llm is not None else None)

    def judge(i: int) -> dict:
        row = rows[i]
        extracted = {"rules": rules[i]}
        correct_by, details = {}, {}
        correct_by["rules"], details = is_correct(task, rules[i], row["gold"], sandbox_kw)
        if llm_answers is not None and task.metric != Metric.PASS_AT_1:
            extracted["llm"] = llm_answers[i]
            correct_by["llm"], _ = is_correct(task, llm_answers[i], row["gold"])
        method = extractor if extractor in correct_by else "rules"
        out = {**row, "extracted": extracted, "correct_by": correct_by, "correct": correct_by[method]}
        if details:
            out["details"] = details
        return out

    # code runs in sandbox subprocesses; a few at a time keeps the machine responsive
    n_workers = workers if task.metric == Metric.PASS_AT_1 else 1
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        return list(pool.map(judge, range(len(rows))))


def task_info(task: TaskConfig) -> dict[str, Any]:
    return {"domain": str(task.domain), "metric": str(task.metric), "version": task.version}


def _fingerprint(model: str) -> dict[str, list[int]]:
    """Size and mtime of a local model's files: a retrained checkpoint never reuses old generations."""
    folder = Path(model)
    if not folder.is_dir():
        return {}
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(folder.iterdir()) if p.is_file()}


def _saved_generations(output: str | Path | None, task: str, key: str) -> tuple[list[str], list[bool]] | None:
    """Generations (and prompt-truncation flags) an interrupted run already made for this task with the same
    model and prompts."""
    if output is None:
        return None
    path = Path(output) / ".generations" / f"{task}.json"
    if not path.is_file():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved.get("key") != key:
        return None
    return saved["generations"], saved.get("prompt_truncated") or [False] * len(saved["generations"])


def _truncation_flags(engine: Any, n: int) -> list[bool]:
    """Which prompts the backend cut to fit the model's context in its last call (none for remote endpoints)."""
    flags = getattr(engine, "last_prompt_truncated", None)
    return [bool(f) for f in flags] if flags is not None and len(flags) == n else [False] * n


def run_eval(model: str, tasks: str | list[str] | list[TaskConfig], backend: str = "hf",
             output: str | Path | None = None, limit: int | None = None, batch_size: int = 8,
             extractor: str = "rules", max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
             extractor_model: str | None = None, extractor_base_url: str | None = None, seed: int = 0,
             progress: bool = True, sandbox_kw: dict | None = None, **backend_kw: Any) -> dict[str, Any]:
    """Evaluate `model` zero-shot on `tasks` (names, suites, YAML paths, bigbench:PATH or TaskConfigs).

    Returns the results dict written to `output/results.json` (when `output` is given): per task
    accuracy, stderr and n; per domain mean; overall; task versions; manifest. `backend_kw` goes to the
    backend (e.g. base_url=, concurrency=, cache_dir= for openai; device=, chat_template= for hf). The openai
    backend and the llm extractor keep their response cache in `output` unless `cache_dir` says otherwise
    (None: no cache); `shared_cache_dir=` with `model_revision=` adds the opt-in cross-run cache.
    """
    _check_extractor(extractor)
    if limit is not None and limit < 1:
        raise RecipeError(f"--limit must be at least 1, got {limit}")
    items = tasks if isinstance(tasks, list) else [tasks]
    configs = [c for item in items for c in ([item] if isinstance(item, TaskConfig) else resolve(item))]
    # everything that can fail on input fails here, before a model is loaded
    parents = [input_ref(model, "checkpoint", external_kind="model")]  # an unfinished training run is refused
    if any(t.metric == Metric.PASS_AT_1 for t in configs):
        from eval.sandbox import require_isolation

        require_isolation(bool((sandbox_kw or {}).get("unsafe_exec")))
    examples: dict[str, list[Example]] = {t.name: load_examples(t, limit) for t in configs}
    prompts = {t.name: [build_prompt(t, ex) for ex in examples[t.name]] for t in configs}
    run_cache = None
    if output is not None:  # the run's own response cache: it serves only the resume of this run
        from eval.backends.openai import run_cache_dir

        run_cache = run_cache_dir(output)
        if backend == "openai":
            backend_kw.setdefault("cache_dir", run_cache)
    llm = None
    if extractor == "llm":
        base = extractor_base_url or (backend_kw.get("base_url") if backend == "openai" else None)
        llm = make_llm_extractor(extractor_model, base, progress=progress,
                                 **{"cache_dir": run_cache, **{k: v for k, v in backend_kw.items() if k in (
                                     "cache_dir", "max_retries", "backoff", "concurrency")}})

    from eval.backends import get_backend

    engine = get_backend(backend, model, batch_size=batch_size, seed=seed, progress=progress, **backend_kw)
    if output is not None:
        begin(output, "eval")  # readers refuse the folder until the new manifest is written
    samples: list[dict] = []
    for task in configs:
        n_tokens = task.max_new_tokens or max_new_tokens
        key = config_hash({"engine": engine.describe(), "weights": _fingerprint(model), "prompts": prompts[task.name],
                           "max_new_tokens": n_tokens, "seed": seed})
        saved = _saved_generations(output, task.name, key)
        if saved is None:
            if progress:
                print(f"[eval] {task.name}: {len(prompts[task.name])} prompts", file=sys.stderr, flush=True)
            gens = engine.generate(prompts[task.name], n_tokens)
            truncated = _truncation_flags(engine, len(gens))
            if output is not None:
                write_json(Path(output) / ".generations" / f"{task.name}.json",
                           {"key": key, "generations": gens, "prompt_truncated": truncated})
        else:
            gens, truncated = saved
        if any(truncated) and progress:
            print(f"[eval] {task.name}: {sum(truncated)} prompts were cut from the left to fit the model's "
                  "context", file=sys.stderr, flush=True)
        rows = [{"task": task.name, "id": ex.id, "prompt": p, "generation": g, "gold": ex.gold,
                 "options": ex.options, "prompt_truncated": t}
                for ex, p, g, t in zip(examples[task.name], prompts[task.name], gens, truncated, strict=True)]
        samples += score_samples(task, rows, extractor, llm, sandbox_kw)

    config = {"model": model, "backend": backend, "tasks": [t.name for t in configs], "limit": limit,
              "batch_size": batch_size, "extractor": extractor, "extractor_model": extractor_model,
              "max_new_tokens": max_new_tokens, "seed": seed,
              "backend_kw": {k: v for k, v in backend_kw.items() if "key" not in k}}
    results = {
        "model": model,
        "backend": engine.describe(),
        "extractor": extractor,
        "extractor_llm": llm.describe() if llm is not None else None,
        **summarize(samples, {t.name: task_info(t) for t in configs}, extractor),
        "task_versions": {t.name: t.version for t in configs},
        "task_configs": {t.name: t.to_dict() for t in configs},
    }
    if output is not None:
        write_run(output, results, samples, config=config, parents=parents)
    return results
