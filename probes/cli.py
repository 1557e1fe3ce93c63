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
  # which documents route unlike their tag? export them for a recipe's `exclude:` and for relabelling
  tracemix probe audit --model runs/moe --data data/tagged/demo --export --output runs/audit/moe

outputs: routing.parquet, metrics.json, report.md, heatmaps/, jsd_by_layer.png, counts.npz, tokens.npz
(compare: metrics.json, report.md, displacement.png)."""


def _families_text() -> str:
    import textwrap

    from tracemix.moe_families import supported_text

    return "\n".join(textwrap.wrap(f"supported MoE families: {supported_text()}.", width=100, break_on_hyphens=False))


def probe_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tracemix probe", epilog=f"{_EPILOG}\n\n{_families_text()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Measure how an MoE model routes each domain: load, specialization, JSD between domains, "
                    "co-activation (pooled and per domain), consecutive repeats, contested and core experts. "
                    "`tracemix probe compare RUN_A RUN_B --output DIR` compares two runs; "
                    "`tracemix probe audit` finds documents whose routing contradicts their domain tag.")
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


def audit_parser() -> argparse.ArgumentParser:
    from probes.audit import ALPHA

    p = argparse.ArgumentParser(
        prog="tracemix probe audit", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Audit domain tags by routing: keep every document's expert histogram per layer (the "
                    "router's own choices), build each domain's routing profile from the documents tagged with "
                    "it (leaving the scored document out), and score how much better the document's routing "
                    "fits another domain than its tag (per-token log-likelihood ratio, layers summed; see "
                    "docs/probes.md). Writes audit.parquet (id, domain, routed_domain, suspicion, per-layer "
                    "detail), audit.json, report.md (tag x routed-domain confusion, the most suspicious "
                    "documents with a snippet) and audit.png.",
        epilog="example:\n  tracemix probe audit --model runs/moe --data data/tagged/demo --export "
               "--output runs/audit/moe\n  # then in a recipe:  exclude: [runs/audit/moe/exclude]"
               "\n  # or relabel: tracemix classifier label --input runs/audit/moe/relabel.jsonl ...")
    p.add_argument("--model", required=True, help="MoE checkpoint folder (tracemix train) or hub id available offline")
    p.add_argument("--data", required=True, nargs="+", help="tagged folder(s) with id, text and domain")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--tokenizer", default=None, help="tokenizer folder (default: the model's)")
    p.add_argument("--max-tokens-per-document", type=int, default=512,
                   help="tokens read from the start of each document (default: %(default)s)")
    p.add_argument("--max-documents-per-domain", type=int, default=None,
                   help="audit only the first N documents of each domain (default: all)")
    p.add_argument("--seq-len", type=int, default=256, help="tokens per forward window (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default: %(default)s)")
    p.add_argument("--alpha", type=float, default=ALPHA,
                   help="add-alpha smoothing of the domain profiles (default: %(default)s, Jeffreys)")
    p.add_argument("--top", type=int, default=20, help="suspicious documents listed in report.md (default: %(default)s)")
    p.add_argument("--export", action="store_true",
                   help="write exclude/suspicious_ids.parquet (for a recipe's `exclude:`) and relabel.jsonl (for "
                        "`tracemix classifier label`) with the documents whose suspicion is > 0")
    p.add_argument("--export-top", type=int, default=None, metavar="K",
                   help="with --export: the K most suspicious documents instead")
    p.add_argument("--domains", nargs="+", default=None, help="audit only these domains (default: all found)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto", help="where the model runs")
    p.add_argument("--device-map", default=None, help="e.g. 'auto' to spread a big checkpoint with accelerate")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv: list[str]) -> int:
    if argv and argv[0] == "audit":
        from probes.audit import audit

        args = audit_parser().parse_args(argv[1:])
        summary = audit(args.model, args.data if len(args.data) > 1 else args.data[0], args.output,
                        tokenizer=args.tokenizer, seq_len=args.seq_len, batch_size=args.batch_size,
                        max_tokens_per_document=args.max_tokens_per_document,
                        max_documents_per_domain=args.max_documents_per_domain,
                        device=None if args.device == "auto" else args.device, device_map=args.device_map,
                        alpha=args.alpha, top=args.top, export=args.export, export_top=args.export_top,
                        domains=args.domains, progress=not args.no_progress)
        print(f"audited {summary['n_documents']:,} documents: {summary['n_disagree']:,} route more like another "
              f"domain than their tag\nwrote {args.output}/report.md")
        return 0
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
