"""`tracemix tag`: read -> normalise -> DomainTagger -> Parquet, run by a datatrove executor.

    tracemix tag --input data/demo --output data/tagged/demo [--classifier heuristic|fasttext:M.bin|llm]

Everything is checked before any work starts (input, text key, classifier, model file, tokenizer). A rerun
of the same command resumes: datatrove skips the tasks recorded in `DIR/logs/completions/`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from datatrove.pipeline.writers.parquet import ParquetWriter

from curation.classifiers.registry import (
    DEFAULT_CLASSIFIER,
    check_scaffold_spec,
    check_spec,
    load_classifier,
    load_scaffold_scorer,
)
from curation.tagging.readers import DEFAULT_MAX_DOC_BYTES, RecordReader, resolve_input
from curation.tagging.schema import tagged_schema
from curation.tagging.stats import finish_tagging, print_stats
from curation.tagging.tagger import DomainTagger, NormaliseText
from tracemix.errors import DataError
from tracemix.executors import Executor, ExecutorSettings, add_executor_args, as_settings, build_executor

# the settings that change the rows; a resumed run must match them
_RESUME_KEYS = (
    "input",
    "input_files",
    "classifier",
    "tagger",
    "scaffold",
    "tokenizer",
    "text_key",
    "tasks",
    "limit",
    "max_doc_bytes",
)


class TaggedParquetWriter(ParquetWriter):
    """ParquetWriter whose adapter emits exactly the tagged columns, with a fixed schema across shards."""

    name = "📒 tagged parquet"

    def __init__(self, output_folder, with_tokens: bool = False, **kwargs):
        kwargs.setdefault("output_filename", "${rank}.parquet")
        kwargs.setdefault("max_file_size", -1)  # one shard per task: 00000.parquet, 00001.parquet, ...
        super().__init__(output_folder, schema=tagged_schema(with_tokens), **kwargs)
        self.with_tokens = with_tokens

    def _default_adapter(self, document) -> dict:
        md = document.metadata
        row = {
            "id": document.id,
            "text": document.text,
            "source": md.get("source"),
            "domain": md["domain"],
            "domain_scores": md["domain_scores"],
            "scaffold_score": md["scaffold_score"],
            "n_bytes": md["n_bytes"],
            "tagger": md["tagger"],
            "messages": md.get("messages"),
        }
        if self.with_tokens:
            row["n_tokens"] = md["n_tokens"]
        return row


def _warn_if_not_compiled(*names: str) -> None:
    """The heuristic's C scans are optional at install: without them the tags are the same, only slower."""
    from curation.classifiers import compiled, heuristic, scaffold

    if any(name in (heuristic.NAME, scaffold.HeuristicScaffold.name) for name in names) and not compiled.COMPILED \
            and not compiled.PURE_PYTHON:
        print("warning: the heuristic tagger's compiled scans were not built (no C compiler or Python headers "
              "when tracemix was installed), so their Python reference runs: the same tags, about 2x slower. "
              "Install gcc and python3-dev, then reinstall (`make install` or `pip install -e .`).",
              file=sys.stderr)


def _check_tokenizer(name: str) -> None:
    from transformers import AutoTokenizer

    try:
        AutoTokenizer.from_pretrained(name)
    except Exception as err:  # noqa: BLE001 - any load failure is the same user error
        raise DataError(
            f"cannot load tokenizer '{name}': {str(err).rstrip('.')}. Pass a local tokenizer folder or a Hub id "
            "that is cached or reachable."
        ) from err


def _check_resume(output: Path, config: dict) -> None:
    """A folder tagged with other settings must not be mixed with a new run's shards."""
    import json

    from tracemix.atomic import write_json

    path = output / "logs" / "tag_config.json"
    if path.exists():
        old = json.loads(path.read_text())
        diff = [k for k in _RESUME_KEYS if old.get(k) != config.get(k)]
        if diff:
            changes = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in diff)
            raise DataError(
                f"{output} was tagged with other settings ({changes}); resuming would mix them. "
                "Use a new --output folder, or delete this one to start over."
            )
    write_json(path, config)


