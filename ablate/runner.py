"""Run a sweep: one frame, then per variant mix -> (per seed) train -> eval / perplexity / probe; then statistics.

Every stage is a function of its inputs (`ablate.stages`), cached under a content hash of them; the frame
(held-out set and tokenizer, `ablate.frame`) is a stage every mixture and training run depends on. The unit
of replication is the training run: each variant trains once per seed of `seeds`, and its metrics are
summarised over seeds (`ablate.summary`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ablate import stages as st
from ablate.frame import build_frame, tokenizer_folder
from ablate.sweep import Sweep, load_sweep
from tracemix.artifacts import begin, write_manifest
from tracemix.atomic import write_json
from tracemix.provenance import file_hash, provenance

Plan = list[tuple[st.Stage, dict, Any]]


def _frame_stage(sweep: Sweep, cache: Path) -> tuple[st.Stage, dict, Any, str | dict]:
    """The frame stage (held-out set + tokenizer) and the tokenizer spec it resolves."""
    from curation.mixing import load_recipe
    from training.config import load_config

    recipe = load_recipe(sweep.recipe)
    sources, keep = [str(s) for s in recipe.sources], recipe.filter.source
    cfg = load_config(sweep.train.config, sweep.train.config_overrides() or None).model_dump(mode="json")
    spec = cfg["tokenizer"] if cfg["tokenizer"] is not None else cfg["model"]["from_pretrained"]
    inputs = {"sources": {s: st.folder_fingerprint(s) for s in sources}, "filter": keep,
              "heldout": sweep.heldout, "tokenizer": spec}
    frame = st.stage(cache, "frame", inputs)
    return frame, inputs, partial(build_frame, sources, keep, sweep.heldout, spec, frame.dir), spec


def _variant_plan(sweep: Sweep, variant: dict[str, Any], cache: Path) -> tuple[Plan, dict[int, Plan]]:
    """(stages shared by the variant's runs: frame, mix; stages of each training seed: train, eval, ...)."""
    frame, frame_in, frame_run, spec = _frame_stage(sweep, cache)
    heldout = frame.dir / "heldout.parquet"
    from curation.mixing import load_recipe

    own = load_recipe(sweep.recipe, overrides=variant["overrides"]).exclude
    recipe_overrides = {**variant["overrides"], "exclude": [*own, str(heldout)]}  # no mixture holds a held-out doc
    mix_in = {"recipe": st.config_hash_of_file(sweep.recipe), "overrides": variant["overrides"],
              "sources": {s: st.folder_fingerprint(s) for s in sweep.recipe_sources()}, "frame": frame.key}
    mix = st.stage(cache, "mix", mix_in)
    shared: Plan = [(frame, frame_in, frame_run),
                    (mix, mix_in, partial(st.run_mix, sweep.recipe, recipe_overrides, mix.dir))]
    train_overrides = dict(sweep.train.overrides)
    if isinstance(spec, dict):  # the config trains a tokenizer: every run gets the frame's instead
        train_overrides["tokenizer"] = tokenizer_folder(spec, frame.dir)
    runs: dict[int, Plan] = {}
    for seed in sweep.training_seeds():
        train_in = {"config": st.config_hash_of_file(sweep.train.config), "stage": sweep.train.model_dump(),
                    "mix": mix.key, "frame": frame.key, "seed": seed}
        train = st.stage(cache, "train", train_in)
        plan: Plan = [(train, train_in, partial(st.run_train, sweep.train.config, mix.dir, train.dir,
                                                sweep.train.max_steps, seed, train_overrides))]
        if sweep.eval:
            eval_in = {"stage": sweep.eval.model_dump(mode="json"), "train": train.key}
            ev = st.stage(cache, "eval", eval_in)
            plan.append((ev, eval_in, partial(st.run_evaluation, train.dir, sweep.eval, ev.dir)))
        if sweep.perplexity:
            ppl = sweep.perplexity.model_copy(update={"data": str(heldout)})
            ppl_in = {"stage": sweep.perplexity.model_dump(mode="json"), "frame": frame.key, "train": train.key}
            ppl_stage = st.stage(cache, "perplexity", ppl_in)
            plan.append((ppl_stage, ppl_in, partial(st.run_perplexity, train.dir, ppl, None, ppl_stage.dir)))
        if sweep.probe:
            probe = sweep.probe if sweep.probe.data else sweep.probe.model_copy(update={"data": str(heldout)})
            # keep every probed token's experts, so routing metrics get a bootstrap over documents
            probe = probe.model_copy(update={"sample_tokens": max(probe.sample_tokens, probe.max_tokens_per_domain)})
            data = ({"frame": frame.key} if not sweep.probe.data
                    else {"data": [st.folder_fingerprint(d) for d in probe.folders()]})
            probe_in = {"stage": probe.model_dump(mode="json", exclude={"data"}), **data, "train": train.key}
            pr = st.stage(cache, "probe", probe_in)
            plan.append((pr, probe_in, partial(st.run_probing, train.dir, probe, pr.dir)))
        runs[seed] = plan
    return shared, runs


def _variant_stages(sweep: Sweep, variant: dict[str, Any], cache: Path) -> Plan:
    """Every stage of one variant with its inputs (what the cache key hashes) and how to run it, in order."""
    shared, runs = _variant_plan(sweep, variant, cache)
    return shared + [entry for plan in runs.values() for entry in plan]


def _run_stage(stage: st.Stage, inputs: dict, run, label: str, console: Console) -> dict[str, Any]:
    if stage.done:
        console.print(f"  {label:<36} {stage.name:<10} cached ({stage.key})")
        return stage.result()
    stage.dir.mkdir(parents=True, exist_ok=True)
    result, seconds = st.timed(run)
    console.print(f"  {label:<36} {stage.name:<10} done in {seconds:.1f}s ({stage.key})")
    return st.finish(stage, inputs, result, seconds)


def run_sweep(sweep: Sweep | str | Path, output: str | Path, console: Console | None = None) -> dict[str, Any]:
    """Run (or resume) every variant and seed of `sweep` into `output`; return the summary (also `summary.json`)."""
    from ablate.report import write_report
    from ablate.summary import comparisons, frame_record, strip_items, variant_record

    sweep_path = None
    if not isinstance(sweep, Sweep):
        sweep_path, sweep = Path(sweep), load_sweep(sweep)
    console = console or Console()
    sweep.check()
    out = begin(output, "sweep")  # readers refuse the sweep folder until its manifest is written again
    cache = out / "cache"
    variants = sweep.variants()
    plans = [(v, *_variant_plan(sweep, v, cache)) for v in variants]
    unique = {s.dir: s for _, shared, runs in plans for s, _, _ in shared + [e for p in runs.values() for e in p]}
    todo = sum(not s.done for s in unique.values())
    console.print(f"[bold]{sweep.name}[/]: {len(variants)} variants x {len(sweep.training_seeds())} seeds, "
                  f"{len(unique)} stages, {len(unique) - todo} cached, {todo} to run -> {out}")
    records, frame = [], None
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("sweep", total=len(unique))
        seen: set[Path] = set()

        def run(stage, inputs, fn, label):
            bar.update(task, description=f"{label}: {stage.name}")
            record = _run_stage(stage, inputs, fn, label, bar.console)
            if stage.dir not in seen:
                seen.add(stage.dir)
                bar.advance(task)
            return record

        for variant, shared, runs in plans:
            shared_out = {s.name: run(s, i, fn, variant["name"]) for s, i, fn in shared}
            frame = frame or (shared[0][0], shared_out["frame"])
            runs_out = {seed: {s.name: run(s, i, fn, f"{variant['name']} seed {seed}") for s, i, fn in plan}
                        for seed, plan in runs.items()}
            records.append(variant_record(variant, shared_out, runs_out))
    summary = {
        "name": sweep.name,
        "sweep": sweep.model_dump(mode="json"),
        "sweep_file_hash": file_hash(sweep_path) if sweep_path else None,
        "frame": frame_record(frame[1], frame[0].dir, out),
        "alpha": sweep.alpha,
        "correction": sweep.correction,
        "variants": strip_items(records),
        "comparisons": comparisons(records, sweep.alpha, sweep.correction),
        "ran": todo,
        "cached": len(unique) - todo,
        **provenance(sweep.model_dump(mode="json")),
    }
    summary["plots"] = write_report(summary, out)
    write_json(out / "summary.json", summary)
    write_manifest(out, "sweep", sweep.model_dump(mode="json"), st.sweep_parents(list(unique.values())),
                   extra={"name": sweep.name, "n_variants": len(records)}, skip=("cache",))
    return summary
