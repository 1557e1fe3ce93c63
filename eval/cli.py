"""tracemix eval: zero-shot reasoning evaluation.

    tracemix eval --model runs/ckpt --tasks symbolic --limit 50 --output runs/eval/ckpt
    tracemix eval --model Qwen/Qwen2.5-0.5B-Instruct --tasks reasoning12 --backend vllm --output runs/eval/qwen
    tracemix eval --model my-model --backend openai --base-url http://localhost:8000/v1 --tasks gsm8k \\
        --extractor llm --extractor-model gpt-3.5-turbo --output runs/eval/served
    tracemix eval rescore runs/eval/ckpt --extractor llm --extractor-base-url http://localhost:8001/v1
    tracemix eval compare runs/eval/code0 runs/eval/code50 runs/eval/code100 --output runs/eval/compare
    tracemix eval perplexity --model runs/ckpt --data data/tagged/demo --exclude data/mixtures/demo/math_density \\
        --output runs/eval/ckpt_loss
    tracemix eval --list
"""

from __future__ import annotations

import argparse
import sys

from eval.settings import Backend, ChatTemplate, EvalSettings, Extractor, PerplexitySettings
from tracemix.config import settings_from_args

EVAL = EvalSettings.model_fields
PPL = PerplexitySettings.model_fields


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracemix eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint folder (from `tracemix train`) or Hugging Face hub id; "
                                   "for --backend openai, the served model name")
    p.add_argument("--tasks", help="comma-separated task names, suites (reasoning12, symbolic, logical, "
                                   "arithmetic, math, code, knowledge), task .yaml paths or bigbench:PATH")
    p.add_argument("--backend", default=EVAL["backend"].default, choices=list(Backend),
                   help="generation backend (default: %(default)s)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 "
                                      "(default: $OPENAI_BASE_URL)")
    p.add_argument("--api-key-env", default=EVAL["api_key_env"].default,
                   help="environment variable holding the API key (default: %(default)s)")
    p.add_argument("--concurrency", type=int, default=EVAL["concurrency"].default,
                   help="openai: requests in flight (default: %(default)s)")
    p.add_argument("--no-cache", action="store_true",
                   help="openai: no response cache (by default one in the --output folder lets a rerun resume)")
    p.add_argument("--shared-cache", metavar="DIR",
                   help="openai: also use a response cache shared across runs; needs --model-revision")
    p.add_argument("--model-revision", metavar="REV",
                   help="openai: the served checkpoint's revision or hash, part of every cache key (required "
                        "by --shared-cache: a server may serve another checkpoint under the same name)")
    p.add_argument("--retries", type=int, default=EVAL["retries"].default,
                   help="openai: retries per request on transient errors (default: %(default)s)")
    p.add_argument("--limit", type=int, help="first N examples of each task (default: all)")
    p.add_argument("--batch-size", type=int, default=EVAL["batch_size"].default,
                   help="prompts per generate call (default: %(default)s)")
    p.add_argument("--max-new-tokens", type=int, default=EVAL["max_new_tokens"].default,
                   help="generation length unless the task sets its own (default: %(default)s)")
    p.add_argument("--chat-template", choices=list(ChatTemplate), default=EVAL["chat_template"].default,
                   help="hf/vllm: wrap prompts in the tokenizer's chat template (auto: when it has one)")
    p.add_argument("--device", help="hf: torch device (default: cuda when available, else cpu)")
    _add_extractor_args(p)
    p.add_argument("--seed", type=int, default=EVAL["seed"].default)
    _add_unsafe_exec_arg(p)
    p.add_argument("--output", help="run folder for results.json, samples.jsonl, report.md")
    p.add_argument("--list", action="store_true", help="list tasks and suites, then exit")
    return p


def _add_extractor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--extractor", default=EVAL["extractor"].default, choices=list(Extractor),
                   help="answer extraction: per-type rules, or an LLM reading each response (default: rules)")
    p.add_argument("--extractor-model", help="llm extractor: model name (default: gpt-3.5-turbo)")
    p.add_argument("--extractor-base-url", help="llm extractor: endpoint (default: --base-url or $OPENAI_BASE_URL)")


def _add_unsafe_exec_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--unsafe-exec", action="store_true",
                   help="code tasks: run generated code even where bubblewrap isolation is unavailable, as your "
                        "own user with only resource limits (see docs/sandbox.md); off by default")


