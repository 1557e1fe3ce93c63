"""Tagged folders written directly with the contract columns (no dependency on the tagger)."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tracemix.artifacts import write_manifest
from tracemix.domains import DOMAINS

WORDS = ["alpha", "beta", "step", "sum", "def", "x", "=", "+", "river", "proof", "loop", "return", "42"]


def make_tagged(folder: Path, per_domain: dict[str, int] | int = 40, *, seed: int = 0, words: tuple[int, int] = (5, 40),
                tokens: str | None = None, chats: bool = False, files: int = 2, row_group: int = 16,
                prefix: str = "doc") -> Path:
    """Write `files` Parquet shards plus manifest.json; `tokens` names the tokenizer of `n_tokens`
    (n_tokens = number of words, so token budgets are checkable by hand)."""
    rng = random.Random(seed)
    counts = per_domain if isinstance(per_domain, dict) else dict.fromkeys(DOMAINS, per_domain)
    rows = []
    for domain, n in counts.items():
        for i in range(n):
            k = rng.randint(*words)
            text = " ".join(rng.choice(WORDS) for _ in range(k))
            scores = dict.fromkeys(DOMAINS, 0.0) | {domain: 1.0}
            row = {"id": f"{prefix}-{domain}-{i}", "text": text, "source": "test", "domain": domain,
                   "domain_scores": scores, "scaffold_score": rng.random(), "n_bytes": len(text.encode()),
                   "tagger": "test-v1"}
            if tokens:
                row["n_tokens"] = k
            if chats:
                row["messages"] = [{"role": "user", "content": "q " + text[:10]},
                                   {"role": "assistant", "content": text}]
            rows.append(row)
    rng.shuffle(rows)
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-len(rows) // files)
    for f in range(files):
        chunk = rows[f * per:(f + 1) * per]
        if chunk:
            pq.write_table(pa.Table.from_pylist(chunk), folder / f"{f:05d}.parquet", row_group_size=row_group)
    write_manifest(folder, "tagged", {"seed": seed, "prefix": prefix}, extra={"tokenizer": tokens})
    return folder


def recipe_dict(source: Path | list[Path], **over) -> dict:
    sources = [str(s) for s in (source if isinstance(source, list) else [source])]
    base = {"name": "t", "sources": sources, "budget": {"unit": "documents", "total": 40},
            "mixture": {"general": 0.4, "pure_code": 0.2, "code_text": 0.1, "math_text": 0.3}, "seed": 7}
    base.update(over)
    return base


@pytest.fixture
def tagged(tmp_path) -> Path:
    return make_tagged(tmp_path / "tagged", 40, tokens="words")
