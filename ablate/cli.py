"""`tracemix ablate SWEEP.yaml [--output DIR] [--executor local|slurm|ray] [--plan] [--only V[/S]] [--run-stage ID]`."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run a data ablation end to end. The sweep becomes a graph of stages: one frame (the held-out set carved by
document-id hash and the one tokenizer every run shares), then for each variant (a grid over its axes) mix,
and for each training seed (`seeds: [1, 2, 3]`) train -> eval / perplexity / probe. Each stage is cached under a content hash of its inputs
(OUTPUT/cache/STAGE/KEY/), so an interrupted or extended sweep runs only what is missing. Once every stage is
done it writes OUTPUT/summary.json, OUTPUT/report.md and plots: every metric as a mean with its 95% interval
over seeds, and every variant compared with the first on every metric (effect, interval, p-value corrected
for the number of comparisons; see docs/statistics.md).

Stages run in this process (--executor local), as Slurm jobs chained by job dependencies (--executor slurm,
with --partition; returns once submitted unless --wait) or as Ray tasks on the cluster in RAY_ADDRESS or a
local instance (--executor ray). Resources per stage come from the sweep's `resources:` section; the flags
below fill in what a stage does not set. A stage folder is claimed with a lease, so two launches never run it
twice, and a relaunch submits only what is missing or failed.

examples:
  tracemix ablate recipes/ablations/demo.yaml --output runs/demo
  tracemix ablate recipes/ablations/math_density.yaml --executor slurm --partition gpu --account proj --wait
  tracemix ablate recipes/ablations/math_density.yaml --plan         # cached / pending / running / failed
  tracemix ablate recipes/ablations/demo.yaml --output runs/demo --only 'math_share=0.35/train'
  tracemix ablate recipes/ablations/demo.yaml --run-stage train/0123abcd4567ef89   # one stage, by hand
"""


def _cli_resources(args: argparse.Namespace) -> dict:
    """Resource flags the user gave (executor defaults count as not given: the sweep's own values win)."""
    from tracemix.executors import DEFAULT_TIME

    given = {"partition": args.partition, "account": args.account, "qos": args.qos, "mem": args.mem,
             "time": None if args.time == DEFAULT_TIME else args.time, "cpus": None if args.cpus == 1 else args.cpus}
    return {k: v for k, v in given.items() if v is not None}


def main(argv: list[str]) -> int:
    from tracemix.executors import add_executor_args

    parser = argparse.ArgumentParser(prog="tracemix ablate", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="sweep YAML file (see recipes/ablations/)")
    parser.add_argument("--output", help="run folder, on a filesystem every job sees (default: runs/<sweep name>)")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    parser.add_argument("--plan", action="store_true",
                        help="print the stage graph (cached / pending / running / failed with the log path) and exit")
    parser.add_argument("--only", action="append", default=[], metavar="VARIANT[/STAGE]",
                        help="run only this variant (or one of its stages) and the unfinished stages it needs "
                             "(repeatable)")
    parser.add_argument("--run-stage", metavar="STAGE/KEY",
                        help="run one stage here (what each job runs; --plan prints the command per stage)")
    parser.add_argument("--wait", action="store_true",
                        help="with --executor slurm: wait for the jobs, then write the report")
    group = add_executor_args(parser, tasks_help="not used by ablate: each stage is one job (use --cpus, --mem)")
    group.title = "where the stages run (the sweep's `resources:` win for the stages they name)"
    helps = {"executor": "this process (default), Slurm jobs, or Ray tasks on the cluster in RAY_ADDRESS (a local "
                         "Ray instance when unset)",
             "workers": "not used by ablate: stages run as their dependencies allow",
             "partition": "Slurm partition of every stage (or `resources:` in the sweep)",
             "time": "time limit per stage, HH:MM:SS or D-HH:MM:SS (Slurm)",
             "cpus": "CPUs per stage, also torch's CPU threads (Slurm, Ray, local)",
             "mem": "memory per stage, e.g. 16G (Slurm and Ray)"}
    for action in group._group_actions:
        action.help = helps.get(action.dest, action.help) if action.help != argparse.SUPPRESS else action.help
    args = parser.parse_args(argv)

    from ablate.sweep import load_sweep
    from tracemix.errors import RecipeError

    sweep = load_sweep(args.sweep)
    if args.list:
        for variant in sweep.variants():
            print(f"{variant['name']}: {variant['overrides']}  seeds {sweep.training_seeds()}")
        return 0
    if args.tasks != 1 or args.workers != 1:
        raise RecipeError("--tasks / --workers split datatrove pipelines (tag, mix); a sweep runs each stage as one "
                          "job: give its CPUs and memory with --cpus / --mem or the sweep's `resources:`")
    if args.executor == "slurm" and not args.partition and not _any_partition(sweep):
        raise RecipeError("--executor slurm needs --partition (or `resources.default.partition` in the sweep)")
    return _run(sweep, args)


def _any_partition(sweep) -> bool:
    from ablate.resources import STAGES

    return any(getattr(sweep.resources, s).partition for s in ("default", *STAGES))


def _run(sweep, args: argparse.Namespace) -> int:
    from ablate.engines import ENGINES, make_context, plan_lines, run_one, wait_for
    from ablate.graph import build_graph, select

    output = args.output or f"runs/{sweep.name}"
    ctx = make_context(sweep, args.sweep, output, _cli_resources(args))
    if not args.plan and not args.run_stage:  # a stage job trusts the launcher's check (and starts faster)
        sweep.check()
    graph = build_graph(sweep, ctx.output)
    if args.run_stage:
        record = run_one(ctx, graph, args.run_stage)
        print(f"{args.run_stage}: done ({record['result'].get('path', '')})")
        return 0
    nodes = select(graph, args.only)
    if args.plan:
        print("\n".join(plan_lines(ctx, graph, nodes)))
        return 0

    todo = [n for n in nodes if not n.stage.done]
    print(f"{sweep.name}: {len(graph)} stages, {len(graph) - sum(not n.stage.done for n in graph.values())} cached, "
          f"{len(todo)} to run on {args.executor} -> {ctx.output}")
    launch = ENGINES[args.executor]().launch(ctx, nodes, graph)
    if args.executor == "slurm":
        print(f"submitted {len(launch.submitted)} Slurm job(s)")
        if not args.wait:
            if launch.submitted or any(not n.stage.done for n in nodes):
                print(f"follow them with `tracemix ablate {args.sweep} --output {output} --plan`; rerun this "
                      "command once they are done to write the report (it submits nothing that is finished)")
                return 0
        else:
            launch.failed.update(wait_for(nodes))
    unfinished = {**launch.skipped, **launch.failed, **{n.id: "not finished" for n in nodes
                                                        if not n.stage.done and n.id not in launch.failed
                                                        and n.id not in launch.skipped}}
    if unfinished:
        for node_id, why in unfinished.items():
            print(f"  {node_id}: {why}")
        print(f"{len(unfinished)} stage(s) did not finish; `--plan` shows their logs; rerun to retry them")
        return 1
    if args.only:
        print("done; the report is written once every variant's stages are done (run without --only)")
        return 0
    return _report(args.sweep, ctx.output, output)


def _report(sweep_file: str, output_dir, shown: str) -> int:
    from ablate.runner import run_sweep

    run_sweep(sweep_file, output_dir)  # every stage is cached: this only collects and writes the report
    print(f"\nreport: {shown}/report.md\nsummary: {shown}/summary.json\nplots: {shown}/plots/")
    return 0
