"""Probe data: documents of a tagged folder or mixture, tokenized and batched one domain at a time.

Every domain contributes at most `max_tokens_per_domain` tokens, in a fixed order (shards sorted by name,
rows in file order), so two checkpoints probed on the same data see the same tokens. Documents longer
than `seq_len` are cut into consecutive windows; batches are right-padded and carry the attention mask.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch

from tracemix.artifacts import read_input
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
    read_input(folder, ("tagged", "mixture"), external=True)  # a tracemix folder must be complete
    shards = sorted(folder.glob("*.parquet")) + sorted(folder.glob("*.jsonl"))
    if not shards and (folder / "dataset_info.json").exists():
        return [folder]  # a `datasets.save_to_disk` mixture
    if not shards:
        raise DataError(f"no *.parquet or *.jsonl shards at the top level of '{folder}'; point --data at a "
                        "folder written by `tracemix tag` or `tracemix mix`.")
    return shards


_COLUMNS = ("id", "text", "domain")


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as err:
                    raise DataError(f"{path}:{n}: not valid JSON ({err.msg})") from err


def _record_batches(path: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The shard's rows in file order, a bounded batch at a time, only the columns asked for."""
    if path.is_dir():
        from datasets import load_from_disk

        yield from load_from_disk(str(path)).data.table.select(columns).to_batches(max_chunksize=1024)
    elif path.suffix == ".jsonl":
        chunk: list[dict] = []
        for _, row in _jsonl_rows(path):
            chunk.append({c: row.get(c) for c in columns})
            if len(chunk) == 1024:
                yield pa.RecordBatch.from_pylist(chunk)
                chunk = []
        if chunk:
            yield pa.RecordBatch.from_pylist(chunk)
    else:
        try:
            yield from pq.ParquetFile(path).iter_batches(batch_size=1024, columns=columns)
        except (pa.ArrowInvalid, OSError) as err:
            raise DataError(f"cannot read Parquet shard '{path}': {err}") from err


def _column_names(path: Path) -> list[str]:
    if path.is_dir():
        from datasets import load_from_disk

        return load_from_disk(str(path)).column_names
    if path.suffix == ".jsonl":
        return sorted({k for _, row in _jsonl_rows(path) for k in row})
    try:
        return pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"cannot read Parquet shard '{path}': {err}") from err


class DomainDocuments:
    """The (id, text) pairs of one domain, streamed from the shards in order; text is never all in memory."""

    def __init__(self, shards: list[tuple[Path, list[str]]], domain: str, part: tuple[int, int] = (0, 1)):
        self.shards, self.domain, self.part = shards, domain, part

    def _mine(self, doc_id: str) -> bool:
        """Whether this data shard (`--shard I/N`) owns the document: a stable hash of its id, mod N."""
        index, count = self.part
        return count == 1 or zlib.crc32(doc_id.encode()) % count == index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for shard, columns in self.shards:
            row = 0
            for batch in _record_batches(shard, columns):
                mask = pc.equal(batch.column("domain"), self.domain)
                rows = batch.to_pydict()
                for i, keep in enumerate(mask.to_pylist()):
                    if keep:
                        text = rows["text"][i]
                        if not isinstance(text, str):
                            raise DataError(f"{shard}: row {row + i} has a non-string text ({type(text).__name__}).")
                        doc_id = rows["id"][i] if "id" in rows else None
                        doc_id = str(doc_id) if doc_id is not None else f"{shard.name}:{row + i}"
                        if self._mine(doc_id):
                            yield doc_id, text
                row += batch.num_rows


def read_documents(data: str | Path | list[str | Path], part: tuple[int, int] = (0, 1)) -> dict[str, DomainDocuments]:
    """domain -> its documents (streamed) from one or more tagged / mixture folders, in a fixed order.

    `part=(i, n)` keeps the documents of data shard i of n (by a hash of the id), so n processes can
    probe disjoint data and `tracemix probe merge` sums their counts.

    Only the `domain` column is read up front, to check every shard and list the domains, so bad data
    fails before a checkpoint is loaded and a large corpus costs no memory.
    """
    folders = [data] if isinstance(data, str | Path) else list(data)
    shards: list[tuple[Path, list[str]]] = []
    seen: list[str] = []
    for folder in map(Path, folders):
        for shard in _shards(folder):
            names = _column_names(shard)
            missing = [c for c in ("text", "domain") if c not in names]
            if missing:
                raise DataError(f"{shard}: missing column(s) {missing} (has {names}); probes read "
                                "tagged data: run `tracemix tag` first, or add a `domain` column.")
            row = 0
            for batch in _record_batches(shard, ["domain"]):
                for i, domain in enumerate(batch.column("domain").to_pylist()):
                    if not isinstance(domain, str) or not domain:
                        raise DataError(f"{shard}: row {row + i} has no domain ({domain!r}); re-tag the data.")
                    if domain not in seen:
                        seen.append(domain)
                row += batch.num_rows
            shards.append((shard, [c for c in _COLUMNS if c in names]))
    if not seen:
        raise DataError(f"no documents in {[str(f) for f in folders]}.")
    known = [d for d in DOMAINS if d in seen]  # taxonomy order first, then any extra labels
    return {d: DomainDocuments(shards, d, part) for d in known + sorted(set(seen) - set(known))}


def _windows(docs, tokenizer, budget: int, seq_len: int, chunk: int = 256, per_document: int | None = None):
    """Yield (doc_id, offset, token_ids) windows until `budget` tokens are taken; reads no further.
    `per_document` keeps only the first that many tokens of each document."""
    taken = 0
    stream = iter(docs)
    while part := list(itertools.islice(stream, chunk)):
        encoded = tokenizer([text for _, text in part], add_special_tokens=True)["input_ids"]
        for (doc_id, _), ids in zip(part, encoded, strict=True):
            ids = ids[:per_document] if per_document else ids
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


def iter_batches(docs_by_domain, tokenizer, max_tokens_per_domain: int, batch_size: int, seq_len: int,
                 pad_id: int, per_document: int | None = None) -> Iterator[ProbeBatch]:
    """Stream per-domain batches; documents are tokenized lazily, so memory is one batch, not the budget.
    `per_document` caps the tokens read from each document (the audit reads every document's start)."""
    for domain, docs in docs_by_domain.items():
        pending: list[tuple[str, int, list[int]]] = []
        for window in _windows(docs, tokenizer, max_tokens_per_domain, seq_len, per_document=per_document):
            pending.append(window)
            if len(pending) == batch_size:
                yield collate(domain, pending, pad_id)
                pending = []
        if pending:
            yield collate(domain, pending, pad_id)
