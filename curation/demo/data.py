"""`tracemix demo-data`: the embedded demo corpus — labelled documents and chats for all four domains.

Output (the demo-corpus contract):
- `DIR/corpus.jsonl`: `{"id", "text", "source": "demo", "label", "scaffold"}` per line;
- `DIR/chats.jsonl`: `{"id", "messages": [{"role", "content"}...], "source": "demo-chat", "label", "scaffold"}`;
- `DIR/manifest.json`: the generator config, counts per label and scaffold flag, file hashes, provenance.

Every record is drawn from its own random stream seeded by `(seed, kind, index)`, so a corpus is
deterministic for a seed and the first N documents do not change when more are asked for. The gold
`label`/`scaffold` fields are for measuring taggers and training `tracemix classifier train`; the demo is
not a benchmark of accuracy (its templates are known to the heuristic's author).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.demo.templates import chats, code, code_text, general, math
from tracemix.atomic import atomic_path, write_json
from tracemix.errors import DataError
from tracemix.provenance import file_hash, provenance

# domain -> (share of documents, probability of the scaffold variant, generator module)
_PLAN: dict[str, tuple[float, float, Any]] = {
    "pure_code": (0.20, 0.3, code),
    "code_text": (0.20, 0.3, code_text),
    "math_text": (0.25, 0.5, math),  # the density ablation needs both scaffold and plain math
    "general": (0.35, 0.2, general),
}
GENERATOR_VERSION = "demo-v1"


def _rng(seed: int, kind: str, index: int) -> random.Random:
    return random.Random(f"{GENERATOR_VERSION}:{seed}:{kind}:{index}")


def iter_documents(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`n` labelled demo documents (deterministic for `seed`)."""
    labels, weights = list(_PLAN), [share for share, _, _ in _PLAN.values()]
    for i in range(n):
        rng = _rng(seed, "doc", i)
        # the first four documents cover every domain, so even a tiny corpus has all labels
        label = labels[i] if i < len(labels) else rng.choices(labels, weights)[0]
        _, p_scaffold, module = _PLAN[label]
        scaffold = rng.random() < p_scaffold
        yield {"id": f"demo-{i:06d}", "text": module.generate(rng, scaffold), "source": "demo",
               "label": label, "scaffold": scaffold}


def iter_chats(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`n` labelled ShareGPT-like conversations in `messages` form (deterministic for `seed`)."""
    for i in range(n):
        rng = _rng(seed, "chat", i)
        scaffold = rng.random() < 0.4
        label, messages = chats.generate(rng, scaffold)
        yield {"id": f"chat-{i:06d}", "messages": messages, "source": "demo-chat", "label": label,
               "scaffold": scaffold}


def _write_jsonl(path: Path, records: Iterator[dict[str, Any]], counts: Counter) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for rec in records:
            counts[(rec["label"], rec["scaffold"])] += 1
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _summary(counts: Counter) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (label, scaffold), n in sorted(counts.items()):
        row = out.setdefault(label, {"total": 0, "scaffold": 0})
        row["total"] += n
        row["scaffold"] += n if scaffold else 0
    return out


def write_demo(output: str | Path, docs: int = 2000, chats_n: int = 400, seed: int = 0) -> dict[str, Any]:
    """Write `corpus.jsonl`, `chats.jsonl` and `manifest.json` under `output`; return the manifest."""
    if docs < 0 or chats_n < 0:
        raise DataError(f"--docs and --chats must be >= 0 (got docs={docs}, chats={chats_n})")
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise DataError(f"--output {out} exists and is not a folder; pass a folder path")
    out.mkdir(parents=True, exist_ok=True)
    doc_counts: Counter = Counter()
    chat_counts: Counter = Counter()
    _write_jsonl(out / "corpus.jsonl", iter_documents(docs, seed), doc_counts)
    _write_jsonl(out / "chats.jsonl", iter_chats(chats_n, seed), chat_counts)
    config = {"docs": docs, "chats": chats_n, "seed": seed, "generator": GENERATOR_VERSION}
    manifest = {
        "kind": "demo-corpus",
        "files": {name: {"sha256": file_hash(out / name)} for name in ("corpus.jsonl", "chats.jsonl")},
        "documents": _summary(doc_counts),
        "chats": _summary(chat_counts),
        **provenance(config),
    }
    write_json(out / "manifest.json", manifest)
    return manifest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracemix demo-data",
        description="Write the embedded demo corpus: labelled documents for pure_code, code_text, "
                    "math_text and general (with and without reasoning scaffolds) plus ShareGPT-like chats.",
        epilog="example: tracemix demo-data --output data/demo --docs 2000 --chats 400 --seed 0",
    )
    parser.add_argument("--output", required=True, help="folder to write corpus.jsonl, chats.jsonl, manifest.json")
    parser.add_argument("--docs", type=int, default=2000, help="number of documents (default 2000)")
    parser.add_argument("--chats", type=int, default=400, help="number of conversations (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same corpus (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    manifest = write_demo(args.output, docs=args.docs, chats_n=args.chats, seed=args.seed)
    print(f"wrote {args.docs} documents and {args.chats} chats to {args.output}")
    for kind in ("documents", "chats"):
        for label, row in manifest[kind].items():
            print(f"  {kind:<9} {label:<10} {row['total']:>6}  (scaffold {row['scaffold']})")
    return 0
