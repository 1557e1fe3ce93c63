"""`tracemix classifier label|train|train-scaffold`: an LLM labels a sample, fastText distils it, fastText
tags at scale; and the structured-signals paper's fastText scaffold scorer.

    tracemix classifier label --input data/raw --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct \\
        --output data/labels/llm.jsonl --sample 20000
    tracemix classifier train --labels data/labels/llm.jsonl --output models/domain.bin
    tracemix tag --input data/raw --output data/tagged/raw --classifier fasttext:models/domain.bin
    tracemix classifier train-scaffold --input data/tagged/raw --output models/scaffold.bin
    tracemix tag --input data/raw --output data/tagged/raw_ft --scaffold fasttext:models/scaffold.bin
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tracemix.atomic import atomic_path, write_json
from tracemix.domains import DOMAINS
from tracemix.errors import DataError


def _read_documents(spec: str, limit: int = -1, text_key: str = "text"):
    """Documents from any `tracemix tag` input (JSONL, chat JSONL, Parquet, ShareGPT JSON, hf:...)."""
    from curation.tagging.readers import resolve_input

    reader = resolve_input(spec, text_key=text_key, limit=limit)
    for s in getattr(reader, "skipped", []):  # files of a folder input that hold no records: never silently
        print(f"not read: {s['file']}  ({s['reason']})", file=sys.stderr)
    return reader, reader.run(rank=0, world_size=1)


def _bad_input_counts(reader) -> dict[str, int]:
    return {k.removeprefix("bad_input/"): int(v.total) for k, v in reader.stats.stats.items()
            if k.startswith("bad_input/")}


def _input_parents(spec: str) -> dict[str, str]:
    from tracemix.provenance import file_hash

    path = Path(spec)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.json*") if p.is_file()) if path.is_dir() else []
    return {str(p): file_hash(p) for p in files[:64]}


# -- train -------------------------------------------------------------------------------------------------
def _print_metrics(metrics: dict[str, Any], console) -> None:
    from rich.table import Table

    fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    console.print(f"held-out: {metrics['n_valid']} documents (trained on {metrics['n_train']})   "
                  f"accuracy {fmt(metrics['accuracy'])}   macro-F1 {fmt(metrics['macro_f1'])}")
    per_class = Table(title="per class (held-out)")
    for col in ("domain", "precision", "recall", "F1", "support"):
        per_class.add_column(col, justify="left" if col == "domain" else "right")
    classes = list(metrics["per_class"])
    for d in classes:
        c = metrics["per_class"][d]
        per_class.add_row(d, fmt(c["precision"]), fmt(c["recall"]), fmt(c["f1"]), str(c["support"]))
    console.print(per_class)
    confusion = Table(title="confusion matrix (rows: gold, columns: predicted)")
    confusion.add_column("gold \\ predicted")
    for d in classes:
        confusion.add_column(d, justify="right")
    for g in classes:
        confusion.add_row(g, *(str(metrics["confusion"][g][p]) for p in classes))
    console.print(confusion)


def run_train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from curation.classifiers.fasttext_tagger import train_fasttext
    from tracemix.provenance import file_hash, provenance

    console = Console()
    reader, docs = _read_documents(args.labels, text_key=args.text_key)
    scaffold = args.target == "scaffold"
    label_key = args.label_key or ("scaffold_rating" if scaffold else "label")
    records = []
    for doc in docs:
        label = doc.metadata.get(label_key)
        if label is None:
            raise DataError(f"{args.labels}: document '{doc.id}' has no '{label_key}' field; labelled "
                            "records need one (write them with `tracemix classifier label`)")
        if scaffold:
            label = _rating_class(label, f"{args.labels}: '{doc.id}'", label_key)
        records.append({"id": doc.id, "text": doc.text, "label": label, "_where": f"{args.labels}: '{doc.id}'"})
    if not records:
        raise DataError(f"{args.labels}: no labelled documents")
    params = _fasttext_params(args)
    console.print(f"training fastText ({args.target}) on {len(records)} documents from {args.labels}")
    if scaffold:
        from curation.classifiers.scaffold_fasttext import RATING_CLASSES

        metrics = train_fasttext(records, args.output, labels=RATING_CLASSES, **params)
    else:
        metrics = train_fasttext(records, args.output, **params)
    bad = _bad_input_counts(reader)
    _print_metrics(metrics, console)
    if bad:
        console.print(f"[yellow]skipped bad input records: {bad}[/yellow]")
    report = {**metrics, "bad_input": bad, "model_sha256": file_hash(args.output),
              **provenance({"labels": args.labels, "target": args.target, **params}, _input_parents(args.labels))}
    metrics_path = write_json(f"{args.output}.metrics.json", report)
    flag = "--scaffold" if scaffold else "--classifier"
    console.print(f"wrote {args.output} and {metrics_path}; use it with "
                  f"`tracemix tag {flag} fasttext:{args.output}`")
    return 0


def _rating_class(value: Any, where: str, key: str) -> str:
    """A 0-3 scaffold rating (as `classifier label` writes it) -> its fastText class, `scaffold0`..`scaffold3`."""
    from curation.classifiers.scaffold_fasttext import RATING_CLASSES

    if isinstance(value, bool) or not isinstance(value, int | float) or value not in range(len(RATING_CLASSES)):
        raise DataError(f"{where}: '{key}' is {value!r}; a scaffold rating is an integer 0-3 "
                        "(the `scaffold_rating` field of `tracemix classifier label` output)")
    return RATING_CLASSES[int(value)]


def _fasttext_params(args: argparse.Namespace) -> dict[str, Any]:
    return {"epoch": args.epoch, "lr": args.lr, "word_ngrams": args.word_ngrams, "dim": args.dim,
            "bucket": args.bucket, "min_count": args.min_count, "seed": args.seed,
            "valid_fraction": args.valid_fraction, "threads": args.threads}


def run_train_scaffold(args: argparse.Namespace) -> int:
    from rich.console import Console

    from curation.classifiers.scaffold_fasttext import train_scaffold
    from tracemix.provenance import file_hash, provenance

    console = Console()
    positive, negative = _domains(args.positive), _domains(args.negative)
    params = _fasttext_params(args)
    console.print(f"training the fastText scaffold scorer: {'+'.join(positive)} (code) against "
                  f"{'+'.join(negative)} (other) from {args.input}")
    metrics = train_scaffold(args.input, args.output, positive=positive, negative=negative,
                             max_per_class=args.max_per_class, **params)
    _print_metrics(metrics, console)
    parents = {"input_manifest": file_hash(Path(args.input) / "manifest.json")} \
        if (Path(args.input) / "manifest.json").is_file() else {}
    config = {"input": str(args.input), "positive": positive, "negative": negative,
              "max_per_class": args.max_per_class, **params}
    report = {**metrics, "model_sha256": file_hash(args.output), **provenance(config, parents)}
    metrics_path = write_json(f"{args.output}.metrics.json", report)
    console.print(f"held-out accuracy {metrics['accuracy']:.3f} on {metrics['n_valid']} documents"
                  if metrics["accuracy"] is not None else "no held-out documents (--valid-fraction 0)")
    console.print(f"wrote {args.output} and {metrics_path}; score documents with "
                  f"`tracemix tag --scaffold fasttext:{args.output}`")
    return 0


def _domains(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


# -- label -------------------------------------------------------------------------------------------------
def reservoir_sample(items, n: int, seed: int) -> list:
    """A uniform sample of `n` items from a stream of unknown length, kept in stream order (Algorithm R)."""
    rng = random.Random(seed)
    keep: list = []
    for i, item in enumerate(items):
        if i < n:
            keep.append((i, item))
        else:
            j = rng.randint(0, i)
            if j < n:
                keep[j] = (i, item)
    return [item for _, item in sorted(keep, key=lambda pair: pair[0])]


def run_label(args: argparse.Namespace) -> int:
    from rich.console import Console

    from curation.classifiers.llm_label import MAX_CHARS, PROMPT_VERSION, LLMClassifier, label_records
    from tracemix.provenance import provenance

    console = Console(stderr=True)
    output = Path(args.output)
    # the run's own cache sits next to its output: it serves a resumed (or repeated) run, never another one
    clf = LLMClassifier(args.base_url, args.model, api_key_env=args.api_key_env,
                        cache_dir=output.with_name(output.name + ".cache"), shared_cache_dir=args.shared_cache,
                        model_revision=args.model_revision, max_concurrency=args.max_concurrency,
                        max_retries=args.max_retries, timeout=args.timeout, max_chars=args.max_chars or MAX_CHARS,
                        max_tokens=args.max_tokens)
    reader, docs = _read_documents(args.input, limit=args.limit, text_key=args.text_key)
    identity = clf.check_endpoint()
    if args.sample is not None:
        docs = reservoir_sample(docs, args.sample, args.seed)
    records = [{"id": doc.id, "text": doc.text} for doc in docs]
    if not records:
        raise DataError(f"{args.input}: no documents to label")
    counts: Counter[str] = Counter()
    with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for row in label_records(records, clf, progress=not args.quiet):
            counts[row["label"]] += 1
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    stats = clf.stats
    config = {"input": args.input, "base_url": clf.base_url, "model": args.model,
              "model_identity": identity["model"], "model_revision": args.model_revision,
              "prompt_version": PROMPT_VERSION, "max_chars": clf.max_chars, "limit": args.limit,
              "sample": args.sample, "seed": args.seed}
    manifest = {"labeled": sum(counts.values()), "label_counts": {d: counts[d] for d in DOMAINS},
                "stats": stats.to_dict(), "bad_input": _bad_input_counts(reader),
                **provenance(config, _input_parents(args.input))}
    write_json(f"{output}.manifest.json", manifest)
    console.print(f"labelled {manifest['labeled']}/{len(records)} documents -> {output}   "
                  f"requests {stats.requests}, cache hits {stats.cache_hits}, retries {stats.transport_retries}, "
                  f"invalid answers {stats.invalid_answers}")
    console.print("labels: " + ", ".join(f"{d} {counts[d]}" for d in DOMAINS))
    if stats.failed:
        console.print(f"[yellow]{stats.failed} documents got no valid label (listed in {output}.manifest.json); "
                      "rerun the same command to retry only those: answered documents come from the cache[/yellow]")
    if not counts:
        raise DataError(f"no document got a valid label from {args.base_url} (model {args.model}); "
                        f"first error: {stats.failures[0]['error'] if stats.failures else 'none'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracemix classifier", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{label,train,train-scaffold}")

    lab = sub.add_parser("label", help="label documents with an OpenAI-compatible LLM endpoint",
                         description="Ask an LLM for each document's domain and scaffold rating (strict JSON, "
                                     "cached for this run, retried with backoff). The key is read from the "
                                     "environment and never written.")
    lab.add_argument("--input", required=True, help="file or folder of JSONL/chat JSONL/Parquet/ShareGPT JSON, "
                                                    "or hf:ORG/NAME[:CONFIG][:SPLIT]")
    lab.add_argument("--base-url", required=True, help="e.g. http://localhost:8000/v1 (vLLM) or "
                                                       "https://api.openai.com/v1")
    lab.add_argument("--model", required=True, help="model name as the endpoint knows it")
    lab.add_argument("--output", required=True, help="LABELED.jsonl to write (plus LABELED.jsonl.manifest.json)")
    lab.add_argument("--limit", type=int, default=-1, help="label only the first N documents (default: all)")
    lab.add_argument("--sample", type=int, default=None,
                     help="label a uniform random sample of N documents of the whole input (see --seed)")
    lab.add_argument("--seed", type=int, default=0, help="seed of --sample")
    lab.add_argument("--max-concurrency", type=int, default=8, help="requests in flight at once (default 8)")
    lab.add_argument("--shared-cache", metavar="DIR",
                     help="also use an answer cache shared across runs (needs --model-revision); by default "
                          "answers are cached only for this run, in OUTPUT.cache next to the output")
    lab.add_argument("--model-revision", metavar="REV",
                     help="the served checkpoint's revision or hash, part of every cache key (required by "
                          "--shared-cache: a server may serve another checkpoint under the same name)")
    lab.add_argument("--api-key-env", default="OPENAI_API_KEY",
                     help="environment variable holding the key (default OPENAI_API_KEY; optional for localhost)")
    lab.add_argument("--max-retries", type=int, default=5, help="retries on 429/5xx/connection errors")
    lab.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    lab.add_argument("--max-chars", type=int, default=None, help="characters of each document sent (default 6000)")
    lab.add_argument("--max-tokens", type=int, default=200,
                     help="answer length limit (raise it for models that think before answering)")
    lab.add_argument("--text-key", default="text", help="field holding the text (chats use messages/conversations)")
    lab.add_argument("--quiet", action="store_true", help="no progress bar")
    lab.set_defaults(func=run_label)

    tr = sub.add_parser("train", help="train a fastText domain classifier (or scaffold-rating model) on labelled JSONL",
                        description="Train a supervised fastText model on {text, label} records (the output of "
                                    "`classifier label` or the demo corpus) and report held-out metrics. With "
                                    "--target scaffold it distils the LLM's 0-3 scaffold rating instead: use the "
                                    "model with `tracemix tag --scaffold fasttext:MODEL.bin`.")
    tr.add_argument("--labels", required=True, help="LABELED.jsonl (or any tag input with a label field)")
    tr.add_argument("--output", required=True, help="MODEL.bin to write (metrics go to MODEL.bin.metrics.json)")
    tr.add_argument("--target", choices=("domain", "scaffold"), default="domain",
                    help="domain (default): the four domains; scaffold: the 0-3 scaffold rating")
    tr.add_argument("--label-key", default=None,
                    help="field holding the label (default: label, or scaffold_rating with --target scaffold)")
    tr.add_argument("--text-key", default="text", help="field holding the text (default: text; chats use messages)")
    _add_fasttext_args(tr)
    tr.set_defaults(func=run_train)

    ts = sub.add_parser("train-scaffold", help="train the paper's fastText code-vs-non-code scaffold scorer",
                        description="The structured-signals paper's scaffold scorer: a fastText classifier of code "
                                    "(--positive domains) against non-code documents (--negative domains), trained "
                                    "on a folder written by `tracemix tag`; prints held-out accuracy. Its code "
                                    "probability becomes the scaffold score with `tracemix tag --scaffold "
                                    "fasttext:MODEL.bin`, and recipes threshold it as usual.")
    ts.add_argument("--input", required=True, help="tagged folder (Parquet shards written by `tracemix tag`)")
    ts.add_argument("--output", required=True, help="MODEL.bin to write (metrics go to MODEL.bin.metrics.json)")
    ts.add_argument("--positive", default="pure_code", help="domains of the code class (default %(default)s)")
    ts.add_argument("--negative", default="math_text,general",
                    help="domains of the non-code class (default %(default)s; code_text mixes both)")
    ts.add_argument("--max-per-class", type=int, default=50_000,
                    help="at most this many documents per class, a stable hash sample (default %(default)s)")
    _add_fasttext_args(ts)
    ts.set_defaults(func=run_train_scaffold)
    return p


def _add_fasttext_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epoch", type=int, default=25, help="passes over the data (default %(default)s)")
    p.add_argument("--lr", type=float, default=0.5,
                   help="learning rate; lower it if training diverges (default %(default)s)")
    p.add_argument("--word-ngrams", type=int, default=2, help="max length of word n-grams (default %(default)s)")
    p.add_argument("--dim", type=int, default=64, help="embedding size (default %(default)s)")
    p.add_argument("--bucket", type=int, default=200_000, help="hash buckets for word n-grams")
    p.add_argument("--min-count", type=int, default=1, help="drop words seen fewer times (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seeds the held-out split and fastText")
    p.add_argument("--valid-fraction", type=float, default=0.1, help="share held out for the metrics")
    p.add_argument("--threads", type=int, default=1, help="1 (default) is reproducible; more is faster")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
