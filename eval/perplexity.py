"""Held-out loss by domain, in bits per byte: how well a checkpoint models each domain of a tagged corpus.

Reasoning accuracy of a small model trained for a few steps sits at zero; its loss on each domain does
not, so data ablations at small scale read this first. Loss per token depends on the tokenizer (a model
with a coarser vocabulary pays more per token for the same text); bits per byte does not:

    bpb(documents) = sum of -log2 p(token | prefix) over every token of the documents / their UTF-8 bytes

Every document is scored whole: a begin-of-sequence token is put in front so its first token is predicted
too, and a document longer than `seq_len` is cut into windows that each predict `seq_len` new tokens, the
context restarting at every window boundary. Documents are taken in the same deterministic order the
routing probes use, whole, until a domain has `max_tokens_per_domain` scored tokens, so two checkpoints
with one tokenizer score exactly the same documents. Documents the model was trained on (`exclude`, a
mixture folder) are skipped. Per-document results go to `documents.parquet` for re-analysis.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracemix.artifacts import begin, input_ref, parent_ref, read_manifest, write_manifest
from tracemix.atomic import atomic_path, write_json, write_text
from tracemix.errors import DataError
from tracemix.provenance import provenance

LN2 = math.log(2)


def _mixture_ids(folder: str | Path) -> set[str]:
    """Ids of the documents in a mixture folder (the training data to hold out)."""
    import pyarrow.parquet as pq

    read_manifest(folder, "mixture")  # complete, and no shard added or lost since
    ids: set[str] = set()
    for shard in sorted(Path(folder).glob("*.parquet")):
        ids.update(str(i) for i in pq.read_table(shard, columns=["id"]).column("id").to_pylist())
    return ids


def _windows(docs, tok, bos: int, budget: int, seq_len: int) -> Iterator[tuple[int, str, int, list[int], int]]:
    """(doc index, doc id, doc bytes, window ids, tokens it predicts): whole documents until `budget` tokens."""
    taken, index = 0, 0
    for doc_id, text in docs:
        n_bytes = len(text.encode("utf-8"))
        ids = tok(text, add_special_tokens=False)["input_ids"]
        if not ids:
            continue
        seq = [bos, *ids]  # the first real token is predicted from the begin-of-sequence token
        for start in range(0, len(ids), seq_len):
            window = seq[start:start + seq_len + 1]  # predicts seq[start+1 : start+seq_len+1]
            yield index, doc_id, n_bytes, window, len(window) - 1
        index += 1
        taken += len(ids)
        if taken >= budget:
            return


def _score(lm, tok, docs, bos: int, pad_id: int, budget: int, seq_len: int, batch_size: int,
           in_device, bar) -> list[dict[str, Any]]:
    """Per-document sums of next-token loss for one domain: [{id, n_bytes, n_tokens, nll_nats}]."""
    import torch

    rows: list[dict[str, Any]] = []

    def flush(pending):
        width = max(len(w) for *_, w, _ in pending)
        ids = torch.full((len(pending), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(pending), width), dtype=torch.long)
        for r, (*_, w, _) in enumerate(pending):
            ids[r, :len(w)] = torch.tensor(w, dtype=torch.long)
            mask[r, :len(w)] = 1
        ids, mask = ids.to(in_device), mask.to(in_device)
        logits = lm(input_ids=ids, attention_mask=mask, use_cache=False).logits.float()  # [B, S, V]
        losses = torch.nn.functional.cross_entropy(
            logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none")  # [B, S-1]
        sums = (losses * mask[:, 1:]).sum(dim=1).tolist()  # padding predicts nothing
        for (index, doc_id, n_bytes, _, n_pred), nll in zip(pending, sums, strict=True):
            if index == len(rows):
                rows.append({"id": doc_id, "n_bytes": n_bytes, "n_tokens": 0, "nll_nats": 0.0})
            rows[index]["n_tokens"] += n_pred
            rows[index]["nll_nats"] += nll
        bar.update(sum(p[-1] for p in pending))

    pending: list = []
    for window in _windows(docs, tok, bos, budget, seq_len):
        pending.append(window)
        if len(pending) == batch_size:
            flush(pending)
            pending = []
    if pending:
        flush(pending)
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    nll, tokens, n_bytes = (sum(r[k] for r in rows) for k in ("nll_nats", "n_tokens", "n_bytes"))
    return {"bpb": round(nll / LN2 / n_bytes, 6), "loss": round(nll / tokens, 6),
            "perplexity": round(math.exp(nll / tokens), 4), "n_tokens": tokens, "n_bytes": n_bytes,
            "n_documents": len(rows)}


def domain_loss(model, data, output: str | Path | None = None, *, tokenizer=None, exclude: str | Path | None = None,
                max_tokens_per_domain: int = 20_000, seq_len: int = 256, batch_size: int = 8,
                device: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Held-out bits per byte (and nats per token, perplexity) per domain of `data` and over all of it.

    `data` is a tagged or mixture folder, or one Parquet file (such as a sweep's held-out set); `exclude`
    is a mixture folder whose document ids are skipped (the model's training data). Returns
    {"domains": {d: {bpb, loss, perplexity, n_tokens, n_bytes, n_documents}}, "all": {...}, "bpb", ...};
    with `output`, writes `perplexity.json`, `documents.parquet` (id, domain, n_bytes, n_tokens, nll_bits,
    bpb per document) and `report.md`.
    """
    import torch
    from tqdm.auto import tqdm

    from probes.data import read_documents
    from tracemix.checkpoint import load_model, load_tokenizer

    if max_tokens_per_domain <= 0 or seq_len <= 0 or batch_size <= 0:
        raise DataError("max_tokens_per_domain, seq_len and batch_size must be positive")
    # the manifest's parents; an unfinished training run or tagging run is refused before loading anything
    parents = [input_ref(model if isinstance(model, str | Path) else getattr(model, "name_or_path", "model"),
                         "checkpoint", "model"), input_ref(data, ("tagged", "mixture"))]
    docs = read_documents(data)
    held_out = _mixture_ids(exclude) if exclude else set()
    if exclude:
        parents.append(parent_ref(exclude, "mixture"))
    if held_out:
        docs = {d: (doc for doc in stream if doc[0] not in held_out) for d, stream in docs.items()}
    model_name = str(model)
    lm = load_model(model, device=device) if isinstance(model, str | Path) else model.eval()
    if getattr(lm.config, "output_router_logits", False):
        lm.config.output_router_logits = False  # the aux loss is a training term, not part of the LM loss
    tok = tokenizer or load_tokenizer(model_name)
    bos = next((t for t in (tok.bos_token_id, tok.eos_token_id) if t is not None), None)
    if bos is None:
        raise DataError(f"{model_name}: the tokenizer has neither a bos nor an eos token to start documents with")
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else bos
    in_device = lm.get_input_embeddings().weight.device
    per_domain: dict[str, list[dict[str, Any]]] = {}
    bar = tqdm(total=max_tokens_per_domain * len(docs), desc="held-out loss", unit="tok", unit_scale=True,
               disable=not progress)
    with torch.inference_mode(), bar:
        for domain, stream in docs.items():
            rows = _score(lm, tok, stream, bos, pad_id, max_tokens_per_domain, seq_len, batch_size, in_device, bar)
            if rows:
                per_domain[domain] = rows
    if not per_domain:
        raise DataError(f"no held-out tokens in '{data}' (all documents excluded or empty).")
    domains = {d: _summary(rows) for d, rows in per_domain.items()}
    overall = _summary([r for rows in per_domain.values() for r in rows])
    config = {"model": model_name, "data": str(data), "exclude": str(exclude) if exclude else None,
              "n_excluded_ids": len(held_out), "max_tokens_per_domain": max_tokens_per_domain,
              "seq_len": seq_len, "batch_size": batch_size}
    result = {"model": model_name, "domains": domains, "all": overall, "bpb": overall["bpb"],
              "mean_loss": round(sum(v["loss"] for v in domains.values()) / len(domains), 6),
              "manifest": provenance(config)}
    if output is not None:
        _write(Path(output), result, per_domain, data, exclude, len(held_out))
        write_manifest(output, "perplexity", config, parents,
                       extra={"model": model_name, "bpb": result["bpb"], "mean_loss": result["mean_loss"]})
    return result


