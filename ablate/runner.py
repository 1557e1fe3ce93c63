"""Run a sweep: for each variant mix -> train -> eval -> probe, reusing every stage already finished."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ablate import stages as st
from ablate.sweep import Sweep, load_sweep
from tracemix.atomic import write_json
from tracemix.provenance import file_hash, provenance


def _variant_stages(sweep: Sweep, variant: dict[str, Any], cache: Path) -> list[tuple[st.Stage, dict, Any]]:
    """The stages of one variant with their inputs (what the cache key hashes) and how to run them."""
    recipe_sources = sweep.recipe_sources()
    mix_in = {"recipe": st.config_hash_of_file(sweep.recipe), "overrides": variant["overrides"],
              "sources": {s: st.folder_fingerprint(s) for s in recipe_sources}}
    mix = st.stage(cache, "mix", mix_in)
    train_cfg = sweep.train.model_dump()
    train_in = {"config": st.config_hash_of_file(sweep.train.config), "stage": train_cfg, "mix": mix.key,
                "seed": sweep.seed}
    train = st.stage(cache, "train", train_in)
    plan = [
        (mix, mix_in, partial(st.run_mix, sweep.recipe, variant["overrides"], mix.dir)),
        (train, train_in, partial(st.run_train, sweep.train.config, mix.dir, train.dir, sweep.train.max_steps,
                                  sweep.seed, sweep.train.overrides)),
    ]
    if sweep.eval:
        eval_in = {"stage": sweep.eval.model_dump(mode="json"), "train": train.key}
        ev = st.stage(cache, "eval", eval_in)
        plan.append((ev, eval_in, partial(st.run_evaluation, train.dir, sweep.eval, ev.dir)))
    if sweep.perplexity:
        ppl = sweep.stage_settings("perplexity")
        ppl_in = {"stage": ppl.model_dump(mode="json", exclude={"data", "exclude"}),
                  "data": st.folder_fingerprint(ppl.data), "train": train.key, "mix": mix.key}
        ppl_stage = st.stage(cache, "perplexity", ppl_in)
        plan.append((ppl_stage, ppl_in, partial(st.run_perplexity, train.dir, ppl, mix.dir, ppl_stage.dir)))
    if sweep.probe:
        probe = sweep.stage_settings("probe")
        probe_in = {"stage": probe.model_dump(mode="json", exclude={"data"}),
                    "data": [st.folder_fingerprint(d) for d in probe.folders()], "train": train.key}
        pr = st.stage(cache, "probe", probe_in)
        plan.append((pr, probe_in, partial(st.run_probing, train.dir, probe, pr.dir)))
    return plan


def _validate(sweep: Sweep) -> None:
    """Every stage's settings, paths and task names, every variant's recipe and the training config are
    checked before any stage runs."""
    sweep.check()


def run_sweep(sweep: Sweep | str | Path, output: str | Path, console: Console | None = None) -> dict[str, Any]:
    """Run (or resume) every variant of `sweep` into `output`; return the summary (also `summary.json`)."""
    from ablate.report import write_report

    sweep_path = None
    if not isinstance(sweep, Sweep):
        sweep_path, sweep = Path(sweep), load_sweep(sweep)
    console = console or Console()
    _validate(sweep)
    out = Path(output)
    cache = out / "cache"
    variants = sweep.variants()
    plans = [(v, _variant_stages(sweep, v, cache)) for v in variants]
    todo = sum(not s.done for _, plan in plans for s, _, _ in plan)
    total = sum(len(plan) for _, plan in plans)
    console.print(f"[bold]{sweep.name}[/]: {len(variants)} variants, {total} stages, "
                  f"{total - todo} cached, {todo} to run -> {out}")
    records: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("sweep", total=total)
        for variant, plan in plans:
            stages_out: dict[str, Any] = {}
            for stage, inputs, run in plan:
                bar.update(task, description=f"{variant['name']}: {stage.name}")
                if stage.done:
                    stages_out[stage.name] = stage.result()
                    bar.console.print(f"  {variant['name']:<28} {stage.name:<6} cached ({stage.key})")
                else:
                    stage.dir.mkdir(parents=True, exist_ok=True)
                    result, seconds = st.timed(run)
                    stages_out[stage.name] = st.finish(stage, inputs, result, seconds)
                    bar.console.print(f"  {variant['name']:<28} {stage.name:<6} done in {seconds:.1f}s ({stage.key})")
                bar.advance(task)
            records.append({**variant, "stages": stages_out})
    summary = {
        "name": sweep.name,
        "sweep": sweep.model_dump(),
        "sweep_file_hash": file_hash(sweep_path) if sweep_path else None,
        "variants": records,
        "ran": todo,
        "cached": total - todo,
        **provenance(sweep.model_dump()),
    }
    summary.update(write_report(summary, out))
    write_json(out / "summary.json", summary)
    return summary
