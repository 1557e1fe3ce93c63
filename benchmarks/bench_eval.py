"""Eval speed: batched vs one-by-one hf generation, and openai-backend throughput by concurrency.

    .venv/bin/python benchmarks/bench_eval.py            # CPU, offline, ~1 minute
    .venv/bin/python benchmarks/bench_eval.py --vllm     # on a GPU machine with vllm installed

The hf part generates greedily from a tiny Llama-shaped model (random weights, local tokenizer) on the
same symbolic-suite prompts with batch size 1 and --batch-size; the openai part sends the same prompts
to a local OpenAI-compatible server that sleeps --latency seconds per request. --vllm builds a
real-size model (Qwen2.5-0.5B shapes, random weights) and compares vLLM with hf in generated tokens/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracemix.atomic import write_json  # noqa: E402
from tracemix.provenance import provenance  # noqa: E402


def symbolic_prompts(n: int) -> list[str]:
    from eval.registry import resolve
    from eval.sources import build_prompt, load_examples

    tasks = resolve("symbolic")
    per_task = -(-n // len(tasks))
    prompts = [build_prompt(t, ex) for t in tasks for ex in load_examples(t, per_task)]
    return prompts[:n]


def build_model(folder: Path, prompts: list[str], hidden: int, layers: int, heads: int, intermediate: int,
                vocab: int = 2048) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    from training.tokenizer import train_tokenizer

    torch.manual_seed(0)
    tok = train_tokenizer(prompts * 4, vocab_size=vocab, output_dir=folder, min_frequency=1)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=intermediate,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=2048, pad_token_id=tok.pad_token_id,
                         eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id)
    AutoModelForCausalLM.from_config(config).save_pretrained(str(folder))
    return folder


def bench_hf(prompts: list[str], batch_size: int, max_new_tokens: int, threads: int) -> dict:
    import torch

    from eval.backends.hf import HFBackend

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp), prompts, hidden=64, layers=2, heads=4, intermediate=128)
        backend = HFBackend(str(model), batch_size=1, progress=False)
        backend.generate(prompts[:2], 4)  # warm-up
        out = {}
        texts = {}
        for bs in (1, batch_size):
            backend.batch_size, backend.generated_tokens = bs, 0
            start = time.perf_counter()
            texts[bs] = backend.generate(prompts, max_new_tokens)
            seconds = time.perf_counter() - start
            out[f"batch_{bs}"] = {"seconds": round(seconds, 3), "prompts_per_s": round(len(prompts) / seconds, 2),
                                  "tokens_per_s": round(backend.generated_tokens / seconds, 1)}
    same = sum(a == b for a, b in zip(texts[1], texts[batch_size], strict=True)) / len(prompts)
    return {"model": "llama-shaped, hidden 64, 2 layers, random weights", "device": backend.device,
            "threads": threads, "n_prompts": len(prompts), "max_new_tokens": max_new_tokens, **out,
            "speedup": round(out[f"batch_{batch_size}"]["prompts_per_s"] / out["batch_1"]["prompts_per_s"], 2),
            "identical_outputs": same}


def bench_openai(prompts: list[str], latency: float, levels: list[int]) -> dict:
    from eval.backends.openai import OpenAIBackend
    from tests.openai_server import FakeOpenAIServer

    out = {"latency_s": latency, "n_requests": len(prompts), "levels": {}}
    with FakeOpenAIServer(lambda prompt, body: "The answer is 42.", delay=latency) as server:
        for level in levels:
            backend = OpenAIBackend("bench", base_url=server.base_url, concurrency=level, cache_dir=None,
                                    progress=False)
            start = time.perf_counter()
            backend.generate(prompts, 16)
            seconds = time.perf_counter() - start
            out["levels"][str(level)] = {"seconds": round(seconds, 3),
                                         "requests_per_s": round(len(prompts) / seconds, 2)}
    base = out["levels"][str(levels[0])]["requests_per_s"]
    out["speedup_vs_1"] = {k: round(v["requests_per_s"] / base, 2) for k, v in out["levels"].items()}
    return out


def bench_vllm(prompts: list[str], max_new_tokens: int) -> dict:
    """Qwen2.5-0.5B shapes (hidden 896, 24 layers) with random weights: generation speed does not
    depend on the weights, and nothing is downloaded."""
    from eval.backends.hf import HFBackend
    from eval.backends.vllm import VLLMBackend

    out = {"model": "Qwen2.5-0.5B-shaped llama, random weights", "n_prompts": len(prompts),
           "max_new_tokens": max_new_tokens}
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp), prompts, hidden=896, layers=24, heads=14, intermediate=4864, vocab=8192)
        for name, make in (("hf", lambda: HFBackend(str(model), batch_size=64, progress=False)),
                           ("vllm", lambda: VLLMBackend(str(model), batch_size=256, progress=False,
                                                        enforce_eager=False))):
            backend = make()
            backend.generate(prompts[:4], 8)
            backend.generated_tokens = 0
            start = time.perf_counter()
            backend.generate(prompts, max_new_tokens)
            seconds = time.perf_counter() - start
            out[name] = {"seconds": round(seconds, 3), "tokens_per_s": round(backend.generated_tokens / seconds, 1)}
            del backend
    out["vllm_over_hf"] = round(out["vllm"]["tokens_per_s"] / out["hf"]["tokens_per_s"], 2)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prompts", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads for the hf part")
    p.add_argument("--latency", type=float, default=0.2, help="seconds the local server waits per request")
    p.add_argument("--requests", type=int, default=64)
    p.add_argument("--vllm", action="store_true", help="also compare vLLM and hf tokens/s (needs a GPU)")
    p.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "bench_eval.json"))
    args = p.parse_args()
    prompts = symbolic_prompts(max(args.prompts, args.requests))
    results = {"hf_batching": bench_hf(prompts[:args.prompts], args.batch_size, args.max_new_tokens, args.threads),
               "openai_concurrency": bench_openai(prompts[:args.requests], args.latency, [1, 4, 16])}
    if args.vllm:
        results["vllm_vs_hf"] = bench_vllm(symbolic_prompts(256), 128)
    results["manifest"] = provenance(vars(args))
    write_json(args.output, results)
    hf, oa = results["hf_batching"], results["openai_concurrency"]
    print(f"hf: batch {args.batch_size} is {hf['speedup']}x one-by-one "
          f"({hf['batch_1']['prompts_per_s']} -> {hf[f'batch_{args.batch_size}']['prompts_per_s']} prompts/s), "
          f"identical outputs {hf['identical_outputs']:.0%}")
    print("openai: " + ", ".join(f"c={k}: {v['requests_per_s']} req/s" for k, v in oa["levels"].items()))
    if args.vllm:
        print(f"vllm/hf tokens/s: {results['vllm_vs_hf']['vllm_over_hf']}x")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
