"""Probe data: documents of a tagged folder or mixture, tokenized and batched one domain at a time.

Every domain contributes at most `max_tokens_per_domain` tokens, in a fixed order (shards sorted by name,
rows in file order), so two checkpoints probed on the same data see the same tokens. Documents longer
than `seq_len` are cut into consecutive windows; batches are right-padded and carry the attention mask.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from tracemix.domains import DOMAINS
from tracemix.errors import DataError


@dataclass
class ProbeBatch:
    domain: str
    input_ids: torch.Tensor  # [B, S]
    attention_mask: torch.Tensor  # [B, S], 0 on padding
    doc_ids: list[str]  # per row
    offsets: list[int]  # per row: token position of the window's first token inside its document


def _shards(folder: Path) -> list[Path]:
    if not folder.exists():
        raise DataError(f"probe data folder '{folder}' does not exist; write one with `tracemix tag --output "
                        f"{folder}` or `tracemix mix RECIPE`.")
    if folder.is_file():
        return [folder]
    shards = sorted(folder.glob("*.parquet")) + sorted(folder.glob("*.jsonl"))
    if not shards and (folder / "dataset_info.json").exists():
        return [folder]  # a `datasets.save_to_disk` mixture
    if not shards:
        raise DataError(f"no *.parquet or *.jsonl shards at the top level of '{folder}'; point --data at a "
                        "folder written by `tracemix tag` or `tracemix mix`.")
    return shards


def _read_table(path: Path) -> pa.Table:
    if path.is_dir():
        from datasets import load_from_disk

        return load_from_disk(str(path)).data.table
    if path.suffix == ".jsonl":
        rows = []
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as err:
                        raise DataError(f"{path}:{n}: not valid JSON ({err.msg})") from err
        return pa.Table.from_pylist(rows)
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"cannot read Parquet shard '{path}': {err}") from err


def read_documents(data: str | Path | list[str | Path]) -> dict[str, list[tuple[str, str]]]:
    """domain -> [(id, text), ...] from one or more tagged / mixture folders, in a deterministic order."""
    folders = [data] if isinstance(data, str | Path) else list(data)
    by_domain: dict[str, list[tuple[str, str]]] = {}
    for folder in map(Path, folders):
        for shard in _shards(folder):
            table = _read_table(shard)
            missing = [c for c in ("text", "domain") if c not in table.column_names]
            if missing:
                raise DataError(f"{shard}: missing column(s) {missing} (has {table.column_names}); probes read "
                                "tagged data: run `tracemix tag` first, or add a `domain` column.")
            texts = table.column("text").to_pylist()
            domains = table.column("domain").to_pylist()
            ids = table.column("id").to_pylist() if "id" in table.column_names else [None] * len(texts)
            for row, (doc_id, text, domain) in enumerate(zip(ids, texts, domains, strict=True)):
                if not isinstance(domain, str) or not domain:
                    raise DataError(f"{shard}: row {row} has no domain ({domain!r}); re-tag the data.")
                if not isinstance(text, str):
                    raise DataError(f"{shard}: row {row} has a non-string text ({type(text).__name__}).")
                by_domain.setdefault(domain, []).append((str(doc_id) if doc_id is not None else
                                                         f"{shard.name}:{row}", text))
    if not by_domain:
        raise DataError(f"no documents in {[str(f) for f in folders]}.")
    known = [d for d in DOMAINS if d in by_domain]  # taxonomy order first, then any extra labels
    return {d: by_domain[d] for d in known + sorted(set(by_domain) - set(known))}


def _windows(docs: list[tuple[str, str]], tokenizer, budget: int, seq_len: int, chunk: int = 256):
    """Yield (doc_id, offset, token_ids) windows until `budget` tokens are taken."""
    taken = 0
    for start in range(0, len(docs), chunk):
        part = docs[start:start + chunk]
        encoded = tokenizer([text for _, text in part], add_special_tokens=True)["input_ids"]
        for (doc_id, _), ids in zip(part, encoded, strict=True):
            for off in range(0, len(ids), seq_len):
                window = ids[off:off + seq_len][: budget - taken]
                if window:
                    yield doc_id, off, window
                    taken += len(window)
                if taken >= budget:
                    return


def collate(domain: str, windows: list[tuple[str, int, list[int]]], pad_id: int) -> ProbeBatch:
    width = max(len(w) for _, _, w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for row, (_, _, w) in enumerate(windows):
        ids[row, : len(w)] = torch.tensor(w, dtype=torch.long)
        mask[row, : len(w)] = 1
    return ProbeBatch(domain, ids, mask, [d for d, _, _ in windows], [o for _, o, _ in windows])


def iter_batches(docs_by_domain: dict[str, list[tuple[str, str]]], tokenizer, max_tokens_per_domain: int,
                 batch_size: int, seq_len: int, pad_id: int) -> Iterator[ProbeBatch]:
    """Stream per-domain batches; documents are tokenized lazily, so memory is one batch, not the budget."""
    for domain, docs in docs_by_domain.items():
        pending: list[tuple[str, int, list[int]]] = []
        for window in _windows(docs, tokenizer, max_tokens_per_domain, seq_len):
            pending.append(window)
            if len(pending) == batch_size:
                yield collate(domain, pending, pad_id)
                pending = []
        if pending:
            yield collate(domain, pending, pad_id)
