"""`tracemix train CONFIG.yaml`: fine-tune or pretrain a dense or MoE model on a mixture.

    tracemix train recipes/train/tiny_moe.yaml --data data/mixtures/demo/math_density --output runs/tiny_moe
    accelerate launch --config_file training/configs/fsdp2.yaml -m tracemix train CONFIG.yaml ...

Rerunning into an output folder that holds checkpoint-N/ resumes from the last one.
"""

from __future__ import annotations

import argparse
import os

from tracemix.config import parse_set_overrides


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracemix train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="training config YAML (see recipes/train/)")
    parser.add_argument("--data", help="mixture folder written by `tracemix mix` (overrides `data:`)")
    parser.add_argument("--output", help="checkpoint folder (overrides `output:`; default runs/<name>)")
    parser.add_argument("--max-steps", type=int, help="optimizer steps (overrides training.max_steps)")
    parser.add_argument("--seed", type=int, help="seed for init, data order and dropout (overrides `seed:`)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. --set training.learning_rate=1e-3 (repeatable)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--resume", dest="resume", action="store_const", const=True, default=None,
                       help="require a checkpoint in --output and resume from the last one")
    group.add_argument("--no-resume", dest="resume", action="store_const", const=False,
                       help="refuse to train into a folder that already holds checkpoints")
    parser.add_argument("--check", action="store_true", help="validate the config and the data, then stop")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    overrides = parse_set_overrides(args.set)
    if args.check:
        from training.data import load_mixture
        from training.run import resolve_config

        cfg = resolve_config(args.config, args.data, args.output, args.max_steps, args.seed, overrides)
        if cfg.data is not None:
            dataset, _ = load_mixture(cfg.data, cfg.objective)
            print(f"{args.config}: valid; {len(dataset)} rows for objective {cfg.objective.value}")
        else:
            print(f"{args.config}: valid (no data given; pass --data to check the mixture too)")
        return 0

    from training.run import run_training

    manifest = run_training(args.config, data=args.data, output=args.output, max_steps=args.max_steps,
                            seed=args.seed, overrides=overrides, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:  # one summary line under torchrun / accelerate launch
        print(f"trained {manifest['name']}: {manifest['global_step']} steps, loss {manifest['first_loss']:.4f} -> "
              f"{manifest['final_loss']:.4f}; checkpoint in {manifest['output']}")
    return 0
