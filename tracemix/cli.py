"""The `tracemix` command: one console script, one verb per job, each area owning its verbs.

Verbs are imported lazily so `tracemix --help` answers at once; each verb's module exposes
`main(argv: list[str]) -> int` and builds its own argparse parser.
"""

from __future__ import annotations

import difflib
import importlib
import sys

# verb -> (module:function, one-line help). Order is the order of the flow.
VERBS: dict[str, tuple[str, str]] = {
    "demo-data": ("curation.demo.data:main", "write the embedded demo corpus (all four domains) as JSONL"),
    "tag": ("curation.tagging.tag:main", "tag documents with domain and scaffold score (datatrove pipeline)"),
    "stats": ("curation.tagging.stats:main", "print the per-domain table of a tagged folder"),
    "classifier": ("curation.classifiers.cli:main", "label a sample with an LLM / train a fastText tagger"),
    "mix": ("curation.mixing.cli:main", "build an exact, density-controlled mixture from a recipe"),
    "tokenizer": ("training.tokenizer:main", "train a byte-level BPE tokenizer with a chat template"),
    "train": ("training.cli:main", "fine-tune or pretrain a dense or MoE model on a mixture"),
    "eval": ("eval.cli:main", "zero-shot reasoning evaluation (hf | vllm | openai backends)"),
    "probe": ("probes.cli:main", "measure MoE routing by domain: specialization, JSD, competition"),
    "ablate": ("ablate.cli:main", "sweeps: mix -> train -> eval / held-out loss / probe per variant and seed, compared"),
    "lineage": ("tracemix.lineage:main", "print where an artifact came from, back to the raw data"),
}


def _usage() -> str:
    lines = ["usage: tracemix VERB [options]   (tracemix VERB --help for details)", "", "verbs:"]
    lines += [f"  {verb:<11} {help_}" for verb, (_, help_) in VERBS.items()]
    lines += ["", "Start with `make demo`, or: tracemix demo-data --output data/demo && "
              "tracemix tag --input data/demo --output data/tagged/demo"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from tracemix.errors import TracemixError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        from tracemix import __version__

        print(f"tracemix {__version__}")
        return 0
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        close = difflib.get_close_matches(verb, VERBS, n=1)
        hint = f" Did you mean `tracemix {close[0]}`?" if close else ""
        print(f"error: unknown verb '{verb}'.{hint}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, func_name = VERBS[verb][0].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(rest) or 0)
    except TracemixError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
