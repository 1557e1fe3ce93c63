"""The structured-signals paper's scaffold scorer: a fastText code-vs-non-code classifier.

The paper (arXiv 2605.19762) selects "scaffold" math by training a fastText classifier on code against
non-code documents and applying it to math documents: its code probability says how code-like (stepwise,
symbolic, indented) a document reads, and a recipe keeps those above a threshold. Here:

- `train_scaffold(TAGGED, MODEL.bin)` learns `__label__code` (documents of the `positive` domains, pure_code
  by default) against `__label__other` (the `negative` domains, math_text and general by default; code_text
  mixes both and is left out) from a folder written by `tracemix tag`.
- `classifier train --target scaffold` distils the LLM labeller's 0-3 scaffold rating into labels
  `__label__scaffold0` .. `__label__scaffold3`.
- `FastTextScaffoldScorer(MODEL.bin).score(text)` is P(code) for the first kind of model and the expected
  rating / 3 for the second, in [0, 1] either way; `tracemix tag --scaffold fasttext:MODEL.bin` uses it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from curation.classifiers.fasttext_tagger import FastTextModelFile, _predict_many, train_fasttext
from tracemix.domains import DOMAINS
from tracemix.errors import DataError, RecipeError, TracemixError

SCAFFOLD_CLASSES = ("code", "other")  # P(code) is the score
RATING_CLASSES = ("scaffold0", "scaffold1", "scaffold2", "scaffold3")  # expected rating / 3 is the score
DEFAULT_POSITIVE, DEFAULT_NEGATIVE = ("pure_code",), ("math_text", "general")


def _check_domains(names: tuple[str, ...], flag: str) -> None:
    unknown = [n for n in names if n not in DOMAINS]
    if unknown or not names:
        raise RecipeError(f"{flag} {','.join(names) or '(empty)'}: use one or more of {', '.join(DOMAINS)}")


def iter_tagged_rows(folder: str | Path, columns: tuple[str, ...] = ("id", "text", "domain")) -> Iterator[dict]:
    """Rows of a tagged folder, one record batch at a time (memory stays flat in folder size)."""
    import pyarrow.parquet as pq

    from curation.tagging.stats import shard_paths

    shards = shard_paths(folder)
    if not shards:
        raise DataError(f"{folder} holds no Parquet shards; pass a folder written by `tracemix tag`")
    for path in shards:
        pf = pq.ParquetFile(path)
        missing = [c for c in columns if c not in pf.schema_arrow.names]
        if missing:
            raise DataError(f"{path}: no column(s) {missing}; pass a folder written by `tracemix tag`")
        for batch in pf.iter_batches(batch_size=2048, columns=list(columns)):
            yield from batch.to_pylist()


def scaffold_records(folder: str | Path, positive=DEFAULT_POSITIVE, negative=DEFAULT_NEGATIVE,
                     max_per_class: int = 50_000, seed: int = 0) -> list[dict]:
    """`{"id", "text", "label"}` records, code vs other, at most `max_per_class` each (a hash sample)."""
    positive, negative = tuple(positive), tuple(negative)
    _check_domains(positive, "--positive")
    _check_domains(negative, "--negative")
    if set(positive) & set(negative):
        raise RecipeError(f"--positive and --negative share {sorted(set(positive) & set(negative))}")
    records: dict[str, list[dict]] = {c: [] for c in SCAFFOLD_CLASSES}
    seen = 0
    for row in iter_tagged_rows(folder):
        seen += 1
        label = "code" if row["domain"] in positive else "other" if row["domain"] in negative else None
        if label and row["text"] and row["text"].strip():
            records[label].append({"id": str(row["id"]), "text": row["text"], "label": label})
    for label, rows in records.items():
        if not rows:
            domains = positive if label == "code" else negative
            raise DataError(f"{folder}: none of its {seen} documents is tagged {' or '.join(domains)}, so there "
                            f"is no '{label}' class to learn; tag more data or change --positive/--negative")
        if len(rows) > max_per_class:  # a stable sample: the lowest hashes of (seed, id)
            rows.sort(key=lambda r: _rank(r["id"], seed))
            del rows[max_per_class:]
    return records["code"] + records["other"]


def _rank(key: str, seed: int) -> bytes:
    import hashlib

    return hashlib.sha256(f"{seed}:{key}".encode()).digest()


def train_scaffold(folder: str | Path, output: str | os.PathLike, *, positive=DEFAULT_POSITIVE,
                   negative=DEFAULT_NEGATIVE, max_per_class: int = 50_000, **params) -> dict:
    """Train the paper's code-vs-non-code fastText model on a tagged folder; returns held-out metrics."""
    records = scaffold_records(folder, positive, negative, max_per_class, params.get("seed", 0))
    metrics = train_fasttext(records, output, labels=SCAFFOLD_CLASSES, **params)
    return metrics | {"positive": list(positive), "negative": list(negative)}


class FastTextScaffoldScorer(FastTextModelFile):
    """A scaffold model behind the scorer interface: `score(text)` and batched `score_many(texts)`."""

    kind, what = "fasttext-scaffold", "scaffold"
    train_hint = "tracemix classifier train-scaffold --input TAGGED --output {path}"
    labels: tuple[str, ...] | None = None

    def _check_labels(self, labels: list[str]) -> None:
        for classes in (SCAFFOLD_CLASSES, RATING_CLASSES):
            if labels and set(labels) <= set(classes):
                self.labels = classes
                return
        raise TracemixError(
            f"{self.path}: labels {sorted(labels)} are neither code/other nor scaffold0-3; train a "
            "scaffold model with `tracemix classifier train-scaffold` or `classifier train --target scaffold`")

    def _score(self, probs: dict[str, float]) -> float:
        if self.labels == SCAFFOLD_CLASSES:
            return probs["code"]
        return sum(k * probs[c] for k, c in enumerate(RATING_CLASSES)) / (len(RATING_CLASSES) - 1)

    def score(self, text: str) -> float:
        return self.score_many([text])[0]

    def score_many(self, texts: list[str]) -> list[float]:
        texts = list(texts)
        probs = _predict_many(self._load(), texts, self.labels)
        return [self._score(p) if t.strip() else 0.0 for t, p in zip(texts, probs, strict=True)]

