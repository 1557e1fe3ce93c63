"""Training throughput: `tracemix train` (TRL SFTTrainer, packed) vs a plain `transformers.Trainer`.

    python benchmarks/bench_train.py                       # CPU, tiny_moe-sized model, 100 steps
    python benchmarks/bench_train.py --device cuda --config recipes/train/moe_100m_16e_top2_pretrain.yaml \
        --steps 200 --batch-size 32 --seq-len 1024

Both sides train the same model (same config and seed) on the same generated corpus for the same number
of steps and batch shape, in the same process, alternating runs (best of `--repeats`). The baseline packs
the text the classic `run_clm` way (concatenate, cut into blocks) and uses `DataCollatorForLanguageModeling`.
Throughput is real tokens per second of the training loop (`train_runtime`); goal: ratio >= 0.95.
On a GPU it also reports MFU = 6 * N_active * tokens/s / peak FLOP/s (the 6N rule: forward + backward
matmuls of the active parameters; attention score FLOPs left out, as in the PaLM appendix).
Results: benchmarks/results/bench_train.json (with provenance).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "bench_train.json"

# Dense bf16 peak (no sparsity) in FLOP/s, by device-name substring.
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12, "4090": 165e12}


def corpus(n_docs: int, seed: int) -> list[str]:
    """Varied documents of all four domains (no downloads), 20-400 words each."""
    rng = random.Random(seed)
    words = ("the", "river", "market", "town", "light", "number", "value", "answer", "step", "model", "data",
             "expert", "route", "token", "sum", "product", "derivative", "integral", "function", "return")
    docs = []
    for i in range(n_docs):
        kind = i % 4
        if kind == 0:
            body = "\n".join(f"def f{i}_{j}(x):\n    return x * {rng.randint(1, 99)} + {j}" for j in range(5))
        elif kind == 1:
            body = f"To sum a list in Python use `sum(xs)`:\n```\nprint(sum([{i}, {i + 1}]))\n```\n"
        elif kind == 2:
            a, b = rng.randint(1, 999), rng.randint(1, 999)
            body = f"Step 1: {a} + {b} = {a + b}. Step 2: ({a + b}) * 2 = {2 * (a + b)}. The answer is {2 * (a + b)}."
        else:
            body = ""
        docs.append(body + " " + " ".join(rng.choice(words) for _ in range(rng.randint(20, 400))))
    return docs


def write_mixture(root: Path, texts: list[str]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    table = pa.table({"id": [f"b{i}" for i in range(len(texts))], "text": texts, "source": ["bench"] * len(texts)})
    pq.write_table(table, root / "00000.parquet")
    return root


def tiny_config() -> dict:
    return {
        "name": "bench_tiny_moe", "objective": "causal_lm", "seed": 0,
        "model": {"from_config": {"model_type": "qwen3_moe", "hidden_size": 64, "intermediate_size": 128,
                                  "moe_intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                                  "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 256,
                                  "decoder_sparse_step": 1, "tie_word_embeddings": True},
                  "moe": {"num_experts": 4, "top_k": 2, "router_aux_loss_coef": 0.01}, "dtype": "float32"},
        "training": {"per_device_train_batch_size": 8, "learning_rate": 3e-3, "precision": "fp32"},
    }


def run_tracemix(cfg: dict, data: Path, out: Path, steps: int) -> dict:
    from training import run_training

    manifest = run_training(cfg, data=data, output=out, max_steps=steps)
    return {"tokens": manifest["tokens_seen"], "seconds": manifest["train_loop_s"],
            "final_loss": manifest["final_loss"], "n_active_params": manifest["model"]["n_active_params"]}


def run_plain(cfg: dict, texts: list[str], out: Path, steps: int, use_cpu: bool) -> dict:
    """The reference: transformers.Trainer on `run_clm`-style packed blocks of the same text."""
    import datasets
    from transformers import AutoTokenizer, DataCollatorForLanguageModeling, Trainer, TrainingArguments

    from training.config import load_config
    from training.model import build_model

    tc = load_config(cfg)
    t = tc.training
    tok = AutoTokenizer.from_pretrained(tc.tokenizer)
    ids = [i for text in texts for i in tok(text + tok.eos_token)["input_ids"]]
    block = t.max_length
    blocks = [ids[i:i + block] for i in range(0, len(ids) - block + 1, block)]
    ds = datasets.Dataset.from_dict({"input_ids": blocks})
    model = build_model(tc.model, tok, tc.seed)
    args = TrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=t.per_device_train_batch_size,
        learning_rate=t.learning_rate, lr_scheduler_type=t.lr_scheduler_type, seed=tc.seed, logging_steps=10,
        save_strategy="no", report_to="none", use_cpu=use_cpu, bf16=not use_cpu and t.precision != "fp32",
        dataloader_pin_memory=not use_cpu, optim=t.optim,
    )
    trainer = Trainer(model=model, args=args, train_dataset=ds,
                      data_collator=DataCollatorForLanguageModeling(tok, mlm=False))
    result = trainer.train()
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    return {"tokens": steps * t.per_device_train_batch_size * block, "seconds": result.metrics["train_runtime"],
            "final_loss": losses[-1] if losses else None}


def peak_flops(device: str) -> float | None:
    import torch

    if device != "cuda" or not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_FLOPS.items() if k in name), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="training config YAML (default: a tiny_moe-sized qwen3_moe)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per side; best one counts")
    parser.add_argument("--peak-tflops", type=float, help="peak FLOP/s of the GPU in TFLOP/s (for MFU)")
    parser.add_argument("--output", default=str(RESULTS), help="where the result JSON goes")
    args = parser.parse_args()

    import torch

    from tracemix.atomic import write_json
    from tracemix.provenance import provenance
    from training.config import read_config_file
    from training.tokenizer import train_tokenizer

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no GPU visible")
    if args.device == "cpu":
        torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    cfg = read_config_file(args.config) if args.config else tiny_config()
    training = {**cfg.get("training", {}), "max_length": args.seq_len, "per_device_train_batch_size": args.batch_size,
                "logging_steps": 10, "save_steps": 10**9, "max_steps": args.steps, "warmup_steps": 0}
    if args.device == "cpu":
        training["precision"] = "fp32"
    texts = corpus(args.docs, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        vocab = cfg.get("tokenizer", {}).get("train", {}).get("vocab_size", 2048) \
            if isinstance(cfg.get("tokenizer"), dict) else 2048
        train_tokenizer(texts, vocab, tmp / "tok", min_frequency=2)
        cfg = {**cfg, "tokenizer": str(tmp / "tok"), "training": training}
        data = write_mixture(tmp / "mix", texts)
        ours, plain = [], []
        for r in range(args.repeats):
            ours.append(run_tracemix(cfg, data, tmp / f"ours{r}", args.steps))
            plain.append(run_plain(cfg, texts, tmp / f"plain{r}", args.steps, use_cpu=args.device == "cpu"))
    best = max(ours, key=lambda x: x["tokens"] / x["seconds"])
    base = max(plain, key=lambda x: x["tokens"] / x["seconds"])
    tps, base_tps = best["tokens"] / best["seconds"], base["tokens"] / base["seconds"]
    ratio = tps / base_tps
    # The median ratio too: on a shared machine single runs swing by 2-4x.
    med = sorted(o["tokens"] / o["seconds"] / (p["tokens"] / p["seconds"]) for o, p in zip(ours, plain, strict=True))
    peak = args.peak_tflops * 1e12 if args.peak_tflops else peak_flops(args.device)
    mfu = 6 * best["n_active_params"] * tps / peak if peak else None
    result = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "config": args.config or "tiny_moe (built in)", "steps": args.steps, "batch_size": args.batch_size,
        "seq_len": args.seq_len, "n_active_params": best["n_active_params"],
        "tracemix_tokens_per_s": round(tps, 1), "plain_trainer_tokens_per_s": round(base_tps, 1),
        "ratio": round(ratio, 3), "ratio_median_of_pairs": round(med[len(med) // 2], 3), "goal": 0.95, "mfu": round(mfu, 4) if mfu is not None else None,
        "runs": {"tracemix": ours, "plain_trainer": plain},
        **provenance({k: v for k, v in vars(args).items()}),
    }
    write_json(args.output, result)
    print(json.dumps({k: result[k] for k in ("device", "tracemix_tokens_per_s", "plain_trainer_tokens_per_s",
                                             "ratio", "mfu")}, indent=1))
    print(f"tracemix train / plain Trainer tokens/s: {ratio:.3f}x (goal >= 0.95)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