def _write(out: Path, result: dict[str, Any], per_domain: dict[str, list[dict[str, Any]]], data, exclude,
           n_excluded: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": r["id"], "domain": d, "n_bytes": r["n_bytes"], "n_tokens": r["n_tokens"],
             "nll_bits": r["nll_nats"] / LN2, "bpb": r["nll_nats"] / LN2 / r["n_bytes"]}
            for d, docs in per_domain.items() for r in docs]
    begin(out, "perplexity")
    with atomic_path(out / "documents.parquet") as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    write_json(out / "perplexity.json", result)
    table = [f"| {d} | {v['n_documents']:,} | {v['n_bytes']:,} | {v['n_tokens']:,} | {v['bpb']:.4f} | "
             f"{v['loss']:.4f} |" for d, v in [*result["domains"].items(), ("all", result["all"])]]
    write_text(out / "report.md", "\n".join([
        f"# Held-out loss by domain: {result['model']}", "",
        f"Data `{data}`" + (f", excluding the {n_excluded:,} documents of `{exclude}`." if n_excluded else "."),
        "Bits per byte are comparable across tokenizers; nats per token are not.", "",
        "| domain | documents | bytes | tokens | bits per byte | loss (nats/token) |", "|---|---|---|---|---|---|",
        *table, "", "Per-document values: `documents.parquet`.", ""]))
