"""`tracemix probe`: routing probes of an MoE checkpoint on tagged data, and `probe compare` of two runs."""

from __future__ import annotations

import argparse

from probes.settings import Device, ProbeSettings
from tracemix.config import settings_from_args

PROBE = ProbeSettings.model_fields

_EPILOG = """examples:
  tracemix probe --model runs/moe --data data/tagged/demo --output runs/probe/moe
  tracemix probe --model runs/moe --data data/mixtures/math_50 --max-tokens-per-domain 200000 \\
      --device cuda --output runs/probe/math_50
  tracemix probe compare runs/probe/base runs/probe/math_50 --output runs/probe/base_vs_math_50
  # one data shard per machine, then sum the counts
  tracemix probe --model runs/moe --data data/tagged/corpus --shard 0/2 --output runs/probe/s0   # and 1/2
  tracemix probe merge runs/probe/s0 runs/probe/s1 --output runs/probe/moe

outputs: routing.parquet, metrics.json, report.md, heatmaps/, jsd_by_layer.png, counts.npz, tokens.npz
(compare: metrics.json, report.md, displacement.png)."""


def probe_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tracemix probe", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Measure how an MoE model routes each domain: load, specialization, JSD between domains, "
                    "co-activation, consecutive repeats, contested and core experts. "
                    "`tracemix probe compare RUN_A RUN_B --output DIR` compares two runs.")
    p.add_argument("--model", required=True, help="checkpoint folder (tracemix train) or hub id available offline")
    p.add_argument("--data", required=True, nargs="+", help="tagged or mixture folder(s) with text + domain")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--tokenizer", default=None, help="tokenizer folder (default: the model's)")
    p.add_argument("--max-tokens-per-domain", type=int, default=PROBE["max_tokens_per_domain"].default,
                   help="token budget per domain (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=PROBE["batch_size"].default,
                   help="sequences per forward pass (default: %(default)s)")
    p.add_argument("--seq-len", type=int, default=PROBE["seq_len"].default,
                   help="tokens per sequence; longer documents are split (default: %(default)s)")
    p.add_argument("--device", choices=list(Device), default=PROBE["device"].default,
                   help="where the model runs (default: %(default)s)")
    p.add_argument("--device-map", default=None, help="e.g. 'auto' to spread a big checkpoint with accelerate")
    p.add_argument("--sample-tokens", type=int, default=PROBE["sample_tokens"].default,
                   help="tokens per domain whose expert sets are kept for router saturation (tokens.npz; "
                        "default: %(default)s)")
    p.add_argument("--domains", nargs="+", default=None, help="probe only these domains (default: all found)")
    p.add_argument("--shard", default="0/1", type=_shard,
                   help="I/N: probe only data shard I of N (documents split by a hash of their id); "
                        "sum the shard runs with `tracemix probe merge`")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def _shard(value: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not I/N, e.g. 0/4") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"'{value}': need 0 <= I < N")
    return index, count


def compare_parser() -> argparse.ArgumentParser:
    from probes.metrics import LIFT_THRESHOLD

    p = argparse.ArgumentParser(
        prog="tracemix probe compare",
        description="Compare two probe runs of checkpoints A and B on the same data: routing displacement "
                    "JSD(f_A, f_B) per layer and domain, router saturation on the same tokens, and how the "
                    "capacity share of contested experts moves.")
    p.add_argument("run_a", help="probe output folder of checkpoint A (before)")
    p.add_argument("run_b", help="probe output folder of checkpoint B (after)")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--lift-threshold", type=float, default=LIFT_THRESHOLD,
                   help="lift above which an expert counts as over-used by a domain")
    return p


def merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tracemix probe merge",
        description="Sum the routing counts of probe runs over disjoint data shards (--shard I/N) of one "
                    "checkpoint, and write one probe run with the metrics of the whole.")
    p.add_argument("runs", nargs="+", help="probe output folders, one per shard")
    p.add_argument("--output", required=True, help="output folder")
    return p


def main(argv: list[str]) -> int:
    if argv and argv[0] == "merge":
        from probes.merge import merge_runs

        args = merge_parser().parse_args(argv[1:])
        metrics = merge_runs(args.runs, args.output)
        tokens = ", ".join(f"{d} {n:,}" for d, n in metrics["n_tokens"].items())
        print(f"merged {len(args.runs)} runs: {tokens} tokens\nwrote {args.output}/report.md")
        return 0
    if argv and argv[0] == "compare":
        from probes.compare import compare_runs

        args = compare_parser().parse_args(argv[1:])
        result = compare_runs(args.run_a, args.run_b, args.output, lift_threshold=args.lift_threshold)
        means = ", ".join(f"{d} {v:.3f}" for d, v in result["mean_displacement"].items())
        print(f"mean displacement (bits): {means}\nwrote {args.output}/report.md")
        return 0
    args = probe_parser().parse_args(argv)
    settings = settings_from_args(ProbeSettings, args, data=args.data if len(args.data) > 1 else args.data[0])
    settings.check()
    metrics = settings.run(args.model, args.output, progress=not args.no_progress)
    tokens = ", ".join(f"{d} {n:,}" for d, n in metrics["n_tokens"].items())
    print(f"probed {tokens} tokens over {len(metrics['layers'])} MoE layers; mean I(D;E) "
          f"{metrics['summary']['mean_generalised_jsd']:.3f} bits\nwrote {args.output}/report.md")
    return 0
