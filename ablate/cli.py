"""`tracemix ablate SWEEP.yaml [--output DIR]`."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run a data ablation end to end. For each variant of the sweep (a grid over its axes) build the mixture,
train, evaluate and probe; finished stages are cached by a content hash of their inputs, so an interrupted
or extended sweep runs only what is missing. Writes OUTPUT/summary.json, OUTPUT/report.md and plots.

example:
  tracemix ablate recipes/ablations/demo.yaml --output runs/demo
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tracemix ablate", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="sweep YAML file (see recipes/ablations/)")
    parser.add_argument("--output", help="run folder (default: runs/<sweep name>)")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    args = parser.parse_args(argv)

    from ablate.runner import run_sweep
    from ablate.sweep import load_sweep

    sweep = load_sweep(args.sweep)
    if args.list:
        for variant in sweep.variants():
            print(f"{variant['name']}: {variant['overrides']}")
        return 0
    output = args.output or f"runs/{sweep.name}"
    run_sweep(args.sweep, output)
    print(f"\nreport: {output}/report.md\nsummary: {output}/summary.json\nplots: {output}/plots/")
    return 0