def _list() -> int:
    from eval.registry import get_task, suites, task_files

    print("tasks:")
    for name in task_files():
        t = get_task(name)
        print(f"  {name:<22} {t.domain:<10} {t.source.kind:<9} {t.description}")
    print("\nsuites:")
    for name, members in suites().items():
        print(f"  {name:<12} {', '.join(members)}")
    return 0


def _rescore(argv: list[str]) -> int:
    from eval.report import render_markdown
    from eval.rescore import rescore

    p = argparse.ArgumentParser(prog="tracemix eval rescore",
                                description="Re-score saved generations with another extractor (no generation).")
    p.add_argument("run_dir", help="folder written by `tracemix eval --output`")
    _add_extractor_args(p)
    p.add_argument("--output", help="write the re-scored run here (default: in place)")
    p.add_argument("--no-cache", action="store_true", help="llm extractor: skip the response cache")
    _add_unsafe_exec_arg(p)
    args = p.parse_args(argv)
    kw = {"cache_dir": None} if args.no_cache else {}
    results = rescore(args.run_dir, args.extractor, args.output, args.extractor_model, args.extractor_base_url,
                      sandbox_kw={"unsafe_exec": True} if args.unsafe_exec else None, **kw)
    print(render_markdown(results))
    return 0


def _compare(argv: list[str]) -> int:
    from eval.compare import compare, render_table

    p = argparse.ArgumentParser(prog="tracemix eval compare",
                                description="Table and grouped bar chart (by domain) across eval runs.")
    p.add_argument("runs", nargs="+", help="run folders written by `tracemix eval --output`")
    p.add_argument("--output", help="folder for compare.md, compare.json and compare.png")
    args = p.parse_args(argv)
    print(render_table(compare(args.runs, args.output)))
    if args.output:
        print(f"chart: {args.output}/compare.png")
    return 0


def _perplexity(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="tracemix eval perplexity",
        description="Held-out loss of a checkpoint on each domain of a tagged folder: bits per byte (comparable "
                    "across tokenizers), next-token loss and perplexity; per-document results in documents.parquet.")
    p.add_argument("--model", required=True, help="checkpoint folder or hub id")
    p.add_argument("--data", required=True, help="tagged (or mixture) folder with text + domain")
    p.add_argument("--exclude", help="mixture folder the model was trained on; its documents are skipped")
    p.add_argument("--max-tokens-per-domain", type=int, default=PPL["max_tokens_per_domain"].default,
                   help="tokens per domain (default: %(default)s)")
    p.add_argument("--seq-len", type=int, default=PPL["seq_len"].default,
                   help="tokens per sequence (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=PPL["batch_size"].default,
                   help="sequences per forward pass (default: %(default)s)")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda when available)")
    p.add_argument("--output", required=True, help="folder for perplexity.json and report.md")
    args = p.parse_args(argv)
    settings = settings_from_args(PerplexitySettings, args)
    settings.check()
    result = settings.run(args.model, args.output)
    rows = {**result["domains"], "all": result["all"]} if "all" in result else result["domains"]
    for domain, v in rows.items():
        print(f"{domain:<10} {v['n_tokens']:>9,} tokens  {v.get('bpb', float('nan')):.4f} bits/byte  "
              f"loss {v['loss']:.4f}  perplexity {v['perplexity']:.2f}")
    print(f"wrote {args.output}/perplexity.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "perplexity":
        return _perplexity(argv[1:])
    if argv and argv[0] == "rescore":
        return _rescore(argv[1:])
    if argv and argv[0] == "compare":
        return _compare(argv[1:])
    p = _parser()
    args = p.parse_args(argv)
    if args.list:
        return _list()
    missing = [flag for flag, v in (("--model", args.model), ("--tasks", args.tasks), ("--output", args.output))
               if not v]
    if missing:
        p.error(f"missing {', '.join(missing)} (or use --list, `rescore RUN_DIR`, `compare RUN...`, `perplexity`)")
    from eval.report import render_markdown

    settings = settings_from_args(EvalSettings, args, cache=not args.no_cache)
    settings.check()
    results = settings.run(args.model, args.output)
    print(render_markdown(results))
    print(f"wrote {args.output}/results.json, samples.jsonl, report.md")
    return 0
