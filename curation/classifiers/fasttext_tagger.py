"""fastText domain classifier: distil labels (from an LLM, the heuristic or the demo corpus) into a model
that tags at scale.

The usual recipe (FineWeb-Edu, DCLM): an expensive labeller annotates a sample, a supervised fastText
model learns it, and the fastText model tags the whole corpus at thousands of documents per second.
Labels are `__label__<domain>` over the four domains of `tracemix.domains`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tracemix.atomic import atomic_path
from tracemix.domains import DOMAINS
from tracemix.errors import DataError, TracemixError

LABEL_PREFIX = "__label__"


def flatten(text: str) -> str:
    """One line of whitespace-separated tokens: fastText reads one example per line."""
    return " ".join(text.split())


def in_valid_split(key: str, seed: int, valid_fraction: float) -> bool:
    """Deterministic held-out membership from a hash of (seed, id): stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < valid_fraction


def _check_records(records: Iterable[Mapping[str, Any]], labels: tuple[str, ...] = DOMAINS
                   ) -> list[tuple[str, str, str]]:
    out = []
    for i, rec in enumerate(records):
        where = rec.get("_where", f"record {i}")
        text, label = rec.get("text"), rec.get("label")
        if not isinstance(text, str):
            raise DataError(f"{where}: missing string field 'text'; each labelled record needs 'text' and 'label'")
        if label not in labels:
            kind = "a domain" if labels == DOMAINS else "a class of this model"
            raise DataError(f"{where}: label {label!r} is not {kind}; use one of {', '.join(labels)}")
        if not text.strip():
            continue  # an empty document teaches nothing; skipping keeps the rest usable
        key = str(rec.get("id", hashlib.sha256(text.encode()).hexdigest()))
        out.append((key, text, label))
    return out


@contextmanager
def _zero_filled_allocations() -> Iterator[None]:
    """Have glibc hand out zero-filled memory while fastText builds and trains its matrices.

    fastText 0.9.2 initialises only the first tenth of the input matrix when fewer than 10 threads run
    (upstream issue #1061: `blockSize = m*n / 10`) and this build leaves the rest uninitialised. Recycled
    heap memory made single-thread runs differ and sometimes diverge to NaN. With M_PERTURB set to 0xFF
    every allocation is filled with its complement, 0x00: the zero rows upstream intended, every run.
    glibc only; elsewhere the finite-weights check after training still catches a diverged model.
    """
    libc_name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(libc_name), "mallopt", None) if libc_name else None
    m_perturb = -6
    if mallopt is not None:
        mallopt(m_perturb, 0xFF)
    try:
        yield
    finally:
        if mallopt is not None:
            mallopt(m_perturb, 0)


def classification_metrics(gold: list[str], pred: list[str], labels: Iterable[str] = DOMAINS) -> dict:
    """Accuracy, per-class precision/recall/F1/support, macro-F1 (over classes with support or
    predictions) and the confusion matrix as {gold: {predicted: count}}."""
    labels = list(labels)
    confusion = {g: dict.fromkeys(labels, 0) for g in labels}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_class = {}
    for c in labels:
        tp = confusion[c][c]
        support = sum(confusion[c].values())
        predicted = sum(confusion[g][c] for g in labels)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    # A class absent from both gold and predictions says nothing about the model: leave it out of the mean.
    present = [c for c in labels if per_class[c]["support"] or any(confusion[g][c] for g in labels)]
    n = len(gold)
    return {
        "n": n,
        "accuracy": sum(confusion[c][c] for c in labels) / n if n else None,
        "macro_f1": sum(per_class[c]["f1"] for c in present) / len(present) if present else None,
        "per_class": per_class,
        "confusion": confusion,
    }


