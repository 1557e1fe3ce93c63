"""`tracemix mix RECIPE.yaml`: build an exact, density-controlled mixture from a recipe.

    tracemix mix recipes/demo/math_density.yaml --dry-run     # print the plan, write nothing
    tracemix mix recipes/demo/math_density.yaml --output data/mixtures/demo/md --export-weights
    tracemix mix recipes/pretrain/math_density_050.yaml --set density.math_text.share=0.25 --tasks 8 --workers 4

Relative source paths in a recipe resolve against the current directory.
"""

from __future__ import annotations

import argparse

from tracemix.config import parse_set_overrides
from tracemix.executors import ExecutorSettings, add_executor_args


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracemix mix", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recipe", help="recipe YAML file (see recipes/README.md)")
    p.add_argument("--output", help="output folder (default: the recipe's output.path)")
    p.add_argument("--dry-run", action="store_true",
                   help="plan and select, print supply and demand per domain and bucket; write nothing")
    p.add_argument("--export-weights", action="store_true",
                   help="also write weights.json: achieved {domain: weight} (RegMix / olmix form)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe key before validation, e.g. --set density.math_text.share=0.25")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a mixture built from another recipe (the new one is built beside it and swapped "
                   "in when complete)")
    add_executor_args(p, tasks_help="datatrove tasks (default 1; never changes the output)")
    return p


def main(argv: list[str]) -> int:
    from rich.console import Console

    from curation.mixing.build import build_mixture
    from curation.mixing.manifest import plan_table
    from curation.mixing.recipe import load_recipe

    args = build_parser().parse_args(argv)
    recipe = load_recipe(args.recipe, parse_set_overrides(args.set) or None)
    executor = ExecutorSettings.from_args(args)
    manifest = build_mixture(recipe, output=args.output, dry_run=args.dry_run, executor=executor,
                             export_weights=args.export_weights, overwrite=args.overwrite)
    console = Console(width=max(Console().width, 110))
    console.print(plan_table(manifest))
    if args.dry_run:
        console.print("dry run: nothing written")
    elif manifest.get("submitted"):
        console.print(f"submitted to Slurm; {manifest['output']['path']}/manifest.json appears when done",
                      soft_wrap=True)
    elif manifest.get("reused"):
        out = manifest["output"]
        console.print(f"{out['path']} already holds this mixture ({out['documents']:,} documents, built "
                      f"{manifest.get('created', '?')}); reused it. Pass --overwrite to rebuild", soft_wrap=True)
    else:
        out = manifest["output"]
        console.print(f"wrote {out['documents']:,} documents in {len(out['shards'])} shard(s) "
                      f"({out['format']}) to {out['path']}", soft_wrap=True)
    return 0
