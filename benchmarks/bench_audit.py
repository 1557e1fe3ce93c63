"""Routing audit on a trained tiny MoE: does `tracemix probe audit` find deliberately flipped tags?

    python benchmarks/bench_audit.py                    # CPU: ~1000 demo documents, 150 training steps
    python benchmarks/bench_audit.py --steps 400 --audit-docs 2000 --device cuda

A tiny MoE (recipes/train/tiny_moe.yaml, 8 experts, top-2) is trained on generated demo documents (no
downloads). A disjoint set of demo documents is tagged with its gold domain, and a fraction of the tags is
flipped to another domain at random. The audit ranks every document by suspicion; the benchmark reports
precision at k (k = half, all and twice the number of flipped tags) for the trained model against two
baselines measured in the same run: the same architecture with random weights (routing that has learnt
nothing about the data) and chance (the flip rate). It also times the audit's routing pass (router hooks and
per-document histograms) against plain forwards of the same windows, best of 3, alternating.
Results: benchmarks/results/bench_audit.json (with provenance).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "bench_audit.json"


def demo_table(n: int, seed: int, flip: float = 0.0):
    """`n` demo documents with their gold domain; a `flip` fraction re-tagged to another domain at random."""
    import pyarrow as pa

    from curation.demo.data import iter_documents
    from tracemix.domains import DOMAINS

    rng = random.Random(seed)
    rows = list(iter_documents(n, seed=seed))
    flipped = set(rng.sample(range(n), round(flip * n)))
    domains = [rng.choice([d for d in DOMAINS if d != r["label"]]) if i in flipped else r["label"]
               for i, r in enumerate(rows)]
    table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                      "source": ["demo"] * n, "domain": domains})
    return table, {rows[i]["id"] for i in flipped}


def precision_at(ranked: list[str], truth: set[str], k: int) -> float:
    return len(set(ranked[:k]) & truth) / k if k else float("nan")


def run_audit(model, data: Path, out: Path, tok, args) -> tuple[list[str], float]:
    import pyarrow.parquet as pq

    from probes.audit import audit

    start = time.perf_counter()
    audit(model, data, out, tokenizer=tok, seq_len=args.seq_len, batch_size=args.batch_size,
          max_tokens_per_document=args.seq_len, device=args.device, progress=False)
    return pq.read_table(out / "audit.parquet", columns=["id"]).column("id").to_pylist(), time.perf_counter() - start


def pass_seconds(model, data: Path, tok, args, repeats: int = 3) -> tuple[float, float]:
    """(plain forwards, audit pass) over the same windows, best of `repeats`, alternating: the cost of the
    router hooks and the per-document histograms against the decoder stack alone."""
    import sys as _sys

    import torch

    from probes.audit import document_routing
    from probes.data import iter_batches, read_documents

    docs = read_documents(data)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    device = model.get_input_embeddings().weight.device

    def batches():
        return iter_batches(docs, tok, _sys.maxsize, args.batch_size, args.seq_len, pad, per_document=args.seq_len)

    plain, hooked = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.inference_mode():
            for b in batches():
                model.base_model(input_ids=b.input_ids.to(device), attention_mask=b.attention_mask.to(device),
                                 use_cache=False)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        document_routing(model, batches(), list(docs), progress=False)
        hooked.append(time.perf_counter() - start)
    return min(plain), min(hooked)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-docs", type=int, default=1200)
    p.add_argument("--audit-docs", type=int, default=600)
    p.add_argument("--flip", type=float, default=0.05, help="share of audit documents whose tag is flipped")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=str(RESULTS))
    args = p.parse_args()

    import pyarrow.parquet as pq
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tracemix.artifacts import external_ref, write_manifest
    from tracemix.atomic import write_json
    from tracemix.provenance import provenance
    from training import run_training

    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, _ = demo_table(args.train_docs, seed=args.seed + 1)
        (tmp / "train").mkdir()
        pq.write_table(train, tmp / "train" / "00000.parquet")
        # the generated documents as a mixture artifact (all of them, gold domains)
        write_manifest(tmp / "train", "mixture", {"generator": "curation.demo", "n": args.train_docs,
                                                  "seed": args.seed + 1}, [external_ref("curation.demo")])
        tagged, truth = demo_table(args.audit_docs, seed=args.seed + 2, flip=args.flip)
        (tmp / "audit_data").mkdir()
        pq.write_table(tagged, tmp / "audit_data" / "00000.parquet")

        start = time.perf_counter()
        run_training(ROOT / "recipes" / "train" / "tiny_moe.yaml", data=tmp / "train", output=tmp / "moe",
                     max_steps=args.steps, seed=args.seed,
                     overrides={"model.moe.num_experts": args.experts, "expert_load": None,
                                "training.save_steps": args.steps})
        train_s = time.perf_counter() - start
        tok = AutoTokenizer.from_pretrained(str(tmp / "moe"))
        trained = AutoModelForCausalLM.from_pretrained(str(tmp / "moe")).to(args.device).eval()
        torch.manual_seed(args.seed)
        untrained = AutoModelForCausalLM.from_config(trained.config).to(args.device).eval()

        ranked, audit_s = run_audit(trained, tmp / "audit_data", tmp / "audit", tok, args)
        ranked_random, _ = run_audit(untrained, tmp / "audit_data", tmp / "audit_random", tok, args)
        plain_s, pass_s = pass_seconds(trained, tmp / "audit_data", tok, args)
        report = (tmp / "audit" / "report.md").read_text()

    n = len(truth)
    ks = sorted({max(1, n // 2), n, 2 * n})
    result = {
        "n_documents": args.audit_docs, "n_flipped": n, "flip_rate": args.flip, "train_steps": args.steps,
        "experts": args.experts, "train_seconds": round(train_s, 1),
        "precision_at_k": {str(k): round(precision_at(ranked, truth, k), 4) for k in ks},
        "precision_at_k_random_weights": {str(k): round(precision_at(ranked_random, truth, k), 4) for k in ks},
        "precision_chance": round(n / args.audit_docs, 4),
        "audit_seconds": round(audit_s, 2), "routing_pass_seconds": round(pass_s, 3),
        "plain_forward_seconds": round(plain_s, 3), "routing_pass_vs_plain_forward": round(pass_s / plain_s, 3),
        "report_head": report.split("## The")[0],
    }
    for k in ks:
        print(f"precision@{k}: trained {result['precision_at_k'][str(k)]:.3f}  random weights "
              f"{result['precision_at_k_random_weights'][str(k)]:.3f}  chance {result['precision_chance']:.3f}  "
              f"(ratio trained/chance {result['precision_at_k'][str(k)] / result['precision_chance']:.1f}x)")
    print(f"routing pass {pass_s:.2f}s vs plain forwards {plain_s:.2f}s "
          f"(x{result['routing_pass_vs_plain_forward']}, best of 3); whole audit {audit_s:.1f}s; training {train_s:.0f}s")
    write_json(args.output, {**result, "provenance": provenance(vars(args))})
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