def train_fasttext(
    records: Iterable[Mapping[str, Any]],
    output: str | os.PathLike,
    *,
    epoch: int = 25,
    lr: float = 0.5,
    word_ngrams: int = 2,
    dim: int = 64,
    bucket: int = 200_000,
    min_count: int = 1,
    seed: int = 0,
    valid_fraction: float = 0.1,
    threads: int = 1,
    labels: tuple[str, ...] = DOMAINS,
) -> dict:
    """Train a supervised fastText domain classifier on `{"text", "label", "id"?}` records.

    A deterministic `valid_fraction` of records (by hash of id and seed) is held out; the model written
    to `output` (atomically) is trained on the rest and evaluated on the held-out part. With `threads=1`
    (the default) two runs with the same seed give the same model. Returns the held-out metrics of
    `classification_metrics` plus split sizes and the training parameters. `labels` are the classes
    (the four domains by default; the scaffold models use `SCAFFOLD_CLASSES` or `RATING_CLASSES`).
    """
    import fasttext
    import numpy as np

    if not 0 <= valid_fraction < 1:
        raise TracemixError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    data = _check_records(records, labels)
    train = [r for r in data if not in_valid_split(r[0], seed, valid_fraction)]
    valid = [r for r in data if in_valid_split(r[0], seed, valid_fraction)]
    if not train:
        raise DataError("no training records left (empty input, or every record fell in the held-out split)")
    params = {"epoch": epoch, "lr": lr, "wordNgrams": word_ngrams, "dim": dim, "bucket": bucket,
              "minCount": min_count, "seed": seed, "thread": threads}
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="tracemix-ft-") as tmp:
        train_file = Path(tmp) / "train.txt"
        with open(train_file, "w", encoding="utf-8") as f:
            for _, text, label in train:
                f.write(f"{LABEL_PREFIX}{label} {flatten(text)}\n")
        with _zero_filled_allocations():
            try:
                model = fasttext.train_supervised(input=str(train_file), loss="softmax", verbose=0, **params)
            except RuntimeError as err:  # "Encountered NaN": the learning rate is too high for this data
                raise TracemixError(f"fastText training diverged ({err}); lower --lr (now {lr})") from err
    if not (np.isfinite(model.get_input_matrix()).all() and np.isfinite(model.get_output_matrix()).all()):
        raise TracemixError(f"fastText training produced non-finite weights; lower --lr (now {lr})")
    with atomic_path(output) as tmp_model:
        model.save_model(str(tmp_model))

    gold = [label for _, _, label in valid]
    pred = [_argmax(p, labels) for p in _predict_many(model, [text for _, text, _ in valid], labels)]
    metrics = classification_metrics(gold, pred, labels)
    counts = {c: sum(1 for r in train if r[2] == c) for c in labels}
    return {**metrics, "n_train": len(train), "n_valid": len(valid), "train_label_counts": counts,
            "params": {**params, "valid_fraction": valid_fraction}, "model": str(output)}


def _argmax(probs: Mapping[str, float], labels: tuple[str, ...] = DOMAINS) -> str:
    return max(labels, key=lambda d: probs[d])  # ties resolve in label order: deterministic


def _predict_many(model, texts: list[str], labels: tuple[str, ...] = DOMAINS) -> list[dict[str, float]]:
    if not texts:
        return []
    flat = [flatten(t) for t in texts]
    predicted, probs = model.predict(flat, k=-1)
    out = []
    for line, labs, ps in zip(flat, predicted, probs, strict=True):
        if not line:  # nothing to read: fastText would answer from its bias alone
            out.append({d: float(d == labels[-1]) for d in labels})
            continue
        scores = dict.fromkeys(labels, 0.0)
        for lab, p in zip(labs, ps, strict=True):
            scores[lab[len(LABEL_PREFIX):]] = float(p)
        total = sum(scores.values())
        # fastText softmax output is already ~1; renormalise so the contract (sums to 1) holds exactly.
        out.append({d: v / total for d, v in scores.items()} if total > 0 else dict.fromkeys(labels, 1 / len(labels)))
    return out


class FastTextModelFile(ABC):
    """A trained fastText model file: checked when the object is built, loaded lazily, dropped on pickling.

    The object travels cheaply to datatrove's Slurm or Ray workers and each worker loads the model once.
    Subclasses name the model (`kind`, `what`), say how to train one (`train_hint`) and check its labels
    (`_check_labels`, labels without the `__label__` prefix).
    """

    kind, what = "fasttext", "fastText"
    train_hint = "tracemix classifier train --labels LABELED.jsonl --output {path}"

    def __init__(self, path: str | os.PathLike):
        from tracemix.provenance import file_hash

        self.path = Path(path)
        if not self.path.is_file():
            raise TracemixError(f"{self.what} model not found: {self.path}. Train one with "
                                f"`{self.train_hint.format(path=self.path)}`")
        self.sha256 = file_hash(self.path)
        self.name = f"{self.kind}:{self.path.stem}:{self.sha256[:8]}"
        self._model = None
        self._load()  # fail fast on a file that is not a model of this kind

    @abstractmethod
    def _check_labels(self, labels: list[str]) -> None:
        """Raise a TracemixError naming the file when `labels` are not this kind's."""

    def _load(self):
        if self._model is None:
            import fasttext

            try:
                model = fasttext.load_model(str(self.path))
            except ValueError as err:
                raise TracemixError(f"{self.path} is not a fastText model ({err})") from err
            self._check_labels([lab.removeprefix(LABEL_PREFIX) for lab in model.get_labels()])
            self._model = model
        return self._model

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_model"] = None  # the C++ model does not pickle; workers reload it from `path`
        return state


class FastTextClassifier(FastTextModelFile):
    """A trained fastText domain model behind the classifier interface (`name`, `predict`)."""

    def _check_labels(self, labels: list[str]) -> None:
        unknown = sorted(set(labels) - set(DOMAINS))
        if unknown:
            raise TracemixError(
                f"{self.path}: model labels {unknown} are not domains ({', '.join(DOMAINS)}); "
                "it was trained for another task. Retrain with `tracemix classifier train`."
            )

    def predict(self, text: str) -> dict[str, float]:
        """Probability of each of the four domains (sums to 1)."""
        return _predict_many(self._load(), [text])[0]

    def predict_many(self, texts: list[str]) -> list[dict[str, float]]:
        """Batched `predict`: one call into fastText for many documents."""
        return _predict_many(self._load(), list(texts))

    def __repr__(self) -> str:
        return f"FastTextClassifier({str(self.path)!r})"