def run_tag(
    input: str,
    output: str | Path,
    classifier: Any = DEFAULT_CLASSIFIER,
    *,
    base_url: str | None = None,
    model: str | None = None,
    tokenizer: str | None = None,
    text_key: str = "text",
    tasks: int | None = None,
    workers: int | None = None,
    executor: str | Executor | ExecutorSettings = Executor.LOCAL,
    limit: int = -1,
    max_doc_bytes: int | None = DEFAULT_MAX_DOC_BYTES,
    progress: bool = True,
    quiet: bool = False,
    scaffold: str = "heuristic",
) -> dict[str, Any] | None:
    """Tag `input` into the Parquet folder `output`; returns the stats (None when Slurm runs it later).

    `limit` caps documents per task. The classifier is a `curation.classifiers.registry` spec, and so is
    `scaffold`, what makes `scaffold_score` ("heuristic" or "fasttext:MODEL.bin"). `executor`
    is a name or `tracemix.executors.ExecutorSettings`; `tasks`/`workers`, when given, override its own.
    """
    from tracemix.artifacts import begin, check_disjoint
    from tracemix.provenance import config_hash

    # --- validate everything before any work
    settings = as_settings(executor, tasks=tasks, workers=workers)
    clf_kwargs = {"base_url": base_url, "model": model} if classifier == "llm" else {}
    if isinstance(classifier, str):
        check_spec(classifier, **clf_kwargs)
        if classifier.startswith("fasttext:"):  # workers may run elsewhere: pin the model path
            classifier = "fasttext:" + str(Path(classifier.split(":", 1)[1]).expanduser().resolve())
    clf = load_classifier(classifier, **clf_kwargs)
    spec = classifier if isinstance(classifier, str) else f"object:{clf.name}"
    check_scaffold_spec(scaffold)
    if scaffold.startswith("fasttext:"):
        scaffold = "fasttext:" + str(Path(scaffold.split(":", 1)[1]).expanduser().resolve())
    scorer = load_scaffold_scorer(scaffold)
    if not quiet:
        _warn_if_not_compiled(clf.name, scorer.name)
    if tokenizer:
        _check_tokenizer(tokenizer)
    output = Path(output).expanduser().resolve()
    if output.exists() and not output.is_dir():
        raise DataError(f"--output {output} is a file; pass a folder")
    if not input.startswith("hf:"):
        check_disjoint(output, [input])
    reader = resolve_input(
        input,
        text_key=text_key,
        limit=limit,
        max_doc_bytes=max_doc_bytes,
        bad_input_folder=str(output / "logs" / "bad_input"),
    )
    reader.doc_progress = progress
    input_files = None
    if isinstance(reader, RecordReader):  # files decide the task shards: a resumed run must see the same ones
        listing = [(f, reader.data_folder.size(f)) for f in reader.list_input_files()]
        input_files = {"n": len(listing), "sha256": config_hash(listing)}
    if not input.startswith("hf:"):
        input = str(Path(input).expanduser().resolve())
    config = {
        "input": input,
        "input_files": input_files,
        "classifier": spec,
        "tagger": clf.name,
        "scaffold": scaffold,
        "scaffold_scorer": scorer.name,
        "tokenizer": tokenizer,
        "text_key": text_key,
        "tasks": settings.tasks,
        "limit": limit,
        "max_doc_bytes": max_doc_bytes,
        "executor": settings.executor.value,
        "workers": settings.workers,
    }
    output.mkdir(parents=True, exist_ok=True)
    _check_resume(output, config)
    begin(output, "tagged")  # readers refuse the folder until the manifest is written

    pipeline = [
        reader,
        NormaliseText(),
        DomainTagger(classifier, classifier_kwargs=clf_kwargs, tokenizer=tokenizer, scaffold=scaffold),
        TaggedParquetWriter(str(output), with_tokens=bool(tokenizer)),
    ]
    build_executor(pipeline, settings, output / "logs", job_name="tracemix-tag").run()

    if settings.executor == Executor.SLURM:
        if not quiet:
            print(f"submitted to Slurm; when the jobs finish run `tracemix stats {output}`: it checks every task "
                  "finished and completes the folder's manifest")
        return None
    stats = finish_tagging(output)
    if not quiet:
        print_stats(stats)
    return stats


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tracemix tag",
        description="Tag documents with their domain (pure_code, code_text, math_text, general) and a "
        "scaffold score, as a datatrove pipeline. Rerun the same command to resume.",
        epilog="example: tracemix tag --input data/demo --output data/tagged/demo --tokenizer gpt2",
    )
    p.add_argument(
        "--input",
        required=True,
        help="file or folder of JSONL (.gz/.zst), Parquet, ShareGPT JSON or chat JSONL, "
        "or hf:ORG/NAME[:CONFIG][:SPLIT]",
    )
    p.add_argument(
        "--output", required=True, help="output folder (Parquet shards, stats.json, manifest.json)"
    )
    p.add_argument(
        "--classifier",
        default=DEFAULT_CLASSIFIER,
        help="heuristic (default, no model needed) | fasttext:MODEL.bin | llm",
    )
    p.add_argument(
        "--scaffold",
        default="heuristic",
        help="what makes scaffold_score: heuristic (default: step markers, equation chains, symbols) | "
        "fasttext:MODEL.bin (the paper's code-vs-non-code scorer from `tracemix classifier train-scaffold`)",
    )
    p.add_argument("--base-url", help="OpenAI-compatible endpoint for --classifier llm")
    p.add_argument("--model", help="model name for --classifier llm")
    p.add_argument("--tokenizer", help="Hugging Face tokenizer (name or path) to count n_tokens")
    p.add_argument("--text-key", default="text", help="field holding the text (default: text)")
    p.add_argument("--limit", type=int, default=-1, help="at most N documents per task (for a quick look)")
    p.add_argument(
        "--max-doc-bytes",
        type=int,
        default=DEFAULT_MAX_DOC_BYTES,
        help="opt-in: skip (and count) documents larger than this many UTF-8 bytes (default: keep every "
        "document; long ones are classified on windows)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_executor_args(p, tasks_help="datatrove tasks; input files are split among them (default 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_tag(
        args.input,
        args.output,
        args.classifier,
        base_url=args.base_url,
        model=args.model,
        tokenizer=args.tokenizer,
        text_key=args.text_key,
        executor=ExecutorSettings.from_args(args),
        limit=args.limit,
        max_doc_bytes=args.max_doc_bytes,
        progress=not args.no_progress,
        scaffold=args.scaffold,
    )
    return 0
